"""The watchdog's steps, for ``run --once`` (all of them, in order) and the daemon (each on its timer).

1. ``start``: every configured source has its row, so "silent since" counts
   from the day watching began, even for a form never used; and each open
   case's next escalation moment is recomputed (the config may have changed);
2. ``poll_mailboxes`` and ``pull_forms``: bring in what is new (a failing
   source is reported and alarmed, never stops the others);
3. ``tick``: track (threads, cases), look for silence, decide the due
   escalation steps (recorded with their outbox rows in one transaction),
   tell the owner about new alarms, and queue the daily digest when it is due;
4. ``send_due``: deliver what the outbox holds, one row at a time.

Each step reads what it needs from the database, so any of them can run
alone, be killed, and run again without losing or repeating work. All take
the same ``now``: the clock is read once per step, or taken from ``--now``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from watchdog.config import Config
from watchdog.digest.schedule import queue_digest
from watchdog.escalate.alarms import notify_alarms
from watchdog.escalate.decide import EscalationReport, decide_escalations, reset_schedule
from watchdog.ingest.read import Ingestor
from watchdog.ingest.store import ensure_source, ingestor_for
from watchdog.notify.channels import Channel, channels_from_config
from watchdog.notify.outbox import handle_one_outbox
from watchdog.sources.foldersync import PollReport
from watchdog.sources.formapi import open_form_api
from watchdog.sources.formpull import ClientFactory, PullReport, pull_form
from watchdog.sources.imap import Connect, default_connect
from watchdog.sources.mailsync import poll_mailbox
from watchdog.sources.silence import check_silence
from watchdog.storage.models import Alarm, Digest
from watchdog.telemetry import PollOutcome, Telemetry
from watchdog.track.setup import policy_for
from watchdog.track.tracker import TrackReport, track_new

log = logging.getLogger(__name__)
SessionFactory = Callable[[], Session]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Edges:
    """The ways out to other systems, replaceable in tests and in the demo."""

    connect: Connect = default_connect
    form_api: ClientFactory = open_form_api
    channels: Callable[[Config], Mapping[str, Channel]] = channels_from_config


@dataclass
class TickReport:
    """What one tick changed."""

    track: TrackReport = field(default_factory=TrackReport)
    silent: list[Alarm] = field(default_factory=list)
    escalations: EscalationReport = field(default_factory=EscalationReport)
    alarms_told: list[int] = field(default_factory=list)
    digest: Digest | None = None


@dataclass
class CycleReport:
    """What one full cycle did, step by step."""

    polls: list[PollReport] = field(default_factory=list)
    pulls: list[PullReport] = field(default_factory=list)
    tick: TickReport = field(default_factory=TickReport)
    sent: int = 0


def register_sources(session_factory: SessionFactory, config: Config, now: datetime) -> None:
    """Create the ``sources`` row of every configured mailbox and form not seen before."""
    with session_factory() as session:
        for mailbox in config.mailboxes:
            ensure_source(session, "mailbox", mailbox.name, now)
        for form in config.forms:
            ensure_source(session, "form", form.name, now)
        session.commit()


def start(session_factory: SessionFactory, config: Config, now: datetime) -> None:
    """What a starting process does first: register the sources, forget stale schedules.

    The escalation steps or a calendar may have changed in the config since
    the last run, so each open case's next escalation moment is computed anew.
    """
    register_sources(session_factory, config, now)
    with session_factory() as session:
        reset_schedule(session)


def poll_mailboxes(
    session_factory: SessionFactory,
    config: Config,
    ingestor: Ingestor,
    now: datetime,
    edges: Edges,
    *,
    only: str | None = None,
    telemetry: Telemetry | None = None,
) -> list[PollReport]:
    """Poll every mailbox (or just the one named ``only``); time each into ``telemetry``."""
    reports = []
    for mailbox in config.mailboxes:
        if only is not None and mailbox.name != only:
            continue
        with _timed(telemetry, mailbox.name) as outcome:
            poll = poll_mailbox(
                session_factory, mailbox, ingestor, now=now,
                unreachable_after=config.alarms.unreachable_after, connect=edges.connect,
            )  # fmt: skip
            outcome.failed = not poll.ok
        _log_poll(poll)
        reports.append(poll)
    return reports


def pull_forms(
    session_factory: SessionFactory,
    config: Config,
    now: datetime,
    edges: Edges,
    *,
    only: str | None = None,
    telemetry: Telemetry | None = None,
) -> list[PullReport]:
    """Pull every form that has a service API (or just ``only``); time each into ``telemetry``."""
    reports = []
    for form in config.forms:
        if form.api is None or (only is not None and form.name != only):
            continue
        with _timed(telemetry, form.name) as outcome:
            pull = pull_form(
                session_factory, form, now=now, client_factory=edges.form_api,
                unreachable_after=config.alarms.unreachable_after,
            )  # fmt: skip
            outcome.failed = pull.error is not None
        if pull.error:
            log.warning("form %s: %s", form.name, pull.error)
        elif pull.stored:
            log.info("form %s: %d new submission(s)", form.name, pull.stored)
        reports.append(pull)
    return reports


def tick(session_factory: SessionFactory, config: Config, now: datetime) -> TickReport:
    """Track, look for silence, decide escalations and queue the digest, at ``now``."""
    report = TickReport()
    with session_factory() as session:
        report.track = track_new(session, policy_for(config, session), now)
    if report.track.opened or report.track.answered:
        log.info(
            "cases: %d opened, %d answered", len(report.track.opened), len(report.track.answered)
        )
    with session_factory() as session:
        report.silent = check_silence(session, config, now)
        session.commit()
    for alarm in report.silent:
        log.warning("alarm %s: %s", alarm.kind, alarm.detail or alarm.key)
    with session_factory() as session:
        report.escalations = decide_escalations(session, config, now)
    if report.escalations.recorded:
        log.info("escalations: %d step(s) reached", len(report.escalations.recorded))
    with session_factory() as session:
        report.alarms_told = notify_alarms(session, config, now)
    if config.digest.enabled:
        with session_factory() as session:
            report.digest = queue_digest(session, config, now)
        if report.digest is not None:
            log.info("digest for %s %s", report.digest.day, report.digest.status)
    return report


def send_due(
    session_factory: SessionFactory,
    channels: Mapping[str, Channel],
    clock: Clock,
    stopping: threading.Event | None = None,
) -> int:
    """Deliver outbox rows until none is due (or we are asked to stop); return how many."""
    handled = 0
    while not (stopping and stopping.is_set()):
        if not handle_one_outbox(session_factory, channels, clock()):
            break
        handled += 1
    return handled


def run_cycle(
    session_factory: SessionFactory,
    config: Config,
    now: datetime,
    *,
    edges: Edges | None = None,
    ingestor: Ingestor | None = None,
    send: bool = True,
    telemetry: Telemetry | None = None,
) -> CycleReport:
    """Run every step once, in order, at ``now``; return what each did.

    ``telemetry``, if given, records how long each poll took and whether it failed.
    """
    edges = edges or Edges()
    report = CycleReport()
    start(session_factory, config, now)
    ingestor = ingestor or ingestor_for(config)
    report.polls = poll_mailboxes(
        session_factory, config, ingestor, now, edges, telemetry=telemetry
    )
    report.pulls = pull_forms(session_factory, config, now, edges, telemetry=telemetry)
    report.tick = tick(session_factory, config, now)
    if send:
        report.sent = send_due(session_factory, edges.channels(config), lambda: now)
    return report


def _timed(telemetry: Telemetry | None, source: str) -> AbstractContextManager[PollOutcome]:
    """Time one poll of ``source`` into ``telemetry``; without one, just a place for the outcome."""
    return telemetry.polling(source) if telemetry is not None else nullcontext(PollOutcome())


def _log_poll(poll: PollReport) -> None:
    if poll.error:
        log.warning("mailbox %s: %s", poll.source, poll.error)
    elif poll.new:
        log.info("mailbox %s: %d new message(s)", poll.source, poll.new)
    for kind, key in poll.alarms:
        log.warning("alarm %s: %s", kind, key)
