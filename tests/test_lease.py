"""The daemon lease: one holder at a time, taken over only after it expires or is released."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from watchdog.lease import DAEMON, acquire, release
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade

NOW = datetime(2025, 11, 10, 7, 0, tzinfo=UTC)
TTL = timedelta(seconds=60)


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    upgrade(db_url)
    engine = make_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


def test_a_second_daemon_waits_while_the_first_holds_the_lease(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as first, sessions() as second:
        assert acquire(first, DAEMON, "host-a:1", NOW, TTL)
        assert not acquire(second, DAEMON, "host-b:2", NOW + timedelta(seconds=30), TTL)
        assert acquire(first, DAEMON, "host-a:1", NOW + timedelta(seconds=30), TTL)  # renewed
        assert not acquire(second, DAEMON, "host-b:2", NOW + timedelta(seconds=80), TTL)


def test_a_dead_daemons_lease_is_taken_over_once_it_expires(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as first, sessions() as second:
        acquire(first, DAEMON, "host-a:1", NOW, TTL)

        assert acquire(second, DAEMON, "host-b:2", NOW + TTL + timedelta(seconds=1), TTL)
        assert not acquire(first, DAEMON, "host-a:1", NOW + TTL + timedelta(seconds=2), TTL)


def test_a_released_lease_is_free_at_once(sessions: sessionmaker[Session]) -> None:
    with sessions() as first, sessions() as second:
        acquire(first, DAEMON, "host-a:1", NOW, TTL)
        release(first, DAEMON, "host-a:1")

        assert acquire(second, DAEMON, "host-b:2", NOW + timedelta(seconds=1), TTL)
