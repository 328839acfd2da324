"""``watchdog run``: the daemon (scheduler and HTTP side), or one full cycle with ``--once``."""

from __future__ import annotations

import logging
import signal
import threading
from typing import TYPE_CHECKING, Annotated

import typer

from watchdog.cli.common import load_or_exit, open_database, parse_now
from watchdog.cli.exits import RET_OK

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from watchdog.config import Config
    from watchdog.cycle import CycleReport
    from watchdog.telemetry import Telemetry

log = logging.getLogger("watchdog")


def run_command(
    ctx: typer.Context,
    once: Annotated[
        bool,
        typer.Option("--once", help="Run one full cycle (poll, track, escalate, send) and exit."),
    ] = False,
    now: Annotated[
        str | None,
        typer.Option(
            "--now", help="With --once: the ISO 8601 time the cycle runs at (tests, replays)."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info or warning.")] = "info",
) -> None:
    """Watch every source: poll, track, escalate, send the digest, serve the HTTP endpoints."""
    _setup_logging(log_level)
    config = load_or_exit(ctx)
    sessions = open_database(config)
    if once:
        # Imported here, like every heavy module of the CLI: see watchdog/cli/__init__.py.
        from watchdog.cycle import run_cycle

        report = run_cycle(sessions, config, parse_now(now))
        typer.echo(_summary(report))
        raise typer.Exit(RET_OK)
    from watchdog.daemon import Daemon

    stop = _catch_stop_signals()
    daemon = Daemon(config, sessions)
    daemon.start()
    try:
        if config.web:
            _serve(config, sessions, daemon.telemetry)
        else:
            stop.wait()
    finally:
        daemon.stop()


def _serve(config: Config, sessions: sessionmaker[Session], telemetry: Telemetry) -> None:
    """Serve the HTTP side until SIGTERM or Ctrl-C (uvicorn handles both).

    ``telemetry`` is the daemon's: /metrics shows its polls, /healthz its scheduler.
    """
    import uvicorn

    from watchdog.web.app import create_app

    assert config.web is not None
    app = create_app(config, sessions, telemetry=telemetry)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host=config.web.listen.host, port=config.web.listen.port,
            log_level="warning", access_log=False,
        )
    )  # fmt: skip
    log.info("serving http://%s:%d", config.web.listen.host, config.web.listen.port)
    server.run()


def _catch_stop_signals() -> threading.Event:
    """Turn SIGTERM and Ctrl-C into an event, so the daemon always gets to stop cleanly.

    uvicorn catches both while it serves, and when it has shut down it restores
    the previous handler and raises the signal again; with Python's default
    handler that would kill the process before the scheduler finished the send
    in flight and gave the lease up.
    """
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _summary(report: CycleReport) -> str:
    new = sum(poll.new for poll in report.polls) + sum(pull.stored for pull in report.pulls)
    failed = [p.source for p in report.polls if p.error] + [p.form for p in report.pulls if p.error]
    track = report.tick.track
    lines = [
        f"sources: {len(report.polls)} mailbox(es), {len(report.pulls)} form API(s); {new} new message(s)",
        f"cases: {len(track.opened)} opened, {len(track.answered)} answered",
        f"escalations: {len(report.tick.escalations.recorded)} step(s) reached",
        f"notifications sent: {report.sent}",
    ]
    if report.tick.digest is not None:
        lines.append(f"digest for {report.tick.digest.day}: {report.tick.digest.status}")
    if failed:
        lines.append(f"unreachable: {', '.join(failed)} (see watchdog doctor)")
    return "\n".join(lines)


def _setup_logging(level: str) -> None:
    """One line per event that matters; message bodies only at debug level."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if level.lower() != "debug":
        # APScheduler logs every run of every job at INFO: noise, not events.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
