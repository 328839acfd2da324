"""``watchdog demo``: the newcomer's first command. No config, no servers, one minute.

Plays the bundled week of a small shop's mail through the real watchdog
(see :mod:`watchdog.demo`), then serves the dashboard on that week's data
until Ctrl-C, so the newcomer can click through what they just watched.
"""

from __future__ import annotations

import logging
import socket
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from watchdog.cli.exits import RET_CONFIG

if TYPE_CHECKING:
    from watchdog.demo import DemoResult
    from watchdog.demo.shop import Language

HOST = "127.0.0.1"
PORT = 8080
WEEK_SECONDS = 35.0  # how long the week takes on screen without --fast

_SERVING = {
    "ru": "Панель сторожа: {url}  (логин {user}, пароль {password}). Остановить: Ctrl-C.",
    "en": "The dashboard: {url}  (login {user}, password {password}). Stop with Ctrl-C.",
}


def demo_command(
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Exit after the week; do not serve the dashboard.")
    ] = False,
    lang: Annotated[
        str, typer.Option("--lang", help="Language of the commentary and the e-mails: ru or en.")
    ] = "ru",
    fast: Annotated[
        bool, typer.Option("--fast", help="No pauses: play the week as fast as possible.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for the config, database and e-mails (default: a new temp folder).",
        ),
    ] = None,
) -> None:
    """Watch a week of a small shop's mail in a minute: requests, deadlines, escalations, digest."""
    if lang not in ("ru", "en"):
        typer.echo(f'Error: --lang: "{lang}" is not one of ru, en', err=True)
        raise typer.Exit(RET_CONFIG)
    language: Language = "ru" if lang == "ru" else "en"
    folder = out or Path(tempfile.mkdtemp(prefix="watchdog-demo-"))
    port = PORT if no_serve else free_port(HOST, PORT)
    result = _quietly(folder, fast=fast, language=language, listen=f"{HOST}:{port}")
    if not no_serve:
        serve_dashboard(result, port, language)


def _quietly(folder: Path, *, fast: bool, language: Language, listen: str) -> DemoResult:
    """Run the demo with the watchdog's own log warnings muted: the commentary says it all."""
    # Imported here, like every heavy module of the CLI: see watchdog/cli/__init__.py.
    from watchdog.demo import run_demo

    logger = logging.getLogger("watchdog")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return run_demo(folder, pace=0.0 if fast else WEEK_SECONDS, stream=sys.stdout,
                        language=language, listen=listen)  # fmt: skip
    finally:
        logger.setLevel(level)


def free_port(host: str, wanted: int) -> int:
    """Return ``wanted`` if nothing listens there, else a port the system picks as free."""
    for port in (wanted, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError(f"no free port on {host}")


def serve_dashboard(result: DemoResult, port: int, language: Language) -> None:
    """Serve the dashboard over the demo's database until Ctrl-C, its clock stopped at the week's end.

    The clock stays at the end of the demo week: with the real date, every
    case would have waited for months and the dashboard would tell a different story.
    """
    import uvicorn

    from watchdog.demo.shop import WEB_USER
    from watchdog.storage.engine import make_engine, session_factory
    from watchdog.web.app import create_app

    engine = make_engine(result.config.database.url)
    end: datetime = result.end
    app = create_app(result.config, session_factory(engine), clock=lambda: end)
    url = f"http://{HOST}:{port}/"
    typer.echo(
        "\n" + _SERVING[language].format(url=url, user=WEB_USER, password=result.web_password)
    )
    try:
        uvicorn.run(app, host=HOST, port=port, log_level="warning")
    finally:
        engine.dispose()
