"""``GET /cases``: the cases, filtered by state, source and category, the most urgent first.

Urgency: open cases come first, by deadline (the longest overdue at the
top, then the next to fall due); closed ones follow, the latest first. The
state filter is ``track.listing``'s (the one ``watchdog cases`` uses); the
category is the classifier's verdict on the message that opened the case.
This module only turns rows into words and local times, and the templates
lay them out (autoescaped: a customer's subject is text, never markup).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Select, case, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from watchdog.config import Config
from watchdog.storage.models import CATEGORIES, Case, Classification, Source
from watchdog.track.listing import STATE_FILTERS, CaseRow, StateFilter, case_query, case_row
from watchdog.web.auth import Owner, require_owner
from watchdog.web.context import web_context
from watchdog.web.i18n import UI
from watchdog.web.pages import SummaryView, language_of, local, render, summary_view

LIST_LIMIT = 500  # cases on one page; the page says so when there are more
DEFAULT_STATE: StateFilter = "open"

router = APIRouter()


@dataclass(frozen=True, slots=True)
class CaseView:
    """One case, formatted for display."""

    id: int
    state: str  # open | answered | handled | dismissed
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
class Filters:
    """What the list is narrowed to; "" means any."""

    state: StateFilter
    source: str
    category: str

    def query(self, **change: str) -> str:
        """Return the list's query string with ``change`` applied (for the filter links)."""
        values = {"state": self.state, "source": self.source, "category": self.category, **change}
        return urlencode({key: value for key, value in values.items() if value})


@router.get("/cases", response_class=HTMLResponse)
async def cases(
    request: Request,
    owner: Annotated[Owner, Depends(require_owner)],
    state: str = DEFAULT_STATE,
    source: str = "",
    category: str = "",
) -> HTMLResponse:
    """The cases matching the filters; an unknown state or category is a 400 naming the choices."""
    ctx = web_context(request)
    lang = language_of(request)
    chosen = _state_filter(state)
    filters = Filters(chosen or DEFAULT_STATE, source, category if category in CATEGORIES else "")
    bad = "" if chosen else state
    bad = bad or ("" if not category or category in CATEGORIES else category)

    def load() -> tuple[SummaryView, list[CaseView], list[str]]:
        with ctx.sessions() as session:
            return _case_list(session, ctx.config, filters, ctx.clock(), lang)

    summary, rows, sources = await run_in_threadpool(load)
    values: dict[str, Any] = {
        "summary": summary,
        "states": STATE_FILTERS,
        "categories": CATEGORIES,
        "sources": sources,
        "filters": filters,
        "bad_filter": bad,
        "cases": [] if bad else rows,
        "more": not bad and len(rows) >= LIST_LIMIT,
        "limit": LIST_LIMIT,
    }
    return render(request, "cases.html", 400 if bad else 200, **values)


def _state_filter(value: str) -> StateFilter | None:
    """Return the state filter named ``value``, or None when there is no such filter."""
    for name in STATE_FILTERS:
        if name == value:
            return name
    return None


def urgent_cases(filters: Filters, now: datetime) -> Select[Case, str]:
    """Return the query of the cases matching ``filters``, the most urgent first."""
    query = case_query(filters.state, now).order_by(None)
    if filters.source:
        query = query.where(Source.name == filters.source)
    if filters.category:
        opened_as = select(Classification.message_id).where(
            Classification.category == filters.category
        )
        query = query.where(Case.opening_message_id.in_(opened_as))
    is_open = Case.state == "open"
    return query.order_by(
        case((is_open, 0), else_=1),
        case((is_open, Case.deadline_at), else_=None),  # closed ones: all NULL, a tie
        Case.received_at.desc(),
        Case.id.desc(),
    )


def _case_list(
    session: Session, config: Config, filters: Filters, now: datetime, lang: str
) -> tuple[SummaryView, list[CaseView], list[str]]:
    zone = config.sla.timezone
    rows = session.execute(urgent_cases(filters, now).limit(LIST_LIMIT)).all()
    views = [case_view(case_row(row, name, config, now), zone, lang) for row, name in rows]
    sources = list(session.scalars(select(Source.name).order_by(Source.name)))
    return summary_view(session, now, zone), views, sources


def case_view(row: CaseRow, zone: tzinfo, lang: str) -> CaseView:
    """Return one case in words and local times."""
    return CaseView(
        id=row.id,
        state=row.state,
        overdue=row.overdue,
        customer=row.customer,
        source=row.source,
        subject=row.subject,
        received=local(row.received_at, zone),
        deadline=local(row.deadline_at, zone),
        closed=local(row.closed_at, zone),
        waited=duration(row.waited, lang),
        marked_answered_no_reply=row.marked_answered_no_reply,
        handled_by=row.handled_by or "",
        handled_reason=row.handled_reason or "",
    )


def duration(span: timedelta, lang: str) -> str:
    """Return ``span`` as hours and minutes in words: "26 h 05 min" (business time has no days)."""
    minutes = int(span.total_seconds()) // 60
    return UI[lang]["hours_minutes"].format(hours=minutes // 60, minutes=minutes % 60)
