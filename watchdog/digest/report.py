"""What the owner's daily digest says, as plain data: who was missed, who waited, what broke.

A digest reports one *local calendar day* D in ``sla.timezone`` (midnight to
midnight; 23 or 25 hours on a DST night) and the state of things at the moment
it is built (``as_of``, normally the next morning at ``digest.at``):

- **missed**: every case still without a response at ``as_of`` whose deadline
  has passed, whenever it arrived. A request missed three days ago is listed
  again until someone answers it: the digest is a to-do list, not a log.
- **waiting**: how many cases are still open but within their deadline.
- **late**: cases that got their first response during D after their
  deadline, with how late in business time (an answer on Monday morning to a
  deadline of Friday 17:00 is one business hour late, not 64 wall hours).
- **alarms**: alarms open at ``as_of`` (raised by then, not cleared by then),
  with the sender and subject of the request they concern.
- **sources**: per door, the cases that arrived during D, how many of them have
  had a first response by ``as_of``, and the median time to it in the
  source's business time (None when none was answered).
- **corrections**: what people said on the dashboard during D about the
  classifier's verdicts ("this is not a request", "this is a request"), so
  the owner sees where the rules need work.

A case *dismissed* as no request (a correction) is nobody waiting: from the
moment it was dismissed it is neither missed, nor waiting, nor counted among
the day's requests.

A *first response* is an e-mail reply (``answered_at``) or, failing that, a
case marked handled without e-mail (``handled_at``, a phone call): either way
the customer heard from us. Every decision is made from timestamps compared
with ``as_of``, never from the stored ``state``, so ``digest --print --now``
replays a past morning as it was.

The module is a set of pure functions over :class:`CaseFacts`,
:class:`AlarmLine` and :class:`CorrectionLine` (:func:`assemble`); the thin
query layer that loads them is :mod:`watchdog.digest.load` (``build_report``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from watchdog.sla import BusinessCalendar, first_instant

#: At most this many missed cases are listed one by one; the rest are counted.
MAX_LISTED = 50

Headline = Literal["missed", "late", "alarms", "good", "empty"]
CalendarOf = Callable[[str], BusinessCalendar]


# --- the facts the report is made of -----------------------------------------------


@dataclass(frozen=True)
class CaseFacts:
    """One case as the digest sees it: the row's timestamps and texts, and its door's name."""

    id: int
    source: str
    customer: str
    subject: str
    received_at: datetime
    deadline_at: datetime
    answered_at: datetime | None = None
    handled_at: datetime | None = None
    dismissed_at: datetime | None = None

    def dismissed_by(self, now: datetime) -> bool:
        """Return True if the case had been dismissed as no request by ``now``."""
        return self.dismissed_at is not None and self.dismissed_at <= now

    @property
    def responded_at(self) -> datetime | None:
        """Return when the customer first heard from us: the reply, else the handling."""
        return self.answered_at or self.handled_at

    def open_at(self, now: datetime) -> bool:
        """Return True if the case had arrived and had no response yet at ``now``."""
        responded = self.responded_at
        waiting = responded is None or responded > now
        return self.received_at <= now and waiting and not self.dismissed_by(now)


@dataclass(frozen=True)
class MissedCase:
    """A customer still waiting past the deadline; ``waited`` is business time so far."""

    id: int
    source: str
    customer: str
    subject: str
    received_at: datetime
    deadline_at: datetime
    waited: timedelta


@dataclass(frozen=True)
class LateAnswer:
    """A first response given after the deadline: ``late_by`` beyond it, ``took`` in all.

    ``handled`` is True when the response was not an e-mail (marked handled).
    """

    id: int
    source: str
    customer: str
    subject: str
    received_at: datetime
    responded_at: datetime
    late_by: timedelta
    took: timedelta
    handled: bool


@dataclass(frozen=True)
class AlarmLine:
    """An open alarm; ``sender`` and ``subject`` are those of the request it concerns, if any."""

    kind: str
    raised_at: datetime
    source: str | None = None
    sender: str | None = None
    subject: str | None = None
    detail: str | None = None

    @property
    def explanation(self) -> str | None:
        """Return the technical detail when there is no request to show instead.

        For a request's alarm the sender and subject say more to the owner than
        the detail (which repeats them in English); for a source's alarm the
        detail (the server's error, the silence) is all there is.
        """
        return None if self.sender or self.subject else self.detail


@dataclass(frozen=True)
class CorrectionLine:
    """A person's correction of the classifier: ``verdict`` is "not_request" or "request".

    ``sender``, ``subject`` and ``source`` are those of the message corrected.
    """

    verdict: str
    at: datetime
    actor: str
    reason: str
    case_id: int | None = None
    source: str | None = None
    sender: str | None = None
    subject: str | None = None


@dataclass(frozen=True)
class SourceDay:
    """One door's day: requests that arrived, how many got a response, the median time to it."""

    name: str
    received: int
    answered: int
    median_response: timedelta | None


@dataclass(frozen=True)
class DigestReport:
    """Everything one digest says; templates only lay it out (see the module docstring)."""

    day: date
    start: datetime
    end: datetime
    as_of: datetime
    timezone: ZoneInfo
    missed: tuple[MissedCase, ...]
    missed_more: int  # missed cases beyond MAX_LISTED, counted but not listed
    waiting: int
    late: tuple[LateAnswer, ...]
    alarms: tuple[AlarmLine, ...]
    sources: tuple[SourceDay, ...]
    corrections: tuple[CorrectionLine, ...] = ()

    @property
    def missed_total(self) -> int:
        """Return how many customers wait past their deadline, listed or not."""
        return len(self.missed) + self.missed_more

    @property
    def received(self) -> int:
        """Return how many requests arrived during the day, over all doors."""
        return sum(source.received for source in self.sources)

    @property
    def empty(self) -> bool:
        """Return True when there is nothing to tell: no requests, nobody waiting, no alarms."""
        return not (
            self.received
            or self.missed_total
            or self.waiting
            or self.late
            or self.alarms
            or self.corrections
        )

    @property
    def headline(self) -> Headline:
        """Return what the digest leads with: the worst thing there is to say."""
        if self.missed_total:
            return "missed"
        if self.late:
            return "late"
        if self.alarms:
            return "alarms"
        return "empty" if self.empty else "good"


# --- pure aggregation --------------------------------------------------------------


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Return (start, end) in UTC of a local calendar day: its midnight and the next.

    DST: computed from each midnight's own offset, so the window of a
    clocks-change day is 23 or 25 hours long, not 24.
    """
    start = first_instant(datetime.combine(day, time(0)), zone)
    end = first_instant(datetime.combine(day + timedelta(days=1), time(0)), zone)
    return start, end


def missed_cases(
    cases: Iterable[CaseFacts], now: datetime, calendar_of: CalendarOf
) -> list[MissedCase]:
    """Return the cases open at ``now`` past their deadline, oldest first."""
    missed = [
        MissedCase(
            id=case.id,
            source=case.source,
            customer=case.customer,
            subject=case.subject,
            received_at=case.received_at,
            deadline_at=case.deadline_at,
            waited=calendar_of(case.source).elapsed(case.received_at, now),
        )
        for case in cases
        if case.open_at(now) and case.deadline_at <= now
    ]
    return sorted(missed, key=lambda row: (row.received_at, row.id))


def waiting_count(cases: Iterable[CaseFacts], now: datetime) -> int:
    """Return how many cases are open at ``now`` and still within their deadline."""
    return sum(1 for case in cases if case.open_at(now) and case.deadline_at > now)


def late_answers(
    cases: Iterable[CaseFacts], start: datetime, end: datetime, calendar_of: CalendarOf
) -> list[LateAnswer]:
    """Return the first responses given in [start, end) after the deadline, most late first."""
    late = []
    for case in cases:
        responded = case.responded_at
        if responded is None or not start <= responded < end or responded <= case.deadline_at:
            continue
        calendar = calendar_of(case.source)
        late.append(
            LateAnswer(
                id=case.id,
                source=case.source,
                customer=case.customer,
                subject=case.subject,
                received_at=case.received_at,
                responded_at=responded,
                late_by=calendar.elapsed(case.deadline_at, responded),
                took=calendar.elapsed(case.received_at, responded),
                handled=case.answered_at is None,
            )
        )
    return sorted(late, key=lambda row: (-row.late_by, row.received_at, row.id))


def source_days(
    cases: Iterable[CaseFacts],
    names: Sequence[str],
    start: datetime,
    end: datetime,
    now: datetime,
    calendar_of: CalendarOf,
) -> list[SourceDay]:
    """Return one :class:`SourceDay` per name, in order, for the cases received in [start, end)."""
    arrived: dict[str, list[CaseFacts]] = {name: [] for name in names}
    for case in cases:
        if start <= case.received_at < end and not case.dismissed_by(now):
            arrived.setdefault(case.source, []).append(case)
    result = []
    for name, group in arrived.items():
        times = [
            calendar_of(name).elapsed(case.received_at, responded)
            for case in group
            if (responded := case.responded_at) is not None and responded <= now
        ]
        result.append(SourceDay(name, len(group), len(times), median(times)))
    return result


def median(values: Sequence[timedelta]) -> timedelta | None:
    """Return the median of durations (the mean of the middle two for an even count), or None."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def assemble(
    day: date,
    now: datetime,
    zone: ZoneInfo,
    cases: Sequence[CaseFacts],
    alarms: Sequence[AlarmLine],
    source_names: Sequence[str],
    calendar_of: CalendarOf,
    corrections: Sequence[CorrectionLine] = (),
) -> DigestReport:
    """Return the digest of local day ``day`` as seen at ``now``, from plain facts.

    ``corrections`` are those made during the day (and by ``now``), in any order.
    """
    start, end = day_window(day, zone)
    missed = missed_cases(cases, now, calendar_of)
    return DigestReport(
        day=day,
        start=start,
        end=end,
        as_of=now,
        timezone=zone,
        missed=tuple(missed[:MAX_LISTED]),
        missed_more=max(0, len(missed) - MAX_LISTED),
        waiting=waiting_count(cases, now),
        late=tuple(late_answers(cases, start, end, calendar_of)),
        alarms=tuple(sorted(alarms, key=lambda alarm: alarm.raised_at)),
        sources=tuple(source_days(cases, source_names, start, end, now, calendar_of)),
        corrections=tuple(
            sorted(
                (c for c in corrections if start <= c.at < end and c.at <= now),
                key=lambda c: c.at,
            )
        ),
    )
