"""Polling a real Dovecot mailbox into the database: incremental, read-only, alarms once."""

from __future__ import annotations

import contextlib
import imaplib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from unittest.mock import patch

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker
from tenacity import wait_none

from tests.fixtures.dovecot import MailUser
from watchdog.alarms import REQUEST_DELETED, REQUEST_IN_JUNK, SOURCE_UNREACHABLE
from watchdog.classify import ClassifyContext, load_rules
from watchdog.config.schema import MailboxConfig
from watchdog.config.secrets import Secret
from watchdog.errors import SourceError
from watchdog.ingest.message import OurIdentity
from watchdog.ingest.read import Ingestor
from watchdog.sources.foldersync import PollReport, batches
from watchdog.sources.imap import (
    Changes,
    FetchedMail,
    FolderStatus,
    MailboxReader,
    default_connect,
)
from watchdog.sources.ingestpool import MailReaders, ReadPolicy, open_readers
from watchdog.sources.mailsync import RetryPolicy, poll_mailbox
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Alarm, FolderSync, Message, Source

pytestmark = pytest.mark.dovecot

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
"""When watching starts. Mail delivered in a test arrives after it, mail of the past before."""
MINUTE = timedelta(minutes=1)
UNREACHABLE_AFTER = timedelta(minutes=30)
NO_WAIT = RetryPolicy(wait=wait_none())
INGESTOR = Ingestor(
    rules=load_rules(),
    context=ClassifyContext(own_domains=frozenset({"shop.test"})),
    ours=OurIdentity(domains=frozenset({"shop.test"})),
)


def request(n: int, *, sender: str = "ivan@mail.ru") -> bytes:
    """A customer's question, Message-ID <qN@mail.ru>."""
    return (
        f"From: =?utf-8?b?0JjQstCw0L0=?= <{sender}>\r\nTo: orders@shop.test\r\n"
        f"Subject: =?utf-8?b?0JfQsNC60LDQtw==?= {n}\r\n"
        f"Date: Mon, 3 Nov 2025 12:{n % 60:02d}:00 +0300\r\nMessage-ID: <q{n}@mail.ru>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"Здравствуйте! Когда придёт заказ {n}?\r\n"
    ).encode()


def reply(n: int) -> bytes:
    """Our human answer to request ``n``, as it sits in Sent."""
    return (
        "From: Anna <orders@shop.test>\r\nTo: ivan@mail.ru\r\n"
        f"Subject: Re: order {n}\r\nDate: Mon, 3 Nov 2025 13:00:00 +0300\r\n"
        f"Message-ID: <a{n}@shop.test>\r\nIn-Reply-To: <q{n}@mail.ru>\r\n"
        f"References: <q{n}@mail.ru>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Привезём завтра.\r\n"
    ).encode()


@dataclass
class World:
    """One test's mailbox, database and the watchdog's view of them."""

    user: MailUser
    sessions: sessionmaker[Session]
    mailbox: MailboxConfig
    clock: datetime = NOW

    def deliver(
        self, folder: str, raw: bytes, flags: Sequence[str] = (), past: bool = False
    ) -> int:
        """Put mail in a folder as the MTA or staff would; it arrives 'now' (or long ago)."""
        when = NOW - timedelta(days=400) if past else self.clock + MINUTE
        return self.user.append(folder, raw, flags=flags, internal_date=when)

    def poll(self, *, after: timedelta = 2 * MINUTE, **options: Any) -> PollReport:
        """Move the clock on and poll, as the scheduler would."""
        self.clock += after
        return poll_mailbox(
            self.sessions, self.mailbox, INGESTOR, now=self.clock,
            unreachable_after=UNREACHABLE_AFTER, retry=options.pop("retry", NO_WAIT), **options,
        )  # fmt: skip

    def rows(self, folder: str | None = None) -> list[Message]:
        with self.sessions() as session:
            query = select(Message).order_by(Message.id)
            if folder is not None:
                query = query.where(Message.folder == folder)
            return list(session.scalars(query))

    def alarms(self, kind: str | None = None) -> list[Alarm]:
        with self.sessions() as session:
            query = select(Alarm).order_by(Alarm.id)
            if kind is not None:
                query = query.where(Alarm.kind == kind)
            return list(session.scalars(query))

    def source(self) -> Source:
        with self.sessions() as session:
            return session.scalars(select(Source)).one()


