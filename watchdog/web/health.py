"""GET /healthz: is the database reachable, is the scheduler alive, and did it tick lately?

No password: the answer names which check failed, in a few plain words, and
never a path, a URL or a customer's data, so a load balancer, a container
orchestrator or a person with curl can probe it::

    200 {"status": "ok", "checks": {"database": "ok", "scheduler": "running",
                                    "last_cycle": "40 s ago, expected every 1 min"}}
    503 {"status": "error", "error": "scheduler stopped", "checks": {...}}

The scheduler checks apply only when a daemon attached its scheduler to the
app's telemetry (``watchdog run``). An app served without one (``watchdog
demo``, an app built for tests of the webhook) has nothing scheduled to
judge: its ``scheduler`` check says so and does not fail.

"Lately" is generous: a tick may run long (a backlog after downtime) or the
machine may be busy, so a cycle is late only after ``STALE_FACTOR`` times
``[daemon] tick_every``, and never before ``STALE_FLOOR``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from watchdog.storage.engine import storage_error
from watchdog.telemetry import Pulse
from watchdog.web.context import WebContext, web_context

log = logging.getLogger(__name__)
router = APIRouter()

OK = "ok"
STALE_FACTOR = 5
STALE_FLOOR = timedelta(minutes=2)
NO_SCHEDULER = "none in this process"


@dataclass
class Health:
    """Each check's name and its result: ``OK`` or what is wrong; ``problems`` fail the probe."""

    checks: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def passed(self, name: str, detail: str = OK) -> None:
        self.checks[name] = detail

    def failed(self, name: str, problem: str) -> None:
        self.checks[name] = problem
        self.problems.append(problem)

    def body(self) -> dict[str, object]:
        """Return the JSON answer: ``status``, ``error`` when failing, and every check."""
        if not self.problems:
            return {"status": "ok", "checks": self.checks}
        return {"status": "error", "error": "; ".join(self.problems), "checks": self.checks}


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """Answer 200 when every check passes, else 503 saying which failed."""
    health = await run_in_threadpool(check_health, web_context(request))
    return JSONResponse(health.body(), status_code=503 if health.problems else 200)


def check_health(ctx: WebContext) -> Health:
    """Run every check, in the order a person would look: database, scheduler, last cycle."""
    health = Health()
    if database_answers(ctx):
        health.passed("database")
    else:
        health.failed("database", "database unavailable")
    pulse = ctx.telemetry.heartbeat.pulse()
    if pulse is None:
        health.passed("scheduler", NO_SCHEDULER)
    else:
        judge_scheduler(health, pulse, ctx.clock())
    return health


def judge_scheduler(health: Health, pulse: Pulse, now: datetime) -> None:
    """Add the ``scheduler`` and ``last_cycle`` checks of a daemon's ``pulse`` at ``now``."""
    if pulse.running:
        health.passed("scheduler", "running")
    else:
        health.failed("scheduler", "scheduler stopped")
    ago = pulse.since_tick(now)
    what = "last cycle" if pulse.last_tick is not None else "no cycle yet, started"
    detail = f"{what} {span(ago)} ago, expected every {span(pulse.every)}"
    if ago > stale_after(pulse.every):
        health.failed("last_cycle", detail)
    else:
        health.passed("last_cycle", detail)


def stale_after(every: timedelta) -> timedelta:
    """Return how long after the last tick a daemon due ``every`` counts as stuck."""
    return max(every * STALE_FACTOR, STALE_FLOOR)


def span(value: timedelta) -> str:
    """Return a duration in the largest whole units that fit: "40 s", "25 min", "2 h 5 min"."""
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def database_answers(ctx: WebContext) -> bool:
    """Return True when ``SELECT 1`` succeeds; log why (password hidden) when it does not."""
    with ctx.sessions() as session:
        try:
            session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            log.warning(
                "health check: %s",
                storage_error(session.get_bind().engine.url, "cannot query", exc),
            )
            return False
    return True
