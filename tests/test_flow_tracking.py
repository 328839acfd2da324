"""End to end on the real Dovecot: mail arrives, is polled, tracked, and answered (or not).

Two watched mailboxes of one shop (orders@ and hello@, both on shop.test) and
a site form. Staff answer from either mailbox; the watchdog must see a human
reply from any of them, and must not take our autoreply or a forward between
colleagues for one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.dovecot import DovecotServer, MailUser
from watchdog.config import Config, load_config
from watchdog.cycle import run_cycle
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Case
from watchdog.web.app import create_app

MONDAY_10 = datetime(2025, 11, 10, 7, 0, tzinfo=UTC)  # Monday 10:00 in Moscow
TOKEN = "form-token-for-tests"

CONFIG = """
[database]
url = "sqlite:///{db}"

[owner]
email = "owner@shop.test"

[smtp]
host = "127.0.0.1"
security = "none"
from = "Watchdog <watchdog@shop.test>"

[sla]
first_response = "2h"
timezone = "Europe/Moscow"
working_hours = "09:00-18:00"
working_days = "mon-fri"
holidays = "RU"

[classify]
own_domains = ["shop.test"]

[[mailbox]]
name = "orders"
host = "127.0.0.1"
port = {port}
security = "none"
username = "{orders}"
password_env = "WATCHDOG_TEST_PASSWORD"
team = ["anna@shop.test"]

[[mailbox]]
name = "hello"
host = "127.0.0.1"
port = {port}
security = "none"
username = "{hello}"
password_env = "WATCHDOG_TEST_PASSWORD"
team = ["boris@shop.test"]

[[form]]
name = "site"
preset = "tilda"
token_env = "WATCHDOG_TEST_FORM_TOKEN"
"""


@dataclass
class Shop:
    """The shop's two mailboxes, its config and database, driven cycle by cycle."""

    orders: MailUser
    hello: MailUser
    config: Config
    sessions: sessionmaker[Session]

    def cycle(self, at: datetime) -> None:
        run_cycle(self.sessions, self.config, at)

    def cases(self) -> list[Case]:
        with self.sessions() as session:
            return list(session.scalars(select(Case).order_by(Case.id)))

    def post_form(self, body: dict[str, str], at: datetime) -> httpx.Response:
        app = create_app(self.config, self.sessions, clock=lambda: at)

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as c:
                return await c.post("/hooks/site", data=body, headers={"X-Watchdog-Token": TOKEN})

        return asyncio.run(send())


@pytest.fixture
def shop(
    dovecot: DovecotServer,
    mailbox_user: MailUser,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Shop]:
    hello = MailUser(dovecot, dovecot.new_user("hello"), mailbox_user.password)
    for user in (mailbox_user, hello):
        user.create_folder("Отправленные", special_use="\\Sent")
    monkeypatch.setenv("WATCHDOG_TEST_PASSWORD", mailbox_user.password)
    monkeypatch.setenv("WATCHDOG_TEST_FORM_TOKEN", TOKEN)
    path = tmp_path / "watchdog.toml"
    path.write_text(
        CONFIG.format(
            db=tmp_path / "w.db",
            port=dovecot.port,
            orders=mailbox_user.address,
            hello=hello.address,
        ),
        encoding="utf-8",
    )
    config = load_config(path)
    upgrade(config.database.url)
    engine = make_engine(config.database.url)
    yield Shop(mailbox_user, hello, config, session_factory(engine))
    engine.dispose()
    dovecot.kick(hello.address)


