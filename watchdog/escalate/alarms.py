"""Alarms reach the owner at once: one e-mail per tick listing every alarm raised since the last.

An alarm (a request deleted unanswered, a request in Junk, a source down or
silent) needs the owner now, whatever the deadline; the dashboard and the
next morning's digest show it too, but the owner is told when it happens.

Exactly once: each alarm is claimed with a conditional UPDATE (``notified_at``
still empty) in the same transaction that queues the outbox row, so two
processes ticking together cannot both tell the owner about it. Alarms
about a notification that could not be delivered are not e-mailed: the
relay that failed would most likely fail again, and a failed alarm e-mail
would raise another alarm.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from watchdog.config import Config
from watchdog.digest.words import alarm_kind, moment, one_line
from watchdog.notify.email import message_id
from watchdog.notify.outbox import NOTIFICATION_FAILED
from watchdog.storage.models import Alarm, Outbox

log = logging.getLogger(__name__)


def notify_alarms(session: Session, config: Config, now: datetime) -> list[int]:
    """Queue one e-mail to the owner listing the alarms not told yet; return their ids. Commits."""
    waiting = session.scalars(
        select(Alarm)
        .where(
            Alarm.notified_at.is_(None),
            Alarm.cleared_at.is_(None),
            Alarm.kind != NOTIFICATION_FAILED,
        )
        .order_by(Alarm.id)
    ).all()
    claimed = [alarm for alarm in waiting if _claim(session, alarm.id, now)]
    if not claimed:
        session.rollback()
        return []
    row = _outbox_row(config, claimed, now)
    session.add(row)
    session.flush()
    for alarm in claimed:
        alarm.outbox_id = row.id
    session.commit()
    log.info("alarms: told the owner about %d", len(claimed))
    return [alarm.id for alarm in claimed]


def _claim(session: Session, alarm_id: int, now: datetime) -> bool:
    """Mark one alarm told, unless another process already did; True if this one did."""
    result = session.execute(
        update(Alarm)
        .where(Alarm.id == alarm_id, Alarm.notified_at.is_(None))
        .values(notified_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def _outbox_row(config: Config, alarms: list[Alarm], now: datetime) -> Outbox:
    language = config.owner.language
    zone = config.sla.timezone
    lines = [
        f"• {alarm_kind(language, a.kind)} — {moment(language, a.raised_at, zone)}\n"
        f"  {one_line(a.detail or a.key)}"
        for a in alarms
    ]
    if language == "ru":
        subject = f"Тревога: {alarm_kind(language, alarms[0].kind)}"
        if len(alarms) > 1:
            subject = f"Тревоги ({len(alarms)}): {alarm_kind(language, alarms[0].kind)} и другие"
        intro = "Сторож почты заметил то, что нужно проверить сейчас:"
    else:
        subject = f"Alarm: {alarm_kind(language, alarms[0].kind)}"
        if len(alarms) > 1:
            subject = f"Alarms ({len(alarms)}): {alarm_kind(language, alarms[0].kind)} and more"
        intro = "The watchdog noticed something to look at now:"
    link = f"\n\n{config.web.public_url}" if config.web and config.web.public_url else ""
    domain = config.smtp.from_.email.rpartition("@")[2]
    return Outbox(
        kind="alarm",
        channel="email",
        recipient=config.owner.email,
        subject=subject,
        body_text=intro + "\n\n" + "\n".join(lines) + link + "\n",
        body_html=None,
        message_id_header=message_id("alarm", [str(a.id) for a in alarms], domain),
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
