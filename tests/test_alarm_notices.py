"""New alarms reach the owner at once, in one e-mail per tick, and never twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from watchdog.alarms import REQUEST_IN_JUNK, SOURCE_UNREACHABLE, clear_alarms, raise_alarm
from watchdog.config import Config, load_config
from watchdog.escalate.alarms import notify_alarms
from watchdog.notify.outbox import NOTIFICATION_FAILED
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Outbox, Source

NOW = datetime(2025, 11, 10, 8, 0, tzinfo=UTC)


@pytest.fixture
def shop(tmp_path: Path, db_url: str) -> Iterator[tuple[Config, sessionmaker[Session], int]]:
    path = tmp_path / "watchdog.toml"
    path.write_text(
        '[owner]\nemail = "owner@shop.test"\nlanguage = "ru"\n'
        '[smtp]\nhost = "127.0.0.1"\nfrom = "watchdog@shop.test"\n',
        encoding="utf-8",
    )
    upgrade(db_url)
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    with sessions() as session:
        source = Source(kind="mailbox", name="orders", created_at=NOW)
        session.add(source)
        session.commit()
        source_id = source.id
    yield load_config(path), sessions, source_id
    engine.dispose()


def outbox(sessions: sessionmaker[Session]) -> list[Outbox]:
    with sessions() as session:
        return list(session.scalars(select(Outbox).order_by(Outbox.id)))


def test_new_alarms_are_told_in_one_e_mail_and_never_again(
    shop: tuple[Config, sessionmaker[Session], int],
) -> None:
    config, sessions, source = shop
    with sessions() as session:
        raise_alarm(session, kind=REQUEST_IN_JUNK, key="7", now=NOW, source_id=source,
                    detail="Paul Meyer <paul@web.de>: «Wholesale inquiry»")  # fmt: skip
        raise_alarm(session, kind=SOURCE_UNREACHABLE, key="orders@x", now=NOW, source_id=source,
                    detail="orders: connection refused")  # fmt: skip
        session.commit()

    with sessions() as session:
        told = notify_alarms(session, config, NOW + timedelta(minutes=1))
    with sessions() as session:
        again = notify_alarms(session, config, NOW + timedelta(minutes=2))

    [row] = outbox(sessions)
    assert len(told) == 2 and again == []
    assert (row.kind, row.recipient) == ("alarm", "owner@shop.test")
    assert row.subject.startswith("Тревоги (2)")
    assert "paul@web.de" in row.body_text and "connection refused" in row.body_text


def test_a_failed_notification_and_a_cleared_alarm_are_not_e_mailed(
    shop: tuple[Config, sessionmaker[Session], int],
) -> None:
    config, sessions, source = shop
    with sessions() as session:
        raise_alarm(session, kind=NOTIFICATION_FAILED, key="12", now=NOW)
        raise_alarm(session, kind=SOURCE_UNREACHABLE, key="orders@y", now=NOW, source_id=source)
        clear_alarms(session, kind=SOURCE_UNREACHABLE, source_id=source, now=NOW)
        session.commit()

    with sessions() as session:
        assert notify_alarms(session, config, NOW) == []
    assert outbox(sessions) == []


def test_two_processes_telling_at_once_tell_the_owner_once(
    shop: tuple[Config, sessionmaker[Session], int],
) -> None:
    config, sessions, source = shop
    with sessions() as session:
        raise_alarm(session, kind=REQUEST_IN_JUNK, key="9", now=NOW, source_id=source)
        session.commit()

    with sessions() as first, sessions() as second:
        told_first = notify_alarms(first, config, NOW)
        told_second = notify_alarms(second, config, NOW)

    assert len(told_first) + len(told_second) == 1
    assert len(outbox(sessions)) == 1
