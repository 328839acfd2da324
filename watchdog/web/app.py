"""The FastAPI application: ``create_app(config, session_factory, clock=...)``.

The factory wires the routers to one ``WebContext`` (config, sessions, clock,
metrics) and touches neither the database nor the network, so the daemon,
``watchdog demo``, the tests and the benchmark all build the app the same way
and decide themselves how to serve it.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy.orm import Session

from watchdog import __version__
from watchdog.config import Config
from watchdog.telemetry import Telemetry
from watchdog.web import health, hooks, metrics
from watchdog.web.context import Clock, WebContext, utc_now
from watchdog.web.dashboard import install_dashboard
from watchdog.web.metrics import Metrics
from watchdog.web.writer import FormWriter


def create_app(
    config: Config,
    session_factory: Callable[[], Session],
    *,
    clock: Clock = utc_now,
    telemetry: Telemetry | None = None,
) -> FastAPI:
    """Return the app serving /hooks/{form}, /healthz, /metrics and the dashboard (``dashboard``).

    ``session_factory`` opens a database session (``storage.engine.session_factory``);
    ``clock`` returns the current time as an aware UTC datetime; ``telemetry`` is
    the serving daemon's (``Daemon.telemetry``), so /metrics shows its polls and
    /healthz judges its scheduler; without it, neither has a scheduler to report.
    """
    app = FastAPI(
        title="inbox-watchdog",
        version=__version__,
        docs_url=None,  # no public API browser: the only API is the webhook
        redoc_url=None,
        openapi_url=None,
    )
    app.state.watchdog = WebContext(
        config=config,
        sessions=session_factory,
        clock=clock,
        metrics=Metrics(form.name for form in config.forms),
        forms={form.name: form for form in config.forms},
        writer=FormWriter(session_factory),
        telemetry=telemetry or Telemetry(),
    )
    for module in (hooks, health, metrics):
        app.include_router(module.router)
    install_dashboard(app)  # the owner's pages, behind a login
    return app
