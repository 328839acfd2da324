"""``watchdog doctor``: check the config and everything it points at, in plain words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from watchdog.cli.common import config_option, load_or_exit, parse_now
from watchdog.cli.exits import RET_CONFIG, RET_FAILED, RET_OK

if TYPE_CHECKING:
    from watchdog.config.types import Language

_LANGUAGES: tuple[Language, ...] = ("ru", "en")


def doctor_command(
    ctx: typer.Context,
    send_test: Annotated[
        bool,
        typer.Option(
            "--send-test", help="Send one real test e-mail to the owner through the relay."
        ),
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="ru or en (default: owner.language)."),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option("--now", help="Show the calendar as at this ISO 8601 time (tests)."),
    ] = None,
) -> None:
    """Check the config, the database, every mailbox, the relay, chats, forms and the calendar.

    Exit 0 when nothing is broken, 1 when something needs fixing (each says
    how), 2 when the config itself is wrong (each problem on its own line).
    """
    # Imported here, like every heavy module of the CLI: see watchdog/cli/__init__.py.
    from watchdog.config import resolve_config_path
    from watchdog.doctor import Checkup, SecretOrigins, diagnose, render

    if lang is not None and lang not in _LANGUAGES:
        typer.echo(f"Error: --lang: expected one of ru, en, got {lang!r}", err=True)
        raise typer.Exit(RET_CONFIG)
    at = parse_now(now)
    config = load_or_exit(ctx)
    language: Language = "en" if (lang or config.owner.language) == "en" else "ru"
    checkup = Checkup(
        config=config,
        now=at,
        lang=language,
        send_test=send_test,
        secrets=SecretOrigins.from_file(resolve_config_path(config_option(ctx))),
    )
    findings = diagnose(checkup)
    for line in render(findings, language):
        typer.echo(line)
    raise typer.Exit(RET_OK if all(finding.ok for finding in findings) else RET_FAILED)
