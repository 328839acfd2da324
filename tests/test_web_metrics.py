"""GET /metrics: read back with prometheus-client's own parser, against what the pipeline did.

The shop here has a good mailbox, one whose password is wrong, and a site
form; mail arrives on the real Dovecot, escalations go through the real
aiosmtpd relay (which refuses one of them), and two full cycles run. The
state (messages, cases, notifications, last good poll) is counted in the
database at scrape time; the poll timings come from the cycle's telemetry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.configs import RELAY
from tests.fixtures.dovecot import MailUser
from tests.fixtures.smtp import SmtpServer
from tests.test_web_hooks import Client, Clock, load
from watchdog.alarms import SOURCE_SILENT, raise_alarm
from watchdog.classify.model import CATEGORIES
from watchdog.config import Config, load_config
from watchdog.cycle import CycleReport, run_cycle
from watchdog.notify.outbox import IN_DOUBT, NOTIFICATION_FAILED
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Outbox
from watchdog.telemetry import Telemetry
from watchdog.web.app import create_app

T0 = datetime(2025, 11, 10, 7, 0, tzinfo=UTC)
TOKEN = "form-token-for-metrics"

CONFIG = (
    """"""
    + RELAY
    + """
[sla]
first_response = "1h"
working_hours = "00:00-24:00"
working_days = "mon-sun"
holidays = "none"

[[escalation.step]]
after = "100%"
notify = "team"

[alarms]
unreachable_after = "1d"

[digest]
enabled = false

[[mailbox]]
name = "orders"
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "{user}"
password_env = "WATCHDOG_TEST_PASSWORD"
team = ["anna@shop.test"]

[[mailbox]]
name = "hello"
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "{user}"
password_env = "WATCHDOG_TEST_WRONG_PASSWORD"

[[form]]
name = "site"
preset = "tilda"
token_env = "WATCHDOG_TEST_FORM_TOKEN"
team = ["boris@shop.test"]
"""
)


class Scrape:
    """One /metrics answer, parsed by prometheus-client; samples looked up by name and labels."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                self.samples[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def __call__(self, name: str, **labels: str) -> float:
        return self.samples[(name, frozenset(labels.items()))]

    def has(self, name: str, **labels: str) -> bool:
        return (name, frozenset(labels.items())) in self.samples

    def label_values(self, name: str, label: str) -> set[str]:
        return {dict(labels)[label] for (sample, labels) in self.samples if sample == name}


def mail(sender: str, to: str, subject: str, msgid: str, body: str, *extra: str) -> bytes:
    """Return a plain-text mail as a mailbox would hold it."""
    head = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Message-ID: <{msgid}>",
            "Date: Mon, 10 Nov 2025 10:00:00 +0300", "Content-Type: text/plain; charset=utf-8",
            *extra]  # fmt: skip
    return ("\r\n".join(head) + "\r\n\r\n" + body + "\r\n").encode()


def scrape(client: Client) -> Scrape:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return Scrape(response.text)


@dataclass
class Shop:
    config: Config
    sessions: sessionmaker[Session]
    clock: Clock
    client: Client
    telemetry: Telemetry
    smtp: SmtpServer

    def cycle(self, at: datetime) -> CycleReport:
        self.clock.now = at
        return run_cycle(self.sessions, self.config, at, telemetry=self.telemetry)


@pytest.fixture
def shop(
    db_url: str, mailbox_user: MailUser, smtp_server: SmtpServer, tmp_path: Path
) -> Iterator[Shop]:
    path = tmp_path / "watchdog.toml"
    path.write_text(
        CONFIG.format(
            smtp_port=smtp_server.port, imap_port=mailbox_user.server.port,
            user=mailbox_user.address,
        ),
        encoding="utf-8",
    )  # fmt: skip
    config = load_config(
        path,
        environ={
            "WATCHDOG_TEST_PASSWORD": mailbox_user.password,
            "WATCHDOG_TEST_WRONG_PASSWORD": "not-the-password",
            "WATCHDOG_TEST_FORM_TOKEN": TOKEN,
        },
    )
    upgrade(db_url)
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    clock, telemetry = Clock(T0), Telemetry.for_config(config)
    app = create_app(config, sessions, clock=clock, telemetry=telemetry)
    yield Shop(config, sessions, clock, Client(app), telemetry, smtp_server)
    engine.dispose()


