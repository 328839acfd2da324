"""``watchdog db upgrade``: bring the database schema up to date."""

from __future__ import annotations

import typer

from watchdog.cli.common import load_or_exit
from watchdog.cli.exits import RET_FAILED
from watchdog.errors import StorageError

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade_command(ctx: typer.Context) -> None:
    """Apply the database migrations (the daemon also does this at start)."""
    # Imported here, like every heavy module of the CLI: see watchdog/cli/__init__.py.
    from watchdog.storage.engine import safe_url
    from watchdog.storage.migrate import migration_status, upgrade

    # The schema needs no password: a fresh install can create its database
    # before any secret is set.
    config = load_or_exit(ctx, need_secrets=False)
    url = config.database.url
    try:
        upgrade(url)
        status = migration_status(url)
    except StorageError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(RET_FAILED) from exc
    typer.echo(f"{safe_url(url)}: {status.describe()}")
