"""Prometheus metrics, served at GET /metrics without a password.

Three kinds, each kept where it is true:

- the HTTP side's counters (webhook requests, stored submissions), in a
  registry of the app's own (``Metrics``), so tests that build many apps never
  clash over names;
- the state of the work (messages by source and category, open and overdue
  cases by source, notifications by kind and outcome, the outbox's backlog,
  open alarms, each source's last good poll), counted in the database at each
  scrape with a few aggregate queries and never kept in memory: it is right
  even when another process did the work (``WorkState``);
- what only the working process knows: poll durations and errors, the
  scheduler's last tick (``watchdog.telemetry``; empty without a daemon).

Labels are configured names (sources, forms) and fixed sets (categories,
notification kinds and statuses, HTTP codes), never a customer's data, so a
scraper needs no credentials (as is usual for /metrics); keep the listener
on a private address if even source names are sensitive. When the database
does not answer, the state is left out (and the error logged) while the
rest is still served.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from watchdog.classify.model import CATEGORIES
from watchdog.config import Config
from watchdog.notify.outbox import count_in_doubt
from watchdog.storage.engine import storage_error
from watchdog.storage.models import (
    OUTBOX_KINDS,
    OUTBOX_STATUSES,
    Alarm,
    Case,
    Classification,
    Message,
    Outbox,
    Source,
)
from watchdog.web.context import WebContext, web_context

log = logging.getLogger(__name__)

#: The ``form`` label of requests to a form that is not configured: one series, not one per guess.
UNKNOWN_FORM = "(unknown)"

router = APIRouter()


class Metrics:
    """The HTTP side's counters, in a registry of their own."""

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

    def render(self, *more: Collector | None) -> bytes:
        """Return the Prometheus text exposition of the counters, then of each of ``more``."""
        parts = (self.registry, *more)
        return b"".join(generate_latest(part) for part in parts if part is not None)


Labels = tuple[str, ...]


@dataclass(frozen=True)
class WorkState:
    """Counts read from the database at one scrape; ``collect`` makes them gauges.

    Every configured source, category, notification kind and status has its
    series, at 0 when there is nothing, so a graph or an alert never sees a
    gap where there is only quiet.
    """

    messages: Mapping[Labels, int]  # (source, category)
    cases_open: Mapping[Labels, int]  # (source,)
    cases_overdue: Mapping[Labels, int]  # (source,)
    notifications: Mapping[Labels, int]  # (kind, status)
    last_ok: Mapping[Labels, datetime]  # (source,): only sources polled well at least once
    alarms_open: int
    outbox_pending: int
    outbox_oldest_pending_seconds: float
    notifications_in_doubt_total: int

    def collect(self) -> Iterator[Metric]:
        """Yield one gauge family per field (a prometheus_client Collector)."""
        source, category, kind, status = ["source"], ["category"], ["kind"], ["status"]
        yield _family("messages_ingested", source + category, self.messages)
        yield _family("cases_open", source, self.cases_open)
        yield _family("cases_overdue", source, self.cases_overdue)
        yield _family("notifications", kind + status, self.notifications)
        last_ok = {labels: at.timestamp() for labels, at in self.last_ok.items()}
        yield _family("source_last_ok_timestamp_seconds", source, last_ok)
        for name in ("alarms_open", "outbox_pending", "outbox_oldest_pending_seconds",
                     "notifications_in_doubt_total"):  # fmt: skip
            yield GaugeMetricFamily(f"watchdog_{name}", _HELP[name], value=getattr(self, name))


_HELP = {
    "messages_ingested": "Messages stored (mail and form submissions), by source and category.",
    "cases_open": "Cases waiting for a human answer, by source.",
    "cases_overdue": "Open cases whose first-response deadline has passed, by source.",
    "notifications": (
        "Notifications (escalation, digest, alarm) by the state of their outbox row: "
        "pending, sending, sent, failed."
    ),
    "source_last_ok_timestamp_seconds": (
        "When a source was last polled without error, Unix time (webhook-only forms have none)."
    ),
    "alarms_open": "Alarms not yet cleared.",
    "outbox_pending": "Notifications waiting to be sent (or retried): the outbox's backlog.",
    "outbox_oldest_pending_seconds": "Age of the oldest notification still waiting; 0 if none.",
    "notifications_in_doubt_total": (
        "Notifications resent after a crash left them in doubt (possible duplicates)."
    ),
}


