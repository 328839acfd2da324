"""Business time: deadlines counted in each source's hours, days, holidays and time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchdog.config.schema import SlaConfig
from watchdog.config.types import Shift
from watchdog.sla import (
    BusinessCalendar,
    NoWorkingTimeError,
    calendar_for,
    deadline,
    first_instant,
    share_elapsed,
)

MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOURS = timedelta(hours=1)


def sla(**keys: Any) -> SlaConfig:
    """Return an [sla] table parsed from what a user writes (defaults: Moscow, 09-18, mon-fri, RU)."""
    return SlaConfig.model_validate(keys)


def calendar(**keys: Any) -> BusinessCalendar:
    """Return the calendar of an [sla] table written like ``sla``."""
    return calendar_for(sla(**keys))


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return an aware local time in ``zone``."""
    return datetime(year, month, day, hour, minute, tzinfo=zone)


SHOP = calendar()  # Europe/Moscow, 09:00-18:00, mon-fri, RU public holidays


# --- the working week ---------------------------------------------------------------


def test_friday_evening_request_is_due_on_monday_morning() -> None:
    friday = at(MOSCOW, 2025, 10, 17, 17, 30)

    assert SHOP.add(friday, 2 * HOURS) == at(MOSCOW, 2025, 10, 20, 10, 30)


def test_night_arrival_starts_its_clock_at_the_next_opening() -> None:
    night = at(MOSCOW, 2025, 10, 21, 3, 0)

    assert SHOP.add(night, 2 * HOURS) == at(MOSCOW, 2025, 10, 21, 11, 0)
    assert SHOP.next_opening(night) == at(MOSCOW, 2025, 10, 21, 9, 0)
    assert SHOP.add(night, timedelta(0)) == at(MOSCOW, 2025, 10, 21, 9, 0)


def test_deadline_that_uses_up_a_shift_is_its_end_not_the_next_morning() -> None:
    afternoon = at(MOSCOW, 2025, 10, 21, 16, 0)

    due = SHOP.add(afternoon, 2 * HOURS)

    assert due == at(MOSCOW, 2025, 10, 21, 18, 0)
    assert SHOP.add(due, timedelta(0)) == due
    assert SHOP.add(due, timedelta(minutes=1)) == at(MOSCOW, 2025, 10, 22, 9, 1)


def test_shop_is_closed_at_closing_time_sharp() -> None:
    closing = at(MOSCOW, 2025, 10, 21, 18, 0)

    assert not SHOP.is_open(closing)
    assert SHOP.is_open(closing - timedelta(microseconds=1))
    assert SHOP.next_opening(closing) == at(MOSCOW, 2025, 10, 22, 9, 0)


def test_elapsed_skips_the_weekend() -> None:
    friday, monday = at(MOSCOW, 2025, 10, 17, 16, 0), at(MOSCOW, 2025, 10, 20, 11, 0)

    assert SHOP.elapsed(friday, monday) == 4 * HOURS
    assert SHOP.elapsed(monday, friday) == timedelta(0)


def test_split_shifts_skip_the_lunch_break() -> None:
    split = calendar(working_hours="09:00-13:00,14:00-18:00")

    assert split.add(at(MOSCOW, 2025, 10, 21, 12, 30), HOURS) == at(MOSCOW, 2025, 10, 21, 14, 30)
    assert split.add(at(MOSCOW, 2025, 10, 21, 13, 20), HOURS) == at(MOSCOW, 2025, 10, 21, 15, 0)
    assert split.elapsed(at(MOSCOW, 2025, 10, 21, 9), at(MOSCOW, 2025, 10, 21, 18)) == 8 * HOURS


def test_results_are_utc_whatever_zone_the_arrival_was_written_in() -> None:
    arrival = at(MOSCOW, 2025, 10, 17, 17, 30)

    in_utc = SHOP.add(arrival.astimezone(UTC), 2 * HOURS)
    in_new_york = SHOP.add(arrival.astimezone(NEW_YORK), 2 * HOURS)

    assert in_utc == in_new_york == datetime(2025, 10, 20, 7, 30, tzinfo=UTC)
    assert in_utc.tzinfo is UTC


