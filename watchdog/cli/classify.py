"""``watchdog classify FILE...``: classify raw .eml files and say why.

Parse arguments, load the rules, call ``classify`` per file, print. The
context (our domains, staff) and extra rule folders are inputs of
``run_classify`` so that the config loader can hand them in later.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from watchdog.cli.common import config_option, load_or_exit
from watchdog.cli.exits import RET_CONFIG, RET_FAILED, RET_OK
from watchdog.errors import RuleError

if TYPE_CHECKING:
    from watchdog.classify import ClassifyContext, Decision, RuleSet
    from watchdog.config import Config
    from watchdog.ingest.message import OurIdentity

_MAX_BYTES = (
    50 * 1024 * 1024
)  # a "mail" bigger than this is not something to classify from the command line


class NotMail(Exception):
    """The file cannot be classified: missing, unreadable, empty or not an email."""


def classify_command(
    ctx: typer.Context,
    files: Annotated[
        list[str], typer.Argument(help="Raw .eml files; '-' reads one message from stdin.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show every rule that fired and why.")
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang", help="Language of explanations: en or ru (default: owner.language, else en)."
        ),
    ] = None,
    rules_dir: Annotated[
        list[Path] | None,
        typer.Option(
            "--rules-dir", help="Extra folder of rule files (repeatable); overrides bundled rules."
        ),
    ] = None,
) -> None:
    """Classify raw email files: customer, form, autoreply, bounce, bulk, notification or staff.

    With a config (--config, $WATCHDOG_CONFIG or ./watchdog.toml) its own
    domains, staff, rules folder and owner's language are used; without one,
    the bundled rules alone.
    """
    # Imported here, like every heavy module of the CLI: see watchdog/cli/__init__.py.
    from watchdog.classify import ClassifyContext, load_rules
    from watchdog.classify.setup import context_from_config, identity_from_config

    if lang not in (None, "en", "ru"):
        typer.echo(f"Error: --lang: {lang!r} is not one of en, ru", err=True)
        raise typer.Exit(RET_CONFIG)
    config = _optional_config(ctx)
    context, ours = ClassifyContext(), None
    extra_dirs = list(rules_dir or [])
    if config is not None:
        context, ours = context_from_config(config), identity_from_config(config)
        extra_dirs = [
            *([config.classify.rules_dir] if config.classify.rules_dir else []),
            *extra_dirs,
        ]
        lang = lang or config.owner.language
    try:
        rules = load_rules(extra_dirs)
    except RuleError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(RET_CONFIG) from exc
    code = run_classify(
        files, rules, context, ours=ours, as_json=as_json, explain=explain, lang=lang or "en"
    )
    raise typer.Exit(code)


def _optional_config(ctx: typer.Context) -> Config | None:
    """Return the config when one was named or ./watchdog.toml exists; classify works without."""
    from watchdog.config.loader import DEFAULT_PATH, ENV_VAR

    named = config_option(ctx) or os.environ.get(ENV_VAR)
    if not named and not DEFAULT_PATH.exists():
        return None
    return load_or_exit(ctx, need_secrets=False)


def run_classify(
    files: Sequence[str],
    rules: RuleSet,
    context: ClassifyContext,
    *,
    as_json: bool = False,
    explain: bool = False,
    lang: str = "en",
    ours: OurIdentity | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Classify each file, print the results; return RET_FAILED if any file was not mail."""
    from watchdog.classify import classify
    from watchdog.ingest.parse import parse_message

    out = out or sys.stdout
    err = err or sys.stderr
    code = RET_OK
    for name in files:
        try:
            raw = _read(name)
        except NotMail as exc:
            print(f"Error: {name}: {exc}", file=err)
            code = RET_FAILED
            continue
        decision = classify(parse_message(raw, ours=ours), rules, context, raw=raw)
        out.write(_render(name, decision, as_json=as_json, explain=explain, lang=lang))
    return code


def _read(name: str) -> bytes:
    """Return the bytes of a file (or stdin for '-'), or raise NotMail saying why not."""
    try:
        raw = sys.stdin.buffer.read(_MAX_BYTES + 1) if name == "-" else _read_file(Path(name))
    except OSError as exc:
        raise NotMail(f"cannot be read: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise NotMail("is empty, not an email")
    if len(raw) > _MAX_BYTES:
        raise NotMail("is larger than 50 MB; not classified")
    if not _looks_like_mail(raw):
        raise NotMail("is not an email (no mail headers at the top)")
    return raw


def _read_file(path: Path) -> bytes:
    if not path.exists():
        raise NotMail("no such file")
    if path.is_dir():
        raise NotMail("is a folder, not an email")
    with path.open("rb") as fh:
        return fh.read(_MAX_BYTES + 1)


def _looks_like_mail(raw: bytes) -> bool:
    """True when the first line is a header ("Name: value") or an mbox "From " line.

    The parser accepts anything (it never raises), so the command line checks
    this much itself: a PNG or a text note should be reported, not classified.
    """
    first = raw.lstrip(b"\r\n").split(b"\n", 1)[0]
    if first.startswith(b"From "):
        return True
    name, colon, _ = first.partition(b":")
    return bool(colon) and bool(name) and all(33 <= c <= 126 for c in name)


def _render(name: str, decision: Decision, *, as_json: bool, explain: bool, lang: str) -> str:
    if as_json:
        record: dict[str, object] = {
            "file": name,
            "category": decision.category,
            "request": decision.request,
            "rules": list(decision.rule_names),
            "decisive": list(decision.decisive),
            "doubt": decision.doubt,
        }
        if explain:
            record["explanation"] = _explanation_lines(decision, lang)
        return json.dumps(record, ensure_ascii=False) + "\n"
    if explain:
        return (
            "\n".join(
                [f"{name}: {decision.category}", *_indent(_explanation_lines(decision, lang))]
            )
            + "\n\n"
        )
    return f"{name}\t{decision.category}\n"


def _explanation_lines(decision: Decision, lang: str) -> list[str]:
    """The conclusion, the rules it rests on, then every other sign that was seen."""
    ru = lang == "ru"
    if decision.request:
        verdict = "обращение, нужен ответ" if ru else "a request: needs an answer"
    else:
        verdict = "не обращение" if ru else "not a request"
    lines = [f"{decision.summary(lang)} [{verdict}]"]
    decisive = [r for r in decision.fired if r.name in decision.decisive]
    others = [r for r in decision.fired if r.name not in decision.decisive]
    if decisive:
        lines.append("Почему:" if ru else "Because:")
        lines += [f"  {r.name}: {r.explanation(lang)}" for r in decisive]
    if others:
        lines.append("Также замечено:" if ru else "Also seen:")
        lines += [f"  {r.name}: {r.explanation(lang)}" for r in others]
    if decision.doubt and not ru:  # the Russian summary already says it in words
        lines.append(f"Doubt: {decision.doubt}")
    return lines


def _indent(lines: Iterable[str]) -> list[str]:
    return ["  " + line for line in lines]