def _family(name: str, labels: Sequence[str], values: Mapping[Labels, float]) -> Metric:
    family = GaugeMetricFamily(f"watchdog_{name}", _HELP[name], labels=labels)
    for key in sorted(values):
        family.add_metric(key, values[key])
    return family


def read_work_state(ctx: WebContext) -> WorkState | None:
    """Count the work's state at the app's clock; None (and a log line) when the database fails."""
    now = ctx.clock()
    with ctx.sessions() as session:
        try:
            return _read(session, ctx.config, now)
        except SQLAlchemyError as exc:
            url = session.get_bind().engine.url
            log.warning("metrics: %s", storage_error(url, "cannot query", exc))
            return None


def _read(session: Session, config: Config, now: datetime) -> WorkState:
    sources = _source_names(session, config)
    cases_open, cases_overdue = _cases(session, sources, now)
    oldest = session.scalar(select(func.min(Outbox.created_at)).where(Outbox.status == "pending"))
    return WorkState(
        messages=_messages(session, sources),
        cases_open=cases_open,
        cases_overdue=cases_overdue,
        notifications=_notifications(session),
        last_ok={
            (name,): at
            for name, at in session.execute(select(Source.name, Source.last_ok_at))
            if at is not None
        },
        alarms_open=_count(session, Alarm, Alarm.cleared_at.is_(None)),
        outbox_pending=_count(session, Outbox, Outbox.status == "pending"),
        outbox_oldest_pending_seconds=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        notifications_in_doubt_total=count_in_doubt(session),
    )


def _source_names(session: Session, config: Config) -> list[str]:
    """The configured sources, and any the database still has from an earlier config."""
    configured = [mailbox.name for mailbox in config.mailboxes]
    configured += [form.name for form in config.forms]
    return sorted({*configured, *session.scalars(select(Source.name))})


def _messages(session: Session, sources: Sequence[str]) -> dict[Labels, int]:
    counts: dict[Labels, int] = {(name, cat): 0 for name in sources for cat in CATEGORIES}
    query = (
        select(Source.name, Classification.category, func.count())
        .select_from(Message)
        .join(Source, Message.source_id == Source.id)
        .join(Classification, Classification.message_id == Message.id)
        .group_by(Source.name, Classification.category)
    )
    for name, category, count in session.execute(query):
        counts[(name, category)] = int(count)
    return counts


def _cases(
    session: Session, sources: Sequence[str], now: datetime
) -> tuple[dict[Labels, int], dict[Labels, int]]:
    """Return the open and the overdue cases by source, in one query."""
    opened: dict[Labels, int] = {(name,): 0 for name in sources}
    overdue = dict(opened)
    query = (
        select(Source.name, func.count(), func.count().filter(Case.deadline_at < now))
        .select_from(Case)
        .join(Source, Case.source_id == Source.id)
        .where(Case.state == "open")
        .group_by(Source.name)
    )
    for name, total, late in session.execute(query):
        opened[(name,)], overdue[(name,)] = int(total), int(late)
    return opened, overdue


def _notifications(session: Session) -> dict[Labels, int]:
    counts: dict[Labels, int] = {(k, s): 0 for k in OUTBOX_KINDS for s in OUTBOX_STATUSES}
    query = select(Outbox.kind, Outbox.status, func.count()).group_by(Outbox.kind, Outbox.status)
    for kind, status, count in session.execute(query):
        counts[(kind, status)] = int(count)
    return counts


def _count(session: Session, model: type[Alarm | Outbox], *where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Serve the counters, the work's state and this process's telemetry (Prometheus text)."""
    ctx = web_context(request)
    state = await run_in_threadpool(read_work_state, ctx)
    body = ctx.metrics.render(state, ctx.telemetry.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
