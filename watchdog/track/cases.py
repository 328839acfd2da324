"""The life of a case: opened by a request, kept by follow-ups, closed by a human.

Every change is appended to the case's history (``case_events``) with the
message that caused it, so the dashboard can show why a case is where it is.
A follow-up never moves the deadline: the customer has been waiting since
the first message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from watchdog.alarms import REQUEST_DELETED, REQUEST_IN_JUNK
from watchdog.errors import WatchdogError
from watchdog.storage.models import Alarm, Case, CaseEvent, Message, Thread


class CaseError(WatchdogError):
    """A case cannot be changed as asked (unknown, or already closed)."""


def open_case_in(session: Session, thread: Thread) -> Case | None:
    """Return the thread's open case, if there is one."""
    query = select(Case).where(Case.thread_id == thread.id, Case.state == "open").limit(1)
    return session.scalar(query)


def open_case(
    session: Session,
    thread: Thread,
    message: Message,
    *,
    customer: str,
    deadline: datetime,
    now: datetime,
) -> Case:
    """Open a case for the request ``message``; its clock starts at the message's arrival."""
    case = Case(
        thread_id=thread.id,
        source_id=message.source_id,
        opening_message_id=message.id,
        customer=customer,
        subject=message.subject,
        received_at=message.received_at,
        deadline_at=deadline,
        created_at=now,
    )
    session.add(case)
    session.flush()
    _event(session, case, "opened", message, now)
    return case


def follow_up(session: Session, case: Case, message: Message, now: datetime) -> None:
    """Record the customer writing again; the case and its deadline stay as they were."""
    _event(session, case, "follow_up", message, now)


def answer(session: Session, case: Case, message: Message, now: datetime) -> None:
    """Close the case as answered by a human reply."""
    case.state = "answered"
    case.answered_at = message.received_at
    case.answered_message_id = message.id
    _event(session, case, "answered", message, now)
    _clear_request_alarms(session, case, now)


def note(session: Session, case: Case, kind: str, message: Message | None, now: datetime) -> None:
    """Record something that changes nothing (our autoreply, an internal forward)."""
    _event(session, case, kind, message, now)


def mark_answered_flag(
    session: Session, case: Case, message: Message, *, trusted: bool, now: datetime
) -> None:
    """The \\Answered flag is set but no reply was found: say so; close only if trusted."""
    case.marked_answered_no_reply = True
    if trusted:
        case.state = "answered"
        case.answered_at = now
        _event(session, case, "answered_flag_trusted", message, now)
        _clear_request_alarms(session, case, now)
    else:
        _event(session, case, "marked_answered_no_reply", message, now)


def handle_case(session: Session, case_id: int, *, by: str, reason: str, now: datetime) -> Case:
    """Close an open case without an e-mail (a phone call), recording who and why.

    Raises CaseError when there is no such case or it is no longer open; like
    ``dismiss_case``, a reply tracked at the same moment is never overwritten.
    """
    if not reason.strip():
        raise CaseError("a reason is required: say how the customer was answered")
    case = _close_if_open(
        session, case_id, state="handled", handled_at=now, handled_by=by,
        handled_reason=reason.strip(),
    )  # fmt: skip
    _event(session, case, "handled", None, now, actor=by, detail={"reason": reason.strip()})
    _clear_request_alarms(session, case, now)
    return case


def dismiss_case(session: Session, case_id: int, *, by: str, reason: str, now: datetime) -> Case:
    """Close an open case as no request at all: the classifier was wrong, nobody waits.

    Raises CaseError when there is no such case or it is no longer open. The
    UPDATE is conditional on the case still being open, so a reply tracked by
    the daemon at the same moment is never overwritten: one of the two wins.
    """
    case = _close_if_open(session, case_id, state="dismissed", dismissed_at=now)
    _event(session, case, "dismissed", None, now, actor=by, detail={"reason": reason.strip()})
    _clear_request_alarms(session, case, now)
    return case


def _close_if_open(session: Session, case_id: int, **values: object) -> Case:
    """Set ``values`` on case ``case_id`` only if it is still open, in one conditional UPDATE.

    The case may have been loaded before another process answered it; a
    plain assignment would then overwrite that answer. Raises CaseError when
    there is no such case or it is no longer open.
    """
    case = session.get(Case, case_id)
    if case is None:
        raise CaseError(f"there is no case {case_id}")
    changed = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.state == "open")
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    if getattr(changed, "rowcount", 0) != 1:
        session.refresh(case)
        raise CaseError(f"case {case_id} is already {case.state}")
    return case


def reopen_case(session: Session, case: Case, *, by: str, reason: str, now: datetime) -> None:
    """Open a dismissed case again: someone said it was a request after all."""
    case.state, case.dismissed_at = "open", None
    case.next_escalation_at = None  # "not computed yet": the decider looks at it again
    _event(session, case, "reopened", None, now, actor=by, detail={"reason": reason.strip()})


def note_correction(
    session: Session, case: Case, message: Message, *, by: str, reason: str, now: datetime
) -> None:
    """Record that a person said ``message``, not taken for a request, is one of this case."""
    _event(session, case, "corrected_request", message, now, actor=by,
           detail={"reason": reason.strip()})  # fmt: skip


def _clear_request_alarms(session: Session, case: Case, now: datetime) -> None:
    """End the "deleted unanswered" and "in Junk" alarms of a request that got its answer.

    The alarm was about a customer left without a reply; once answered (or
    handled by phone) the digest must not keep listing them. The alarm may
    point at any copy of the request (INBOX, Trash, Junk), all in the thread.
    """
    in_thread = select(Message.id).where(Message.thread_id == case.thread_id)
    session.execute(
        update(Alarm)
        .where(
            Alarm.kind.in_((REQUEST_DELETED, REQUEST_IN_JUNK)),
            Alarm.cleared_at.is_(None),
            Alarm.message_id.in_(in_thread),
        )
        .values(cleared_at=now)
    )


def _event(
    session: Session,
    case: Case,
    kind: str,
    message: Message | None,
    now: datetime,
    *,
    actor: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind=kind,
            message_id=message.id if message else None,
            actor=actor,
            detail=detail,
        )
    )
