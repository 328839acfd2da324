"""Pulling a form service on a schedule: stored once, cursor from the database, outages alarmed.

A real database (migrated SQLite in tmp_path; SQLite and PostgreSQL through
``db_url``) and the local Jotform/Typeform fakes; the clock is the ``now``
each pull is given.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.formservices import FakeJotform, FakeTypeform, jotform_item, typeform_item
from watchdog.alarms import SOURCE_UNREACHABLE
from watchdog.config.schema import FormConfig
from watchdog.config.secrets import Secret
from watchdog.sources.formapi import FormApi, Retry, open_form_api
from watchdog.sources.formpull import OVERLAP, PullReport, cursor_for, pull_form
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Alarm, Message, Source

T0 = datetime(2025, 11, 3, 18, 0, tzinfo=UTC)
UNREACHABLE_AFTER = timedelta(minutes=30)


def sessions_for(url: str) -> Iterator[sessionmaker[Session]]:
    upgrade(url)
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A migrated SQLite database of our own."""
    yield from sessions_for(f"sqlite:///{tmp_path / 'watchdog.db'}")


@pytest.fixture
def any_db_sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    """A migrated database on each backend: SQLite, then PostgreSQL."""
    yield from sessions_for(db_url)


def form_for(fake: FakeJotform | FakeTypeform) -> FormConfig:
    kind, key = (
        ("jotform", fake.api_key) if isinstance(fake, FakeJotform) else ("typeform", fake.token)
    )
    return FormConfig.model_validate(
        {
            "name": "site-contact",
            "token": Secret("hook-token"),
            "api": {"kind": kind, "form_id": fake.form_id, "api_key": Secret(key)},
        }
    )


def pull(
    sessions: sessionmaker[Session],
    fake: FakeJotform | FakeTypeform,
    now: datetime,
    page_size: int | None = None,
) -> PullReport:
    def factory(form: FormConfig) -> FormApi:
        retry = Retry(sleep=lambda seconds: None)
        return open_form_api(form, transport=fake.transport(), retry=retry, page_size=page_size)

    return pull_form(
        sessions,
        form_for(fake),
        now=now,
        client_factory=factory,
        unreachable_after=UNREACHABLE_AFTER,
    )


def source(sessions: sessionmaker[Session]) -> Source:
    with sessions() as session:
        return session.scalars(select(Source).where(Source.name == "site-contact")).one()


def stored_ids(sessions: sessionmaker[Session]) -> list[str | None]:
    with sessions() as session:
        rows = session.scalars(select(Message).order_by(Message.received_at))
        return [row.form_submission_id for row in rows]


def alarms(sessions: sessionmaker[Session]) -> list[Alarm]:
    with sessions() as session:
        return list(session.scalars(select(Alarm).order_by(Alarm.id)))


# --- storing --------------------------------------------------------------------------


def test_first_pull_stores_all_and_the_next_only_the_new_ones(
    sessions: sessionmaker[Session],
) -> None:
    fake = FakeJotform(
        submissions=[
            jotform_item("1", "2025-11-03 09:00:00", message="Вопрос 1"),
            jotform_item("2", "2025-11-03 12:00:00", message="Вопрос 2"),  # 17:00 UTC
        ]
    )
    first = pull(sessions, fake, T0)
    fake.submissions += [
        jotform_item(
            "3", "2025-11-03 11:55:00", message="Вопрос 3"
        ),  # indexed late, within the overlap
        jotform_item("4", "2025-11-03 12:40:00", message="Вопрос 4"),
    ]

    second = pull(sessions, fake, T0 + timedelta(minutes=5))

    assert (first.fetched, first.stored) == (2, 2)
    assert (second.fetched, second.stored) == (3, 2)  # "2" came again and was dropped
    assert stored_ids(sessions) == ["1", "3", "2", "4"]
    sent = json.loads(fake.requests[-1].url.params["filter"])
    assert sent == {"created_at:gt": "2025-11-03 11:50:00"}  # newest minus ten minutes


def test_the_cursor_is_the_newest_stored_time_minus_the_overlap(
    sessions: sessionmaker[Session],
) -> None:
    fake = FakeTypeform(responses=[typeform_item("t1", "2025-11-03T09:00:00Z")])
    with sessions() as session:
        assert cursor_for(session, 1) is None

    pull(sessions, fake, T0)

    with sessions() as session:
        expected = datetime(2025, 11, 3, 9, 0, tzinfo=UTC) - OVERLAP
        assert cursor_for(session, source(sessions).id) == expected


def test_a_pull_pages_through_everything_and_skips_deleted_submissions(
    sessions: sessionmaker[Session],
) -> None:
    items = [
        jotform_item(str(n), f"2025-11-03 1{n}:00:00", message=f"Вопрос {n}") for n in range(5)
    ]
    items[2]["status"] = "DELETED"
    fake = FakeJotform(submissions=items)

    report = pull(sessions, fake, T0, page_size=2)

    assert report.stored == 4
    assert stored_ids(sessions) == ["0", "1", "3", "4"]