def mailbox_for(user: MailUser, **settings: Any) -> MailboxConfig:
    values: dict[str, Any] = {
        "name": "orders", "host": user.host, "port": user.port, "security": "none",
        "username": user.address, "password": Secret(user.password), "timeout": "10s",
    }  # fmt: skip
    values.update(settings)
    return MailboxConfig.model_validate(values)


@pytest.fixture
def make_world(tmp_path: Any) -> Iterator[Callable[..., World]]:
    engines = []

    def make(user: MailUser, url: str | None = None, **settings: Any) -> World:
        url = url or f"sqlite:///{tmp_path / 'watchdog.db'}"
        upgrade(url)
        engine = make_engine(url)
        engines.append(engine)
        return World(user, session_factory(engine), mailbox_for(user, **settings))

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def world(mailbox_user: MailUser, make_world: Callable[..., World]) -> World:
    """A mailbox with SPECIAL-USE Sent, Trash and Junk under their Russian names, watched from NOW."""
    mailbox_user.create_folder("Отправленные", "\\Sent")
    mailbox_user.create_folder("Корзина", "\\Trash")
    mailbox_user.create_folder("Спам", "\\Junk")
    return make_world(mailbox_user)


def watched(world: World) -> World:
    """Start watching: the first poll, of an empty mailbox, at NOW."""
    world.clock = NOW - 2 * MINUTE
    assert world.poll().ok
    return world


# -- folders -------------------------------------------------------------------------


def test_special_use_folders_with_russian_names_are_found(world: World) -> None:
    report = world.poll()

    assert report.ok, report.error
    assert report.folder_map is not None
    assert report.folder_map.describe() == (
        'inbox "INBOX" (well-known name), sent "Отправленные" (SPECIAL-USE \\Sent), '
        'trash "Корзина" (SPECIAL-USE \\Trash), junk "Спам" (SPECIAL-USE \\Junk)'
    )


def test_russian_folders_without_special_use_are_found_by_name(
    mailbox_user: MailUser, make_world: Callable[..., World]
) -> None:
    for name in ("Отправленные", "Удаленные", "Нежелательная почта"):
        mailbox_user.create_folder(name)
    world = make_world(mailbox_user)

    report = world.poll()

    assert report.folder_map is not None
    assert [(f.role, f.name, f.reason) for f in report.folder_map.chosen()] == [
        ("inbox", "INBOX", "well-known name"),
        ("sent", "Отправленные", "well-known name"),
        ("trash", "Удаленные", "well-known name"),
        ("junk", "Нежелательная почта", "well-known name"),
    ]


def test_a_folder_override_in_the_config_is_used(
    mailbox_user: MailUser, make_world: Callable[..., World]
) -> None:
    mailbox_user.create_folder("Sent")
    mailbox_user.create_folder("Ответы")
    world = make_world(mailbox_user, sent="Ответы")
    world.user.append("Ответы", reply(1))

    report = world.poll()

    assert report.folder_map is not None and report.folder_map.sent is not None
    assert report.folder_map.sent.name == "Ответы"
    assert [(r.folder, r.direction) for r in world.rows()] == [("Ответы", "outgoing")]


# -- reading mail --------------------------------------------------------------------


def test_first_sync_reads_all_history_in_every_folder(world: World) -> None:
    for n in range(1, 4):
        world.deliver("INBOX", request(n), past=True)
    world.deliver("Отправленные", reply(1), past=True)
    world.deliver("Корзина", request(10), past=True)
    world.deliver("Спам", request(11), past=True)

    report = world.poll(batch_size=2)

    assert report.ok, report.error
    assert {role: f.new for role, f in report.folders.items()} == {
        "sent": 1, "inbox": 3, "trash": 1, "junk": 1,
    }  # fmt: skip
    assert len(world.rows()) == 6
    assert report.alarms == []  # history is stored, never alarmed


