"""``watchdog digest``: print the owner's digest, or queue it for the outbox sender.

The day is always the latest complete local day at ``--now`` (yesterday in
``sla.timezone``), whatever ``digest.at`` says: a person asking for the digest
wants it now, and queueing it early is safe because the daemon will find the
day already recorded and not send it twice.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from watchdog.cli.common import load_or_exit, open_database, parse_now
from watchdog.cli.exits import RET_OK

if TYPE_CHECKING:
    from watchdog.storage.models import Digest


def digest_command(
    ctx: typer.Context,
    print_: Annotated[
        bool,
        typer.Option("--print", help="Write the text digest to stdout; record and send nothing."),
    ] = False,
    now: Annotated[
        str | None,
        typer.Option(
            "--now", help="Build it as at this ISO 8601 time (the day before is reported)."
        ),
    ] = None,
) -> None:
    """Build the daily digest of the previous day: print it, or queue it for the owner."""
    # Imported here, like every heavy module of the CLI: see watchdog/cli/__init__.py.
    from watchdog.digest import find_digest, latest_complete_day, prepare_digest, queue_digest

    config = load_or_exit(ctx, need_secrets=False)
    at = parse_now(now)
    day = latest_complete_day(at, config.sla.timezone)
    with open_database(config)() as session:
        if print_:
            typer.echo(prepare_digest(session, config, day, at).rendered.text, nl=False)
            raise typer.Exit(RET_OK)
        digest = queue_digest(session, config, at, day=day)
        typer.echo(_queued(day, digest) if digest else _already(day, find_digest(session, day)))
    raise typer.Exit(RET_OK)


def _queued(day: date, digest: Digest) -> str:
    from watchdog.digest import SKIPPED

    if digest.status == SKIPPED:
        return f"digest for {day.isoformat()} skipped: nothing to report (digest.skip_empty = true)"
    return f"queued digest for {day.isoformat()}"


def _already(day: date, digest: Digest | None) -> str:
    """Say what became of the digest another run recorded for ``day``."""
    from watchdog.digest import SKIPPED

    if digest is not None and digest.status == SKIPPED:
        return f"digest for {day.isoformat()} was already skipped: nothing to report"
    if digest is not None and digest.outbox is not None and digest.outbox.status == "sent":
        return f"digest for {day.isoformat()} was already sent"
    return f"digest for {day.isoformat()} was already queued"
