"""The storage layer, on SQLite and on a real PostgreSQL (``db_url`` runs both).

These tests pin what the rest of the pipeline relies on: the schema comes from
the migrations and matches the models, the unique constraints really refuse
duplicates (they are the at-most-once guarantees), timestamps come back aware
and in UTC, and a broken database URL is a plain StorageError.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from watchdog.bundled import migrations_dir
from watchdog.errors import StorageError
from watchdog.storage.engine import database_url, make_engine, session_factory
from watchdog.storage.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    migration_status,
    upgrade,
)
from watchdog.storage.models import (
    Alarm,
    Base,
    Case,
    Classification,
    Digest,
    Escalation,
    FolderSync,
    Message,
    Outbox,
    Source,
    Thread,
)

MIGRATIONS = migrations_dir()
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
MOSCOW = timezone(timedelta(hours=3))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database upgraded to the newest schema."""
    upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@dataclass
class World:
    """A mailbox with one request in it, and the case it opened."""

    source_id: int
    thread_id: int
    message_id: int
    case_id: int


def a_message(source_id: int, **overrides: Any) -> Message:
    """Return an INBOX message of ``source_id``; ``overrides`` set any column."""
    values: dict[str, Any] = {
        "source_id": source_id,
        "folder": "INBOX",
        "uidvalidity": 1700000000,
        "uid": 1,
        "message_id_header": "<q1@customer.example>",
        "from_addr": "ivan@customer.example",
        "subject": "А подскажите, есть ли в наличии?",
        "received_at": NOW,
        "direction": "incoming",
        "created_at": NOW,
    }
    values.update(overrides)
    return Message(**values)


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    with sessions.begin() as session:
        source = Source(kind="mailbox", name="orders", created_at=NOW)
        thread = Thread(
            subject_norm="есть ли в наличии", counterpart="ivan@customer.example", created_at=NOW
        )
        session.add_all([source, thread])
        session.flush()
        message = a_message(source.id, thread_id=thread.id)
        session.add(message)
        session.flush()
        case = Case(
            thread_id=thread.id,
            source_id=source.id,
            opening_message_id=message.id,
            customer="Ivan <ivan@customer.example>",
            received_at=NOW,
            deadline_at=NOW + timedelta(hours=2),
            created_at=NOW,
        )
        session.add(case)
        session.flush()
        return World(source.id, thread.id, message.id, case.id)


def assert_refused(sessions: sessionmaker[Session], row: Base) -> None:
    """Assert that inserting ``row`` violates a constraint, and leave nothing behind."""
    with sessions() as session:
        session.add(row)
        with pytest.raises(IntegrityError):
            session.commit()


def insert(sessions: sessionmaker[Session], row: Base) -> None:
    with sessions.begin() as session:
        session.add(row)


def an_outbox(message_id_header: str) -> Outbox:
    return Outbox(
        kind="escalation",
        channel="email",
        recipient="owner@shop.example",
        message_id_header=message_id_header,
        next_attempt_at=NOW,
        created_at=NOW,
    )


# Migrations


def test_upgrade_creates_the_schema_at_head(db_url: str) -> None:
    assert current_revision(db_url) is None

    upgrade(db_url)

    assert current_revision(db_url) == head_revision()
    engine = make_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(Base.metadata.tables) <= tables


