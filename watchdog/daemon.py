"""The daemon: APScheduler decides *when*; the stage functions in ``watchdog.cycle`` decide *what*.

Jobs (each a one-line call into a cycle step, never overlapping itself):

- per mailbox, every ``poll_every``: poll it;
- per form with an API, every ``api.poll_every``: pull it;
- every ``[daemon] tick_every`` (a minute): track, look for silence, decide
  escalations, queue the digest when due;
- every ``[daemon] send_every`` (5 s): send what the outbox holds;
- every ``LEASE_RENEW``: renew the lease.

Only the lease holder runs the work jobs; a second daemon on the same
database keeps its HTTP side up (webhooks are safe to store twice: they are
de-duplicated) and waits to take the lease over. Everything a job needs is
read from the database, so a restart or a crash loses or repeats nothing.

The daemon's ``telemetry`` (hand it to ``create_app``) times each poll and
records each tick, whether or not this daemon holds the lease; ``/healthz``
reads it to tell a stopped or stuck scheduler.

Stopping (SIGTERM or Ctrl-C): uvicorn stops accepting requests, then the
scheduler is shut down with ``wait=True`` so the send in flight finishes and
is recorded, then the lease is released.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from sqlalchemy.orm import Session

from watchdog import cycle
from watchdog.config import Config
from watchdog.config.schema import FormConfig, MailboxConfig
from watchdog.ingest.read import Ingestor
from watchdog.ingest.store import ingestor_for
from watchdog.lease import DAEMON, acquire, release
from watchdog.telemetry import Telemetry

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(seconds=90)
LEASE_RENEW = timedelta(seconds=20)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The one place the daemon reads the wall clock."""
    return datetime.now(UTC)


class Daemon:
    """The scheduled side of ``watchdog run``: polling, ticks and sending, under the lease."""

    def __init__(
        self,
        config: Config,
        session_factory: Callable[[], Session],
        *,
        edges: cycle.Edges | None = None,
        clock: Clock = utc_now,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.config, self.sessions, self.clock = config, session_factory, clock
        self.edges = edges or cycle.Edges()
        self.telemetry = telemetry or Telemetry.for_config(config)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stopping = threading.Event()
        self._holds = False
        self._ingestor: Ingestor = ingestor_for(config)
        self._channels = self.edges.channels(config)
        self._scheduler = BackgroundScheduler(timezone=UTC)

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        """Register every job and start the scheduler in its own threads."""
        cycle.start(self.sessions, self.config, self.clock())
        self._renew_lease()
        self._every(LEASE_RENEW, self._renew_lease, "lease")
        for mailbox in self.config.mailboxes:
            self._every(mailbox.poll_every, self._poll, f"poll:{mailbox.name}", mailbox)
        for form in self.config.forms:
            if form.api is not None:
                self._every(form.api.poll_every, self._pull, f"pull:{form.name}", form)
        self._every(self.config.daemon.tick_every, self._tick, "tick")
        self._every(self.config.daemon.send_every, self._send, "send")
        self.telemetry.heartbeat.attach(
            self._scheduling, self.config.daemon.tick_every, self.clock()
        )
        self._scheduler.start()
        log.info(
            "watchdog started as %s (%s)", self.holder, "working" if self._holds else "waiting"
        )

    def stop(self) -> None:
        """Let the running jobs finish (a send in flight is recorded), then give up the lease.

        A second call does nothing.
        """
        if self.stopping.is_set():
            return
        self.stopping.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        if self._holds:
            with self.sessions() as session:
                release(session, DAEMON, self.holder)
        log.info("watchdog stopped")

    def _scheduling(self) -> bool:
        """Whether the scheduler runs and is not being stopped (for /healthz)."""
        return bool(self._scheduler.running) and not self.stopping.is_set()

    def _every(
        self, interval: timedelta, job: Callable[..., None], name: str, *args: object
    ) -> None:
        self._scheduler.add_job(
            job, "interval", seconds=interval.total_seconds(), args=args, id=name, name=name,
            max_instances=1, coalesce=True, next_run_time=datetime.now(UTC),
        )  # fmt: skip

    # -- jobs -------------------------------------------------------------------

    def _renew_lease(self) -> None:
        with self.sessions() as session:
            holds = acquire(session, DAEMON, self.holder, self.clock(), LEASE_TTL)
        if holds != self._holds:
            log.info("lease %s", "taken: this daemon works" if holds else "held elsewhere: waiting")
        self._holds = holds

    def _working(self) -> bool:
        return self._holds and not self.stopping.is_set()

    def _poll(self, mailbox: MailboxConfig) -> None:
        if self._working():
            cycle.poll_mailboxes(
                self.sessions, self.config, self._ingestor, self.clock(), self.edges,
                only=mailbox.name, telemetry=self.telemetry,
            )  # fmt: skip

    def _pull(self, form: FormConfig) -> None:
        if self._working():
            cycle.pull_forms(
                self.sessions, self.config, self.clock(), self.edges,
                only=form.name, telemetry=self.telemetry,
            )  # fmt: skip

    def _tick(self) -> None:
        """Tick if we hold the lease; either way beat: a waiting daemon is alive too.

        A tick that raises does not beat (APScheduler logs the error): a tick
        failing every time leaves /healthz to say the last cycle is too old.
        """
        if self._working():
            cycle.tick(self.sessions, self.config, self.clock())
        self.telemetry.heartbeat.beat(self.clock())

    def _send(self) -> None:
        if self._working():
            cycle.send_due(self.sessions, self._channels, self.clock, self.stopping)
