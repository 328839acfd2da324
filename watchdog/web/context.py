"""What every request handler needs, built once by ``create_app`` and kept on the app."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from fastapi import Request
from sqlalchemy.orm import Session

from watchdog.config import Config, FormConfig
from watchdog.telemetry import Telemetry

if TYPE_CHECKING:  # metrics.py imports this module for its route
    from watchdog.web.metrics import Metrics
    from watchdog.web.writer import FormWriter

#: Returns the current time as an aware UTC datetime; tests pass a fixed one.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class WebContext:
    """The config, the database and the clock, shared by all handlers of one app.

    ``sessions`` opens a new session: each request uses its own and closes it.
    ``forms`` are the configured forms by name, the ``{form}`` of their webhook URL.
    ``writer`` stores the webhooks' submissions, in groups (see ``writer``).
    ``telemetry`` is the serving daemon's (poll timings, scheduler heartbeat), or an empty one.
    """

    config: Config
    sessions: Callable[[], Session]
    clock: Clock
    metrics: Metrics
    forms: Mapping[str, FormConfig]
    writer: FormWriter
    telemetry: Telemetry


def web_context(request: Request) -> WebContext:
    """Return the context ``create_app`` stored on the application."""
    return cast(WebContext, request.app.state.watchdog)
