"""Alarms: things the owner must hear about now, raised once per occurrence.

An occurrence is a (kind, key) pair: "request_deleted" with the message's row
id, "source_unreachable" with the source and the outage's start. The unique
constraint on (kind, key) makes a second raise of the same occurrence a
no-op, so a poll that sees the same trouble every two minutes raises one
alarm, not one per poll. Clearing marks the trouble over; a later outage has
a new key and raises a new alarm.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from watchdog.storage.models import Alarm

REQUEST_DELETED = "request_deleted"  # a request moved to Trash or expunged unanswered
REQUEST_IN_JUNK = "request_in_junk"  # a request sitting in the Junk folder
SOURCE_UNREACHABLE = "source_unreachable"  # a mailbox or form service down for too long
SOURCE_SILENT = "source_silent"  # a source quiet for far longer than usual


def raise_alarm(
    session: Session,
    *,
    kind: str,
    key: str,
    now: datetime,
    detail: str | None = None,
    source_id: int | None = None,
    message_id: int | None = None,
    case_id: int | None = None,
) -> Alarm | None:
    """Record the occurrence (kind, key); return the new alarm, or None if it was known already."""
    if session.scalar(select(Alarm.id).where(Alarm.kind == kind, Alarm.key == key)) is not None:
        return None
    alarm = Alarm(
        kind=kind,
        key=key,
        raised_at=now,
        detail=detail,
        source_id=source_id,
        message_id=message_id,
        case_id=case_id,
    )
    try:
        with session.begin_nested():  # another process may raise the same occurrence first
            session.add(alarm)
    except IntegrityError:
        return None
    return alarm


def clear_alarms(session: Session, *, kind: str, source_id: int, now: datetime) -> int:
    """Mark every open alarm of ``kind`` on a source as over; return how many were open."""
    result = session.execute(
        update(Alarm)
        .where(Alarm.kind == kind, Alarm.source_id == source_id, Alarm.cleared_at.is_(None))
        .values(cleared_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def open_alarms(session: Session) -> list[Alarm]:
    """Return the alarms not yet cleared, oldest first."""
    query = select(Alarm).where(Alarm.cleared_at.is_(None)).order_by(Alarm.raised_at, Alarm.id)
    return list(session.scalars(query))
