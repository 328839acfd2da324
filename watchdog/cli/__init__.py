"""The ``watchdog`` command line: parse arguments, call one function, print.

Each command group lives in its own module and is registered here; a
``WatchdogError`` becomes ``Error: ...`` on stderr with a named exit code.

Importing this package must stay cheap. The daemon's ingest workers come from a
multiprocessing fork server that preloads ``__main__``, which is the ``watchdog``
script, which imports this package; and every command, ``--help`` included,
pays for it before doing anything. So the command modules import only typer,
the standard library and small pure modules at the top; anything heavy (the
config loader, the storage layer, the daemon, the demo, the web app...) is
imported inside the command that uses it, and type-only names sit under
``if TYPE_CHECKING:``. Command parameters use only types that exist at module
level (str, bool, Path...), since typer resolves their annotations.
``tests/test_cli_startup.py`` keeps this true.
"""

from __future__ import annotations

import typer

from watchdog import __version__
from watchdog.cli.exits import RET_OK

app = typer.Typer(
    name="watchdog",
    help="Watches the doors customers use (mailboxes, site forms) and tells the owner who was left unanswered.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"inbox-watchdog {__version__}")
        raise typer.Exit(RET_OK)


@app.callback()
def _root(
    ctx: typer.Context,
    config: str | None = typer.Option(
        None, "--config", "-c", help="Config file (else $WATCHDOG_CONFIG, else ./watchdog.toml)."
    ),
    version: bool = typer.Option(
        False,
        "--version",
        callback=_show_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Inbox watchdog."""
    ctx.obj = {"config": config}


def _register_commands() -> None:
    """Attach each command module to the root app (each module is light: see the docstring)."""
    from watchdog.cli.cases import cases_command, handle_command
    from watchdog.cli.classify import classify_command
    from watchdog.cli.db import db_app
    from watchdog.cli.demo import demo_command
    from watchdog.cli.digest import digest_command
    from watchdog.cli.doctor import doctor_command
    from watchdog.cli.run import run_command

    app.add_typer(db_app, name="db")
    app.command("run")(run_command)
    app.command("doctor")(doctor_command)
    app.command("classify")(classify_command)
    app.command("cases")(cases_command)
    app.command("handle")(handle_command)
    app.command("digest")(digest_command)
    app.command("demo")(demo_command)


_register_commands()


def main() -> None:
    """Entry point of the ``watchdog`` script and ``python -m watchdog``."""
    app()
