"""What one process saw of its own work: how its polls went, and whether its scheduler beats.

Most of what ``/metrics`` and ``/healthz`` report is read from the database
when asked, so it is right whichever process did the work. Two things exist
only in the process doing the work, and are kept here, in memory:

- poll timings and failures: ``Telemetry.polling(source)`` wraps one poll of
  a mailbox or one pull of a form API (``cycle.poll_mailboxes``,
  ``cycle.pull_forms``) and feeds a histogram and an error counter, labelled
  by the source's configured name only;
- the scheduler's pulse (:class:`Heartbeat`): the daemon attaches its
  scheduler when it starts and beats after every tick.

The daemon makes one ``Telemetry`` and hands the same object to the app it
serves (``create_app(..., telemetry=daemon.telemetry)``). An app served
without a daemon (``watchdog demo``, tests of the webhook) gets an empty one:
no poll series, and no scheduler for ``/healthz`` to judge.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from watchdog.config import Config

POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
"""Seconds: an idle IMAP poll takes a few round trips, a first sync of a big mailbox minutes."""


@dataclass
class PollOutcome:
    """Set ``failed`` inside ``Telemetry.polling`` when the poll reported an error."""

    failed: bool = False


class Telemetry:
    """This process's poll histogram and error counter (own registry), and its heartbeat."""

    def __init__(self, polled_sources: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry()
        self.poll_seconds = Histogram(
            "watchdog_poll_duration_seconds",
            "How long one poll of a mailbox (or pull of a form API) took, by source.",
            ["source"],
            buckets=POLL_BUCKETS,
            registry=self.registry,
        )
        self.poll_errors = Counter(
            "watchdog_poll_errors",
            "Polls of a source that failed (unreachable, refused, broken), by source.",
            ["source"],
            registry=self.registry,
        )
        for name in polled_sources:  # a source that never failed shows 0, not nothing
            self.poll_seconds.labels(source=name)
            self.poll_errors.labels(source=name)
        self.heartbeat = Heartbeat()
        self.registry.register(self.heartbeat)

    @classmethod
    def for_config(cls, config: Config) -> Telemetry:
        """Return a Telemetry with a series for every mailbox and every form with an API."""
        names = [mailbox.name for mailbox in config.mailboxes]
        names += [form.name for form in config.forms if form.api is not None]
        return cls(names)

    @contextmanager
    def polling(self, source: str) -> Iterator[PollOutcome]:
        """Time the poll run inside; count it as failed if it raises or sets ``failed``."""
        outcome = PollOutcome()
        started = time.monotonic()  # a duration: the wall clock may jump (NTP, --now)
        try:
            yield outcome
        except BaseException:
            outcome.failed = True
            raise
        finally:
            self.poll_seconds.labels(source=source).observe(time.monotonic() - started)
            if outcome.failed:
                self.poll_errors.labels(source=source).inc()


@dataclass(frozen=True)
class Pulse:
    """The scheduler at one moment, as its daemon reported it.

    ``every`` is how often the tick should run; ``last_tick`` is when one
    last completed (None before the first), ``started_at`` when the daemon
    started: before the first tick, lateness counts from then.
    """

    running: bool
    every: timedelta
    started_at: datetime
    last_tick: datetime | None

    def since_tick(self, now: datetime) -> timedelta:
        """Return how long ago the last tick completed (or the daemon started), never negative."""
        return max(now - (self.last_tick or self.started_at), timedelta(0))


class Heartbeat:
    """Where a daemon's scheduler registers itself and beats; thread-safe.

    Nothing is attached in a process without a daemon: ``pulse()`` is then None.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: Callable[[], bool] | None = None
        self._every = timedelta(0)
        self._started_at: datetime | None = None
        self._last_tick: datetime | None = None

    def attach(self, running: Callable[[], bool], every: timedelta, now: datetime) -> None:
        """Register the scheduler: ``running()`` says if it still runs; a tick is due ``every``.

        Attach before the scheduler starts, so that no tick can beat first.
        """
        with self._lock:
            self._running, self._every, self._started_at = running, every, now

    def beat(self, now: datetime) -> None:
        """Record that a tick completed at ``now``."""
        with self._lock:
            self._last_tick = now

    def pulse(self) -> Pulse | None:
        """Return the scheduler's state now, or None when no daemon attached one."""
        with self._lock:
            running, started_at = self._running, self._started_at
            every, last_tick = self._every, self._last_tick
        if running is None or started_at is None:
            return None
        return Pulse(running(), every, started_at, last_tick)

    def collect(self) -> Iterator[Metric]:
        """Yield the scheduler's gauges (none without a daemon): a prometheus_client Collector."""
        pulse = self.pulse()
        if pulse is None:
            return
        yield GaugeMetricFamily(
            "watchdog_scheduler_running", "1 while the daemon's scheduler runs.",
            value=int(pulse.running),
        )  # fmt: skip
        yield GaugeMetricFamily(
            "watchdog_scheduler_last_tick_timestamp_seconds",
            "When the last tick completed (or the daemon started, before the first), Unix time.",
            value=(pulse.last_tick or pulse.started_at).timestamp(),
        )
