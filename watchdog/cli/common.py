"""What several commands share: finding and loading the config, reporting its problems."""

from __future__ import annotations

import typer

from watchdog.cli.exits import RET_CONFIG
from watchdog.config import Config, load_config, resolve_config_path
from watchdog.errors import ConfigError


def config_option(ctx: typer.Context) -> str | None:
    """Return the --config value given before the command name, if any."""
    obj = ctx.find_root().obj
    return obj.get("config") if isinstance(obj, dict) else None


def load_or_exit(ctx: typer.Context, *, need_secrets: bool = True) -> Config:
    """Load the config the user pointed at; on problems print them all and exit 2.

    Warnings (a password written in the file) go to stderr and do not stop
    the command.
    """
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
