"""The demo's fast clock: a week of virtual time in fixed steps, paced for a human to watch.

The watchdog reads the clock once per cycle and passes ``now`` down, so the
demo only has to hand every stage the same virtual ``now``; nothing in the
pipeline knows it is not Tuesday. Real time is spent only by ``Pacer.wait``,
and only when the demo runs for a person: tests pace at 0 and never sleep.
"""

from __future__ import annotations

import time as walltime
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass
class VirtualClock:
    """The current virtual time; call it to read it (it is the web app's ``clock`` too)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


#: A step during the shop's day: an escalation goes out within half an hour of its time.
BUSY_STEP = timedelta(minutes=30)
#: A step at night and at weekends, when only the odd e-mail arrives: fewer steps, same story.
QUIET_STEP = timedelta(hours=2)
#: The "busy" part of a weekday, local time: from before opening to after closing.
BUSY_HOURS = (time(8), time(19))


def timeline(start: datetime, end: datetime, zone: ZoneInfo) -> list[datetime]:
    """Return the moments the demo steps through, from ``start`` to ``end`` inclusive.

    Every ``BUSY_STEP`` on weekdays between ``BUSY_HOURS``, else every
    ``QUIET_STEP`` (never jumping past the start of the next busy part). Nothing
    is due outside business hours except mail arriving, which the next step
    picks up with its true arrival time.
    """
    moments = []
    now = start
    while now <= end:
        moments.append(now)
        now = _next(now, zone)
    return moments


def _next(now: datetime, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone)
    if _busy(local):
        return now + BUSY_STEP
    day = local.date() if local.time() < BUSY_HOURS[0] else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    opening = datetime.combine(day, BUSY_HOURS[0], zone).astimezone(UTC)
    return min(now + QUIET_STEP, opening)


def _busy(local: datetime) -> bool:
    return local.weekday() < 5 and BUSY_HOURS[0] <= local.time() < BUSY_HOURS[1]


@dataclass
class Pacer:
    """Make each step last ``seconds`` of real time at least (the work counts towards it).

    ``seconds = 0`` never sleeps. ``sleep`` and ``monotonic`` are the real ones
    except in tests of the pacer itself.
    """

    seconds: float
    sleep: Callable[[float], None] = walltime.sleep
    monotonic: Callable[[], float] = walltime.monotonic
    _started: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._started = self.monotonic()

    def wait(self) -> None:
        """Sleep out the rest of this step, then start timing the next one."""
        if self.seconds <= 0:
            return
        left = self.seconds - (self.monotonic() - self._started)
        if left > 0:
            self.sleep(left)
        self._started = self.monotonic()