def test_upgrade_twice_changes_nothing(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    with session_factory(engine).begin() as session:
        session.add(Source(kind="form", name="site-contact", created_at=NOW))
    engine.dispose()

    upgrade(db_url)

    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        assert session.scalars(select(Source.name)).all() == ["site-contact"]
    engine.dispose()
    assert current_revision(db_url) == head_revision()


@pytest.mark.postgres
def test_two_daemons_starting_together_both_upgrade_cleanly(postgres_db_url: str) -> None:
    """Processes, not threads: Alembic's ``context`` is global to a process."""
    code = "import sys; from watchdog.storage.migrate import upgrade; upgrade(sys.argv[1])"
    daemons = [
        subprocess.Popen(
            [sys.executable, "-c", code, postgres_db_url],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    errors = [daemon.communicate(timeout=120)[1] for daemon in daemons]

    assert [daemon.returncode for daemon in daemons] == [0, 0], errors
    assert current_revision(postgres_db_url) == head_revision()


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_downgrade_to_base_removes_every_table(engine: Engine) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")

    remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert remaining == set()


def test_migration_status_says_pending_then_up_to_date(db_url: str) -> None:
    before = migration_status(db_url)
    assert (before.current, before.up_to_date) == (None, False)
    revisions = len(list(MIGRATIONS.glob("versions/0*.py")))
    plural = "migration" if revisions == 1 else "migrations"
    assert before.describe() == f"database is empty, {revisions} {plural} pending"

    upgrade(db_url)

    after = migration_status(db_url)
    assert after.up_to_date
    assert after.describe() == f"database at revision {head_revision()}, up to date"


def test_migration_status_flags_a_revision_from_a_newer_version(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))

    status = migration_status(engine.url.render_as_string(hide_password=False))

    assert status.unknown and not status.up_to_date
    assert "does not know" in status.describe()


# Unique constraints: each one is an at-most-once guarantee


def test_message_is_stored_once_per_folder_uidvalidity_and_uid(
    sessions: sessionmaker[Session], world: World
) -> None:
    assert_refused(sessions, a_message(world.source_id, message_id_header="<other@x>"))

    insert(sessions, a_message(world.source_id, uid=2))
    insert(sessions, a_message(world.source_id, uidvalidity=1800000000))  # after a reset
    insert(sessions, a_message(world.source_id, folder="Отправленные"))


def test_form_submission_is_stored_once_per_submission_id(
    sessions: sessionmaker[Session], world: World
) -> None:
    def submission(submission_id: str) -> Message:
        return a_message(
            world.source_id,
            folder=None,
            uidvalidity=None,
            uid=None,
            form_submission_id=submission_id,
        )

    insert(sessions, submission("sub-1"))

    assert_refused(sessions, submission("sub-1"))
    insert(sessions, submission("sub-2"))


def test_form_messages_without_ids_do_not_collide(
    sessions: sessionmaker[Session], world: World
) -> None:
    """NULLs are distinct in SQL: forms without a submission id rely on content_hash."""
    for _ in range(2):
        insert(
            sessions,
            a_message(
                world.source_id, folder=None, uidvalidity=None, uid=None, content_hash="ab" * 32
            ),
        )

    with sessions() as session:
        found = session.scalars(
            select(Message).where(
                Message.content_hash == "ab" * 32, Message.source_id == world.source_id
            )
        ).all()
    assert len(found) == 2


def test_escalation_step_is_recorded_once_per_repeat(
    sessions: sessionmaker[Session], world: World
) -> None:
    insert(sessions, Escalation(case_id=world.case_id, step_index=0, repeat_no=0, decided_at=NOW))

    assert_refused(
        sessions, Escalation(case_id=world.case_id, step_index=0, repeat_no=0, decided_at=NOW)
    )
    insert(sessions, Escalation(case_id=world.case_id, step_index=0, repeat_no=1, decided_at=NOW))
    insert(sessions, Escalation(case_id=world.case_id, step_index=1, repeat_no=0, decided_at=NOW))


def test_digest_is_made_once_per_day(sessions: sessionmaker[Session], world: World) -> None:
    insert(sessions, Digest(day=date(2025, 3, 14), created_at=NOW))

    assert_refused(sessions, Digest(day=date(2025, 3, 14), created_at=NOW))
    insert(sessions, Digest(day=date(2025, 3, 15), created_at=NOW))


def test_alarm_is_raised_once_per_kind_and_key(
    sessions: sessionmaker[Session], world: World
) -> None:
    def alarm(kind: str, key: str) -> Alarm:
        return Alarm(kind=kind, key=key, source_id=world.source_id, raised_at=NOW)

    insert(sessions, alarm("source_unreachable", "orders@2025-03-14T09:30Z"))

    assert_refused(sessions, alarm("source_unreachable", "orders@2025-03-14T09:30Z"))
    insert(sessions, alarm("source_unreachable", "orders@2025-03-15T10:00Z"))  # a new outage
    insert(sessions, alarm("source_silent", "orders@2025-03-14T09:30Z"))


def test_outbox_message_id_is_unique(sessions: sessionmaker[Session], world: World) -> None:
    insert(sessions, an_outbox("<esc-1-0-0@watchdog>"))

    assert_refused(sessions, an_outbox("<esc-1-0-0@watchdog>"))
    insert(sessions, an_outbox("<esc-1-0-1@watchdog>"))


def test_a_request_opens_at_most_one_case(sessions: sessionmaker[Session], world: World) -> None:
    assert_refused(
        sessions,
        Case(
            thread_id=world.thread_id,
            source_id=world.source_id,
            opening_message_id=world.message_id,
            received_at=NOW,
            deadline_at=NOW,
            created_at=NOW,
        ),
    )


def test_folder_is_tracked_once_per_source_and_name(
    sessions: sessionmaker[Session], world: World
) -> None:
    insert(sessions, FolderSync(source_id=world.source_id, role="sent", name="Отправленные"))

    assert_refused(
        sessions, FolderSync(source_id=world.source_id, role="sent", name="Отправленные")
    )
    insert(sessions, FolderSync(source_id=world.source_id, role="trash", name="Корзина"))


def test_classification_category_must_be_a_known_one(
    sessions: sessionmaker[Session], world: World
) -> None:
    bogus: Any = "spam"

    assert_refused(
        sessions,
        Classification(message_id=world.message_id, category=bogus, request=False, created_at=NOW),
    )


def test_foreign_keys_are_enforced(sessions: sessionmaker[Session], world: World) -> None:
    assert_refused(sessions, a_message(source_id=999_999))


# Values round-trip


def test_datetimes_come_back_aware_in_utc(sessions: sessionmaker[Session], world: World) -> None:
    in_moscow = datetime(2025, 3, 14, 12, 30, 15, 123456, tzinfo=MOSCOW)
    with sessions.begin() as session:
        session.get_one(Source, world.source_id).last_ok_at = in_moscow

    with sessions() as session:
        stored = session.get_one(Source, world.source_id).last_ok_at
        raw_read = session.scalar(select(Source.last_ok_at))

    assert stored == in_moscow
    assert stored is not None and stored.tzinfo is UTC
    assert stored.hour == 9 and stored.microsecond == 123456
    assert raw_read is not None and raw_read.tzinfo is UTC


def test_naive_datetime_is_refused(sessions: sessionmaker[Session], world: World) -> None:
    with sessions() as session:
        session.get_one(Source, world.source_id).last_ok_at = datetime(2025, 3, 14, 12, 0)
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()


def test_deadline_queries_compare_instants_whatever_the_offset_written(
    sessions: sessionmaker[Session], world: World
) -> None:
    """SQLite compares text: storing everything in UTC keeps "overdue" correct."""
    with sessions.begin() as session:
        case = session.get_one(Case, world.case_id)
        case.deadline_at = datetime(2025, 3, 14, 12, 0, tzinfo=MOSCOW)  # 09:00 UTC

    with sessions() as session:
        overdue = session.scalars(
            select(Case.id).where(Case.state == "open", Case.deadline_at < NOW)  # 09:30 UTC
        ).all()
    assert overdue == [world.case_id]


def test_raw_bytes_round_trip_exactly(sessions: sessionmaker[Session], world: World) -> None:
    raw = b"Subject: =?koi8-r?B?8NLJ18XU?=\r\n\r\n" + bytes(range(256)) + b"\x00\r\n.\r\n"
    with sessions.begin() as session:
        session.get_one(Message, world.message_id).raw = raw

    with sessions() as session:
        assert session.get_one(Message, world.message_id).raw == raw


def test_imap_numbers_above_signed_32_bits_fit(
    sessions: sessionmaker[Session], world: World
) -> None:
    """UIDVALIDITY and UIDs are unsigned 32-bit; MODSEQ is 63-bit."""
    top = 2**32 - 1
    insert(sessions, a_message(world.source_id, uidvalidity=top, uid=top))
    insert(
        sessions,
        FolderSync(
            source_id=world.source_id,
            role="inbox",
            name="INBOX",
            uidvalidity=top,
            last_uid=top,
            highestmodseq=2**63 - 1,
        ),
    )

    with sessions() as session:
        folder = session.scalars(select(FolderSync)).one()
    assert (folder.uidvalidity, folder.last_uid, folder.highestmodseq) == (top, top, 2**63 - 1)


def test_json_columns_keep_unicode_lists(sessions: sessionmaker[Session], world: World) -> None:
    to = [{"name": "Отдел заказов", "email": "orders@shop.example"}]
    with sessions.begin() as session:
        message = session.get_one(Message, world.message_id)
        message.to_addrs, message.flags = to, ["\\Seen", "$Forwarded"]

    with sessions() as session:
        message = session.get_one(Message, world.message_id)
        assert (message.to_addrs, message.flags) == (to, ["\\Seen", "$Forwarded"])


# Opening the database


def test_sqlite_runs_in_wal_mode_with_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wd.db'}")
    try:
        with engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys")
            }
    finally:
        engine.dispose()

    assert pragmas == {"journal_mode": "wal", "busy_timeout": 10_000, "foreign_keys": 1}


def test_sqlite_file_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "watchdog.db"

    upgrade(f"sqlite:///{path}")

    assert path.is_file()


def test_postgresql_urls_use_psycopg_3() -> None:
    assert database_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"


@pytest.mark.parametrize("url", ["not a url", "", "mysql://u:pw@localhost/db"])
def test_unusable_url_is_a_storage_error(url: str) -> None:
    with pytest.raises(StorageError, match="database.url"):
        make_engine(url)


def test_unreachable_postgresql_is_a_storage_error_without_the_password() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    with pytest.raises(StorageError) as caught:
        make_engine(f"postgresql://watchdog:s3cr3t-pw@127.0.0.1:{port}/watchdog")

    message = str(caught.value)
    assert "s3cr3t-pw" not in message
    assert f"postgresql+psycopg://watchdog:***@127.0.0.1:{port}/watchdog" in message
    assert message.startswith("cannot connect to the database")


def test_unwritable_sqlite_location_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    with pytest.raises(StorageError, match="cannot"):
        make_engine(f"sqlite:///{blocker / 'watchdog.db'}")


def test_an_upgrade_that_fails_half_way_leaves_sqlite_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process killed during its first upgrade must not leave a schema no start can migrate."""
    import alembic.op

    url = f"sqlite:///{tmp_path / 'w.db'}"
    real_create_table = alembic.op.create_table
    calls = []

    def create_table_then_die(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        if len(calls) == 3:
            raise RuntimeError("killed half-way")
        return real_create_table(*args, **kwargs)

    monkeypatch.setattr(alembic.op, "create_table", create_table_then_die)
    with pytest.raises((StorageError, RuntimeError)):
        upgrade(url)
    monkeypatch.setattr(alembic.op, "create_table", real_create_table)

    engine = make_engine(url)
    assert inspect(engine).get_table_names() == []
    engine.dispose()
    upgrade(url)
    assert migration_status(url).up_to_date
