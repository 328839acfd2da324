"""The webhooks' writer: submissions stored in batches, each request told its own result."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from watchdog.ingest.submission import FormSubmission
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Message
from watchdog.web.writer import FormWriter, _Job

NOW = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'watchdog.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


def submission(number: int, submission_id: str | None = None) -> FormSubmission:
    return FormSubmission(
        provider="tilda",
        received_at=NOW,
        message=f"Вопрос номер {number}",
        email=f"buyer{number}@yandex.ru",
        submission_id=submission_id,
    )


def rows(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)


class HeldWriter(FormWriter):
    """A FormWriter whose batches wait for ``release`` before they are written."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        super().__init__(sessions)
        self.release = threading.Event()

    def _write(self, batch: list[_Job]) -> list[int | None]:
        self.release.wait(timeout=10)
        return super()._write(batch)


def test_a_burst_is_stored_once_each_and_a_retry_in_it_is_dropped(
    sessions: sessionmaker[Session],
) -> None:
    writer = FormWriter(sessions)
    burst = [submission(n, f"t-{n}") for n in range(5)] + [submission(0, "t-0")]

    async def send() -> list[int | None]:
        return await asyncio.gather(*(writer.store("contact", s) for s in burst))

    ids = asyncio.run(send())

    assert ids[5] is None and None not in ids[:5] and len(set(ids[:5])) == 5
    assert rows(sessions) == 5


def test_a_cancelled_request_does_not_stall_the_others_in_its_batch(
    sessions: sessionmaker[Session],
) -> None:
    writer = HeldWriter(sessions)

    async def send() -> int | None:
        first = asyncio.create_task(writer.store("contact", submission(1)))
        second = asyncio.create_task(writer.store("contact", submission(2)))
        await asyncio.sleep(0.05)  # both are in the batch now waiting for release
        first.cancel()  # as when the provider hangs up
        writer.release.set()
        return await asyncio.wait_for(second, timeout=10)

    assert asyncio.run(send()) is not None
    assert rows(sessions) == 2
