"""Which conversation a message belongs to: headers first, then who and what.

Order of evidence, strongest first:

1. the message's In-Reply-To / References name a message we already threaded;
2. an already threaded message names this one in its In-Reply-To (the reply
   reached us before the request: another mailbox was polled first);
3. the same counterpart and the same normalised subject within ``WINDOW``
   (phones and webmail drop the headers);
4. for a reply with a new subject: the counterpart has a waiting case that a
   site form opened (a form request has no subject to reply to; the design
   says any reply to that address answers it).

A copy of a message already threaded (the same Message-ID in a second
mailbox or folder) joins its thread and is marked a duplicate, so one mail in
two mailboxes never opens two cases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchdog.storage.models import Case, Classification, Message, Thread

#: How long a conversation stays findable by counterpart and subject alone.
WINDOW = timedelta(days=30)
_ID = re.compile(r"<([^<>]+)>")


@dataclass(frozen=True)
class Placement:
    """Where a message went: its thread, and whether it only repeats a known message."""

    thread: Thread
    duplicate: bool


def place(
    session: Session, message: Message, counterpart: str | None, subject_norm: str
) -> Placement:
    """Return the message's thread (found or new) and whether it is a copy of a threaded one."""
    copy = _threaded_copy(session, message)
    if copy is not None:
        return Placement(copy, duplicate=True)
    thread = (
        _by_headers(session, message)
        or _by_reply_to_this(session, message)
        or _by_counterpart_and_subject(session, message, counterpart, subject_norm)
        or _form_case_of(session, message, counterpart)
    )
    if thread is None:
        thread = Thread(
            subject_norm=subject_norm,
            counterpart=counterpart,
            phone=message.phone,
            created_at=message.received_at,
        )
        session.add(thread)
        session.flush()
    return Placement(thread, duplicate=False)


def referenced_ids(message: Message) -> list[str]:
    """Return the ids this message answers: In-Reply-To first, then References newest first."""
    ids = [message.in_reply_to] if message.in_reply_to else []
    ids += reversed(_ID.findall(message.references_ or ""))
    return [i for i in dict.fromkeys(ids) if i]


def _threaded_copy(session: Session, message: Message) -> Thread | None:
    if not message.message_id_header:
        return None
    query = (
        select(Thread)
        .join(Message, Message.thread_id == Thread.id)
        .where(Message.message_id_header == message.message_id_header, Message.id != message.id)
        .limit(1)
    )
    return session.scalar(query)


def _by_headers(session: Session, message: Message) -> Thread | None:
    ids = referenced_ids(message)
    if not ids:
        return None
    query = (
        select(Thread)
        .join(Message, Message.thread_id == Thread.id)
        .where(Message.message_id_header.in_(ids))
        .limit(1)
    )
    return session.scalar(query)


def _by_reply_to_this(session: Session, message: Message) -> Thread | None:
    if not message.message_id_header:
        return None
    query = (
        select(Thread)
        .join(Message, Message.thread_id == Thread.id)
        .where(Message.in_reply_to == message.message_id_header)
        .limit(1)
    )
    return session.scalar(query)


def _by_counterpart_and_subject(
    session: Session, message: Message, counterpart: str | None, subject_norm: str
) -> Thread | None:
    if not counterpart or not subject_norm:
        return None
    query = (
        select(Thread)
        .where(
            Thread.counterpart == counterpart,
            Thread.subject_norm == subject_norm,
            Thread.last_message_at >= message.received_at - WINDOW,
        )
        .order_by(Thread.last_message_at.desc())
        .limit(1)
    )
    return session.scalar(query)


def _form_case_of(session: Session, message: Message, counterpart: str | None) -> Thread | None:
    """The thread of an open case a site form opened for this counterpart, for our reply to it."""
    if message.direction != "outgoing" or not counterpart:
        return None
    query = (
        select(Thread)
        .join(Case, Case.thread_id == Thread.id)
        .join(Message, Message.id == Case.opening_message_id)
        .join(Classification, Classification.message_id == Message.id)
        .where(
            Thread.counterpart == counterpart,
            Case.state == "open",
            Classification.category == "form",
        )
        .order_by(Case.received_at)
        .limit(1)
    )
    return session.scalar(query)


def touch(thread: Thread, at: datetime) -> None:
    """Move the thread's last activity forward (never back: mail arrives out of order)."""
    if thread.last_message_at is None or at > thread.last_message_at:
        thread.last_message_at = at
