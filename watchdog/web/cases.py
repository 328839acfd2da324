"""The cases pages: ``GET /cases`` (filtered by state) and ``GET /cases/{id}`` with its history.

Escalation e-mails link to ``{public_url}/cases/{id}``, so that address must
keep working. The list comes from ``track.listing.list_cases`` read at the
app's clock; this module only turns rows into words and local times, and the
templates lay them out (autoescaped: a customer's subject is text, never markup).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, tzinfo
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.concurrency import run_in_threadpool

from watchdog.storage.models import Case, CaseEvent, Source
from watchdog.track.listing import STATE_FILTERS, CaseRow, StateFilter, case_row, list_cases
from watchdog.web.auth import require_owner
from watchdog.web.context import WebContext, web_context
from watchdog.web.i18n import EVENT_KINDS, UI
from watchdog.web.pages import SummaryView, local, render, summary_view

LIST_LIMIT = 500  # cases on one page; the page says so when there are more
DEFAULT_STATE: StateFilter = "open"

router = APIRouter(dependencies=[Depends(require_owner)])


@dataclass(frozen=True, slots=True)
class CaseView:
    """One case, formatted for display."""

    id: int
    state: str  # open | answered | handled
    overdue: bool
    customer: str
    source: str
    subject: str
    received: str
    deadline: str
    closed: str  # "" while open
    waited: str  # business time, "2 h 05 min"
    marked_answered_no_reply: bool
    handled_by: str
    handled_reason: str


@dataclass(frozen=True, slots=True)
class EventView:
    """One line of a case's history, in words."""

    at: str
    what: str
    actor: str
    detail: str  # the handled reason, or whom an escalation notified
    message_id: int | None


@router.get("/cases", response_class=HTMLResponse)
async def cases(request: Request, state: str = DEFAULT_STATE) -> HTMLResponse:
    """The cases in one state (open by default); an unknown state is a 400 naming the choices."""
    ctx = web_context(request)
    chosen = _state_filter(state)
    summary, rows = await run_in_threadpool(_case_list, ctx, chosen or DEFAULT_STATE)
    values: dict[str, Any] = {
        "summary": summary,
        "states": STATE_FILTERS,
        "state": chosen or "",
        "bad_state": "" if chosen else state,
        "cases": rows if chosen else [],
        "more": chosen is not None and len(rows) >= LIST_LIMIT,
        "limit": LIST_LIMIT,
    }
    return render(ctx, "cases.html", status_code=200 if chosen else 400, **values)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case(case_id: int, request: Request) -> HTMLResponse:
    """One case: its fields, its history in order, and how to close it without e-mail."""
    ctx = web_context(request)
    detail = await run_in_threadpool(_case_detail, ctx, case_id)
    if detail is None:
        lang = ctx.config.owner.language
        return render(ctx, "missing.html", status_code=404, not_found=UI[lang]["case_not_found"],
                      back_href="/cases", back=UI[lang]["back_to_cases"])  # fmt: skip
    summary, row, events = detail
    return render(ctx, "case.html", summary=summary, case=row, events=events)


def _state_filter(value: str) -> StateFilter | None:
    """Return the state filter named ``value``, or None when there is no such filter."""
    for name in STATE_FILTERS:
        if name == value:
            return name
    return None


def _case_list(ctx: WebContext, state: StateFilter) -> tuple[SummaryView, list[CaseView]]:
    zone, lang, now = ctx.config.sla.timezone, ctx.config.owner.language, ctx.clock()
    with ctx.sessions() as session:
        summary = summary_view(session, now, zone)
        rows = list_cases(session, ctx.config, state, now, limit=LIST_LIMIT)
    return summary, [_case_view(row, zone, lang) for row in rows]


def _case_detail(
    ctx: WebContext, case_id: int
) -> tuple[SummaryView, CaseView, list[EventView]] | None:
    zone, lang, now = ctx.config.sla.timezone, ctx.config.owner.language, ctx.clock()
    with ctx.sessions() as session:
        query = (
            select(Case, Source.name)
            .join(Source, Source.id == Case.source_id)
            .where(Case.id == case_id)
            .options(selectinload(Case.events))
        )
        found = session.execute(query).one_or_none()
        if found is None:
            return None
        case, source = found
        row = case_row(case, source, ctx.config, now)
        events = [_event_view(event, zone, lang) for event in case.events]  # ordered by (at, id)
        return summary_view(session, now, zone), _case_view(row, zone, lang), events


def _case_view(row: CaseRow, zone: tzinfo, lang: str) -> CaseView:
    return CaseView(
        id=row.id,
        state=row.state,
        overdue=row.overdue,
        customer=row.customer,
        source=row.source,
        subject=row.subject,
        received=local(row.received_at, zone),
        deadline=local(row.deadline_at, zone),
        closed=local(row.closed_at, zone) if row.closed_at else "",
        waited=duration(row.waited, lang),
        marked_answered_no_reply=row.marked_answered_no_reply,
        handled_by=row.handled_by or "",
        handled_reason=row.handled_reason or "",
    )


def _event_view(event: CaseEvent, zone: tzinfo, lang: str) -> EventView:
    detail = event.detail or {}
    if event.kind == "handled":
        text = str(detail.get("reason", ""))
    elif event.kind == "escalated":
        whom = str(detail.get("notify", ""))
        text = UI[lang].get(f"notify_{whom}", whom)
    else:
        text = ""
    return EventView(
        at=local(event.at, zone),
        what=EVENT_KINDS[lang].get(event.kind, event.kind),
        actor=event.actor or "",
        detail=text,
        message_id=event.message_id,
    )


def duration(span: timedelta, lang: str) -> str:
    """Return ``span`` as hours and minutes in words: "26 h 05 min" (business time has no days)."""
    minutes = int(span.total_seconds()) // 60
    return UI[lang]["hours_minutes"].format(hours=minutes // 60, minutes=minutes % 60)
