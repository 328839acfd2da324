"""A person corrects the classifier: "this is not a request", "this is a request".

Either way the correction is recorded (``corrections``) beside the
classifier's verdict, which stays as it was, so the digest can show where
the rules went wrong; and the case follows what the person said:

- **not a request**: the open case the message opened is dismissed: nobody
  waits, nobody is escalated, the digest no longer counts it;
- **a request**: the message gets a case as if the classifier had said so
  from the start: a follow-up of the open case in its conversation, its own
  dismissed case opened again, or a new case whose deadline counts from the
  message's arrival (the customer has been waiting since then), answered at
  once if a human reply to it is already stored.

``request_refusal`` is the pure part: whether a message can be called a
request, from plain facts; the rest reads and writes the database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from watchdog.storage.models import Case, Correction, CorrectionVerdict, Message, Thread
from watchdog.track import cases
from watchdog.track.cases import CaseError
from watchdog.track.roles import counterpart_of
from watchdog.track.subjects import normalize_subject
from watchdog.track.threads import place, touch
from watchdog.track.tracker import TrackPolicy, open_request_case


def request_refusal(message_id: int, direction: str, case_state: str | None) -> str | None:
    """Return why message ``message_id`` cannot be called a request, or None if it can.

    ``case_state`` is the state of the case it opened, if it opened one.
    """
    if direction == "outgoing":
        return f"message {message_id} is our own mail, not a customer's"
    if case_state in ("open", "answered", "handled"):
        return f"message {message_id} already opened a case, which is {case_state}"
    return None


def correct_not_request(
    session: Session, case_id: int, *, by: str, reason: str, now: datetime
) -> Case:
    """Dismiss the open case ``case_id`` as no request, and record the correction.

    Raises CaseError when there is no such case or it is no longer open. The caller commits.
    """
    case = cases.dismiss_case(session, case_id, by=by, reason=reason, now=now)
    _record(session, case.opening_message_id, case.id, "not_request", by, reason, now)
    return case


def correct_to_request(
    session: Session, policy: TrackPolicy, message_id: int, *, by: str, reason: str, now: datetime
) -> Case:
    """Give message ``message_id`` the case a request gets, and record the correction.

    Returns the case that now holds it (found, reopened or new). Raises
    CaseError when there is no such message, it is our own mail, or it already
    opened a case that is not dismissed. The caller commits.
    """
    message = session.scalar(
        select(Message)
        .where(Message.id == message_id)
        .options(selectinload(Message.classification))
    )
    if message is None:
        raise CaseError(f"there is no message {message_id}")
    own = session.scalar(select(Case).where(Case.opening_message_id == message.id))
    refusal = request_refusal(message.id, message.direction, own.state if own else None)
    if refusal is not None:
        raise CaseError(refusal)
    if own is not None:  # dismissed earlier: the person changed their mind
        cases.reopen_case(session, own, by=by, reason=reason, now=now)
        case = own
    else:
        case = _case_for(session, policy, message, by=by, reason=reason, now=now)
    _record(session, message.id, case.id, "request", by, reason, now)
    return case


def _case_for(
    session: Session, policy: TrackPolicy, message: Message, *, by: str, reason: str, now: datetime
) -> Case:
    """Return the open case of the message's conversation (a follow-up), or open a new one."""
    thread = _thread_of(session, policy, message)
    case = cases.open_case_in(session, thread)
    if case is not None:
        cases.follow_up(session, case, message, now)
    else:
        counterpart = counterpart_of(message, policy.ours)
        case = open_request_case(session, policy, thread, message, counterpart, now)
    cases.note_correction(session, case, message, by=by, reason=reason, now=now)
    return case


def _thread_of(session: Session, policy: TrackPolicy, message: Message) -> Thread:
    """Return the message's thread, placing it now if the tracker left it out (not a request)."""
    if message.thread_id is not None:
        thread = session.get(Thread, message.thread_id)
        if thread is not None:
            return thread
    counterpart = counterpart_of(message, policy.ours)
    placement = place(session, message, counterpart, normalize_subject(message.subject))
    message.thread_id = placement.thread.id
    touch(placement.thread, message.received_at)
    return placement.thread


def _record(
    session: Session,
    message_id: int,
    case_id: int,
    verdict: CorrectionVerdict,
    by: str,
    reason: str,
    now: datetime,
) -> None:
    session.add(
        Correction(
            message_id=message_id,
            case_id=case_id,
            verdict=verdict,
            actor=by,
            reason=reason.strip(),
            at=now,
        )
    )
