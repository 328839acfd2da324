"""One tracking pass: every message not yet tracked gets its thread and moves its case.

Steps, per batch of untracked messages (oldest arrival first):

1. decide the message's role (request, human reply, our autoreply, internal, other);
2. place it in a thread (``threads.place``); a copy of a threaded message stops here;
3. a request opens a case, or is a follow-up of the open one; a human reply
   answers the open case; our autoreply and internal forwards are noted only;
4. a new case whose reply was already stored (another mailbox was polled
   first) is answered at once;
5. mark the message tracked, in the same transaction as 2-4.

Then the ``\\Answered`` flags of open cases' requests are looked at: they
close a case only where the mailbox trusts the flag.

Requests older than ``history`` before the source was first seen open no
case: a first sync reads years of mail, and the owner must not be escalated
about 2019.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session, selectinload

from watchdog.ingest.message import OurIdentity
from watchdog.storage.models import Case, Message, Source, Thread
from watchdog.track import cases
from watchdog.track.roles import counterpart_of, customer_label, role_of
from watchdog.track.subjects import normalize_subject
from watchdog.track.threads import place, touch

#: Given a source's row id and a request's arrival, return its deadline.
DeadlineFor = Callable[[int, datetime], datetime]


@dataclass(frozen=True)
class TrackPolicy:
    """What tracking needs to know: who we are, how deadlines fall, which flags to trust."""

    ours: OurIdentity
    deadline_for: DeadlineFor
    trusted_flag_sources: frozenset[int] = frozenset()
    history: timedelta = timedelta(days=14)


@dataclass
class TrackReport:
    """What one pass did, for logs and tests."""

    tracked: int = 0
    opened: list[int] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    follow_ups: int = 0


def track_new(
    session: Session, policy: TrackPolicy, now: datetime, *, batch: int = 500
) -> TrackReport:
    """Track every untracked message, committing per batch; return what changed."""
    report = TrackReport()
    while True:
        messages = _untracked(session, batch)
        if not messages:
            break
        for message in sorted(messages, key=lambda m: (m.received_at, m.id)):
            _track_one(session, policy, message, now, report)
            message.tracked_at = now
        report.tracked += len(messages)
        session.commit()
    _apply_answered_flags(session, policy, now)
    session.commit()
    return report


def _untracked(session: Session, batch: int) -> list[Message]:
    query = (
        select(Message)
        .where(Message.tracked_at.is_(None))
        .order_by(Message.id)
        .limit(batch)
        .options(selectinload(Message.classification))
    )
    return list(session.scalars(query))


def _track_one(
    session: Session, policy: TrackPolicy, message: Message, now: datetime, report: TrackReport
) -> None:
    role = role_of(message, policy.ours)
    if role == "other":
        return
    counterpart = counterpart_of(message, policy.ours)
    placement = place(session, message, counterpart, normalize_subject(message.subject))
    message.thread_id = placement.thread.id
    touch(placement.thread, message.received_at)
    if placement.duplicate:
        return
    case = cases.open_case_in(session, placement.thread)
    if role == "request":
        _on_request(session, policy, placement.thread, case, message, counterpart, now, report)
    elif case is not None and role == "reply" and message.received_at >= case.received_at:
        cases.answer(session, case, message, now)
        report.answered.append(case.id)
    elif case is not None:
        cases.note(session, case, role, message, now)


def _on_request(
    session: Session,
    policy: TrackPolicy,
    thread: Thread,
    case: Case | None,
    message: Message,
    counterpart: str | None,
    now: datetime,
    report: TrackReport,
) -> None:
    if case is not None:
        cases.follow_up(session, case, message, now)
        report.follow_ups += 1
        return
    if _before_history(session, policy, message):
        return
    case = open_request_case(session, policy, thread, message, counterpart, now)
    report.opened.append(case.id)
    if case.state == "answered":
        report.answered.append(case.id)


def open_request_case(
    session: Session,
    policy: TrackPolicy,
    thread: Thread,
    message: Message,
    counterpart: str | None,
    now: datetime,
) -> Case:
    """Open a case for the request ``message`` in ``thread``, and answer it at once if a
    human reply to it is already stored (another mailbox was polled first).

    Also how a person's "this is a request" opens one (``track.corrections``).
    """
    deadline = policy.deadline_for(message.source_id, message.received_at)
    label = customer_label(message, counterpart)
    case = cases.open_case(session, thread, message, customer=label, deadline=deadline, now=now)
    reply = _earlier_stored_reply(session, policy, thread, message)
    if reply is not None:
        cases.answer(session, case, reply, now)
    return case


def _before_history(session: Session, policy: TrackPolicy, message: Message) -> bool:
    source = session.get(Source, message.source_id)
    return source is not None and message.received_at < source.created_at - policy.history


def _earlier_stored_reply(
    session: Session, policy: TrackPolicy, thread: Thread, request: Message
) -> Message | None:
    """A human reply already in the thread, sent after the request (tracked before it)."""
    query = (
        select(Message)
        .where(
            Message.thread_id == thread.id,
            Message.direction == "outgoing",
            Message.received_at >= request.received_at,
            Message.tracked_at.is_not(None),
        )
        .order_by(Message.received_at)
        .options(selectinload(Message.classification))
    )
    for candidate in session.scalars(query):
        if role_of(candidate, policy.ours) == "reply":
            return candidate
    return None


def _apply_answered_flags(session: Session, policy: TrackPolicy, now: datetime) -> None:
    """Open cases whose request carries \\Answered but no reply of ours was seen."""
    query = (
        select(Case, Message)
        .join(Message, Message.id == Case.opening_message_id)
        .where(
            Case.state == "open",
            Case.marked_answered_no_reply.is_(False),
            cast(Message.flags, String).like("%Answered%"),
        )
    )
    for case, message in session.execute(query).all():
        if "\\Answered" in message.flags:
            trusted = message.source_id in policy.trusted_flag_sources
            cases.mark_answered_flag(session, case, message, trusted=trusted, now=now)
