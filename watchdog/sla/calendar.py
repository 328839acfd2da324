"""Business time: when a source's people are at work, and how much of it passes.

A :class:`BusinessCalendar` turns one ``[sla]`` table (time zone, shifts,
working days, public holidays, extra days off and on) into working intervals,
and counts time along them. It is pure: it never reads the clock or the
database, so the same arrival always gets the same deadline.

Conventions, chosen once here so every caller agrees:

- **Instants** in and out are aware datetimes. Any zone may come in (a naive
  one raises ValueError: guessing its zone is how deadlines drift by hours);
  every datetime returned is in UTC. The calendar's own zone is used only to
  find where each local working day's shifts fall.
- **Wall times** map to the *first instant the local clock shows them*. In
  the skipped hour of a spring-forward night a shift starting at 02:30 starts
  when the clock jumps (03:00 in Berlin); in the repeated hour of an autumn
  night an ambiguous 02:30 is its first occurrence (``fold=0``). A shift
  ending at "24:00" ends at the next day's first instant.
- **Working time is closed**: an instant at a shift's end is still inside it,
  so a deadline that uses up a shift exactly is that shift's end (18:00), not
  the next morning's opening. "No deadline lands outside working time" means
  every result of :meth:`BusinessCalendar.add` lies in some [start, end].
  :meth:`BusinessCalendar.is_open` and :meth:`BusinessCalendar.next_opening`
  answer a different question ("can someone read this now?") and treat a
  shift as [start, end): at 18:00 sharp the shop is closed.
- **Arithmetic is exact**: durations are timedeltas (integer microseconds),
  never floats, so ``add(add(t, a), b) == add(t, a + b)`` holds to the
  microsecond.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from watchdog.config.schema import SlaConfig
from watchdog.config.types import HolidayRegion, Shift
from watchdog.errors import WatchdogError

#: One stretch of working time, as aware UTC instants (start < end).
Interval = tuple[datetime, datetime]

#: Days in a row without any working time after which ``add`` gives up: a
#: calendar that never opens is a config error, not an endless loop.
HORIZON_DAYS = 366 * 2

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_DAY = timedelta(days=1)
_ZERO = timedelta(0)


class NoWorkingTimeError(WatchdogError, ValueError):
    """The calendar has no working time within :data:`HORIZON_DAYS` days of an instant.

    Raised by ``add`` and ``next_opening``: no working days, every day a
    holiday, or shifts that all vanish. The caller reports it as a config error.
    """


def _check_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` in UTC; raise ValueError if it is naive."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} {value.isoformat()} is naive: pass an aware datetime")
    return value.astimezone(UTC)


# --- local wall times to instants (where DST matters) ------------------------------


def _local_wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """Return the naive local wall time the clock in ``zone`` shows at ``instant``."""
    return instant.astimezone(zone).replace(tzinfo=None)


def first_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """Return (in UTC) the first instant at which the clock in ``zone`` shows ``wall`` or later.

    ``wall`` is a naive local date and time. Three cases:

    - an ordinary wall time happens once: that instant;
    - DST: an ambiguous one (the repeated hour when clocks go back) happens
      twice: ``fold=0`` is the first occurrence;
    - DST: a nonexistent one (the hour skipped when clocks go forward) never
      happens: the first valid instant after it is the transition itself,
      when the clock jumps past it.
    """
    earlier = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _local_wall(earlier, zone) == wall:
        return earlier
    return _transition_through(wall, zone)


def _transition_through(wall: datetime, zone: ZoneInfo) -> datetime:
    """Return the transition instant of the DST gap that swallows ``wall``.

    DST: for a time in the gap the two folds give instants on either side of
    the transition (one read with the offset before it, one with the offset
    after), so the local clock shows less than ``wall`` at the lower one and
    more at the upper one. Zone transitions happen on whole seconds; bisecting
    the seconds between them takes about a dozen steps for a one-hour gap.
    """
    one = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low = (min(one, other) - _EPOCH) // _SECOND  # the clock shows less than wall here
    high = -((_EPOCH - max(one, other)) // _SECOND)  # ... and at least wall here (ceiling)
    while high - low > 1:
        middle = (low + high) // 2
        if _local_wall(_EPOCH + middle * _SECOND, zone) >= wall:
            high = middle
        else:
            low = middle
    return _EPOCH + high * _SECOND


# --- public holidays --------------------------------------------------------------


class _HolidayBook:
    """The public holidays and transferred working days of one region, a year at a time.

    Building a ``holidays`` object is slow (it computes every rule of the
    country), so each calendar keeps one and lets it grow a year at a time
    (its ``expand`` mode populates a year on the first lookup in it). The
    answers are copied per year into frozensets, so a lookup is a set
    membership test. A lock guards the growth: the ``holidays`` object is not
    safe to populate from two threads at once.

    Transferred working days come from the object's ``weekend_workdays``: when
    a country moves a day off onto a weekday (Russia moves Saturday 2025-11-01
    to Monday 2025-11-03), the weekday is a holiday and the weekend day is put
    in ``weekend_workdays``. A transfer may cross New Year (a Saturday in
    December worked for a day off in January), and ``holidays`` records it
    while populating the year of the day off, so a year's answer is taken only
    after its neighbours on both sides are populated too.
    """

    def __init__(self, region: HolidayRegion | None) -> None:
        self._region = region
        self._source: holidays_lib.HolidayBase | None = None
        self._years: dict[int, tuple[frozenset[date], frozenset[date]]] = {}
        self._lock = threading.Lock()

    def is_holiday(self, day: date) -> bool:
        """Return True if ``day`` is a public holiday (a day off) in the region."""
        return day in self._year(day.year)[0]

    def is_transferred_workday(self, day: date) -> bool:
        """Return True if ``day`` is a weekend day made a working day by a transfer."""
        return day in self._year(day.year)[1]

    def _year(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        """Return (holidays, transferred working days) of ``year``, computing them once."""
        known = self._years.get(year)
        if known is not None:
            return known
        with self._lock:
            if year not in self._years:
                self._years[year] = self._compute(year)
            return self._years[year]

    def _compute(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        """Populate ``year`` and its neighbours in the ``holidays`` object; copy out ``year``."""
        if self._region is None:
            return frozenset(), frozenset()
        if self._source is None:
            self._source = holidays_lib.country_holidays(
                self._region.country, subdiv=self._region.subdivision, years=()
            )
        for neighbour in (year - 1, year, year + 1):
            self._source.get(date(neighbour, 1, 1))  # a lookup populates the whole year
        days_off = frozenset(day for day in self._source if day.year == year)
        workdays = frozenset(day for day in self._source.weekend_workdays if day.year == year)
        return days_off, workdays


# --- the calendar -----------------------------------------------------------------


@dataclass(frozen=True)
class BusinessCalendar:
    """When one source's people are at work; build it with :meth:`from_sla` or :func:`calendar_for`.

    Equal settings make equal (and equally hashed) calendars; the holiday
    cache inside is not part of the value.
    """

    timezone: ZoneInfo
    shifts: tuple[Shift, ...]
    working_days: frozenset[int]  # 0 = Monday, as date.weekday()
    holidays: HolidayRegion | None = None
    extra_days_off: frozenset[date] = frozenset()
    extra_work_days: frozenset[date] = frozenset()
    _book: _HolidayBook = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        """Check the shifts (sorted, each start < end, none overlapping); start the holiday cache."""
        previous_end: time | None = None
        for shift in self.shifts:
            if not shift.start < shift.end or (
                previous_end is not None and shift.start < previous_end
            ):
                raise ValueError(f"shifts must be sorted and must not overlap: {self.shifts}")
            previous_end = shift.end
        object.__setattr__(self, "_book", _HolidayBook(self.holidays))

    @classmethod
    def from_sla(cls, sla: SlaConfig) -> BusinessCalendar:
        """Return the calendar of an ``[sla]`` table (already merged with a source's overrides)."""
        return cls(
            timezone=sla.timezone,
            shifts=tuple(sla.working_hours),
            working_days=frozenset(sla.working_days),
            holidays=sla.holidays,
            extra_days_off=frozenset(sla.extra_days_off),
            extra_work_days=frozenset(sla.extra_work_days),
        )

    # --- days and their intervals ---

    def is_working_day(self, day: date) -> bool:
        """Return True if people work on ``day`` (a local date).

        In order of precedence: ``extra_days_off`` and ``extra_work_days``
        (the shop's own word wins), then the country's transferred working
        days (a weekend day worked in exchange for a day off), then public
        holidays, then ``working_days``.
        """
        if day in self.extra_days_off:
            return False
        if day in self.extra_work_days or self._book.is_transferred_workday(day):
            return True
        return day.weekday() in self.working_days and not self._book.is_holiday(day)

    def intervals(self, day: date) -> list[Interval]:
        """Return the working intervals of a local date as UTC instants, in order.

        Empty on a day off. DST: each shift's ends are found with
        :func:`first_instant`, so on a spring-forward day a 00:00-24:00 shift
        lasts 23 real hours and on an autumn day 25; a shift that lies wholly
        inside the skipped hour has no working time and is left out.
        """
        if not self.is_working_day(day):
            return []
        result = []
        for shift in self.shifts:
            start, end = self._instant(day, shift.start), self._instant(day, shift.end)
            if start < end:
                result.append((start, end))
        return result

    def _instant(self, day: date, clock: time) -> datetime:
        """Return the first instant the local clock shows ``clock`` on ``day`` (time.max is 24:00)."""
        if clock == time.max:
            return first_instant(datetime.combine(day + _DAY, time(0)), self.timezone)
        return first_instant(datetime.combine(day, clock), self.timezone)

    def _whole_day(self, day: date) -> list[Interval]:
        """Return a working day as one interval from its midnight to the next (none on a day off)."""
        if not self.is_working_day(day):
            return []
        return [(self._instant(day, time(0)), self._instant(day, time.max))]

    def _walk(self, start: datetime) -> Iterator[Interval]:
        """Yield the working intervals that end at or after ``start``, clipped to begin there.

        Starts a day early: a local date's intervals never begin before its
        first instant, but starting early costs one day and rules out
        surprises in zones that move their clocks around midnight.
        Raises NoWorkingTimeError after HORIZON_DAYS days in a row without work.
        """
        day = start.astimezone(self.timezone).date() - _DAY
        idle_days = 0
        while idle_days <= HORIZON_DAYS:
            spans = self.intervals(day)
            idle_days = 0 if spans else idle_days + 1
            for begin, end in spans:
                if end >= start:
                    yield max(begin, start), end
            day += _DAY
        raise NoWorkingTimeError(
            f"no working time within {HORIZON_DAYS} days after {start.isoformat()}: "
            "check working_days, working_hours and extra_days_off"
        )

    # --- instants and durations ---

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """Return the instant (UTC) when ``duration`` of business time has passed since ``start``.

        A start outside working time begins counting at the next opening (a
        request at night starts its clock in the morning). The result always
        lies within a shift's [start, end]: a duration that ends exactly at a
        shift's end returns that end. ``add(t, timedelta(0))`` is ``t`` when
        ``t`` is in working time, else the next opening.
        Raises ValueError for a naive ``start`` or a negative ``duration``.
        """
        begin = _check_aware(start, "start")
        if duration < _ZERO:
            raise ValueError(f"duration must not be negative, got {duration}")
        left = duration
        for opening, closing in self._walk(begin):
            if left <= closing - opening:
                return opening + left
            left -= closing - opening
        raise AssertionError("_walk ends only by raising")  # pragma: no cover

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Return the business time between two instants; zero if ``end`` is not after ``start``.

        ``elapsed(t, add(t, d)) == d`` for every ``t`` and ``d``.
        """
        return self._elapsed(start, end, self.intervals)

    def working_day_time(self, start: datetime, end: datetime) -> timedelta:
        """Return the wall time between two instants that fell on working days, around the clock.

        A coarser clock than :meth:`elapsed`: nights of working days count,
        days off do not. "No submission for 2 days" then means two working
        days, not 48 business hours (about a week of 9-hour days).
        """
        return self._elapsed(start, end, self._whole_day)

    def _elapsed(
        self, start: datetime, end: datetime, spans_of: Callable[[date], list[Interval]]
    ) -> timedelta:
        """Sum the overlap of [start, end] with the spans of each local day in between."""
        begin, finish = _check_aware(start, "start"), _check_aware(end, "end")
        total = _ZERO
        if finish <= begin:
            return total
        day = begin.astimezone(self.timezone).date() - _DAY  # a day early, as in _walk
        last = finish.astimezone(self.timezone).date() + _DAY
        while day <= last:
            for opening, closing in spans_of(day):
                overlap = min(closing, finish) - max(opening, begin)
                if overlap > _ZERO:
                    total += overlap
            day += _DAY
        return total

    def is_open(self, instant: datetime) -> bool:
        """Return True if ``instant`` is in working time, counting a shift as [start, end)."""
        moment = _check_aware(instant, "instant")
        day = moment.astimezone(self.timezone).date()
        return any(
            opening <= moment < closing
            for nearby in (day - _DAY, day, day + _DAY)
            for opening, closing in self.intervals(nearby)
        )

    def next_opening(self, instant: datetime) -> datetime:
        """Return (in UTC) ``instant`` itself if the shop is open then, else when it next opens.

        A shift counts as [start, end) here: at 18:00 sharp the answer is the
        next morning. Raises NoWorkingTimeError if it never opens again.
        """
        for opening, closing in self._walk(_check_aware(instant, "instant")):
            if opening < closing:
                return opening
        raise AssertionError("_walk ends only by raising")  # pragma: no cover

    def share_elapsed(self, received_at: datetime, deadline: datetime, now: datetime) -> float:
        """Return how much of a deadline's business time has passed at ``now``.

        0.0 at arrival (and during the night before the clock starts), 1.0
        exactly at the deadline, 2.0 at twice the time: what escalation steps
        like "200%" compare against. A deadline no later than the arrival
        counts as all used once ``now`` reaches it.
        """
        total = self.elapsed(received_at, deadline)
        if total <= _ZERO:
            return 1.0 if _check_aware(now, "now") >= _check_aware(deadline, "deadline") else 0.0
        return self.elapsed(received_at, now) / total


def calendar_for(sla: SlaConfig) -> BusinessCalendar:
    """Return the calendar of an ``[sla]`` table, one shared instance per distinct calendar.

    Sharing matters: each calendar keeps its own holiday tables, and the SLA
    tick asks for every open case's calendar every cycle. Sources whose
    tables differ only in ``first_response`` share one calendar.
    """
    return _shared(BusinessCalendar.from_sla(sla))


@lru_cache(maxsize=64)
def _shared(calendar: BusinessCalendar) -> BusinessCalendar:
    """Return the first calendar seen that equals ``calendar`` (calendars are values)."""
    return calendar


def deadline(received_at: datetime, sla: SlaConfig) -> datetime:
    """Return (in UTC) the first-response deadline of a request that arrived at ``received_at``."""
    return calendar_for(sla).add(received_at, sla.first_response)


def share_elapsed(
    received_at: datetime, deadline_at: datetime, now: datetime, sla: SlaConfig
) -> float:
    """Return the share of a request's deadline used by ``now`` (1.0 at the deadline)."""
    return calendar_for(sla).share_elapsed(received_at, deadline_at, now)