def test_naive_datetimes_and_negative_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        SHOP.add(datetime(2025, 10, 17, 17, 30), HOURS)
    with pytest.raises(ValueError, match="naive"):
        SHOP.elapsed(at(MOSCOW, 2025, 10, 17), datetime(2025, 10, 20))
    with pytest.raises(ValueError, match="negative"):
        SHOP.add(at(MOSCOW, 2025, 10, 17), -HOURS)


def test_calendar_that_never_opens_is_a_clear_error_not_a_hang() -> None:
    never = BusinessCalendar(MOSCOW, (Shift(time(9), time(18)),), frozenset())

    with pytest.raises(NoWorkingTimeError, match="no working time"):
        never.add(at(MOSCOW, 2025, 10, 17), HOURS)
    assert never.elapsed(at(MOSCOW, 2025, 1, 1), at(MOSCOW, 2025, 12, 31)) == timedelta(0)


def test_overlapping_shifts_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        BusinessCalendar(MOSCOW, (Shift(time(9), time(14)), Shift(time(13), time(18))), frozenset())


# --- public holidays, transfers and the shop's own days ----------------------------


def test_may_2025_holidays_in_russia_are_days_off() -> None:
    off = [date(2025, 5, day) for day in (1, 2, 3, 4, 8, 9, 10, 11)]
    at_work = [date(2025, 5, day) for day in (5, 6, 7, 12)]

    assert [SHOP.is_working_day(day) for day in off] == [False] * len(off)
    assert [SHOP.is_working_day(day) for day in at_work] == [True] * len(at_work)
    assert SHOP.add(at(MOSCOW, 2025, 4, 30, 17, 30), 2 * HOURS) == at(MOSCOW, 2025, 5, 5, 10, 30)
    assert SHOP.add(at(MOSCOW, 2025, 5, 7, 17, 30), 2 * HOURS) == at(MOSCOW, 2025, 5, 12, 10, 30)


def test_saturday_1_november_2025_is_a_transferred_working_day_in_russia() -> None:
    assert SHOP.is_working_day(date(2025, 11, 1))
    assert not SHOP.is_working_day(date(2025, 11, 3))
    assert not SHOP.is_working_day(date(2025, 11, 4))
    assert not SHOP.is_working_day(date(2025, 11, 8))  # an ordinary Saturday


def test_friday_31_october_request_is_due_on_the_working_saturday() -> None:
    assert SHOP.add(at(MOSCOW, 2025, 10, 31, 17, 0), 2 * HOURS) == at(MOSCOW, 2025, 11, 1, 10, 0)


def test_working_saturday_evening_request_waits_out_the_unity_day_break() -> None:
    saturday = at(MOSCOW, 2025, 11, 1, 17, 30)

    assert SHOP.add(saturday, 2 * HOURS) == at(MOSCOW, 2025, 11, 5, 10, 30)


def test_new_year_holidays_in_russia_last_until_12_january_2026() -> None:
    # 2025-12-31 is a day off moved from Sunday 5 January; 2026-01-01..11 are off.
    assert not SHOP.is_working_day(date(2025, 12, 31))
    assert SHOP.add(at(MOSCOW, 2025, 12, 30, 17, 30), 2 * HOURS) == at(MOSCOW, 2026, 1, 12, 10, 30)


def test_extra_days_off_and_extra_work_days_win_over_the_calendar() -> None:
    own = calendar(
        extra_days_off=["2025-10-20", "2025-11-01"], extra_work_days=["2025-10-25", "2025-11-04"]
    )

    assert not own.is_working_day(date(2025, 10, 20))  # an ordinary Monday
    assert not own.is_working_day(date(2025, 11, 1))  # Russia's working Saturday
    assert own.is_working_day(date(2025, 10, 25))  # an ordinary Saturday
    assert own.is_working_day(date(2025, 11, 4))  # Unity Day
    assert own.add(at(MOSCOW, 2025, 10, 24, 17, 30), 2 * HOURS) == at(MOSCOW, 2025, 10, 25, 10, 30)
    assert own.add(at(MOSCOW, 2025, 10, 17, 17, 30), 2 * HOURS) == at(MOSCOW, 2025, 10, 21, 10, 30)


