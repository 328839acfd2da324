"""Reading mail in worker processes: the same rows as in-process, and no loss when a worker dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from watchdog.classify import ClassifyContext, load_rules
from watchdog.ingest.message import OurIdentity
from watchdog.ingest.read import Ingestor, read_mail
from watchdog.ingest.store import Arrival, MailLocation, ensure_source, insert_mails, store_mail
from watchdog.sources.ingestpool import MailReaders, ReadPolicy, open_readers
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Message

NOW = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)
INGESTOR = Ingestor(
    rules=load_rules(),
    context=ClassifyContext(own_domains=frozenset({"shop.test"})),
    ours=OurIdentity(domains=frozenset({"shop.test"})),
    rule_dirs=(),
)
MAILS: list[tuple[bytes, str | None]] = [
    (
        "From: =?utf-8?b?0JjQstCw0L0=?= <ivan@mail.ru>\r\nTo: orders@shop.test\r\n"
        "Subject: =?utf-8?b?0JfQsNC60LDQtw==?=\r\nDate: Mon, 3 Nov 2025 12:00:00 +0300\r\n"
        "Message-ID: <q1@mail.ru>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Здравствуйте! Когда придёт заказ 1234?\r\n".encode(),
        "inbox",
    ),
    (
        (
            b"From: noreply@shop-cms.test\r\nTo: orders@shop.test\r\nSubject: Order #5\r\n"
            b"Auto-Submitted: auto-generated\r\nContent-Type: text/html\r\n\r\n<p>New order</p>"
        ),
        "inbox",
    ),
    (b"\xff\xfe not a header\r\n\x80\x81\r\n", "inbox"),
    (b"From: Anna <orders@shop.test>\r\nTo: ivan@mail.ru\r\nSubject: Re\r\n\r\nOK\r\n", "sent"),
]


def stored(session: Session) -> list[tuple[Any, ...]]:
    """Every message row and its classification as plain values (ids and times left out)."""
    query = select(Message).order_by(Message.uid).options(selectinload(Message.classification))
    result = []
    for row in session.scalars(query):
        values = {c.key: getattr(row, c.key) for c in Message.__mapper__.column_attrs}
        del values["id"]
        verdict = row.classification
        assert verdict is not None
        result.append((values, verdict.category, verdict.request, verdict.rules))
    return result


@pytest.fixture
def sessions(tmp_path: Any) -> Iterator[Any]:
    def make(name: str) -> Session:
        url = f"sqlite:///{tmp_path / name}"
        upgrade(url)
        return session_factory(make_engine(url))()

    yield make


def test_worker_processes_read_mail_exactly_as_the_polling_process_does() -> None:
    readers = MailReaders(INGESTOR, workers=2)
    try:
        reads = readers.result(readers.submit(MAILS), MAILS)
    finally:
        readers.close()

    assert reads == [read_mail(INGESTOR, raw, folder_role=role) for raw, role in MAILS]
    assert readers.stats.batches_in_workers == 1 and readers.stats.worker_cpu > 0


def test_a_batch_whose_worker_died_is_read_in_process_and_so_is_every_later_one() -> None:
    readers = MailReaders(INGESTOR, workers=1)
    try:
        assert readers.result(readers.submit(MAILS[:1]), MAILS[:1])  # the worker is up
        pool = readers._pool
        assert pool is not None
        for process in list(pool._processes.values()):  # as the OOM killer would
            os.kill(process.pid or 0, signal.SIGKILL)
        first = readers.result(readers.submit(MAILS), MAILS)
        later = readers.submit(MAILS)
        second = readers.result(later, MAILS)
    finally:
        readers.close()

    expected = [read_mail(INGESTOR, raw, folder_role=role) for raw, role in MAILS]
    assert first == expected and second == expected
    assert later is None  # no pool any more: read here


def test_workers_started_ahead_read_the_batches_once_up_and_can_be_closed_any_time() -> None:
    readers = MailReaders(INGESTOR, workers=2)
    try:
        readers.start()  # spawns the workers in the background
        assert readers.ready is not None and readers.ready.wait(timeout=60)
        first = readers.result(readers.submit(MAILS), MAILS)
    finally:
        readers.close()
    assert first == [read_mail(INGESTOR, raw, folder_role=role) for raw, role in MAILS]
    assert readers.stats.batches_in_workers == 1

    closed_at_once = MailReaders(INGESTOR, workers=2)
    closed_at_once.start()
    closed_at_once.close()  # while they may still be starting: no error, no hang
    assert closed_at_once.result(None, MAILS[:1]) == [
        read_mail(INGESTOR, MAILS[0][0], folder_role=MAILS[0][1])
    ]


def test_small_backlogs_and_rules_a_worker_cannot_load_are_read_in_process() -> None:
    policy = ReadPolicy(workers=2, from_backlog=100)
    no_dirs = Ingestor(INGESTOR.rules, INGESTOR.context, INGESTOR.ours)

    assert open_readers(INGESTOR, 99, policy).depth == 0
    assert open_readers(no_dirs, 1_000, policy).depth == 0
    assert open_readers(INGESTOR, 1_000, ReadPolicy(workers=0)).depth == 0


def test_insert_mails_stores_the_same_rows_as_store_mail(sessions: Any) -> None:
    one_by_one, in_bulk = sessions("a.db"), sessions("b.db")
    arrivals = [
        Arrival(MailLocation(role.title(), role, 7, uid), raw, NOW, ("\\Seen",), 10_000, True)
        for uid, (raw, role) in enumerate(MAILS, 1)
        if role is not None
    ]
    for session in (one_by_one, in_bulk):
        ensure_source(session, "mailbox", "orders", NOW)
    source_id = 1
    for a in arrivals:
        store_mail(one_by_one, INGESTOR, source_id, a.where, a.raw, received_at=a.received_at,
                   now=NOW, flags=a.flags, size=a.size, truncated=a.truncated)  # fmt: skip
    reads = [read_mail(INGESTOR, a.raw, folder_role=a.where.role) for a in arrivals]

    ids = insert_mails(in_bulk, source_id, list(zip(arrivals, reads, strict=True)), NOW)
    one_by_one.commit()
    in_bulk.commit()

    assert stored(in_bulk) == stored(one_by_one)
    assert len(ids) == len(arrivals)
    assert [in_bulk.get(Message, i).uid for i in ids] == [a.where.uid for a in arrivals]


def test_while_the_workers_start_the_batches_are_read_here_and_then_by_them() -> None:
    """The polling process does not sit waiting for the workers' start: it reads meanwhile."""
    allowed = threading.Event()
    spawn = MailReaders._spawn

    def held(self: MailReaders, pool: Any) -> None:
        allowed.wait(timeout=60)  # the start is held until the test lets it go on
        spawn(self, pool)

    readers = MailReaders(INGESTOR, workers=2)
    expected = [read_mail(INGESTOR, raw, folder_role=role) for raw, role in MAILS]
    try:
        with patch.object(MailReaders, "_spawn", held):
            readers.start()
            early = readers.submit(MAILS)
            assert early is None  # not up yet: to be read here
            assert readers.result(early, MAILS) == expected
            allowed.set()
            assert readers.ready is not None and readers.ready.wait(timeout=60)
        later = readers.submit(MAILS)
        assert later is not None
        assert readers.result(later, MAILS) == expected
    finally:
        allowed.set()
        readers.close()
    assert readers.stats.batches_in_workers == 1


def test_a_worker_needs_neither_the_database_layer_nor_the_config_loader() -> None:
    """Workers fork from a server that imports this module: it must stay light to import.

    (The storage layer and the config loader cost about a second of CPU, in the
    daemon's first sync, before any mail could be read.)
    """
    heavy = ("sqlalchemy", "pydantic", "watchdog.storage", "watchdog.config.loader")
    script = (
        "import sys, watchdog.sources.ingestpool\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""
