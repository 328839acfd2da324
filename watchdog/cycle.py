"""One full cycle of the watchdog, step by step, for ``run --once`` and the scheduler alike.

The steps, in order (each reads what it needs from the database, so each can
also run alone on its own timer in the daemon):

1. make sure every configured source has its row (so "silent since" counts
   from the day watching began, even for a form that never posted);
2. poll every mailbox and pull every form service (a failing source is
   reported and alarmed, never stops the others);
3. track: thread what arrived, open, follow and close cases;
4. look for sources gone silent.

Every step takes the same ``now``: read the clock once per cycle, or take it
from ``--now`` for tests and replays.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from watchdog.config import Config
from watchdog.ingest.store import Ingestor, ensure_source, ingestor_for
from watchdog.sources.formapi import open_form_api
from watchdog.sources.formpull import ClientFactory, PullReport, pull_form
from watchdog.sources.imap import Connect, default_connect
from watchdog.sources.mailsync import PollReport, poll_mailbox
from watchdog.sources.silence import check_silence
from watchdog.storage.models import Alarm
from watchdog.track.setup import policy_for
from watchdog.track.tracker import TrackReport, track_new

log = logging.getLogger(__name__)
SessionFactory = Callable[[], Session]


@dataclass(frozen=True)
class Edges:
    """The ways out to other systems, replaceable in tests: IMAP and the form services' APIs."""

    connect: Connect = default_connect
    form_api: ClientFactory = open_form_api


@dataclass
class CycleReport:
    """What one cycle did, step by step."""

    polls: list[PollReport] = field(default_factory=list)
    pulls: list[PullReport] = field(default_factory=list)
    track: TrackReport = field(default_factory=TrackReport)
    silent: list[Alarm] = field(default_factory=list)


def register_sources(session_factory: SessionFactory, config: Config, now: datetime) -> None:
    """Create the ``sources`` row of every configured mailbox and form not seen before."""
    with session_factory() as session:
        for mailbox in config.mailboxes:
            ensure_source(session, "mailbox", mailbox.name, now)
        for form in config.forms:
            ensure_source(session, "form", form.name, now)
        session.commit()


def poll_sources(
    session_factory: SessionFactory,
    config: Config,
    ingestor: Ingestor,
    now: datetime,
    edges: Edges,
    report: CycleReport,
) -> None:
    """Poll every mailbox, then pull every form service that has an API."""
    for mailbox in config.mailboxes:
        poll = poll_mailbox(
            session_factory, mailbox, ingestor, now=now,
            unreachable_after=config.alarms.unreachable_after, connect=edges.connect,
        )  # fmt: skip
        _log_poll(poll)
        report.polls.append(poll)
    for form in config.forms:
        if form.api is None:
            continue
        pull = pull_form(
            session_factory, form, now=now, client_factory=edges.form_api,
            unreachable_after=config.alarms.unreachable_after,
        )  # fmt: skip
        if pull.error:
            log.warning("form %s: %s", form.name, pull.error)
        report.pulls.append(pull)


def track(session_factory: SessionFactory, config: Config, now: datetime) -> TrackReport:
    """Thread every untracked message and move the cases it touches."""
    with session_factory() as session:
        report = track_new(session, policy_for(config, session), now)
    if report.opened or report.answered:
        log.info("cases: %d opened, %d answered", len(report.opened), len(report.answered))
    return report


def look_for_silence(session_factory: SessionFactory, config: Config, now: datetime) -> list[Alarm]:
    """Raise an alarm for every source silent far beyond its usual gap."""
    with session_factory() as session:
        alarms = check_silence(session, config, now)
        session.commit()
    for alarm in alarms:
        log.warning("alarm %s: %s", alarm.kind, alarm.detail or alarm.key)
    return alarms


def run_cycle(
    session_factory: SessionFactory,
    config: Config,
    now: datetime,
    *,
    edges: Edges | None = None,
    ingestor: Ingestor | None = None,
) -> CycleReport:
    """Run every step once, in order, at ``now``; return what each did."""
    edges = edges or Edges()
    report = CycleReport()
    register_sources(session_factory, config, now)
    poll_sources(session_factory, config, ingestor or ingestor_for(config), now, edges, report)
    report.track = track(session_factory, config, now)
    report.silent = look_for_silence(session_factory, config, now)
    return report


def _log_poll(poll: PollReport) -> None:
    if poll.error:
        log.warning("mailbox %s: %s", poll.source, poll.error)
    elif poll.new:
        log.info("mailbox %s: %d new message(s)", poll.source, poll.new)
    for kind, key in poll.alarms:
        log.warning("alarm %s: %s", kind, key)