def test_holidays_none_keeps_only_the_working_days() -> None:
    plain = calendar(holidays="none")

    assert plain.is_working_day(date(2025, 5, 1))
    assert not plain.is_working_day(date(2025, 11, 1))  # no transfers without a country
    assert plain.add(at(MOSCOW, 2025, 4, 30, 17, 30), 2 * HOURS) == at(MOSCOW, 2025, 5, 1, 10, 30)


def test_another_country_uses_its_own_holidays() -> None:
    new_york = calendar(timezone="America/New_York", holidays="US")

    assert not new_york.is_working_day(date(2025, 7, 4))
    assert new_york.add(at(NEW_YORK, 2025, 7, 3, 17, 0), 2 * HOURS) == at(
        NEW_YORK, 2025, 7, 7, 10, 0
    )


# --- daylight saving time -------------------------------------------------------------


def test_24_business_hours_across_spring_forward_are_24_real_hours() -> None:
    always = calendar(
        timezone="Europe/Berlin",
        working_hours="00:00-24:00",
        working_days="mon-sun",
        holidays="none",
    )
    saturday_noon = at(BERLIN, 2025, 3, 29, 12, 0)

    due = always.add(saturday_noon, 24 * HOURS)

    # Python adds to a datetime in its own zone on the wall clock, so go through UTC.
    assert due == saturday_noon.astimezone(UTC) + 24 * HOURS  # 24 real hours
    assert due == at(BERLIN, 2025, 3, 30, 13, 0)  # the wall clock lost an hour
    day = (at(BERLIN, 2025, 3, 30, 0, 0), at(BERLIN, 2025, 3, 31, 0, 0))
    assert always.elapsed(*day) == 23 * HOURS


def test_autumn_day_with_the_repeated_hour_has_25_hours() -> None:
    always = calendar(
        timezone="Europe/Berlin",
        working_hours="00:00-24:00",
        working_days="mon-sun",
        holidays="none",
    )

    day = (at(BERLIN, 2025, 10, 26, 0, 0), at(BERLIN, 2025, 10, 27, 0, 0))

    assert always.elapsed(*day) == 25 * HOURS
    assert always.add(day[0], 24 * HOURS) == at(BERLIN, 2025, 10, 26, 23, 0)


def test_shift_starting_in_the_skipped_hour_starts_when_the_clock_jumps() -> None:
    night = calendar(
        timezone="Europe/Berlin",
        working_hours="02:30-04:00",
        working_days="mon-sun",
        holidays="none",
    )

    [(start, end)] = night.intervals(date(2025, 3, 30))

    assert start == at(BERLIN, 2025, 3, 30, 3, 0) == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
    assert end - start == HOURS


def test_shift_starting_in_the_repeated_hour_starts_at_its_first_occurrence() -> None:
    night = calendar(
        timezone="Europe/Berlin",
        working_hours="02:30-04:00",
        working_days="mon-sun",
        holidays="none",
    )

    [(start, end)] = night.intervals(date(2025, 10, 26))

    assert start == datetime(
        2025, 10, 26, 0, 30, tzinfo=UTC
    )  # 02:30 CEST, before the clocks go back
    assert end - start == 2 * HOURS + 30 * timedelta(minutes=1)


def test_shift_wholly_inside_the_skipped_hour_has_no_working_time() -> None:
    gap = BusinessCalendar(BERLIN, (Shift(time(2, 15), time(2, 45)),), frozenset(range(7)))

    assert gap.intervals(date(2025, 3, 30)) == []
    assert len(gap.intervals(date(2025, 3, 31))) == 1


def test_monday_after_spring_forward_opens_at_9_local_which_is_an_hour_earlier_in_utc() -> None:
    berlin = calendar(timezone="Europe/Berlin", holidays="DE")

    due = berlin.add(at(BERLIN, 2025, 3, 28, 17, 0), 2 * HOURS)

    assert due == at(BERLIN, 2025, 3, 31, 10, 0) == datetime(2025, 3, 31, 8, 0, tzinfo=UTC)