def test_metrics_parse_and_match_what_the_pipeline_did(shop: Shop, mailbox_user: MailUser) -> None:
    question = mail("Ольга <olga@mail.ru>", mailbox_user.address, "Заказ 5521", "q1@mail.ru",
                    "Здравствуйте! Где мой заказ 5521?")  # fmt: skip
    newsletter = mail("Brand <news@brand.test>", mailbox_user.address, "Скидки", "n1@brand.test",
                      "Скидки недели!", "List-Id: <news.brand.test>")  # fmt: skip
    mailbox_user.append("INBOX", question, internal_date=T0)
    mailbox_user.append("INBOX", newsletter, internal_date=T0)
    posted = shop.client.post(
        "/hooks/site",
        data={"Name": "Мария", "Email": "maria@yandex.ru", "Comments": "Есть ли доставка?"},
        headers={"X-Watchdog-Token": TOKEN},
    )
    assert posted.status_code == 200, posted.text
    first = shop.cycle(T0 + timedelta(minutes=5))
    shop.smtp.respond_with(550, "No such user", at="RCPT", times=1)
    second = shop.cycle(T0 + timedelta(hours=2))  # both deadlines (T0 + 1 h) have passed

    metrics = scrape(shop.client)

    assert [(p.source, p.new, p.ok) for p in first.polls] == [
        ("orders", 2, True), ("hello", 0, False),
    ]  # fmt: skip
    got = {
        (source, category): metrics("watchdog_messages_ingested", source=source, category=category)
        for source in ("orders", "hello", "site")
        for category in CATEGORIES
    }
    assert {key: value for key, value in got.items() if value} == {
        ("orders", "customer"): 1, ("orders", "bulk"): 1, ("site", "form"): 1,
    }  # fmt: skip
    for source in ("orders", "site"):
        assert metrics("watchdog_cases_open", source=source) == 1
        assert metrics("watchdog_cases_overdue", source=source) == 1
    assert metrics("watchdog_cases_open", source="hello") == 0
    assert len(second.tick.escalations.recorded) == 2
    assert metrics("watchdog_notifications", kind="escalation", status="sent") == 1
    assert metrics("watchdog_notifications", kind="escalation", status="failed") == 1
    assert len(shop.smtp.messages) == 1
    assert metrics("watchdog_alarms_open") == 1  # the refused escalation is itself an alarm
    assert metrics("watchdog_outbox_pending") == 0
    assert (
        metrics("watchdog_source_last_ok_timestamp_seconds", source="orders")
        == (T0 + timedelta(hours=2)).timestamp()
    )
    assert not metrics.has("watchdog_source_last_ok_timestamp_seconds", source="hello")
    assert metrics("watchdog_poll_duration_seconds_count", source="orders") == 2
    assert metrics("watchdog_poll_duration_seconds_count", source="hello") == 2
    assert metrics("watchdog_poll_duration_seconds_sum", source="orders") > 0
    assert metrics("watchdog_poll_errors_total", source="orders") == 0
    assert metrics("watchdog_poll_errors_total", source="hello") == 2
    assert metrics("watchdog_webhook_requests_total", form="site", status="200") == 1
    assert metrics("watchdog_messages_stored_total", form="site") == 1
    assert metrics.label_values("watchdog_poll_errors_total", "source") == {"orders", "hello"}
    for private in ("olga", "Ольга", "maria", "Мария", "5521", mailbox_user.address):
        assert private not in metrics.text


# --- the database's state without the pipeline ----------------------------------------------


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    upgrade(db_url)
    engine = make_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


def test_metrics_on_an_empty_database_show_every_series_at_zero(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    config = load(tmp_path)  # four forms, no mailbox, no daemon
    metrics = scrape(Client(create_app(config, sessions, clock=lambda: T0)))

    forms = {form.name for form in config.forms}
    assert metrics.label_values("watchdog_messages_ingested", "source") == forms
    assert metrics.label_values("watchdog_messages_ingested", "category") == set(CATEGORIES)
    assert metrics.label_values("watchdog_cases_overdue", "source") == forms
    values = [v for (name, _), v in metrics.samples.items() if not name.endswith("_created")]
    assert not any(values)
    assert not metrics.has("watchdog_poll_errors_total", source="contact")  # nothing polls here
    assert not metrics.has("watchdog_scheduler_running")  # and no daemon runs


def test_metrics_count_the_outbox_and_alarms_at_scrape_time(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session:
        for key in ("1", "2"):
            raise_alarm(session, kind=NOTIFICATION_FAILED, key=key, now=T0)
        cleared = raise_alarm(session, kind=SOURCE_SILENT, key="x", now=T0)
        assert cleared is not None
        cleared.cleared_at = T0
        rows = [
            ("digest", "pending", None, timedelta(minutes=30)),
            ("alarm", "pending", "timeout", timedelta(minutes=10)),
            ("escalation", "sent", f"{IN_DOUBT}: resent", timedelta(hours=3)),
            ("escalation", "failed", "550", timedelta(hours=3)),
        ]
        for n, (kind, status, error, age) in enumerate(rows):
            session.add(Outbox(kind=kind, channel="email", recipient="owner@shop.test",
                               message_id_header=f"<{n}@watchdog>", status=status, last_error=error,
                               next_attempt_at=T0, created_at=T0 - age))  # fmt: skip
        session.commit()
        in_database = int(session.scalar(select(func.count()).select_from(Outbox)) or 0)

    metrics = scrape(Client(create_app(load(tmp_path), sessions, clock=lambda: T0)))

    assert metrics("watchdog_alarms_open") == 2
    assert metrics("watchdog_outbox_pending") == 2
    assert metrics("watchdog_outbox_oldest_pending_seconds") == 30 * 60
    assert metrics("watchdog_notifications_in_doubt_total") == 1
    assert metrics("watchdog_notifications", kind="digest", status="pending") == 1
    assert metrics("watchdog_notifications", kind="escalation", status="sent") == 1
    assert metrics("watchdog_notifications", kind="escalation", status="failed") == 1
    assert (
        sum(
            value
            for (name, _), value in metrics.samples.items()
            if name == "watchdog_notifications"
        )
        == in_database
    )


def test_metrics_still_serve_the_counters_when_the_database_is_down(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'watchdog.db'}")
    client = Client(create_app(load(tmp_path), sessionmaker(engine)))

    metrics = scrape(client)

    assert metrics("watchdog_messages_stored_total", form="contact") == 0
    assert not metrics.has("watchdog_outbox_pending")
    assert "missing" not in metrics.text
    engine.dispose()