def mail(
    sender: str,
    to: str,
    subject: str,
    body: str,
    msgid: str,
    *,
    in_reply_to: str | None = None,
    extra: tuple[str, ...] = (),
) -> bytes:
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        "Date: Mon, 10 Nov 2025 10:00:00 +0300",
        f"Message-ID: <{msgid}>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        *extra,
    ]
    if in_reply_to:
        lines += [f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def question(shop: Shop, at: datetime, msgid: str = "q1@mail.ru") -> None:
    raw = mail(
        "Ольга Смирнова <olga@mail.ru>",
        shop.orders.address,
        "Заказ 5521: когда доставка?",
        "Здравствуйте! Оплатила заказ 5521 в пятницу, подскажите, когда доставка?",
        msgid,
    )
    shop.orders.append("INBOX", raw, internal_date=at)


def test_a_reply_in_another_mailboxs_sent_folder_answers_the_case(shop: Shop) -> None:
    question(shop, MONDAY_10)
    shop.cycle(MONDAY_10 + timedelta(minutes=5))
    reply = mail(
        f"Борис <{shop.hello.address}>",
        "olga@mail.ru",
        "Re: Заказ 5521: когда доставка?",
        "Ольга, добрый день! Доставим в среду.",
        "r1@shop.test",
        in_reply_to="q1@mail.ru",
    )
    shop.hello.append("Отправленные", reply, internal_date=MONDAY_10 + timedelta(minutes=30))

    shop.cycle(MONDAY_10 + timedelta(minutes=35))

    [case] = shop.cases()
    assert case.state == "answered"
    assert case.answered_at == MONDAY_10 + timedelta(minutes=30)
    assert case.deadline_at == MONDAY_10 + timedelta(hours=2)


def test_our_autoreply_does_not_answer_the_case(shop: Shop) -> None:
    question(shop, MONDAY_10)
    auto = mail(
        f"Магазин <{shop.orders.address}>",
        "olga@mail.ru",
        "Автоматический ответ: Заказ 5521: когда доставка?",
        "Спасибо за обращение! Мы ответим в течение рабочего дня.",
        "auto1@shop.test",
        in_reply_to="q1@mail.ru",
        extra=("Auto-Submitted: auto-replied",),
    )
    shop.orders.append("Отправленные", auto, internal_date=MONDAY_10 + timedelta(seconds=10))

    shop.cycle(MONDAY_10 + timedelta(minutes=5))

    [case] = shop.cases()
    assert case.state == "open"


def test_a_forward_to_a_colleague_does_not_answer_the_case(shop: Shop) -> None:
    question(shop, MONDAY_10)
    forward = mail(
        f"Анна <{shop.orders.address}>",
        "boris@shop.test",
        "Fwd: Заказ 5521: когда доставка?",
        "Борис, глянь, пожалуйста, что со складом.",
        "fwd1@shop.test",
        in_reply_to="q1@mail.ru",
    )
    shop.orders.append("Отправленные", forward, internal_date=MONDAY_10 + timedelta(minutes=3))

    shop.cycle(MONDAY_10 + timedelta(minutes=5))

    [case] = shop.cases()
    assert case.state == "open"


def test_a_form_submission_is_answered_by_a_reply_to_the_visitors_address(shop: Shop) -> None:
    posted = shop.post_form(
        {
            "Name": "Maria Ivanova",
            "Email": "maria@yandex.ru",
            "Phone": "8 (916) 123-45-67",
            "Comments": "Do you ship candles to Kazan?",
            "tranid": "7381652:2210834971",
        },
        MONDAY_10,
    )
    assert posted.status_code == 200, posted.text
    shop.cycle(MONDAY_10 + timedelta(minutes=1))
    answer = mail(
        f"Анна <{shop.orders.address}>",
        "maria@yandex.ru",
        "Shipping to Kazan",
        "Hello Maria, yes, we ship to Kazan via CDEK.",
        "r2@shop.test",
    )
    shop.orders.append("Отправленные", answer, internal_date=MONDAY_10 + timedelta(minutes=50))

    shop.cycle(MONDAY_10 + timedelta(hours=1))

    [case] = shop.cases()
    assert case.customer == "Maria Ivanova <maria@yandex.ru>"
    assert case.state == "answered"


def test_a_reply_without_in_reply_to_threads_by_address_and_subject(shop: Shop) -> None:
    question(shop, MONDAY_10)
    reply = mail(
        f"Анна <{shop.orders.address}>",
        "olga@mail.ru",
        "RE: Заказ 5521: когда доставка?",
        "Ольга, доставка в среду.",
        "r3@shop.test",
    )
    shop.orders.append("Отправленные", reply, internal_date=MONDAY_10 + timedelta(minutes=20))

    shop.cycle(MONDAY_10 + timedelta(minutes=30))

    [case] = shop.cases()
    assert case.state == "answered"


def test_a_follow_up_keeps_the_first_deadline(shop: Shop) -> None:
    question(shop, MONDAY_10)
    shop.cycle(MONDAY_10 + timedelta(minutes=5))
    again = mail(
        "Ольга Смирнова <olga@mail.ru>",
        shop.orders.address,
        "Re: Заказ 5521: когда доставка?",
        "Ау, вы тут? Жду ответа.",
        "q2@mail.ru",
        in_reply_to="q1@mail.ru",
    )
    shop.orders.append("INBOX", again, internal_date=MONDAY_10 + timedelta(hours=3))

    shop.cycle(MONDAY_10 + timedelta(hours=3, minutes=5))

    [case] = shop.cases()
    assert case.state == "open"
    assert case.deadline_at == MONDAY_10 + timedelta(hours=2)
    with shop.sessions() as session:
        kinds = [e.kind for e in session.get(Case, case.id).events]  # type: ignore[union-attr]
    assert kinds[:2] == ["opened", "follow_up"]  # then escalated: the deadline passed
