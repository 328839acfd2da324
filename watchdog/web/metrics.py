"""Prometheus metrics of the HTTP side, served at GET /metrics without a password.

They hold counts by form name and status code only, never a customer's data,
so a scraper needs no credentials (as is usual for /metrics); keep the
listener on a private address if even form names are sensitive. Each app has
its own registry, so tests that build many apps never clash over names.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest

from watchdog.web.context import web_context

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

    def render(self) -> bytes:
        """Return the Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Serve the counters in the Prometheus text format."""
    return Response(web_context(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)
