"""Which escalation steps a case has reached at ``now``: pure arithmetic, no database.

A step fires at an instant counted in the source's business time:

- ``after = 1.5`` (written "150%"): when 1.5 times the deadline's business time
  has passed since arrival. The deadline's business time is measured on the
  case itself (``elapsed(received_at, deadline_at)``), so a later change to
  ``first_response`` does not move the steps of cases already open.
- ``after = timedelta(minutes=30)``: when 30 minutes of business time have
  passed since arrival.
- ``repeat = 4h``: repeat ``k`` fires ``k * 4h`` of *business* time after the
  first notification. Business time, not wall time, so a request waiting over a
  weekend does not produce a dozen reminders on Saturday and Sunday.

Every such instant lies inside working time (``BusinessCalendar.add`` never
lands outside a shift), so a step is never *due* at 3 a.m. It can still be
*noticed* at 3 a.m. (the daemon was down, ``run --once --now`` replays a
night): the step is then decided at once and whether it is *delivered* at
night is the step's ``deliver`` setting, applied by the decider
(``watchdog.escalate.decide``), not here.

Catching up collapses: after a long outage a repeating step reports only its
latest repeat, never the ones missed in between, and never one older than a
repeat already recorded. Steps reached together (team and owner) are all
reported: they go to different people.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from watchdog.config.schema import EscalationStep
from watchdog.sla import BusinessCalendar

_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class CaseClock:
    """What the policy needs to know of a case: its times and whether it still waits."""

    received_at: datetime
    deadline_at: datetime
    state: str  # "open" | "answered" | "handled"


@dataclass(frozen=True, slots=True)
class DueStep:
    """One notification the policy says is due: ``steps[step_index]``, repeat ``repeat_no``.

    ``due_at`` is the instant it became due (inside working time), which may
    be well before ``now`` when a tick comes late.
    """

    step_index: int
    repeat_no: int
    due_at: datetime


def first_due(step: EscalationStep, case: CaseClock, calendar: BusinessCalendar) -> datetime:
    """Return the instant (UTC) when ``step`` is first reached by ``case``.

    A deadline of no business time at all (not produced by ``deadline()``, but
    possible in hand-made data) makes every share step due at the deadline.
    """
    if isinstance(step.after, timedelta):
        return calendar.add(case.received_at, step.after)
    total = calendar.elapsed(case.received_at, case.deadline_at)
    if total <= _ZERO:
        return case.deadline_at
    return calendar.add(case.received_at, total * step.after)


def latest_repeat(
    step: EscalationStep, first: datetime, calendar: BusinessCalendar, now: datetime
) -> tuple[int, datetime]:
    """Return (repeat_no, due_at) of the latest repeat of ``step`` reached at ``now``.

    ``first`` must be at or before ``now``. Repeat 0 is the first notification.
    ``add(first, d)`` is the first instant at which ``elapsed(first, .)`` reaches
    ``d``, so the latest repeat reached is ``elapsed(first, now) // repeat``.
    """
    if step.repeat is None or step.repeat <= _ZERO:
        return 0, first
    number = calendar.elapsed(first, now) // step.repeat
    return number, calendar.add(first, number * step.repeat)


def due_steps(
    case: CaseClock,
    steps: Sequence[EscalationStep],
    calendar: BusinessCalendar,
    now: datetime,
    recorded: Iterable[tuple[int, int]] = (),
) -> list[DueStep]:
    """Return the notifications due for ``case`` at ``now`` that are not recorded yet.

    ``recorded`` holds the (step_index, repeat_no) pairs already decided. A
    case that is answered or handled has nothing due, whatever it reached
    before. Per step at most one notification is returned: its latest repeat,
    and only if no repeat as late or later is recorded.
    """
    if case.state != "open":
        return []
    highest = _highest_recorded(recorded)
    result = []
    for index, step in enumerate(steps):
        first = first_due(step, case, calendar)
        if first > now:
            continue
        number, due_at = latest_repeat(step, first, calendar, now)
        if number > highest.get(index, -1):
            result.append(DueStep(index, number, due_at))
    return result


def earliest_age(steps: Sequence[EscalationStep], shortest_first_response: timedelta) -> timedelta:
    """Return a wall-clock age of a case below which no step in ``steps`` can be due.

    Business time never runs faster than the wall clock, so a step "after d of
    business time" cannot be due before ``received_at + d``; a share ``s`` of a
    deadline of at least ``shortest_first_response`` not before
    ``received_at + s * shortest_first_response``. The decider uses this to
    select candidate cases in SQL before checking each one exactly.
    """
    ages = [
        step.after if isinstance(step.after, timedelta) else shortest_first_response * step.after
        for step in steps
    ]
    return min(ages, default=_ZERO)


def _highest_recorded(recorded: Iterable[tuple[int, int]]) -> Mapping[int, int]:
    """Return, per step index, the highest repeat number recorded."""
    highest: dict[int, int] = {}
    for index, number in recorded:
        highest[index] = max(number, highest.get(index, -1))
    return highest


def next_due(
    case: CaseClock, steps: Sequence[EscalationStep], calendar: BusinessCalendar, now: datetime
) -> datetime | None:
    """Return the earliest instant after ``now`` at which a new notification falls due, or None.

    None when the case waits no more, or every step has fired and none
    repeats. The decider stores this on the case, so that a tick looks only
    at the cases whose moment has come instead of re-checking every overdue one.
    """
    if case.state != "open":
        return None
    upcoming = []
    for step in steps:
        first = first_due(step, case, calendar)
        if first > now:
            upcoming.append(first)
        elif step.repeat is not None and step.repeat > _ZERO:
            number, _ = latest_repeat(step, first, calendar, now)
            upcoming.append(calendar.add(first, (number + 1) * step.repeat))
    return min(upcoming, default=None)
