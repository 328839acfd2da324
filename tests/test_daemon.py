"""`watchdog run` as a real process: it serves, polls, escalates, stops cleanly, and shares a database.

The daemon runs on the wall clock, so the shop here works around the clock
and its deadline is one minute: a request that arrived ten minutes ago is
overdue at the first tick. Waiting for the daemon is a bounded poll of what
it has done (a row, a received e-mail), never a fixed sleep.

The last tests run the Daemon class in this process, with the app it serves
and one clock the test moves: /healthz must notice a stopped scheduler and
one that has not ticked for too long.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.fixtures.configs import RELAY
from tests.fixtures.dovecot import PASSWORD, DovecotServer, MailUser
from tests.fixtures.smtp import SmtpServer, running_smtp_server
from tests.test_web_hooks import Client, Clock, load
from tests.test_web_metrics import Scrape, scrape
from watchdog.daemon import Daemon
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Case, Lease, Outbox
from watchdog.web.app import create_app

CONFIG = (
    """
[database]
url = "sqlite:///{db}"
"""
    + RELAY
    + """
[sla]
first_response = "1m"
working_hours = "00:00-24:00"
working_days = "mon-sun"
holidays = "none"

[[escalation.step]]
after = "100%"
notify = "owner"

[daemon]
tick_every = "1s"
send_every = "1s"

[[mailbox]]
name = "orders"
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "{user}"
password_env = "WATCHDOG_TEST_PASSWORD"
poll_every = "2s"

[web]
listen = "127.0.0.1:{web_port}"
password_env = "WATCHDOG_TEST_PASSWORD"
"""
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Poll ``condition`` until it holds; fail saying ``what`` never happened."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)


class Shop:
    """A mailbox with one waiting customer, a relay, and the database daemons share."""

    def __init__(self, dovecot: DovecotServer, smtp: SmtpServer, folder: Path) -> None:
        self.user = MailUser(dovecot, dovecot.new_user("daemon"), PASSWORD)
        self.user.create_folder("Sent", special_use="\\Sent")
        raw = (
            f"From: Ольга <olga@mail.ru>\r\nTo: {self.user.address}\r\nSubject: Заказ 77\r\n"
            "Message-ID: <d1@mail.ru>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Здравствуйте! Где мой заказ 77?\r\n"
        ).encode()
        self.user.append("INBOX", raw, internal_date=datetime.now(UTC) - timedelta(minutes=10))
        self.folder, self.smtp, self.dovecot = folder, smtp, dovecot
        self.db = folder / "w.db"
        self.env = {**os.environ, "WATCHDOG_TEST_PASSWORD": PASSWORD}
        self.engine = make_engine(f"sqlite:///{self.db}")

    def start(self) -> tuple[subprocess.Popen[bytes], int]:
        port = free_port()
        config = self.folder / f"watchdog-{port}.toml"
        config.write_text(
            CONFIG.format(
                db=self.db, smtp_port=self.smtp.port, imap_port=self.dovecot.port,
                user=self.user.address, web_port=port,
            ),
            encoding="utf-8",
        )  # fmt: skip
        command = [sys.executable, "-m", "watchdog", "--config", str(config), "run"]
        log = (self.folder / f"daemon-{port}.log").open("wb")
        process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for(lambda: _healthy(port), f"the daemon on port {port} answering /healthz")
        return process, port

    def count(self, model: type[Case | Outbox | Lease]) -> int:
        with session_factory(self.engine)() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    def all_sent(self) -> bool:
        with session_factory(self.engine)() as session:
            statuses = session.scalars(select(Outbox.status)).all()
        return bool(statuses) and set(statuses) == {"sent"}


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)


@pytest.fixture
def shop(dovecot: DovecotServer, tmp_path: Path) -> Iterator[Shop]:
    dovecot.start()
    with running_smtp_server() as smtp:
        shop = Shop(dovecot, smtp, tmp_path)
        yield shop
        shop.engine.dispose()


def test_the_daemon_polls_escalates_and_stops_cleanly_on_sigterm(shop: Shop) -> None:
    process, port = shop.start()
    try:
        wait_for(lambda: shop.count(Case) == 1, "the waiting customer's case opening")
        wait_for(shop.all_sent, "the owner's escalation e-mail being sent")
        metrics = Scrape(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
    finally:
        code = stop(process)

    assert code == 0
    assert metrics("watchdog_poll_duration_seconds_count", source="orders") >= 1
    assert metrics("watchdog_poll_errors_total", source="orders") == 0
    assert metrics("watchdog_notifications", kind="escalation", status="sent") == 1
    assert metrics("watchdog_scheduler_running") == 1
    assert [m.rcpt_tos for m in shop.smtp.messages] == [["owner@shop.test"]]
    assert shop.count(Lease) == 0, "a clean stop gives the lease up"


def test_two_daemons_on_one_database_send_each_notification_once(shop: Shop) -> None:
    first, _ = shop.start()
    second, _ = shop.start()
    try:
        wait_for(shop.all_sent, "the escalation e-mail being sent")
        holders = shop.count(Lease)
    finally:
        codes = [stop(first), stop(second)]

    delivered = Counter(m.message["Message-ID"] for m in shop.smtp.messages)
    assert codes == [0, 0]
    assert holders == 1
    assert sum(delivered.values()) == 1


# --- the daemon in process: /healthz and /metrics see its scheduler ---------------------------

IN_PROCESS = """
[database]
url = "sqlite:///{db}"