def test_a_backlog_read_in_worker_processes_is_stored_as_in_process(
    world: World, make_world: Callable[..., World], tmp_path: Any
) -> None:
    """Worker processes read a big backlog while the next batch is fetched: same rows, same alarms."""
    inline = make_world(world.user, f"sqlite:///{tmp_path / 'inline.db'}")
    watched(world)
    watched(inline)
    for n in range(1, 8):
        world.deliver("INBOX", request(n))
    world.deliver("INBOX", b"\xff\xfe not a header at all\r\n\x80\x81\r\n")
    world.deliver("Отправленные", reply(1))
    world.deliver("Корзина", request(10))
    world.deliver("Спам", request(11))
    pooled = Ingestor(INGESTOR.rules, INGESTOR.context, INGESTOR.ours, rule_dirs=())

    opened: list[MailReaders] = []

    def open_and_keep(*args: Any) -> MailReaders:
        opened.append(_up_before_reading(open_readers(*args)))
        return opened[-1]

    with (
        patch("tests.test_mailsync.INGESTOR", pooled),
        patch("watchdog.sources.mailsync.open_readers", open_and_keep),
        patch("watchdog.sources.foldersync.open_readers", open_and_keep),
    ):
        report = world.poll(batch_size=2, reading=ReadPolicy(workers=2, from_backlog=1))
    expected = inline.poll(batch_size=2, reading=ReadPolicy(workers=0))

    assert sum(readers.stats.batches_in_workers for readers in opened) == 7  # 1 + 4 + 1 + 1

    assert report.ok, report.error
    assert {r: f.new for r, f in report.folders.items()} == {
        "sent": 1, "inbox": 8, "trash": 1, "junk": 1,
    }  # fmt: skip
    assert report.folders["inbox"].broken == 1
    assert sorted(report.alarms) == sorted(expected.alarms) and len(report.alarms) == 2

    def rows(w: World) -> list[tuple[Any, ...]]:
        return [(r.folder, r.uid, r.subject, r.text, r.parse_error, r.direction, r.flags, r.size,
                 r.classification.category if r.classification else None)
                for r in _with_classification(w)]  # fmt: skip

    assert rows(world) == rows(inline)
    assert all(row[-1] is not None for row in rows(world))


def test_a_big_poll_starts_its_workers_first_and_they_read_every_folder(
    world: World,
) -> None:
    """The workers start as the poll begins (ready for the big folder) and read Sent's one mail too."""
    for n in range(1, 5):
        world.deliver("INBOX", request(n))
    world.deliver("Отправленные", reply(1))
    pooled = Ingestor(INGESTOR.rules, INGESTOR.context, INGESTOR.ours, rule_dirs=())
    opened: list[tuple[int, MailReaders]] = []

    def open_and_keep(ingestor: Ingestor, backlog: int, policy: ReadPolicy) -> MailReaders:
        opened.append((backlog, _up_before_reading(open_readers(ingestor, backlog, policy))))
        return opened[-1][1]

    with (
        patch("tests.test_mailsync.INGESTOR", pooled),
        patch("watchdog.sources.mailsync.open_readers", open_and_keep),
        patch("watchdog.sources.foldersync.open_readers", open_and_keep),
    ):
        report = world.poll(batch_size=2, reading=ReadPolicy(workers=2, from_backlog=3))

    assert report.ok, report.error
    (poll_backlog, shared), *per_folder = opened
    assert poll_backlog == 5 and shared.stats.workers == 2
    assert per_folder == []  # no folder opened readers of its own
    assert shared.stats.batches_in_workers == 3  # Sent: 1 mail; INBOX: 4 mails in batches of 2
    assert {r: f.new for r, f in report.folders.items() if f.new} == {"sent": 1, "inbox": 4}


def _up_before_reading(readers: MailReaders) -> MailReaders:
    """Make ``start`` return once the workers are up, so that they read every batch.

    (A poll reads its first batches itself while its workers start, which
    with a few test mails would be all of them.)
    """
    start = readers.start

    def start_and_wait() -> None:
        start()
        assert readers.ready is None or readers.ready.wait(timeout=60)

    readers.start = start_and_wait  # type: ignore[method-assign]
    return readers


