"""Where the cases stand at ``now``, counted in the database rather than in Python.

"Overdue" is an open case whose deadline has passed; deadlines are stored
when a case opens, so the question is one aggregate over the
(state, deadline_at) index, however many cases there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchdog.storage.models import Case


@dataclass(frozen=True)
class SlaSummary:
    """Open and overdue cases at a moment, and since when the oldest one is overdue."""

    open: int
    overdue: int
    overdue_since: datetime | None  # the earliest passed deadline among open cases


def sla_summary(session: Session, now: datetime) -> SlaSummary:
    """Count open and overdue cases at ``now`` in one query."""
    is_overdue = Case.deadline_at < now
    query = select(
        func.count(),
        func.count().filter(is_overdue),
        func.min(Case.deadline_at).filter(is_overdue),  # keeps the column's aware-UTC type
    ).where(Case.state == "open")
    total, overdue, since = session.execute(query).one()
    return SlaSummary(open=int(total), overdue=int(overdue), overdue_since=since)
