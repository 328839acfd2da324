"""Cases as people read them: who, which door, since when, how long in business time.

The state filter runs in SQL on the (state, deadline_at) index: "overdue" is
open with a deadline before ``now``, so listing the overdue ones never loads
every case. Business time waited is computed only for the rows shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from watchdog.config import Config
from watchdog.sla import calendar_for
from watchdog.storage.models import Case, Source

StateFilter = Literal["open", "overdue", "answered", "handled", "dismissed", "all"]
STATE_FILTERS: tuple[StateFilter, ...] = (
    "open",
    "overdue",
    "answered",
    "handled",
    "dismissed",
    "all",
)


@dataclass(frozen=True)
class CaseRow:
    """One case, ready to print or serialise."""

    id: int
    state: str
    overdue: bool
    customer: str
    source: str
    subject: str
    received_at: datetime
    deadline_at: datetime
    closed_at: datetime | None  # answered, handled or dismissed
    waited: timedelta  # business time from arrival to the answer, or to now if still open
    marked_answered_no_reply: bool
    handled_by: str | None
    handled_reason: str | None


def case_query(state: StateFilter, now: datetime) -> Select[Case, str]:
    """Return the query of cases in ``state`` at ``now``, oldest first."""
    query = select(Case, Source.name).join(Source, Source.id == Case.source_id)
    if state == "overdue":
        query = query.where(Case.state == "open", Case.deadline_at < now)
    elif state != "all":
        query = query.where(Case.state == state)
    return query.order_by(Case.received_at, Case.id)


def list_cases(
    session: Session, config: Config, state: StateFilter, now: datetime, *, limit: int = 1000
) -> list[CaseRow]:
    """Return up to ``limit`` cases in ``state`` with their business time waited."""
    rows = session.execute(case_query(state, now).limit(limit)).all()
    return [case_row(case, source, config, now) for case, source in rows]


def case_row(case: Case, source: str, config: Config, now: datetime) -> CaseRow:
    """Return one case as the listing shows it: its source's SLA, its business time waited."""
    closed = case.answered_at or case.handled_at or case.dismissed_at
    configured = {s.name for s in config.sources}
    sla = config.sla_for(source) if source in configured else config.sla
    waited = calendar_for(sla).elapsed(case.received_at, closed or now)
    return CaseRow(
        id=case.id,
        state=case.state,
        overdue=case.state == "open" and case.deadline_at < now,
        customer=case.customer,
        source=source,
        subject=case.subject,
        received_at=case.received_at,
        deadline_at=case.deadline_at,
        closed_at=closed,
        waited=waited,
        marked_answered_no_reply=case.marked_answered_no_reply,
        handled_by=case.handled_by,
        handled_reason=case.handled_reason,
    )