def _with_classification(world: World) -> list[Message]:
    with world.sessions() as session:
        query = select(Message).order_by(Message.id).options(selectinload(Message.classification))
        return list(session.scalars(query))


def test_an_incremental_poll_reads_only_what_is_new(world: World) -> None:
    watched(world)
    for n in range(1, 4):
        world.deliver("INBOX", request(n))
    assert world.poll().new == 3

    world.deliver("INBOX", request(4))
    world.deliver("INBOX", request(5))
    report = world.poll()

    assert report.folders["inbox"].new == 2
    assert [r.uid for r in world.rows("INBOX")] == [1, 2, 3, 4, 5]
    with world.sessions() as session:
        sync = session.scalars(select(FolderSync).where(FolderSync.role == "inbox")).one()
    assert sync.last_uid == 5 and sync.highestmodseq is not None


def test_mail_in_sent_is_stored_as_outgoing(world: World) -> None:
    world.deliver("Отправленные", reply(1))

    world.poll()

    [row] = world.rows("Отправленные")
    assert row.direction == "outgoing"
    assert row.in_reply_to == "q1@mail.ru"


def test_a_flag_change_is_noticed(world: World) -> None:
    uid = world.deliver("INBOX", request(1))
    world.poll()

    world.user.set_flags("INBOX", uid, ["\\Answered", "\\Seen"])
    report = world.poll()

    assert report.folders["inbox"].flag_changes == 1
    assert world.rows("INBOX")[0].flags == ["\\Answered", "\\Seen"]


def test_a_broken_8bit_message_is_stored_and_the_good_ones_behind_it_too(world: World) -> None:
    world.deliver("INBOX", request(1))
    world.deliver(
        "INBOX", b"\xff\xfe\xd0\xbf\xd1\x80\xd0\xb8 not a header at all\r\n\x80\x81\x82\r\n"
    )
    world.deliver("INBOX", request(3))
    world.deliver("INBOX", request(4))

    report = world.poll()

    rows = world.rows("INBOX")
    assert [r.parse_error is not None for r in rows] == [False, True, False, False]
    assert report.folders["inbox"].broken == 1
    assert rows[1].raw is not None and rows[1].raw.startswith(b"\xff\xfe")
    assert rows[3].subject == "Заказ 4"


def test_a_message_the_server_refuses_to_fetch_is_stored_broken_and_the_batch_goes_on(
    world: World,
) -> None:
    for n in range(1, 5):
        world.deliver("INBOX", request(n))
    spy = Spy(refuse_uid=2)

    report = world.poll(connect=spy.connect)

    assert report.ok, report.error
    rows = world.rows("INBOX")
    assert [r.uid for r in rows] == [1, 2, 3, 4]
    assert rows[1].parse_error is not None and "could not be fetched" in rows[1].parse_error
    assert [r.parse_error for r in rows if r.uid != 2] == [None, None, None]


def test_a_10mb_attachment_is_fetched_only_up_to_the_cap_and_stored_with_its_real_size(
    world: World,
) -> None:
    big = EmailMessage()
    big["From"], big["To"], big["Subject"] = "ivan@mail.ru", "orders@shop.test", "Прайс"
    big["Message-ID"] = "<big@mail.ru>"
    big.set_content("Здравствуйте! Посмотрите прайс во вложении, сколько будет стоить?")
    big.add_attachment(bytes(range(256)) * 40960, maintype="application", subtype="pdf",
                       filename="price.pdf")  # fmt: skip
    raw = big.as_bytes().replace(b"\n", b"\r\n")
    assert len(raw) > 10_000_000
    world.deliver("INBOX", raw)

    world.poll()

    [row] = world.rows("INBOX")
    assert row.raw_truncated
    assert row.raw is not None and len(row.raw) == world.mailbox.max_fetch_bytes
    assert row.size == len(raw)
    assert row.subject == "Прайс" and row.message_id_header == "big@mail.ru"


