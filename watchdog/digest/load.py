"""The digest's query layer: load just the rows the pure report needs, then assemble it.

:func:`build_report` is the one entry point; the loaders each read one kind
of fact (cases, alarms, corrections) as plain data for
:func:`watchdog.digest.report.assemble`, judged at ``now`` so that a replay
(``digest --print --now``) sees what it would have seen then.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from watchdog.config import Config
from watchdog.digest.report import (
    AlarmLine,
    CalendarOf,
    CaseFacts,
    CorrectionLine,
    DigestReport,
    assemble,
    day_window,
)
from watchdog.sla import BusinessCalendar, calendar_for
from watchdog.storage.models import Alarm, Case, Correction, Message, Source


def build_report(session: Session, config: Config, day: date, now: datetime) -> DigestReport:
    """Return the digest of local day ``day`` (in ``sla.timezone``) as seen at ``now``."""
    zone = config.sla.timezone
    start, end = day_window(day, zone)
    cases = load_cases(session, since=start, now=now)
    names = [source.name for source in config.sources]
    alarms = load_alarms(session, now)
    corrections = load_corrections(session, start, min(end, now))
    return assemble(day, now, zone, cases, alarms, names, calendars(config), corrections)


def calendars(config: Config) -> CalendarOf:
    """Return a lookup of each door's business calendar; a door no longer configured gets [sla]."""
    configured = {source.name for source in config.sources}

    def calendar_of(name: str) -> BusinessCalendar:
        return calendar_for(config.sla_for(name) if name in configured else config.sla)

    return calendar_of


def load_cases(session: Session, *, since: datetime, now: datetime) -> list[CaseFacts]:
    """Return the cases a digest can mention: arrived by ``now``, open or active since ``since``.

    "Open" here is the stored state or a response after ``since`` (which covers
    a replay, where a case answered after ``now`` must count as open then).
    """
    query = (
        select(Case, Source.name)
        .join(Source, Source.id == Case.source_id)
        .where(
            Case.received_at <= now,
            or_(
                Case.state == "open",
                Case.received_at >= since,
                Case.answered_at >= since,
                Case.handled_at >= since,
                Case.dismissed_at >= since,
            ),
        )
        .order_by(Case.received_at, Case.id)
    )
    return [_facts(case, name) for case, name in session.execute(query)]


def _facts(case: Case, source: str) -> CaseFacts:
    return CaseFacts(
        id=case.id,
        source=source,
        customer=case.customer,
        subject=case.subject,
        received_at=case.received_at,
        deadline_at=case.deadline_at,
        answered_at=case.answered_at,
        handled_at=case.handled_at,
        dismissed_at=case.dismissed_at,
    )


def load_alarms(session: Session, now: datetime) -> list[AlarmLine]:
    """Return the alarms open at ``now`` (raised by then, not cleared by then), oldest first.

    Like :func:`watchdog.alarms.open_alarms`, but judged at ``now`` so a replay
    shows the alarms of that morning.
    """
    source = aliased(Source)
    message = aliased(Message)
    query = (
        select(Alarm, source.name, message.from_name, message.from_addr, message.subject)
        .outerjoin(source, source.id == Alarm.source_id)
        .outerjoin(message, message.id == Alarm.message_id)
        .where(Alarm.raised_at <= now, or_(Alarm.cleared_at.is_(None), Alarm.cleared_at > now))
        .order_by(Alarm.raised_at, Alarm.id)
    )
    return [
        AlarmLine(
            kind=alarm.kind,
            raised_at=alarm.raised_at,
            source=name,
            sender=_sender(from_name, from_addr),
            subject=subject,
            detail=alarm.detail,
        )
        for alarm, name, from_name, from_addr, subject in session.execute(query)
    ]


def load_corrections(session: Session, start: datetime, end: datetime) -> list[CorrectionLine]:
    """Return the corrections made in [start, end), oldest first, with the message they concern."""
    query = (
        select(Correction, Source.name, Message.from_name, Message.from_addr, Message.subject)
        .join(Message, Message.id == Correction.message_id)
        .join(Source, Source.id == Message.source_id)
        .where(Correction.at >= start, Correction.at < end)
        .order_by(Correction.at, Correction.id)
    )
    return [
        CorrectionLine(
            verdict=correction.verdict,
            at=correction.at,
            actor=correction.actor,
            reason=correction.reason,
            case_id=correction.case_id,
            source=name,
            sender=_sender(from_name, from_addr),
            subject=subject,
        )
        for correction, name, from_name, from_addr, subject in session.execute(query)
    ]


def _sender(name: str | None, address: str | None) -> str | None:
    """Return "Name <address>", or whichever of the two is known, or None."""
    if name and address:
        return f"{name} <{address}>"
    return name or address or None