def test_first_instant_of_a_nonexistent_wall_time_is_the_transition() -> None:
    assert first_instant(datetime(2025, 3, 9, 2, 30), NEW_YORK) == datetime(
        2025, 3, 9, 7, 0, tzinfo=UTC
    )


# --- helpers for the SLA tick -------------------------------------------------------


def test_deadline_counts_first_response_in_the_sources_calendar() -> None:
    table = sla(first_response="4h", working_hours="09:00-13:00,14:00-18:00")

    assert deadline(at(MOSCOW, 2025, 10, 17, 16, 0), table) == at(MOSCOW, 2025, 10, 20, 11, 0)


def test_share_elapsed_is_one_at_the_deadline_and_two_at_twice_it() -> None:
    table = sla()
    arrival = at(MOSCOW, 2025, 10, 17, 17, 0)  # Friday
    due = deadline(arrival, table)  # Monday 10:00

    assert share_elapsed(arrival, due, at(MOSCOW, 2025, 10, 18, 12, 0), table) == 0.5
    assert share_elapsed(arrival, due, due, table) == 1.0
    assert share_elapsed(arrival, due, at(MOSCOW, 2025, 10, 20, 12, 0), table) == 2.0


def test_share_elapsed_stays_zero_until_a_night_request_clock_starts() -> None:
    arrival = at(MOSCOW, 2025, 10, 21, 2, 0)
    due = SHOP.add(arrival, 2 * HOURS)

    assert SHOP.share_elapsed(arrival, due, at(MOSCOW, 2025, 10, 21, 8, 59)) == 0.0


def test_equal_settings_share_one_calendar() -> None:
    assert calendar_for(sla()) is calendar_for(sla())
    assert BusinessCalendar.from_sla(sla()) == BusinessCalendar.from_sla(sla())
    assert hash(BusinessCalendar.from_sla(sla())) == hash(SHOP)


# --- properties ----------------------------------------------------------------------

CALENDARS = [
    SHOP,
    calendar(timezone="Europe/Berlin", working_hours="09:00-13:00,14:00-18:00", holidays="DE"),
    calendar(
        timezone="America/New_York",
        working_hours="08:00-12:00,12:30-17:30",
        working_days="mon-sat",
        holidays="US",
    ),
    # shifts that touch the DST transitions of Berlin's nights, every day of the week
    calendar(
        timezone="Europe/Berlin",
        working_hours="01:00-02:30,03:00-24:00",
        working_days="mon-sun",
        holidays="none",
    ),
]

calendars = st.sampled_from(CALENDARS)
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=timedelta(0), max_value=100 * HOURS)
properties = settings(max_examples=60, deadline=None)


def in_working_time(cal: BusinessCalendar, instant: datetime) -> bool:
    """Return True if ``instant`` lies in some shift's [start, end]."""
    local_day = instant.astimezone(cal.timezone).date()
    return any(
        start <= instant <= end
        for day in (local_day - timedelta(days=1), local_day, local_day + timedelta(days=1))
        for start, end in cal.intervals(day)
    )


@properties
@given(calendars, instants, durations, durations)
def test_adding_business_time_is_additive(
    cal: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    assert cal.add(cal.add(start, first), second) == cal.add(start, first + second)


@properties
@given(calendars, instants, durations, durations)
def test_adding_business_time_is_monotonic(
    cal: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    shorter, longer = sorted((first, second))
    assert start <= cal.add(start, shorter) <= cal.add(start, longer)
    assert cal.add(start, shorter) <= cal.add(start + (longer - shorter), shorter)


@properties
@given(calendars, instants, durations)
def test_elapsed_undoes_add(cal: BusinessCalendar, start: datetime, duration: timedelta) -> None:
    assert cal.elapsed(start, cal.add(start, duration)) == duration


@properties
@given(calendars, instants, durations)
def test_no_deadline_lands_outside_working_time(
    cal: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    assert in_working_time(cal, cal.add(start, duration))