def test_batches_end_by_count_and_by_bytes() -> None:
    sizes = {1: 10, 2: 10, 3: 10, 4: 50_000_000, 5: 10}

    assert list(batches([1, 2, 3, 4, 5], sizes, 100, 2)) == [[1, 2], [3, 4], [5]]
    assert list(batches([1, 2, 3, 4, 5], sizes, 20_000_000, 100)) == [[1, 2, 3], [4], [5]]


# -- never touching the mailbox ------------------------------------------------------


def test_a_poll_leaves_every_message_and_flag_as_it_was(world: World) -> None:
    world.deliver("INBOX", request(1))
    world.deliver("INBOX", request(2), flags=["\\Seen"])
    world.deliver("INBOX", request(3), flags=["\\Flagged", "\\Answered"])
    world.deliver("Отправленные", reply(1), flags=["\\Seen"])
    world.deliver("Корзина", request(4))
    world.deliver("Спам", request(5))
    folders = ("INBOX", "Отправленные", "Корзина", "Спам")
    before = {f: (world.user.flags(f), _raws(world.user, f)) for f in folders}

    with recorded_commands() as sent:
        assert world.poll().ok
    new_uid = world.deliver("INBOX", request(6))
    before["INBOX"] = (world.user.flags("INBOX"), _raws(world.user, "INBOX"))
    with recorded_commands() as sent_later:
        assert world.poll().ok and world.poll().ok

    after = {f: (world.user.flags(f), _raws(world.user, f)) for f in folders}
    assert after == before
    assert b"\\Seen" not in after["INBOX"][0][1] + after["INBOX"][0][new_uid]  # still unread
    commands = [line.upper().split() for line in sent + sent_later]
    verbs = {word for words in commands for word in words[1:3]}
    assert verbs & {b"SELECT", b"STORE", b"COPY", b"MOVE", b"EXPUNGE", b"APPEND"} == set()
    assert b"EXAMINE" in verbs
    assert all(b"BODY[" not in line.upper().replace(b"BODY.PEEK[", b"") for line in sent)


def test_an_idle_poll_costs_the_same_few_commands_whatever_the_mailbox_size(world: World) -> None:
    world.deliver("INBOX", request(1))
    world.poll()
    with recorded_commands() as small:
        assert world.poll().ok
    for n in range(2, 62):
        world.deliver("INBOX", request(n))
    world.poll()
    with recorded_commands() as large:
        report = world.poll()

    assert all(folder.idle for folder in report.folders.values())
    assert len(large) == len(small) <= 9, large
    assert sum(b" STATUS " in c for c in large) == 4  # one per folder, nothing else per folder
    assert not any(b"EXAMINE" in c or b"FETCH" in c for c in large)


# -- changes, deletions and alarms ---------------------------------------------------


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)  # fmt: skip
def test_a_request_moved_to_trash_raises_one_alarm_across_polls(
    mailbox_user: MailUser, make_world: Callable[..., World], db_url: str
) -> None:
    mailbox_user.create_folder("Trash", "\\Trash")
    mailbox_user.create_folder("Sent", "\\Sent")
    world = watched(make_world(mailbox_user, db_url))
    uid = world.deliver("INBOX", request(1))
    world.poll()

    world.user.move(uid, "INBOX", "Trash")
    first = world.poll()
    second = world.poll()

    [inbox_row] = world.rows("INBOX")
    assert inbox_row.gone_at == world.clock - 2 * MINUTE
    assert len(world.rows("Trash")) == 1
    assert first.alarms == [(REQUEST_DELETED, str(inbox_row.id))]
    assert second.alarms == []
    assert [a.message_id for a in world.alarms()] == [inbox_row.id]


def test_an_expunged_request_is_marked_gone_and_raises_an_alarm(world: World) -> None:
    watched(world)
    uid = world.deliver("INBOX", request(1))
    world.deliver("INBOX", request(2))
    world.poll()

    world.user.expunge("INBOX", uid)
    report = world.poll()

    rows = world.rows("INBOX")
    assert [r.gone_at is not None for r in rows] == [True, False]
    assert report.folders["inbox"].vanished == 1
    assert report.alarms == [(REQUEST_DELETED, str(rows[0].id))]


