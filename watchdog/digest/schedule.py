"""When the digest is due, and queueing it exactly once.

The digest for local day D (in ``sla.timezone``) is due from ``digest.at`` on
day D+1: at 09:00 on Thursday the owner gets Wednesday. It reports the
previous *calendar day*, not "since the previous digest": a day is a fixed,
replayable window, so two daemons, a restart or ``--now`` all build the same
report, and everything still unanswered is listed anyway, whatever day it
arrived (see :mod:`watchdog.digest.report`). If the service is down for the
whole of D+1 after ``digest.at``, D's digest is not caught up later; its
missed customers are still in the next one.

Exactly once lives in the database: UNIQUE(digests.day). The Digest row and
its Outbox row are inserted in one transaction, so a second daemon hits the
constraint and queues nothing; the outbox sender delivers the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from watchdog.config import Config
from watchdog.digest.load import build_report
from watchdog.digest.render import RenderedDigest, render_digest
from watchdog.digest.report import DigestReport, day_window
from watchdog.storage.models import Digest, Outbox, Source

QUEUED = "queued"  # the digest's outbox row exists; the sender takes it from there
SKIPPED = "skipped"  # nothing to report and [digest] skip_empty = true: nothing was queued


@dataclass(frozen=True)
class DigestContent:
    """A digest ready to record: what it says and how it reads."""

    report: DigestReport
    rendered: RenderedDigest


def latest_complete_day(now: datetime, zone: ZoneInfo) -> date:
    """Return the local day before the one ``now`` falls on in ``zone``: the last one that is over."""
    return now.astimezone(zone).date() - timedelta(days=1)


def digest_due(now: datetime, config: Config) -> date | None:
    """Return the day whose digest is due at ``now``, or None if none is (yet, or at all).

    Due from ``digest.at`` local time on the next day until the end of that day.
    DST: the comparison is on the local wall clock, so 09:00 stays 09:00 in
    winter and summer; an ``at`` inside the hour skipped in spring is due when
    the clock jumps past it.
    """
    if not config.digest.enabled:
        return None
    local = now.astimezone(config.sla.timezone)
    if local.time().replace(tzinfo=None) < config.digest.at:
        return None
    return local.date() - timedelta(days=1)


def message_id_for(day: date, owner_email: str) -> str:
    """Return the digest's deterministic Message-ID: one per day, recognisable after a crash."""
    domain = owner_email.rpartition("@")[2] or "localhost"
    return f"<digest-{day.isoformat()}@watchdog.{domain}>"


def prepare_digest(session: Session, config: Config, day: date, now: datetime) -> DigestContent:
    """Return the digest of ``day`` as seen at ``now``, built and rendered, without recording it."""
    report = build_report(session, config, day, now)
    rendered = render_digest(
        report,
        config.owner.language,
        owner_name=config.owner.name,
        dashboard_url=config.web.public_url if config.web else None,
    )
    return DigestContent(report, rendered)


def queue_digest(
    session: Session, config: Config, now: datetime, *, day: date | None = None
) -> Digest | None:
    """Queue the digest due at ``now`` (or of ``day``); return its Digest row, or None.

    None means there was nothing to do: no digest is due, or one for that day
    is already recorded (by us earlier, or by another process just now). An
    empty day with ``skip_empty`` is recorded as "skipped", with no outbox row.
    Commits the session: pass one with no other unsaved work.
    """
    target = day if day is not None else digest_due(now, config)
    if target is None or find_digest(session, target) is not None:
        return None
    if day is None and _before_watching(session, config, target):
        return None
    return record_digest(session, config, prepare_digest(session, config, target, now), now)


def _before_watching(session: Session, config: Config, day: date) -> bool:
    """True when the whole day ended before any source was watched.

    A watchdog installed on Monday morning must not greet the owner with a
    digest of Sunday, a day it knows nothing about.
    """
    began = session.scalar(select(func.min(Source.created_at)))
    _, end = day_window(day, config.sla.timezone)
    return began is not None and end <= began


def find_digest(session: Session, day: date) -> Digest | None:
    """Return the recorded digest of ``day``, if there is one."""
    return session.scalar(select(Digest).where(Digest.day == day))


def record_digest(
    session: Session, config: Config, content: DigestContent, now: datetime
) -> Digest | None:
    """Insert the Digest row and its Outbox row in one transaction; None if the day is taken.

    Race: two processes may both find no digest and build one. Each inserts
    the Digest row first; UNIQUE(day) lets one commit and makes the other's
    insert (or commit) fail, and the loser rolls back its outbox row with it.
    """
    report, rendered = content.report, content.rendered
    skip = report.empty and config.digest.skip_empty
    digest = Digest(day=report.day, status=SKIPPED if skip else QUEUED, created_at=now)
    try:
        session.add(digest)
        session.flush()  # claim the day before anything else is written
        if not skip:
            digest.outbox = _outbox_row(config, report.day, rendered, now)
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return digest


def _outbox_row(config: Config, day: date, rendered: RenderedDigest, now: datetime) -> Outbox:
    return Outbox(
        kind="digest",
        channel="email",
        recipient=config.owner.email,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        message_id_header=message_id_for(day, config.owner.email),
        status="pending",
        next_attempt_at=now,
        created_at=now,
    )
