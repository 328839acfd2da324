"""Alembic environment of the watchdog database.

Two ways in:

- from code (``watchdog.storage.migrate``): the caller passes an open
  connection in ``config.attributes["connection"]`` and owns its transaction;
- from the alembic CLI, for developers: the URL comes from ``-x url=...``, else
  ``$WATCHDOG_DATABASE_URL``, else ``sqlalchemy.url`` in alembic.ini, and is
  opened with ``watchdog.storage.engine.make_engine`` (same pragmas, same
  driver rewrite). ``alembic revision --autogenerate -m "add x"`` compares
  against ``watchdog.storage.models``.

SQLite cannot ALTER most things, so every operation runs in batch mode (copy,
rebuild, rename). Foreign keys are switched off during the run because a
rebuild drops a table that others refer to; they are checked before being
switched back on.
"""

from __future__ import annotations

import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from watchdog.storage.engine import database_url, make_engine
from watchdog.storage.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and "connection" not in config.attributes:
    fileConfig(config.config_file_name)  # the CLI's logging; code keeps its own


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Render our UTCDateTime as the plain type it stores, so revisions don't import models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def configure_options(dialect_name: str) -> dict[str, Any]:
    """Return the context options shared by online, offline and compare runs."""
    return {
        "target_metadata": target_metadata,
        "render_as_batch": dialect_name == "sqlite",
        "compare_type": True,
        "render_item": render_item,
    }


def cli_url() -> str:
    """Return the database URL when run from the alembic command line."""
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = url or os.environ.get("WATCHDOG_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database: pass -x url=..., or set WATCHDOG_DATABASE_URL")
    return url


def run_on(connection: Connection) -> None:
    """Run the pending migrations on ``connection``."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Only effective outside a transaction: pysqlite has not begun one yet.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        if connection.in_transaction() and not _driver_in_transaction(connection):
            # pysqlite runs DDL outside any transaction, committing statement by
            # statement: a process killed half-way through the first upgrade would
            # leave tables without alembic_version, and every later start would fail
            # on "table already exists". One explicit BEGIN makes the whole upgrade
            # one transaction, committed by the caller's engine.begin().
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        context.configure(connection=connection, **configure_options(connection.dialect.name))
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            _check_foreign_keys(connection)
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def _driver_in_transaction(connection: Connection) -> bool:
    return bool(getattr(connection.connection.driver_connection, "in_transaction", False))


def _check_foreign_keys(connection: Connection) -> None:
    """Fail the migration if a rebuild left rows pointing at nothing."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")


def run_offline() -> None:
    """Write the SQL to stdout instead of running it (``alembic upgrade --sql``)."""
    url = database_url(cli_url())
    context.configure(url=url, literal_binds=True, **configure_options(url.get_backend_name()))
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run on the caller's connection, or open one from the CLI's URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    engine = make_engine(cli_url())
    try:
        with engine.begin() as connection:
            run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
