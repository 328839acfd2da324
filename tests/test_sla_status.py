"""The SLA summary counts open and overdue cases at the moment asked, in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from watchdog.sla import sla_summary
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Case, Message, Source, Thread

NOW = datetime(2025, 11, 5, 12, 0, tzinfo=UTC)


def test_overdue_means_open_with_a_passed_deadline(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    deadlines = {
        1: NOW - timedelta(hours=3),
        2: NOW - timedelta(minutes=1),
        3: NOW + timedelta(hours=1),
        4: NOW - timedelta(days=2),
    }
    states = {1: "open", 2: "open", 3: "open", 4: "answered"}
    with engine.begin() as conn:
        conn.execute(
            insert(Source), [{"id": 1, "kind": "mailbox", "name": "orders", "created_at": NOW}]
        )
        conn.execute(insert(Thread), [{"id": i, "created_at": NOW} for i in deadlines])
        conn.execute(insert(Message), [
            {"id": i, "source_id": 1, "uid": i, "folder": "INBOX", "uidvalidity": 1,
             "received_at": NOW, "created_at": NOW} for i in deadlines
        ])  # fmt: skip
        conn.execute(insert(Case), [
            {"id": i, "thread_id": i, "source_id": 1, "opening_message_id": i, "received_at": NOW,
             "deadline_at": at, "state": states[i], "created_at": NOW} for i, at in deadlines.items()
        ])  # fmt: skip

    with session_factory(engine)() as session:
        summary = sla_summary(session, NOW)

    engine.dispose()
    assert (summary.open, summary.overdue) == (3, 2)
    assert summary.overdue_since == NOW - timedelta(hours=3)