def test_an_answered_request_can_be_deleted_without_an_alarm(world: World) -> None:
    watched(world)
    uid = world.deliver("INBOX", request(1))
    world.poll()

    world.deliver("Отправленные", reply(1))
    world.user.move(uid, "INBOX", "Корзина")
    report = world.poll()

    assert report.alarms == []
    assert world.rows("INBOX")[0].gone_at is not None


def test_a_request_that_went_straight_to_trash_between_polls_raises_an_alarm(world: World) -> None:
    watched(world)
    world.deliver("Корзина", request(1))

    report = world.poll()

    [row] = world.rows("Корзина")
    assert report.alarms == [(REQUEST_DELETED, str(row.id))]


def test_a_request_in_junk_raises_one_alarm(world: World) -> None:
    watched(world)
    world.deliver("Спам", request(1))

    first = world.poll()
    second = world.poll()

    [row] = world.rows("Спам")
    assert first.alarms == [(REQUEST_IN_JUNK, str(row.id))]
    assert second.alarms == []


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)  # fmt: skip
def test_a_uidvalidity_reset_re_points_stored_mail_without_duplicates(
    mailbox_user: MailUser, make_world: Callable[..., World], db_url: str
) -> None:
    world = make_world(mailbox_user, db_url)
    uids = [world.deliver("INBOX", request(n)) for n in range(1, 5)]
    world.poll()
    ids_before = [r.id for r in world.rows()]
    old = world.rows()[0].uidvalidity

    world.user.expunge("INBOX", uids[1])
    new = world.user.set_uidvalidity("INBOX")
    world.deliver("INBOX", request(5))
    report = world.poll()

    rows = world.rows("INBOX")
    assert new != old
    assert report.folders["inbox"].uidvalidity_reset
    assert report.folders["inbox"].repointed == 3
    assert [r.id for r in rows][:4] == ids_before and len(rows) == 5
    assert [(r.uidvalidity, r.gone_at is None) for r in rows] == [
        (new, True), (old, False), (new, True), (new, True), (new, True),
    ]  # fmt: skip
    assert world.poll().folders["inbox"].idle


@pytest.mark.parametrize("server", ["condstore without qresync", "neither"])
def test_without_qresync_flag_changes_and_expunges_are_still_noticed_cheaply(
    world: World, server: str
) -> None:
    watched(world)
    uids = [world.deliver("INBOX", request(n)) for n in range(1, 4)]
    degrade = Degraded(condstore=server != "neither")
    world.poll(connect=degrade.connect)

    world.user.set_flags("INBOX", uids[2], ["\\Answered"])
    world.user.expunge("INBOX", uids[0])
    report = world.poll(connect=degrade.connect)
    with recorded_commands() as idle:
        world.poll(connect=degrade.connect)

    rows = world.rows("INBOX")
    assert report.folders["inbox"].flag_changes == 1 and rows[2].flags == ["\\Answered"]
    assert [r.gone_at is not None for r in rows] == [True, False, False]
    assert report.alarms == [(REQUEST_DELETED, str(rows[0].id))]
    assert not any(b"SEARCH" in line for line in idle)  # counts agree: no UID list needed
    assert len(idle) <= 12


# -- failures ------------------------------------------------------------------------


def test_a_wrong_password_is_a_permanent_error_and_is_not_retried(
    mailbox_user: MailUser, make_world: Callable[..., World]
) -> None:
    world = make_world(mailbox_user, password=Secret("wrong"))
    spy = Spy()

    report = world.poll(connect=spy.connect)

    assert not report.ok and report.permanent is True
    assert "AUTHENTICATIONFAILED" in (report.error or "")
    assert spy.connects == 1
    assert world.source().last_error == report.error


def test_a_server_that_does_not_answer_is_a_network_error_retried_within_the_poll(
    mailbox_user: MailUser, make_world: Callable[..., World]
) -> None:
    world = make_world(mailbox_user)
    spy = Spy()

    with mailbox_user.server.stopped():
        report = world.poll(connect=spy.connect)

    assert not report.ok and report.permanent is False
    assert spy.connects == 3


