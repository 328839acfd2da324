"""Prometheus metrics, served at GET /metrics without a password.

The HTTP side's counters live in a registry of the app's own, so tests that
build many apps never clash over names. The state of the work (open and
overdue cases, open alarms, pending and in-doubt notifications) is counted in
the database at each scrape, with a few aggregate queries, and never kept in
memory: it is right even when another process did the work.

They hold counts by form name and status code only, never a customer's data,
so a scraper needs no credentials (as is usual for /metrics); keep the
listener on a private address if even form names are sensitive. When the
database does not answer, the state gauges are left out (and the error
logged) while the counters are still served.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from watchdog.notify.outbox import count_in_doubt
from watchdog.sla import sla_summary
from watchdog.storage.engine import storage_error
from watchdog.storage.models import Alarm, Outbox
from watchdog.web.context import WebContext, web_context

log = logging.getLogger(__name__)

#: The ``form`` label of requests to a form that is not configured: one series, not one per guess.
UNKNOWN_FORM = "(unknown)"

router = APIRouter()


class Metrics:
    """The counters, in a registry of their own."""

    def __init__(self, form_names: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry()
        self.webhook_requests = Counter(
            "watchdog_webhook_requests",
            "Webhook requests answered, by form and HTTP status.",
            ["form", "status"],
            registry=self.registry,
        )
        self.messages_stored = Counter(
            "watchdog_messages_stored",
            "Form submissions stored as messages (retries and test pings not counted).",
            ["form"],
            registry=self.registry,
        )
        for name in form_names:  # a form that never posted shows as 0, not as missing
            self.messages_stored.labels(form=name)

    def render(self, state: WorkState | None = None) -> bytes:
        """Return the Prometheus text exposition of the counters, and of ``state`` if given."""
        text = generate_latest(self.registry)
        return text if state is None else text + generate_latest(state)


@dataclass(frozen=True)
class WorkState:
    """Counts read from the database at one scrape; each field is one gauge (see HELP)."""

    cases_open: int
    cases_overdue: int
    alarms_open: int
    outbox_pending: int
    notifications_in_doubt_total: int

    def collect(self) -> Iterator[Metric]:
        """Yield one gauge per field, named ``watchdog_<field>`` (a prometheus_client Collector)."""
        for item in fields(self):
            name = item.name
            yield GaugeMetricFamily(f"watchdog_{name}", _HELP[name], value=getattr(self, name))


_HELP = {
    "cases_open": "Cases waiting for a human answer.",
    "cases_overdue": "Open cases whose first-response deadline has passed.",
    "alarms_open": "Alarms not yet cleared.",
    "outbox_pending": "Notifications waiting to be sent (or retried).",
    "notifications_in_doubt_total": (
        "Notifications resent after a crash left them in doubt (possible duplicates)."
    ),
}


def read_work_state(ctx: WebContext) -> WorkState | None:
    """Count the work's state at the app's clock; None (and a log line) when the database fails."""
    now = ctx.clock()
    alarms = select(func.count()).select_from(Alarm).where(Alarm.cleared_at.is_(None))
    pending = select(func.count()).select_from(Outbox).where(Outbox.status == "pending")
    with ctx.sessions() as session:
        try:
            summary = sla_summary(session, now)
            return WorkState(
                cases_open=summary.open,
                cases_overdue=summary.overdue,
                alarms_open=int(session.scalar(alarms) or 0),
                outbox_pending=int(session.scalar(pending) or 0),
                notifications_in_doubt_total=count_in_doubt(session),
            )
        except SQLAlchemyError as exc:
            url = session.get_bind().engine.url
            log.warning("metrics: %s", storage_error(url, "cannot query", exc))
            return None


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Serve the counters and the work's state in the Prometheus text format."""
    ctx = web_context(request)
    state = await run_in_threadpool(read_work_state, ctx)
    return Response(ctx.metrics.render(state), media_type=CONTENT_TYPE_LATEST)
