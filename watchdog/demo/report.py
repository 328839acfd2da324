"""What happened in one step of the demo, read back from the database and told in words.

The narration reads the same rows the dashboard and the digest read (messages
with their verdicts, case events, alarms, the outbox), so the story the demo
tells is what the watchdog recorded, not what the demo expected it to record.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from watchdog.config import Config
from watchdog.demo.narrate import Narrator, who
from watchdog.escalate.decide import source_calendar, source_sla
from watchdog.storage.models import Alarm, Case, CaseEvent, Message, Outbox, Source


def narrate_step(
    session: Session, config: Config, narrator: Narrator, previous: datetime | None, now: datetime
) -> None:
    """Tell what happened in (previous, now]: arrivals, cases closed by hand, alarms,
    deadlines passed, e-mails sent; in that order, which is the order they happened in."""
    names = dict(session.execute(select(Source.id, Source.name)).all())
    _arrivals(session, config, narrator, names, previous, now)
    _handled(session, narrator, previous, now)
    _alarms(session, narrator, previous, now)
    _overdue(session, config, narrator, names, previous, now)
    _sent(session, narrator, previous, now)


def _within(
    column: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None],
    previous: datetime | None,
    now: datetime,
) -> ColumnElement[bool]:
    """Return ``previous < column <= now`` (no lower bound on the first step)."""
    upper = column <= now
    return upper if previous is None else (column > previous) & upper


def _arrivals(
    session: Session,
    config: Config,
    narrator: Narrator,
    names: dict[int, str],
    previous: datetime | None,
    now: datetime,
) -> None:
    """One line per message stored in this step, saying what it meant for the cases."""
    messages = session.scalars(
        select(Message)
        .where(_within(Message.created_at, previous, now))
        .order_by(Message.received_at, Message.id)
        .options(selectinload(Message.classification))
    ).all()
    events: dict[int, dict[str, Case]] = defaultdict(dict)
    rows = session.execute(
        select(CaseEvent.message_id, CaseEvent.kind, Case)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.message_id.in_([message.id for message in messages]))
    )
    for message_id, kind, case in rows:
        if message_id is not None:
            events[message_id][kind] = case
    for message in messages:
        _arrival(config, narrator, names, message, events.get(message.id, {}), now)


def _arrival(
    config: Config,
    narrator: Narrator,
    names: dict[int, str],
    message: Message,
    events: dict[str, Case],
    now: datetime,
) -> None:
    verdict = message.classification
    category = verdict.category if verdict else "customer"
    subject = message.subject
    if "opened" in events:
        case = events["opened"]
        narrator.say("request", now, category=category, who=case.customer, subject=subject,
                     at=narrator.when(message.received_at), due=narrator.when(case.deadline_at))  # fmt: skip
    if "follow_up" in events:
        narrator.say("follow_up", now, who=events["follow_up"].customer, subject=subject)
    if "answered" in events:
        _answered(config, narrator, names, events["answered"], subject, now)
    elif "auto_ack" in events:
        narrator.say("auto_ack", now, who=events["auto_ack"].customer, subject=subject)
    elif "internal" in events:
        narrator.say("internal", now, subject=subject)
    elif events:
        return
    elif message.direction == "incoming" and verdict is not None and not verdict.request:
        narrator.say("not_request", now, category=category,
                     who=who(message.from_name, message.from_addr), subject=subject)  # fmt: skip
    elif message.direction == "outgoing" and verdict is not None and verdict.request:
        to = message.to_addrs[0] if message.to_addrs else {}
        narrator.say("reply", now, who=who(to.get("name"), to.get("email")), subject=subject)


def _answered(
    config: Config,
    narrator: Narrator,
    names: dict[int, str],
    case: Case,
    subject: str,
    now: datetime,
) -> None:
    """Say how long the customer waited, in business time, and whether that was in time."""
    answered_at = case.answered_at or now
    calendar = source_calendar(config, names.get(case.source_id, ""))
    took = narrator.took(calendar.elapsed(case.received_at, answered_at))
    if answered_at <= case.deadline_at:
        narrator.say("answered_in_time", now, who=case.customer, subject=subject, took=took)
    else:
        late = narrator.took(calendar.elapsed(case.deadline_at, answered_at))
        narrator.say("answered_late", now, who=case.customer, subject=subject, took=took,
                     late=late)  # fmt: skip


def _handled(
    session: Session, narrator: Narrator, previous: datetime | None, now: datetime
) -> None:
    rows = session.execute(
        select(CaseEvent, Case)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.kind == "handled", _within(CaseEvent.at, previous, now))
        .order_by(CaseEvent.at, CaseEvent.id)
    )
    for event, case in rows:
        reason = (event.detail or {}).get("reason", "")
        narrator.say("handled", now, who=case.customer, subject=case.subject,
                     by=event.actor or "?", reason=reason)  # fmt: skip


def _alarms(session: Session, narrator: Narrator, previous: datetime | None, now: datetime) -> None:
    """One line per alarm raised; for a request, the customer (not the form's robot) is named."""
    alarms = session.scalars(
        select(Alarm).where(_within(Alarm.raised_at, previous, now)).order_by(Alarm.id)
    ).all()
    for alarm in alarms:
        kind = narrator.alarm_kind(alarm.kind)
        message = session.get(Message, alarm.message_id) if alarm.message_id else None
        if message is None:
            narrator.say("alarm_plain", now, kind=kind, detail=alarm.detail or alarm.key)
            continue
        case = session.scalar(select(Case).where(Case.thread_id == message.thread_id).limit(1))
        customer = case.customer if case else who(message.from_name, message.from_addr)
        narrator.say("alarm", now, kind=kind, who=customer, subject=message.subject)


def _overdue(
    session: Session,
    config: Config,
    narrator: Narrator,
    names: dict[int, str],
    previous: datetime | None,
    now: datetime,
) -> None:
    """One line per case whose deadline passed in this step with no answer."""
    cases = session.scalars(
        select(Case)
        .where(Case.state == "open", _within(Case.deadline_at, previous, now))
        .order_by(Case.deadline_at, Case.id)
    ).all()
    for case in cases:
        sla = source_sla(config, names.get(case.source_id, "")).first_response
        narrator.say("overdue", now, who=case.customer, subject=case.subject,
                     sla=narrator.took(sla))  # fmt: skip


def _sent(session: Session, narrator: Narrator, previous: datetime | None, now: datetime) -> None:
    rows = session.scalars(
        select(Outbox)
        .where(Outbox.status == "sent", _within(Outbox.sent_at, previous, now))
        .order_by(Outbox.id)
    ).all()
    for row in rows:
        key = {"digest": "digest", "alarm": "alarm_mail"}.get(row.kind, "escalation")
        narrator.say(key, now, to=row.recipient, subject=row.subject)
