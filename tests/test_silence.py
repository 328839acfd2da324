"""The silence alarm: a source quiet for far longer than usual may be a broken door."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from watchdog.alarms import SOURCE_SILENT, open_alarms
from watchdog.config import Config, load_config
from watchdog.config.schema import SlaConfig
from watchdog.sla import calendar_for
from watchdog.sources.silence import MIN_USUAL_GAP, check_silence, judge_silence, usual_gap
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Classification, Message, Source

MOSCOW = ZoneInfo("Europe/Moscow")
HOURS = timedelta(hours=1)
SHOP = calendar_for(SlaConfig())  # Europe/Moscow, 09:00-18:00, mon-fri, RU holidays
REQUEST_TIMES = (time(10, 0), time(11, 45), time(13, 30), time(15, 15), time(17, 0))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return a Moscow time."""
    return datetime(year, month, day, hour, minute, tzinfo=MOSCOW)


def busy_fortnight() -> list[datetime]:
    """Five requests every working day from Monday 6 to Friday 17 October 2025."""
    days = [date(2025, 10, 6) + timedelta(days=n) for n in range(12)]
    return [
        datetime.combine(day, clock, tzinfo=MOSCOW)
        for day in days
        if day.weekday() < 5
        for clock in REQUEST_TIMES
    ]


LAST_REQUEST = at(2025, 10, 17, 17, 0)  # Friday


# --- the usual gap ------------------------------------------------------------------


def test_usual_gap_is_learned_in_business_time() -> None:
    # One request a day at 17:00: 9 business hours apart, over the weekend too
    # (Friday 17:00 to Monday 17:00 is 1h + 8h of work, not 72 hours).
    daily = [at(2025, 10, day, 17, 0) for day in (13, 14, 15, 16, 17, 20)]

    assert usual_gap(daily, SHOP) == 9 * HOURS


def test_usual_gap_is_a_high_percentile_of_recent_gaps() -> None:
    # 40 gaps of 1h45m within days and 9 of 2h across nights: the 80th percentile.
    assert usual_gap(busy_fortnight(), SHOP) == timedelta(hours=1, minutes=45)


def test_usual_gap_ignores_one_slow_stretch() -> None:
    monday = at(2025, 10, 20, 9, 0)
    arrivals = [monday + n * HOURS for n in range(5)] + [at(2025, 10, 21, 9, 0)]

    assert usual_gap(arrivals, SHOP) == HOURS


def test_usual_gap_needs_some_history() -> None:
    assert usual_gap(busy_fortnight()[-4:], SHOP) is None


def test_usual_gap_of_a_busy_mailbox_has_a_floor() -> None:
    monday = at(2025, 10, 20, 9, 0)
    arrivals = [monday + n * timedelta(minutes=5) for n in range(20)]

    assert usual_gap(arrivals, SHOP) == MIN_USUAL_GAP


# --- the judgement ------------------------------------------------------------------


def test_three_quiet_business_days_after_a_busy_fortnight_alarm() -> None:
    verdict = judge_silence(busy_fortnight(), SHOP, factor=3, now=at(2025, 10, 22, 12, 0))

    assert verdict.alarming
    assert verdict.since == LAST_REQUEST
    assert verdict.silent_for == 22 * HOURS  # Fri 1h + Mon 9h + Tue 9h + Wed 3h
    assert verdict.limit == timedelta(hours=5, minutes=15)
    assert "usually one every 1h 45m" in verdict.describe()


def test_a_quiet_weekend_does_not_alarm() -> None:
    verdict = judge_silence(busy_fortnight(), SHOP, factor=3, now=at(2025, 10, 20, 9, 30))

    assert not verdict.alarming
    assert verdict.silent_for == timedelta(hours=1, minutes=30)


def test_a_quiet_holiday_week_does_not_alarm() -> None:
    # Thursday 30 October; then Saturday 1 November is worked, 3-4 November are off.
    arrivals = [at(2025, 10, 27, 10, 0) + n * timedelta(days=1) for n in range(4)]
    arrivals += [at(2025, 10, 30, 11, 0), at(2025, 10, 30, 12, 0), at(2025, 10, 30, 13, 0)]

    verdict = judge_silence(arrivals, SHOP, factor=3, now=at(2025, 11, 4, 18, 0))

    assert verdict.silent_for == 5 * HOURS + 9 * HOURS + 9 * HOURS  # Thu, Fri, Sat
    assert verdict.usual_gap == 9 * HOURS
    assert not verdict.alarming


def test_without_enough_history_nothing_alarms() -> None:
    verdict = judge_silence(busy_fortnight()[-3:], SHOP, factor=3, now=at(2025, 12, 1, 12, 0))

    assert verdict.limit is None
    assert not verdict.alarming


