"""What several commands share: finding and loading the config, reporting its problems."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer

from watchdog.cli.exits import RET_CONFIG, RET_FAILED
from watchdog.errors import ConfigError, StorageError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from watchdog.config import Config


def config_option(ctx: typer.Context) -> str | None:
    """Return the --config value given before the command name, if any."""
    obj = ctx.find_root().obj
    return obj.get("config") if isinstance(obj, dict) else None


def load_or_exit(ctx: typer.Context, *, need_secrets: bool = True) -> Config:
    """Load the config the user pointed at; on problems print them all and exit 2.

    Warnings (a password written in the file) go to stderr and do not stop
    the command.
    """
    # Imported here, like every heavy module of the CLI: see watchdog/cli/__init__.py.
    from watchdog.config import load_config, resolve_config_path

    path = resolve_config_path(config_option(ctx))
    try:
        config = load_config(path, need_secrets=need_secrets)
    except ConfigError as exc:
        for line in exc.problems:
            typer.echo(line, err=True)
        raise typer.Exit(RET_CONFIG) from exc
    for line in config.warnings:
        typer.echo(f"warning: {line}", err=True)
    return config


def open_database(config: Config) -> sessionmaker[Session]:
    """Bring the schema up to date and return a session factory; exit 1 if the database fails."""
    from watchdog.storage.engine import make_engine, session_factory
    from watchdog.storage.migrate import upgrade_engine

    try:
        engine = make_engine(config.database.url)
        upgrade_engine(engine)
    except StorageError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(RET_FAILED) from exc
    return session_factory(engine)


def parse_now(value: str | None) -> datetime:
    """Return ``--now`` as an aware UTC datetime (a naive value is UTC), or the current time."""
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        typer.echo(
            f"Error: --now: expected an ISO 8601 time like 2025-11-05T10:00+03:00, got {value!r}",
            err=True,
        )
        raise typer.Exit(RET_CONFIG) from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
