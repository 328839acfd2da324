"""Apply and inspect schema migrations from code, without an alembic.ini.

The Alembic scripts ship inside the package (``watchdog.bundled.migrations_dir``),
so ``watchdog db upgrade``, the daemon's start and ``watchdog doctor`` work the
same from a checkout and from an installed wheel. The connection is handed to
``migrations/env.py`` through ``Config.attributes``; the alembic CLI still
works for developers (see ``alembic.ini``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from watchdog.bundled import migrations_dir
from watchdog.errors import StorageError
from watchdog.storage.engine import make_engine, storage_error

# Any fixed number: PostgreSQL advisory locks are keyed by a bigint.
POSTGRES_MIGRATION_LOCK = 0x77617463  # "watc"


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """Where a database stands against the migrations this program ships.

    ``current`` is None for an empty database; ``pending`` lists the revisions
    still to apply, oldest first; ``unknown`` is True when the database is at a
    revision this program does not know (it was upgraded by a newer version).
    """

    current: str | None
    head: str
    pending: tuple[str, ...]
    unknown: bool = False

    @property
    def up_to_date(self) -> bool:
        """Return True when the database is exactly at this program's head."""
        return not self.unknown and self.current == self.head

    def describe(self) -> str:
        """Return one plain sentence for ``watchdog doctor``."""
        if self.unknown:
            return (
                f"database at revision {self.current}, which this version does not know "
                f"(newest known: {self.head}); was it upgraded by a newer watchdog?"
            )
        where = (
            "database is empty" if self.current is None else f"database at revision {self.current}"
        )
        if not self.pending:
            return f"{where}, up to date"
        count = len(self.pending)
        return f"{where}, {count} migration{'s' if count != 1 else ''} pending"


def alembic_config(connection: Connection | None = None) -> Config:
    """Return an Alembic config pointing at the bundled scripts.

    With ``connection``, ``env.py`` runs the migrations on it (and inside its
    transaction) instead of opening its own.
    """
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """Return the newest revision this program ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StorageError(f"no migrations found in {migrations_dir()}")
    return head


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the newest schema; do nothing if it is there.

    Raises StorageError when the database cannot be reached or a migration fails.
    """
    engine = make_engine(url)
    try:
        upgrade_engine(engine)
    finally:
        engine.dispose()


def upgrade_engine(engine: Engine) -> None:
    """Upgrade the database behind an open engine, in one transaction where possible.

    PostgreSQL runs DDL transactionally, so a failed migration leaves the schema
    as it was; an advisory lock makes a second daemon starting at the same
    moment wait, then find nothing left to do, instead of failing half-way.
    On SQLite the whole upgrade also runs in one explicit transaction (see
    migrations/env.py), so a process killed half-way leaves the schema as it was.
    """
    with _translated(engine, "cannot migrate"), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_MIGRATION_LOCK}
            )
        command.upgrade(alembic_config(connection), "head")
    if engine.dialect.name == "sqlite":
        # The migration ran with foreign keys off, and PRAGMA cannot turn them back on
        # inside its transaction: drop that connection so the next one starts with them.
        engine.dispose()


def current_revision(url: str) -> str | None:
    """Return the database's revision, or None when it has none (an empty database)."""
    engine = make_engine(url)
    try:
        with _translated(engine, "cannot read the revision of"), engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def migration_status(url: str) -> MigrationStatus:
    """Return where the database at ``url`` stands; ``describe()`` says it in words."""
    current = current_revision(url)
    script = ScriptDirectory.from_config(alembic_config())
    head = head_revision()
    try:
        pending = _pending(script, current, head)
    except CommandError:
        return MigrationStatus(current=current, head=head, pending=(), unknown=True)
    return MigrationStatus(current=current, head=head, pending=pending)


def _pending(script: ScriptDirectory, current: str | None, head: str) -> tuple[str, ...]:
    """Return the revisions between ``current`` (exclusive) and ``head``, oldest first.

    Raises CommandError when ``current`` is not a revision of ``script``.
    """
    if current is not None:
        script.get_revision(current)  # raises for a revision we do not ship
    steps = script.iterate_revisions(head, current or "base")
    return tuple(reversed([step.revision for step in steps]))


@contextmanager
def _translated(engine: Engine, doing: str) -> Iterator[None]:
    """Turn database and Alembic errors inside the block into StorageError."""
    try:
        yield
    except (SQLAlchemyError, CommandError) as exc:
        raise storage_error(engine.url, doing, exc) from exc
