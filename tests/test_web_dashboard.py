"""The dashboard: behind a password, lists what arrived, marks the broken, escapes everything."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.test_web_hooks import NOW, Client, load
from watchdog.alarms import REQUEST_DELETED, raise_alarm
from watchdog.classify import ClassifyContext, load_rules
from watchdog.ingest.message import OurIdentity
from watchdog.ingest.store import Ingestor, MailLocation, ensure_source, store_form, store_mail
from watchdog.ingest.submission import FormSubmission
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.web.app import create_app

INGESTOR = Ingestor(
    rules=load_rules(),
    context=ClassifyContext(own_domains=frozenset({"shop.test"})),
    ours=OurIdentity(domains=frozenset({"shop.test"})),
)
XSS_MAIL = (
    b"From: Mallory <mallory@evil.test>\r\nTo: orders@shop.test\r\n"
    b"Subject: <script>alert('subject')</script> order\r\n"
    b"Date: Mon, 3 Nov 2025 12:00:00 +0300\r\nMessage-ID: <x1@evil.test>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Hello <img src=x onerror=alert(1)> when does my order ship?\r\n"
)
CONFIG_WITHOUT_WEB = """
[owner]
email = "owner@shop.test"
language = "en"

[smtp]
host = "smtp.shop.test"
from = "watchdog@shop.test"
"""


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"authorization": f"Basic {token}"}


OWNER = basic("owner", "pw")


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'watchdog.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def client(tmp_path: Path, sessions: sessionmaker[Session]) -> Client:
    return Client(create_app(load(tmp_path), sessions, clock=lambda: NOW))


@pytest.fixture
def stored(sessions: sessionmaker[Session]) -> dict[str, int]:
    """A form request, a broken mail and a mail with HTML in it; returns their ids."""
    with sessions() as session:
        form = ensure_source(session, "form", "contact", NOW)
        mailbox = ensure_source(session, "mailbox", "orders", NOW)
        submission = FormSubmission(
            provider="tilda", received_at=NOW, name="Мария", email="maria@yandex.ru",
            phone="+79161234567", message="Есть ли доставка в Казань?", raw=b"Name=...",
        )  # fmt: skip
        request = store_form(session, form.id, submission, NOW)
        broken = store_mail(
            session, INGESTOR, mailbox.id, MailLocation("INBOX", "inbox", 7, 1),
            b"\x00\xff garbage", received_at=NOW, now=NOW,
        )  # fmt: skip
        xss = store_mail(
            session, INGESTOR, mailbox.id, MailLocation("INBOX", "inbox", 7, 2),
            XSS_MAIL, received_at=NOW, now=NOW,
        )  # fmt: skip
        assert request is not None
        session.commit()
        return {"request": request.id, "broken": broken.id, "xss": xss.id}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-credentials"),
        pytest.param(basic("owner", "wrong"), id="wrong-password"),
        pytest.param(basic("admin", "pw"), id="wrong-user"),
        pytest.param({"authorization": "Basic !!!"}, id="garbled"),
        pytest.param({"authorization": "Bearer pw"}, id="other-scheme"),
    ],
)
@pytest.mark.parametrize("path", ["/", "/messages/1"])
def test_dashboard_asks_for_the_password(
    client: Client, path: str, headers: dict[str, str]
) -> None:
    response = client.get(path, headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Basic realm="inbox-watchdog"')


def test_dashboard_without_a_configured_password_refuses_to_serve(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    config = load(tmp_path, CONFIG_WITHOUT_WEB)
    client = Client(create_app(config, sessions))

    assert client.get("/", headers=OWNER).status_code == 503
    assert client.get("/", headers=basic("owner", "")).status_code == 503


def test_front_page_lists_messages_and_marks_the_broken(
    client: Client, stored: dict[str, int]
) -> None:
    response = client.get("/", headers=OWNER)

    assert response.status_code == 200
    page = response.text
    assert "Мария &lt;maria@yandex.ru&gt;" in page
    assert "Есть ли доставка в Казань?" in page
    assert f'href="/messages/{stored["broken"]}"' in page
    assert "НЕ РАЗОБРАНО" in page  # owner.language defaults to ru
    assert page.count("НЕ РАЗОБРАНО") == 1
    assert "2025-11-03 12:30" in page  # shown in Europe/Moscow
    assert response.headers["cache-control"] == "no-store"


def test_subjects_and_texts_are_escaped(client: Client, stored: dict[str, int]) -> None:
    front = client.get("/", headers=OWNER).text
    detail = client.get(f"/messages/{stored['xss']}", headers=OWNER).text

    for page in (front, detail):
        assert "<script>" not in page
        assert "<img" not in page
    assert "&lt;script&gt;alert(&#39;subject&#39;)&lt;/script&gt; order" in detail
    assert "&lt;img src=x onerror=alert(1)&gt;" in detail  # the text, shown as written
    assert "Hello when does my order ship?" in front  # the snippet, reduced to words


def test_message_page_shows_headers_classification_and_raw_size(
    client: Client, stored: dict[str, int]
) -> None:
    page = client.get(f"/messages/{stored['request']}", headers=OWNER).text

    assert "+79161234567" in page
    assert "form:tilda" in page
    assert "8 байт" in page  # the raw size, never the raw bytes


def test_broken_message_page_shows_the_parse_error(client: Client, stored: dict[str, int]) -> None:
    page = client.get(f"/messages/{stored['broken']}", headers=OWNER).text

    assert "НЕ РАЗОБРАНО" in page


def test_unknown_message_is_404(client: Client, stored: dict[str, int]) -> None:
    assert client.get("/messages/999", headers=OWNER).status_code == 404


def test_open_alarms_are_at_the_top(
    client: Client, sessions: sessionmaker[Session], stored: dict[str, int]
) -> None:
    with sessions() as session:
        raise_alarm(session, kind=REQUEST_DELETED, key="1", now=NOW, detail="Trash: Заказ 1234",
                    message_id=stored["request"])  # fmt: skip
        session.commit()

    page = client.get("/", headers=OWNER).text

    assert page.index("Запрос удалён без ответа") < page.index("Последние сообщения")
    assert "Trash: Заказ 1234" in page


def test_english_dashboard(
    tmp_path: Path, sessions: sessionmaker[Session], stored: dict[str, int]
) -> None:
    config = load(tmp_path, CONFIG_WITHOUT_WEB + '\n[web]\npassword_env = "WEB_PASSWORD"\n')
    page = Client(create_app(config, sessions)).get("/", headers=OWNER).text

    assert "Recent messages" in page and "BROKEN" in page
