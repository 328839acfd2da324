"""Open the database: one engine per process, set up for a long-running daemon.

Two backends are supported, named by ``[database] url``:

- ``sqlite:///path/watchdog.db`` (the default): the file's folder is created if
  missing; every connection gets WAL journaling (readers, such as the
  dashboard, never block the poller), a busy timeout (a second writer waits
  instead of failing with "database is locked") and enforced foreign keys.
- ``postgresql://...`` or ``postgresql+psycopg://...``: always through psycopg 3
  (``pip install 'inbox-watchdog[postgres]'``).

Whatever goes wrong while opening becomes a ``StorageError`` whose message
names the database with its password hidden.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from watchdog.errors import StorageError

SQLITE_BUSY_TIMEOUT_MS = 10_000  # a writer waits this long for another writer's lock
POSTGRES_CONNECT_TIMEOUT_S = 10  # an unreachable server is reported, not waited on forever

SUPPORTED = "sqlite:///PATH or postgresql://USER@HOST/DB"


def make_engine(url: str) -> Engine:
    """Return an engine for ``url`` after checking that the database answers.

    Raises StorageError when the URL is malformed or names another backend,
    when the PostgreSQL driver is missing, or when the first connection fails.
    """
    parsed = database_url(url)
    try:
        engine = _create(parsed)
    except ModuleNotFoundError as exc:
        raise StorageError(
            f"cannot open {safe_url(parsed)}: the PostgreSQL driver is not installed "
            "(pip install 'inbox-watchdog[postgres]')"
        ) from exc
    check_connection(engine)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory every stage uses.

    ``expire_on_commit=False``: stages commit a unit of work and then still
    read the objects they hold (to log, to return); with expiry each read
    would reload the row or fail once the session is closed.
    """
    return sessionmaker(engine, expire_on_commit=False)


def database_url(url: str) -> URL:
    """Parse ``url`` and return it with the driver we use for its backend.

    Raises StorageError naming what is allowed when the URL cannot be used.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"database.url: cannot read {url!r} as a URL; use {SUPPORTED}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    raise StorageError(
        f"database.url: {backend!r} is not supported; use {SUPPORTED} ({safe_url(parsed)})"
    )


def safe_url(url: URL | str) -> str:
    """Return ``url`` as text fit for a log or an error message: password hidden."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "<unreadable database URL>"
    return parsed.render_as_string(hide_password=True)


def check_connection(engine: Engine) -> None:
    """Connect once; raise StorageError with a plain reason when that fails."""
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        raise storage_error(engine.url, "cannot connect to", exc) from exc


def storage_error(url: URL, doing: str, exc: BaseException) -> StorageError:
    """Return a StorageError "<doing> <url>: <reason>" that never shows the password.

    The driver's message is kept to its first line (psycopg adds hints and
    context below) and scrubbed of the password in case a driver echoes it.
    """
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    reason = lines[0] if lines else type(original).__name__
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return StorageError(f"{doing} the database {safe_url(url)}: {reason}")


def _create(url: URL) -> Engine:
    """Return a configured engine for an already-checked URL."""
    if url.get_backend_name() == "sqlite":
        return _create_sqlite(url)
    return create_engine(
        url,
        pool_pre_ping=True,  # the daemon outlives server restarts and idle timeouts
        connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S},
    )


def _create_sqlite(url: URL) -> Engine:
    """Return a SQLite engine whose connections are set up for concurrent use."""
    _make_parent_folder(url)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def _make_parent_folder(url: URL) -> None:
    """Create the folder of the SQLite file, so a fresh install just works."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"cannot create the folder of the database {safe_url(url)}: {exc.strerror or exc}"
        ) from exc


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Set WAL, the busy timeout and foreign keys on each new SQLite connection.

    journal_mode=WAL is stored in the file (in-memory databases ignore it);
    busy_timeout and foreign_keys are per connection, hence a connect hook.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()
