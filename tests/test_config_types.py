"""The value types of the config file: what each accepts and what it refuses.

These call the parsers directly; tests/test_config.py shows how their
refusals read inside a whole file.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from pydantic_core import PydanticCustomError

from watchdog.config.types import (
    Address,
    HolidayRegion,
    Listen,
    Shift,
    parse_after,
    parse_clock,
    parse_date,
    parse_duration,
    parse_email,
    parse_from,
    parse_holidays,
    parse_listen,
    parse_percent,
    parse_port,
    parse_working_days,
    parse_working_hours,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(minutes=90)),
        ("1d 2h", timedelta(hours=26)),
        (" 2H ", timedelta(hours=2)),
    ],
)
def test_duration_accepts_units_and_combinations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("value", ["2x", "0m", "", "90", "h", "1m1h", 30, "-5m"])
def test_duration_refuses_anything_else(value: Any) -> None:
    with pytest.raises(PydanticCustomError):
        parse_duration(value)


def test_percent_is_a_fraction() -> None:
    assert parse_percent("150%") == 1.5
    assert parse_percent("100 %") == 1.0
    with pytest.raises(PydanticCustomError):
        parse_percent("0%")


def test_after_tells_a_share_from_a_duration() -> None:
    assert parse_after("200%") == 2.0
    assert parse_after("45m") == timedelta(minutes=45)
    with pytest.raises(PydanticCustomError):
        parse_after("soon")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-18:00", (Shift(time(9), time(18)),)),
        ("9:00-13:00,14:00-18:00", (Shift(time(9), time(13)), Shift(time(14), time(18)))),
        ("00:00-24:00", (Shift(time(0), time.max),)),
        ("09:00-12:00,12:00-15:00", (Shift(time(9), time(12)), Shift(time(12), time(15)))),
    ],
)
def test_working_hours_accept_shifts(text: str, expected: tuple[Shift, ...]) -> None:
    assert parse_working_hours(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "18:00-09:00",
        "09:00",
        "09:00-18:00,",
        "24:00-24:00",
        "09:00-25:00",
        "9-18",
        "09:00-14:00,13:00-15:00",
    ],
)
def test_working_hours_refuse_reversed_overlapping_or_malformed(text: str) -> None:
    with pytest.raises(PydanticCustomError):
        parse_working_hours(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("mon,wed,sat", {0, 2, 5}),
        ("sat-sun", {5, 6}),
        ("fri-mon", {4, 5, 6, 0}),
        ("Monday, Tue", {0, 1}),
        (["mon", "thu"], {0, 3}),
    ],
)
def test_working_days_accept_ranges_and_lists(value: Any, expected: set[int]) -> None:
    assert parse_working_days(value) == frozenset(expected)


@pytest.mark.parametrize("value", ["пн-пт", "", "mon-", "weekdays", 5])
def test_working_days_refuse_unknown_names(value: Any) -> None:
    with pytest.raises(PydanticCustomError):
        parse_working_days(value)


def test_holidays_take_country_subdivision_or_none() -> None:
    assert parse_holidays("RU") == HolidayRegion("RU")
    assert parse_holidays("de") == HolidayRegion("DE")
    assert parse_holidays("US-CA") == HolidayRegion("US", "CA")
    assert parse_holidays("None") is None
    for bad in ("XX", "US-ZZ", "", 7):
        with pytest.raises(PydanticCustomError):
            parse_holidays(bad)


def test_dates_are_toml_dates_or_iso_strings_but_not_datetimes() -> None:
    assert parse_date(date(2025, 1, 2)) == date(2025, 1, 2)
    assert parse_date("2025-01-02") == date(2025, 1, 2)
    for bad in (datetime(2025, 1, 2, 10, 0), "02.01.2025", 20250102):
        with pytest.raises(PydanticCustomError):
            parse_date(bad)


def test_clock_time_accepts_text_and_toml_times() -> None:
    assert parse_clock("07:30") == time(7, 30)
    assert parse_clock(time(7, 30)) == time(7, 30)
    with pytest.raises(PydanticCustomError):
        parse_clock("24:00")


def test_email_is_checked_and_lower_cased() -> None:
    assert parse_email(" Anna@Example.COM ") == "anna@example.com"
    for bad in ("anna", "anna@example", "an na@example.com", "Anna <anna@example.com>", 1):
        with pytest.raises(PydanticCustomError):
            parse_email(bad)


def test_sender_accepts_a_display_name() -> None:
    assert parse_from("Shop Watch <Watch@Example.com>") == Address(
        "Shop Watch", "watch@example.com"
    )
    assert parse_from("watch@example.com") == Address("", "watch@example.com")
    assert str(parse_from("watch@example.com")) == "watch@example.com"
    for bad in ("Shop Watch", "a@example.com, b@example.com"):
        with pytest.raises(PydanticCustomError):
            parse_from(bad)


def test_port_is_1_to_65535_and_never_a_boolean() -> None:
    assert parse_port(993) == 993
    assert parse_port("587") == 587
    for bad in (0, 65536, True, "99x", 9.5):
        with pytest.raises(PydanticCustomError):
            parse_port(bad)


def test_listen_takes_host_and_port_including_ipv6() -> None:
    assert parse_listen("127.0.0.1:8080") == Listen("127.0.0.1", 8080)
    assert parse_listen("[::1]:9000") == Listen("::1", 9000)
    assert str(Listen("::1", 9000)) == "[::1]:9000"
    for bad in ("localhost", ":8080", "host:http", "host:70000"):
        with pytest.raises(PydanticCustomError):
            parse_listen(bad)