def test_requests_after_now_are_not_seen_by_a_replay() -> None:
    arrivals = [*busy_fortnight(), at(2025, 10, 22, 13, 0)]

    assert judge_silence(arrivals, SHOP, factor=3, now=at(2025, 10, 22, 12, 0)).alarming


def test_expect_every_counts_whole_working_days_not_business_hours() -> None:
    friday_noon = [at(2025, 10, 17, 12, 0)]

    monday_night = judge_silence(
        friday_noon, SHOP, factor=3, expect_every=timedelta(days=2), now=at(2025, 10, 20, 23, 0)
    )
    tuesday = judge_silence(
        friday_noon, SHOP, factor=3, expect_every=timedelta(days=2), now=at(2025, 10, 21, 13, 0)
    )

    assert monday_night.silent_for == 35 * HOURS  # Friday 12h + Monday 23h; the weekend is off
    assert not monday_night.alarming
    assert tuesday.silent_for == 49 * HOURS
    assert tuesday.alarming
    assert "working-day time" in tuesday.describe()


def test_expect_every_alarms_for_a_form_that_never_worked() -> None:
    verdict = judge_silence(
        [],
        SHOP,
        factor=3,
        expect_every=timedelta(days=1),
        now=at(2025, 10, 21, 12, 0),
        watched_since=at(2025, 10, 20, 9, 0),
    )

    assert verdict.alarming
    assert verdict.since == at(2025, 10, 20, 9, 0)


# --- with the database ----------------------------------------------------------------

CONFIG = """
[owner]
email = "owner@shop.test"

[smtp]
host = "smtp.shop.test"
from = "watchdog@shop.test"

[alarms]
silence_factor = 3

[[mailbox]]
name = "orders"
host = "imap.shop.test"
username = "orders@shop.test"
password_env = "WATCHDOG_ORDERS_PASSWORD"

[[form]]
name = "site"
token_env = "WATCHDOG_FORM_TOKEN"

[[form]]
name = "partner"
token_env = "WATCHDOG_FORM_TOKEN"
expect_every = "1d"
"""


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "watchdog.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return load_config(path, need_secrets=False)


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    upgrade(db_url)
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def add_source(session: Session, kind: str, name: str, created_at: datetime) -> Source:
    source = Source(kind=kind, name=name, created_at=created_at)
    session.add(source)
    session.flush()
    return source


def add_message(
    session: Session,
    source: Source,
    received_at: datetime,
    *,
    category: str = "form",
    request: bool = True,
    direction: str = "incoming",
) -> None:
    message = Message(
        source_id=source.id, received_at=received_at, direction=direction, created_at=received_at
    )
    session.add(message)
    session.flush()
    session.add(
        Classification(
            message_id=message.id, category=category, request=request, created_at=received_at
        )
    )
    session.flush()


def test_silent_form_raises_one_alarm_and_a_new_request_clears_it(
    session: Session, config: Config
) -> None:
    site = add_source(session, "form", "site", at(2025, 10, 1, 9, 0))
    add_source(session, "mailbox", "orders", at(2025, 10, 1, 9, 0))
    for arrival in busy_fortnight():
        add_message(session, site, arrival)
    # Neither an autoreply nor our own reply during the silence is a request.
    add_message(session, site, at(2025, 10, 21, 10, 0), category="autoreply", request=False)
    add_message(session, site, at(2025, 10, 21, 11, 0), category="staff", direction="outgoing")
    session.commit()

    first = check_silence(session, config, at(2025, 10, 22, 12, 0))
    session.commit()
    again = check_silence(session, config, at(2025, 10, 22, 15, 0))
    session.commit()

    assert [(alarm.kind, alarm.key) for alarm in first] == [
        (SOURCE_SILENT, f"site@{LAST_REQUEST.astimezone(UTC).isoformat()}")
    ]
    assert first[0].source_id == site.id and first[0].detail
    assert again == []
    assert len(open_alarms(session)) == 1

    add_message(session, site, at(2025, 10, 22, 16, 0))
    after = check_silence(session, config, at(2025, 10, 22, 16, 30))
    session.commit()

    assert after == []
    assert open_alarms(session) == []


def test_form_expected_daily_that_never_got_a_submission_alarms(
    session: Session, config: Config
) -> None:
    add_source(session, "form", "partner", at(2025, 10, 20, 9, 0))  # Monday
    session.commit()

    assert check_silence(session, config, at(2025, 10, 20, 23, 0)) == []
    raised = check_silence(session, config, at(2025, 10, 21, 10, 0))
    session.commit()

    assert [alarm.key for alarm in raised] == [
        f"partner@{at(2025, 10, 20, 9, 0).astimezone(UTC).isoformat()}"
    ]


def test_sources_never_polled_are_left_alone(session: Session, config: Config) -> None:
    assert check_silence(session, config, at(2025, 10, 22, 12, 0)) == []
