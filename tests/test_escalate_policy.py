"""The escalation policy: which steps a case has reached, in business time, with no database.

The shop works 09:00-18:00 Moscow time, Monday to Friday, with a 2-hour
first-response deadline. Wednesday 2025-11-05 is an ordinary working day.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from watchdog.config import EscalationStep, Shift
from watchdog.escalate.policy import (
    CaseClock,
    DueStep,
    due_steps,
    earliest_age,
    first_due,
    next_due,
)
from watchdog.sla import BusinessCalendar

MOSCOW = ZoneInfo("Europe/Moscow")
SHOP = BusinessCalendar(
    timezone=MOSCOW, shifts=(Shift(time(9), time(18)),), working_days=frozenset(range(5))
)
HOURS = timedelta(hours=1)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Return November ``day``, 2025 at the shop's wall-clock time, in UTC."""
    return datetime(2025, 11, day, hour, minute, tzinfo=MOSCOW).astimezone(UTC)


def step(after: str, notify: str = "team", repeat: str | None = None) -> EscalationStep:
    table = {"after": after, "notify": notify} | ({"repeat": repeat} if repeat else {})
    return EscalationStep.model_validate(table)


TEAM, OWNER = step("100%"), step("200%", "owner", repeat="4h")
POLICY = (TEAM, OWNER)
# Arrived Wednesday 10:00; the deadline is 12:00 the same day.
CASE = CaseClock(received_at=at(5, 10), deadline_at=at(5, 12), state="open")


def test_nothing_is_due_before_the_first_step() -> None:
    assert due_steps(CASE, POLICY, SHOP, at(5, 11, 59)) == []


def test_share_steps_fire_at_their_share_of_the_deadline() -> None:
    assert first_due(step("50%"), CASE, SHOP) == at(5, 11)
    assert first_due(TEAM, CASE, SHOP) == at(5, 12)
    assert first_due(OWNER, CASE, SHOP) == at(5, 14)


def test_the_team_step_is_due_exactly_at_the_deadline() -> None:
    assert due_steps(CASE, POLICY, SHOP, at(5, 12)) == [DueStep(0, 0, at(5, 12))]


def test_a_share_past_closing_time_continues_next_morning() -> None:
    late = CaseClock(received_at=at(5, 17), deadline_at=at(6, 10), state="open")  # 1 h + 1 h
    assert first_due(OWNER, late, SHOP) == at(6, 12)  # 4 business hours: 17-18, then 9-12


def test_a_duration_step_counts_business_time_across_the_night() -> None:
    evening = CaseClock(received_at=at(5, 17, 50), deadline_at=at(6, 10, 50), state="open")
    assert first_due(step("30m"), evening, SHOP) == at(6, 9, 20)


def test_a_step_with_a_fixed_time_ignores_the_deadline() -> None:
    assert due_steps(CASE, (step("30m"),), SHOP, at(5, 10, 30)) == [DueStep(0, 0, at(5, 10, 30))]


def test_repeats_are_numbered_from_zero_in_business_time() -> None:
    # The owner's step at 14:00, then every 4 business hours: 18:00, Thursday 13:00.
    assert due_steps(CASE, (OWNER,), SHOP, at(5, 14)) == [DueStep(0, 0, at(5, 14))]
    assert due_steps(CASE, (OWNER,), SHOP, at(5, 18), [(0, 0)]) == [DueStep(0, 1, at(5, 18))]
    assert due_steps(CASE, (OWNER,), SHOP, at(6, 12, 59), [(0, 0), (0, 1)]) == []
    assert due_steps(CASE, (OWNER,), SHOP, at(6, 13), [(0, 0), (0, 1)]) == [
        DueStep(0, 2, at(6, 13))
    ]


def test_recorded_steps_are_not_due_again() -> None:
    assert due_steps(CASE, POLICY, SHOP, at(5, 15), recorded=[(0, 0), (1, 0)]) == []


def test_a_late_tick_reports_every_step_reached_but_only_the_latest_repeat() -> None:
    # Nothing ran from Wednesday 10:00 to Friday 12:00: the owner's repeats at 18:00,
    # Thursday 13:00 and 17:00 collapse into the latest one, Friday 12:00.
    due = due_steps(CASE, POLICY, SHOP, at(7, 12, 30))
    assert due == [DueStep(0, 0, at(5, 12)), DueStep(1, 4, at(7, 12))]


def test_an_older_repeat_is_never_reported_after_a_later_one() -> None:
    assert due_steps(CASE, (OWNER,), SHOP, at(6, 14), recorded=[(0, 2)]) == []


@pytest.mark.parametrize("state", ["answered", "handled"])
def test_nothing_is_due_once_the_case_is_closed(state: str) -> None:
    closed = CaseClock(received_at=CASE.received_at, deadline_at=CASE.deadline_at, state=state)
    assert due_steps(closed, POLICY, SHOP, at(7, 12)) == []


def test_no_step_becomes_due_at_three_in_the_morning() -> None:
    # The owner heard at 14:00 and 18:00 on Wednesday; wall-clock hours of the night
    # are not business time, so at 03:00 nothing is due, and the next repeat is at 13:00.
    recorded = [(0, 0), (1, 0), (1, 1)]
    assert due_steps(CASE, POLICY, SHOP, at(6, 3), recorded) == []
    assert due_steps(CASE, POLICY, SHOP, at(6, 13), recorded) == [DueStep(1, 2, at(6, 13))]


def test_a_step_noticed_at_night_is_due_from_working_time() -> None:
    # A replay at 03:00 Thursday finds the team step: due at 18:00 Wednesday, not 03:00.
    evening = CaseClock(received_at=at(5, 16), deadline_at=at(5, 18), state="open")
    assert due_steps(evening, (TEAM,), SHOP, at(6, 3)) == [DueStep(0, 0, at(5, 18))]


def test_earliest_age_is_the_shortest_step_in_wall_time() -> None:
    assert earliest_age((TEAM, OWNER), 2 * HOURS) == 2 * HOURS
    assert earliest_age((step("50%"), OWNER), 2 * HOURS) == HOURS
    assert earliest_age((step("20m"), OWNER), 2 * HOURS) == timedelta(minutes=20)


def test_the_next_moment_is_the_first_step_before_the_deadline() -> None:
    assert next_due(CASE, POLICY, SHOP, at(5, 11)) == at(5, 12)


def test_the_next_moment_after_the_last_step_is_its_next_repeat() -> None:
    # The owner step (200 %) fired at 14:00; it repeats every 4 business hours: 18:00.
    assert next_due(CASE, POLICY, SHOP, at(5, 14, 30)) == at(5, 18)


def test_there_is_no_next_moment_once_every_step_has_fired_without_repeat() -> None:
    once = (TEAM, step("200%", "owner"))

    assert next_due(CASE, once, SHOP, at(5, 15)) is None


def test_there_is_no_next_moment_for_a_closed_case() -> None:
    answered = CaseClock(received_at=at(5, 10), deadline_at=at(5, 12), state="answered")

    assert next_due(answered, POLICY, SHOP, at(5, 11)) is None
