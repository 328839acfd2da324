"""GET /healthz: 200 with every check's result, or 503 naming the one that failed.

The scheduler's side is driven here through a real ``Heartbeat`` and a clock
the test moves; ``tests/test_daemon.py`` does the same with the real daemon.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from tests.test_web_hooks import NOW, Client, Clock, load
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.telemetry import Telemetry
from watchdog.web.app import create_app

TICK_EVERY = timedelta(minutes=5)


class Scheduler:
    """Stands for a daemon's scheduler: it runs until stopped; it ticks when told."""

    def __init__(self, telemetry: Telemetry, clock: Clock) -> None:
        self.running, self.telemetry, self.clock = True, telemetry, clock
        telemetry.heartbeat.attach(lambda: self.running, TICK_EVERY, clock())

    def tick(self) -> None:
        self.telemetry.heartbeat.beat(self.clock())


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'watchdog.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def served(
    tmp_path: Path, sessions: sessionmaker[Session], clock: Clock
) -> tuple[Client, Scheduler]:
    """An app serving a 'daemon' whose scheduler the test drives."""
    telemetry = Telemetry()
    scheduler = Scheduler(telemetry, clock)
    return Client(create_app(load(tmp_path), sessions, clock=clock, telemetry=telemetry)), scheduler


def test_healthz_without_a_daemon_checks_only_the_database(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    response = Client(create_app(load(tmp_path), sessions)).get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "scheduler": "none in this process"},
    }


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'folder' / 'watchdog.db'}")
    app = create_app(load(tmp_path), sessionmaker(engine))

    response = Client(app).get("/healthz")

    assert response.status_code == 503
    assert response.json()["error"] == "database unavailable"
    assert "missing" not in response.text  # no paths or URLs for strangers
    engine.dispose()


def test_healthz_is_ok_while_the_scheduler_ticks_on_time(
    tmp_path: Path, sessions: sessionmaker[Session], clock: Clock
) -> None:
    client, scheduler = served(tmp_path, sessions, clock)
    clock.now += timedelta(minutes=7)
    scheduler.tick()
    clock.now += timedelta(seconds=40)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["checks"] == {
        "database": "ok",
        "scheduler": "running",
        "last_cycle": "last cycle 40 s ago, expected every 5 min",
    }


def test_healthz_allows_a_generous_delay_before_calling_a_cycle_late(
    tmp_path: Path, sessions: sessionmaker[Session], clock: Clock
) -> None:
    client, scheduler = served(tmp_path, sessions, clock)
    scheduler.tick()
    clock.now += 5 * TICK_EVERY
    on_the_edge = client.get("/healthz").status_code
    clock.now += timedelta(seconds=1)
    late = client.get("/healthz")

    assert on_the_edge == 200
    assert late.status_code == 503
    assert late.json()["error"] == "last cycle 25 min ago, expected every 5 min"


def test_healthz_counts_from_the_start_before_the_first_cycle(
    tmp_path: Path, sessions: sessionmaker[Session], clock: Clock
) -> None:
    client, _ = served(tmp_path, sessions, clock)
    starting = client.get("/healthz")
    clock.now += timedelta(hours=1)
    never_ticked = client.get("/healthz")

    assert starting.status_code == 200
    assert (
        starting.json()["checks"]["last_cycle"]
        == "no cycle yet, started 0 s ago, expected every 5 min"
    )
    assert never_ticked.status_code == 503
    assert never_ticked.json()["error"] == "no cycle yet, started 1 h ago, expected every 5 min"


def test_healthz_is_503_when_the_scheduler_stopped(
    tmp_path: Path, sessions: sessionmaker[Session], clock: Clock
) -> None:
    client, scheduler = served(tmp_path, sessions, clock)
    scheduler.tick()
    scheduler.running = False

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "error": "scheduler stopped",
        "checks": {
            "database": "ok",
            "scheduler": "scheduler stopped",
            "last_cycle": "last cycle 0 s ago, expected every 5 min",
        },
    }


def test_healthz_names_every_failed_check(tmp_path: Path, clock: Clock) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'watchdog.db'}")
    client, scheduler = served(tmp_path, sessionmaker(engine), clock)
    scheduler.running = False
    clock.now += timedelta(hours=2, minutes=5)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["error"] == (
        "database unavailable; scheduler stopped; "
        "no cycle yet, started 2 h 5 min ago, expected every 5 min"
    )
    engine.dispose()
