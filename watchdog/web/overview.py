"""``GET /``: the overview, what the owner looks at first.

Per source (door): how many cases are open and overdue, its next deadline,
when it was last read and whether that failed, and its open alarms; then
the next deadlines over all doors, and the open alarms nobody acknowledged.
Everything is counted in a few grouped queries, so the page costs the same
with ten cases or ten thousand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from watchdog.config import Config
from watchdog.storage.models import Alarm, Case, Message, Source
from watchdog.web.alarms import alarm_views
from watchdog.web.auth import Owner, require_owner
from watchdog.web.context import web_context
from watchdog.web.pages import language_of, local, render, summary_view

NEXT_DEADLINES = 10  # open cases listed by deadline
ALARMS_SHOWN = 10


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One door on the overview."""

    name: str
    kind: str  # mailbox | form
    configured: bool  # False: in the database, no longer in the config
    open: int
    overdue: int
    next_deadline: str
    last_read: str  # the last successful poll (mailboxes, form APIs)
    last_message: str
    failing_since: str  # "" unless the source cannot be reached
    last_error: str
    alarms: int


@dataclass(frozen=True, slots=True)
class DeadlineLine:
    """An open case by its deadline."""

    case_id: int
    customer: str
    subject: str
    source: str
    deadline: str
    overdue: bool


router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def overview(
    request: Request, owner: Annotated[Owner, Depends(require_owner)]
) -> HTMLResponse:
    """The overview: SLA summary, each source, the next deadlines, unacknowledged alarms."""
    ctx = web_context(request)
    lang = language_of(request)

    def load() -> dict[str, Any]:
        now, zone = ctx.clock(), ctx.config.sla.timezone
        with ctx.sessions() as session:
            alarms = alarm_views(session, zone, lang, cleared=False)
            return {
                "summary": summary_view(session, now, zone),
                "sources": source_lines(session, ctx.config, now, zone),
                "deadlines": next_deadlines(session, now, zone),
                "alarms": [a for a in alarms if not a.acknowledged][:ALARMS_SHOWN],
                "alarms_open": len(alarms),
            }

    return render(request, "overview.html", **await run_in_threadpool(load))


def source_lines(session: Session, config: Config, now: datetime, zone: tzinfo) -> list[SourceLine]:
    """Return each source, configured ones in config order, then any left in the database."""
    order = {source.name: n for n, source in enumerate(config.sources)}
    rows = sorted(
        session.scalars(select(Source)), key=lambda s: (order.get(s.name, 1 << 30), s.name)
    )
    cases = _case_counts(session, now)
    alarms = _alarm_counts(session)
    latest = select(Message.source_id, func.max(Message.received_at)).group_by(Message.source_id)
    arrivals: dict[int, datetime] = {sid: at for sid, at in session.execute(latest)}
    lines = []
    for row in rows:
        opened, overdue, next_deadline = cases.get(row.id, (0, 0, None))
        lines.append(
            SourceLine(
                name=row.name,
                kind=row.kind,
                configured=row.name in order,
                open=opened,
                overdue=overdue,
                next_deadline=local(next_deadline, zone),
                last_read=local(row.last_ok_at, zone),
                last_message=local(arrivals.get(row.id), zone),
                failing_since=local(row.unreachable_since, zone),
                last_error=row.last_error or "" if row.unreachable_since else "",
                alarms=alarms.get(row.id, 0),
            )
        )
    return lines


def _case_counts(session: Session, now: datetime) -> dict[int, tuple[int, int, datetime | None]]:
    """Return, per source id: open cases, overdue ones, and the next deadline still ahead."""
    overdue = Case.deadline_at < now
    query = (
        select(
            Case.source_id,
            func.count(),
            func.count().filter(overdue),
            func.min(Case.deadline_at).filter(Case.deadline_at >= now),
        )
        .where(Case.state == "open")
        .group_by(Case.source_id)
    )
    return {sid: (int(n), int(late), soonest) for sid, n, late, soonest in session.execute(query)}


def _alarm_counts(session: Session) -> dict[int, int]:
    """Return, per source id, its open alarms: its own and those about its messages."""
    source_id = func.coalesce(Alarm.source_id, Message.source_id)
    query = (
        select(source_id, func.count())
        .outerjoin(Message, Message.id == Alarm.message_id)
        .where(Alarm.cleared_at.is_(None), source_id.is_not(None))
        .group_by(source_id)
    )
    return {int(sid): int(n) for sid, n in session.execute(query)}


def next_deadlines(session: Session, now: datetime, zone: tzinfo) -> list[DeadlineLine]:
    """Return the open cases by deadline, the longest overdue first."""
    query = (
        select(Case, Source.name)
        .join(Source, Source.id == Case.source_id)
        .where(Case.state == "open")
        .order_by(Case.deadline_at, Case.id)
        .limit(NEXT_DEADLINES)
    )
    return [
        DeadlineLine(
            case.id,
            case.customer,
            case.subject,
            name,
            local(case.deadline_at, zone),
            overdue=case.deadline_at < now,
        )
        for case, name in session.execute(query)
    ]