[owner]
email = "owner@shop.test"

[smtp]
host = "127.0.0.1"
security = "none"
from = "watchdog@shop.test"

[daemon]
tick_every = "1h"
send_every = "1h"

[digest]
enabled = false

[web]
password_env = "WEB_PASSWORD"

[[form]]
name = "contact"
preset = "tilda"
token_env = "FORM_TOKEN"
"""
STARTED = datetime(2025, 11, 10, 7, 0, tzinfo=UTC)


class Served:
    """A real Daemon, its scheduler started in this process, and the app it would serve.

    Both read one clock the test moves; the scheduler's own timers run on
    the wall clock, but at one tick an hour only the tick at start comes.
    """

    def __init__(self, tmp_path: Path) -> None:
        self.config = load(tmp_path, IN_PROCESS.format(db=tmp_path / "w.db"))
        upgrade(self.config.database.url)
        self.engine = make_engine(self.config.database.url)
        sessions = session_factory(self.engine)
        self.clock = Clock(STARTED)
        self.daemon = Daemon(self.config, sessions, clock=self.clock)
        app = create_app(self.config, sessions, clock=self.clock, telemetry=self.daemon.telemetry)
        self.client = Client(app)

    def ticked(self) -> bool:
        pulse = self.daemon.telemetry.heartbeat.pulse()
        return pulse is not None and pulse.last_tick is not None


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    served = Served(tmp_path)
    yield served
    served.daemon.stop()  # a no-op if the test stopped it
    served.engine.dispose()


def test_healthz_turns_503_when_the_daemons_scheduler_stops(served: Served) -> None:
    served.daemon.start()
    wait_for(served.ticked, "the daemon's first tick")
    running = served.client.get("/healthz")
    running_metrics = scrape(served.client)
    served.daemon.stop()

    stopped = served.client.get("/healthz")

    assert running.status_code == 200, running.text
    assert running.json()["checks"] == {
        "database": "ok",
        "scheduler": "running",
        "last_cycle": "last cycle 0 s ago, expected every 1 h",
    }
    assert running_metrics("watchdog_scheduler_running") == 1
    assert running_metrics("watchdog_scheduler_last_tick_timestamp_seconds") == STARTED.timestamp()
    assert stopped.status_code == 503
    assert stopped.json()["error"] == "scheduler stopped"
    assert scrape(served.client)("watchdog_scheduler_running") == 0


def test_healthz_turns_503_when_the_daemon_has_not_ticked_for_too_long(served: Served) -> None:
    served.daemon.start()
    wait_for(served.ticked, "the daemon's first tick")
    served.clock.now += timedelta(hours=5)
    late_but_allowed = served.client.get("/healthz").status_code
    served.clock.now += timedelta(hours=1)

    stuck = served.client.get("/healthz")

    assert late_but_allowed == 200
    assert stuck.status_code == 503
    assert stuck.json()["error"] == "last cycle 6 h ago, expected every 1 h"