def test_an_outage_mid_fetch_loses_nothing_and_raises_one_alarm_cleared_on_recovery(
    world: World,
) -> None:
    for n in range(1, 6):
        world.deliver("INBOX", request(n))
    dovecot = world.user.server
    spy = Spy(after_first_fetch=dovecot.stop)

    try:
        down = world.poll(connect=spy.connect, batch_size=2)
        assert not down.ok and down.permanent is False
        # What was read before the outage was kept: the first batch, and the second when
        # the server had sent it already (its FETCH goes out before the first is stored).
        assert [r.uid for r in world.rows("INBOX")] in ([1, 2], [1, 2, 3, 4])
        started = world.source().unreachable_since
        assert started == world.clock

        assert world.poll(after=10 * MINUTE).alarms == []
        late = world.poll(after=21 * MINUTE)
        assert late.alarms == [(SOURCE_UNREACHABLE, f"orders@{started.isoformat()}")]
        assert world.poll(after=5 * MINUTE).alarms == []
    finally:
        dovecot.start()

    back = world.poll(batch_size=2)

    assert back.ok, back.error
    assert [r.uid for r in world.rows("INBOX")] == [1, 2, 3, 4, 5]
    [alarm] = world.alarms(SOURCE_UNREACHABLE)
    assert alarm.cleared_at == world.clock
    assert world.source().unreachable_since is None
    assert world.source().last_ok_at == world.clock


# -- helpers -------------------------------------------------------------------------


@dataclass
class Spy:
    """Wraps the real reader: counts connections, refuses one UID, or pulls the plug."""

    refuse_uid: int | None = None
    after_first_fetch: Callable[[], None] | None = None
    connects: int = 0
    fetches: list[list[int]] = field(default_factory=list)

    def connect(self, mailbox: MailboxConfig) -> MailboxReader:
        self.connects += 1
        return _SpyReader(default_connect(mailbox), self)


class _SpyReader:
    def __init__(self, reader: MailboxReader, spy: Spy) -> None:
        self._reader, self._spy = reader, spy

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    def fetch_mail(self, uids: Sequence[int], max_bytes: int) -> dict[int, FetchedMail]:
        spy = self._spy
        if spy.refuse_uid in uids:
            raise SourceError("UID FETCH refused: NO [SERVERBUG-ish] simulated", permanent=True)
        result = self._reader.fetch_mail(uids, max_bytes)
        spy.fetches.append(list(uids))
        if spy.after_first_fetch is not None and len(spy.fetches) == 1:
            spy.after_first_fetch()
        return result


@dataclass
class Degraded:
    """The real reader posing as a server without QRESYNC, and if asked without CONDSTORE."""

    condstore: bool

    def connect(self, mailbox: MailboxConfig) -> MailboxReader:
        return _DegradedReader(default_connect(mailbox), self.condstore)


class _DegradedReader:
    def __init__(self, reader: MailboxReader, condstore: bool) -> None:
        self._reader, self.condstore, self.qresync = reader, condstore, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    def examine(self, wire: str) -> FolderStatus:
        status = self._reader.examine(wire)
        return status if self.condstore else replace(status, highestmodseq=None)

    def changes_since(self, modseq: int, last_uid: int) -> Changes:
        return Changes(self._reader.changes_since(modseq, last_uid).flags, None)


@contextlib.contextmanager
def recorded_commands() -> Iterator[list[bytes]]:
    """Record every command line the IMAP client sends while the block runs."""
    sent: list[bytes] = []
    original = imaplib.IMAP4.send

    def send(self: imaplib.IMAP4, data: bytes) -> None:
        if data.strip():
            sent.append(bytes(data))
        original(self, data)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(imaplib.IMAP4, "send", send)
        yield sent


def _raws(user: MailUser, folder: str) -> dict[int, bytes]:
    return {uid: user.fetch_raw(folder, uid) for uid in user.flags(folder)}
