"""``watchdog cases`` and ``watchdog handle``: see the cases, close one without an e-mail."""

from __future__ import annotations

import getpass
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from watchdog.cli.common import load_or_exit, open_database, parse_now
from watchdog.cli.exits import RET_CONFIG, RET_FAILED, RET_OK

if TYPE_CHECKING:
    from watchdog.track.listing import CaseRow


def cases_command(
    ctx: typer.Context,
    state: Annotated[
        str, typer.Option("--state", help="open, overdue, answered, handled, dismissed or all.")
    ] = "open",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    now: Annotated[
        str | None, typer.Option("--now", help="Judge overdue at this ISO 8601 time.")
    ] = None,
) -> None:
    """List cases: customer, door, received, deadline, business time waited, state."""
    # Imported here, like every heavy module of the CLI: see watchdog/cli/__init__.py.
    from watchdog.track.listing import STATE_FILTERS, list_cases

    if state not in STATE_FILTERS:
        typer.echo(f"Error: --state: {state!r} is not one of {', '.join(STATE_FILTERS)}", err=True)
        raise typer.Exit(RET_CONFIG)
    config = load_or_exit(ctx, need_secrets=False)
    at = parse_now(now)
    with open_database(config)() as session:
        rows = list_cases(session, config, state, at)
    zone = config.sla.timezone
    for row in rows:
        typer.echo(
            json.dumps(_as_json(row), ensure_ascii=False) if as_json else _as_line(row, zone)
        )
    if not rows and not as_json:
        typer.echo(f"no {state} cases" if state != "all" else "no cases yet")
    raise typer.Exit(RET_OK)


def handle_command(
    ctx: typer.Context,
    case: Annotated[int, typer.Argument(help="The case number, as `watchdog cases` shows it.")],
    reason: Annotated[str, typer.Option("--reason", help="How the customer was answered.")],
    by: Annotated[
        str | None, typer.Option("--by", help="Who handled it (default: your login name).")
    ] = None,
) -> None:
    """Mark a case handled without an e-mail (a phone call), with who and why."""
    from watchdog.track.cases import CaseError, handle_case

    config = load_or_exit(ctx, need_secrets=False)
    who = by or getpass.getuser()
    with open_database(config)() as session:
        try:
            handle_case(session, case, by=who, reason=reason, now=parse_now(None))
        except CaseError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(RET_FAILED) from exc
        session.commit()
    typer.echo(f"case {case} handled by {who}: {reason.strip()}")


def _as_line(row: CaseRow, zone: ZoneInfo) -> str:
    state = "OVERDUE" if row.overdue else row.state
    flag = " (marked answered, no reply found)" if row.marked_answered_no_reply else ""
    return (
        f"#{row.id:<5} {state:<9} {_local(row.received_at, zone)}  due {_local(row.deadline_at, zone)}"
        f"  waited {_hours(row.waited):>6}  {row.source:<12} {row.customer}  «{row.subject}»{flag}"
    )


def _as_json(row: CaseRow) -> dict[str, object]:
    return {
        "id": row.id,
        "state": row.state,
        "overdue": row.overdue,
        "customer": row.customer,
        "source": row.source,
        "subject": row.subject,
        "received_at": row.received_at.isoformat(),
        "deadline_at": row.deadline_at.isoformat(),
        "closed_at": row.closed_at.isoformat() if row.closed_at else None,
        "waited_business_seconds": int(row.waited.total_seconds()),
        "marked_answered_no_reply": row.marked_answered_no_reply,
        "handled_by": row.handled_by,
        "handled_reason": row.handled_reason,
    }


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _hours(waited: timedelta) -> str:
    minutes = int(waited.total_seconds()) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"