def test_typeform_submissions_are_stored_as_form_requests_on_every_backend(
    any_db_sessions: sessionmaker[Session],
) -> None:
    fake = FakeTypeform(
        responses=[
            typeform_item("t1", "2025-11-03T09:00:00Z", phone="8 916 765-43-21"),
            typeform_item("t2", "2025-11-03T09:30:00Z", name="Пётр", email="petr@ya.ru"),
        ]
    )

    first = pull(any_db_sessions, fake, T0)
    again = pull(any_db_sessions, fake, T0 + timedelta(minutes=5))

    assert (first.stored, again.fetched, again.stored) == (2, 1, 0)
    with any_db_sessions() as session:
        rows = list(session.scalars(select(Message).order_by(Message.received_at)))
        assert [(r.from_name, r.from_addr, r.phone) for r in rows] == [
            ("Мария", "maria@yandex.ru", "+79167654321"),
            ("Пётр", "petr@ya.ru", "+79161234567"),
        ]
        assert rows[0].text == "Добрый день! Когда придёт заказ 1234?"
        assert rows[0].received_at == datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
        assert rows[0].classification is not None
        assert rows[0].classification.category == "form"
        assert rows[0].classification.rules == ["form:typeform"]
    assert source(any_db_sessions).last_ok_at == T0 + timedelta(minutes=5)


def test_a_rate_limit_then_success_stores_the_submissions(
    sessions: sessionmaker[Session],
) -> None:
    fake = FakeJotform(
        fail_with=[429, 429],
        submissions=[jotform_item("1", "2025-11-03 10:00:00", message="Вопрос 1")],
    )

    report = pull(sessions, fake, T0)

    assert report.ok and report.stored == 1
    assert len(fake.requests) == 3


# --- failures and alarms ---------------------------------------------------------------


def test_a_refused_key_is_recorded_and_alarmed_at_once_without_the_key(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeJotform()
    configured = form_for(FakeJotform(api_key="jf-REVOKED-key-42"))

    report = pull_form(
        sessions,
        configured,
        now=T0,
        client_factory=lambda form: open_form_api(
            form, transport=fake.transport(), retry=Retry(sleep=lambda s: None)
        ),
        unreachable_after=UNREACHABLE_AFTER,
    )

    assert not report.ok and report.permanent and report.alarm_raised
    row = source(sessions)
    assert row.last_error is not None and "401" in row.last_error
    assert "Jotform form 251234567890" in row.last_error
    assert (row.last_error_at, row.unreachable_since) == (T0, T0)
    (alarm,) = alarms(sessions)
    assert alarm.kind == SOURCE_UNREACHABLE and alarm.source_id == row.id
    everything = f"{row.last_error} {alarm.detail} {report.error} {caplog.text}"
    assert "jf-REVOKED-key-42" not in everything


def test_an_outage_longer_than_unreachable_after_raises_one_alarm_and_success_clears_it(
    sessions: sessionmaker[Session],
) -> None:
    fake = FakeJotform(
        submissions=[jotform_item("1", "2025-11-03 10:00:00", message="Вопрос 1")], down=True
    )

    reports = [pull(sessions, fake, T0 + timedelta(minutes=m)) for m in (0, 10, 20, 30, 40, 50)]

    assert [r.alarm_raised for r in reports] == [False, False, False, True, False, False]
    assert all(not r.ok and not r.permanent for r in reports)
    assert "Connection refused" in (reports[-1].error or "")
    assert source(sessions).unreachable_since == T0
    (alarm,) = alarms(sessions)
    assert (alarm.raised_at, alarm.cleared_at) == (T0 + timedelta(minutes=30), None)

    fake.down = False
    healed = pull(sessions, fake, T0 + timedelta(minutes=60))

    assert healed.ok and healed.stored == 1 and healed.alarms_cleared == 1
    row = source(sessions)
    assert (row.unreachable_since, row.last_ok_at) == (None, T0 + timedelta(minutes=60))
    (alarm,) = alarms(sessions)
    assert alarm.cleared_at == T0 + timedelta(minutes=60)


def test_the_next_outage_raises_a_new_alarm(sessions: sessionmaker[Session]) -> None:
    fake = FakeJotform(down=True)
    pull(sessions, fake, T0)
    pull(sessions, fake, T0 + timedelta(minutes=30))
    fake.down = False
    pull(sessions, fake, T0 + timedelta(minutes=35))
    fake.down = True

    pull(sessions, fake, T0 + timedelta(hours=2))
    late = pull(sessions, fake, T0 + timedelta(hours=3))

    assert late.alarm_raised
    first, second = alarms(sessions)
    assert first.cleared_at is not None and second.cleared_at is None
    assert first.key != second.key


def test_a_pull_failing_midway_stores_nothing_so_the_cursor_cannot_skip(
    sessions: sessionmaker[Session],
) -> None:
    items = [
        jotform_item(str(n), f"2025-11-03 1{n}:00:00", message=f"Вопрос {n}") for n in range(3)
    ]
    fake = FakeJotform(submissions=items, fail_with=[None, 500, 500, 500, 500])

    failed = pull(sessions, fake, T0, page_size=2)  # the newest page came, the next did not
    retried = pull(sessions, fake, T0 + timedelta(minutes=5), page_size=2)

    assert not failed.ok and retried.stored == 3
    assert stored_ids(sessions) == ["0", "1", "2"]


def test_a_form_without_an_api_cannot_be_pulled(sessions: sessionmaker[Session]) -> None:
    plain = FormConfig.model_validate({"name": "site", "token": Secret("t")})

    with pytest.raises(ValueError, match="no \\[form.api\\]"):
        pull_form(
            sessions,
            plain,
            now=T0,
            client_factory=lambda form: pytest.fail("no client for a form without an API"),
            unreachable_after=UNREACHABLE_AFTER,
        )
