"""Which mailbox events are alarms: a request deleted unanswered, a request in Junk.

Pure decisions over stored rows, called by the sync as it notices events.
Each occurrence is keyed by a message row id, so ``raise_alarm`` makes the
second sighting (the next poll, or the same message seen leaving INBOX and
arriving in Trash) a no-op.

History is not alarmed. On its first sync a mailbox shows years of Trash and
Junk; those are stored (the dashboard shows them) but raise nothing. A
message counts as history when it arrived (INTERNALDATE) before the source
was first polled. A request seen in INBOX and then seen leaving it is never
history: we watched that happen.

"Unanswered", until the tracking stage exists, means: no outgoing message we
stored replies to it (In-Reply-To or References), and, when the mailbox's
``trust_answered_flag`` is set, no \\Answered flag either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from watchdog.alarms import REQUEST_DELETED, REQUEST_IN_JUNK, raise_alarm
from watchdog.storage.models import Alarm, Message

ANSWERED = "\\Answered"


@dataclass(frozen=True)
class Watch:
    """What the decisions need to know about the mailbox being polled."""

    source_id: int
    inbox_folder: str
    watching_since: datetime
    trust_answered_flag: bool
    now: datetime


def left_inbox(session: Session, watch: Watch, row: Message) -> Alarm | None:
    """A request vanished from INBOX (moved or expunged): alarm unless it was answered."""
    if not is_request(row) or answered(session, row, watch.trust_answered_flag):
        return None
    return _raise(session, watch, REQUEST_DELETED, row, "left the inbox unanswered")


def arrived_in_trash(session: Session, watch: Watch, row: Message) -> Alarm | None:
    """A request appeared in Trash: the same alarm as its INBOX copy leaving, if we knew it.

    The key is the INBOX row when one with the same Message-ID was stored
    before this poll, so a move seen from both ends raises one alarm.
    """
    if not is_request(row) or answered(session, row, watch.trust_answered_flag):
        return None
    known = _known_inbox_copy(session, watch, row)
    if known is not None:
        return _raise(session, watch, REQUEST_DELETED, known, "moved to Trash unanswered")
    if _is_history(watch, row):
        return None
    return _raise(session, watch, REQUEST_DELETED, row, "found in Trash unanswered")


def arrived_in_junk(session: Session, watch: Watch, row: Message) -> Alarm | None:
    """A request that arrived while we watch sits in Junk, where nobody looks."""
    if not is_request(row) or _is_history(watch, row):
        return None
    return _raise(session, watch, REQUEST_IN_JUNK, row, "sits in Junk")


def is_request(row: Message) -> bool:
    """True for an incoming message classified as a request (customer or form)."""
    return (
        row.direction != "outgoing"
        and row.classification is not None
        and row.classification.request
    )


def answered(session: Session, row: Message, trust_answered_flag: bool) -> bool:
    """True when a stored outgoing message replies to ``row`` (or, if trusted, it is \\Answered)."""
    if trust_answered_flag and ANSWERED in (row.flags or []):
        return True
    mid = row.message_id_header
    if not mid:
        return False
    reply = (
        select(Message.id)
        .where(
            Message.direction == "outgoing",
            or_(
                Message.in_reply_to == mid,
                Message.references_.contains(f"<{mid}>", autoescape=True),
            ),
        )
        .limit(1)
    )
    return session.scalar(reply) is not None


def _known_inbox_copy(session: Session, watch: Watch, row: Message) -> Message | None:
    if not row.message_id_header:
        return None
    query = (
        select(Message)
        .where(
            Message.source_id == watch.source_id,
            Message.folder == watch.inbox_folder,
            Message.message_id_header == row.message_id_header,
            Message.created_at < watch.now,  # stored by an earlier poll, not this first sync
        )
        .order_by(Message.id)
        .limit(1)
    )
    return session.scalar(query)


def _is_history(watch: Watch, row: Message) -> bool:
    return row.received_at < watch.watching_since


def _raise(session: Session, watch: Watch, kind: str, row: Message, what: str) -> Alarm | None:
    sender = row.from_addr or "unknown sender"
    return raise_alarm(
        session,
        kind=kind,
        key=str(row.id),
        now=watch.now,
        detail=f'request from {sender} "{row.subject}" {what}',
        source_id=watch.source_id,
        message_id=row.id,
    )
