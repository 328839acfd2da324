"""POST /hooks/{form} and its /metrics counters against a real, migrated database.

Every refusal is checked twice: its status, and that no row was stored.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from watchdog.config import Config, load_config
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Classification, Message
from watchdog.web.app import create_app

NOW = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)
TOKEN = "form-token-7f3a"
FORM_URLENCODED = "application/x-www-form-urlencoded"
CONFIG = """
[owner]
email = "owner@shop.test"

[smtp]
host = "smtp.shop.test"
from = "watchdog@shop.test"

[web]
password_env = "WEB_PASSWORD"

[[form]]
name = "contact"
preset = "tilda"
token_env = "FORM_TOKEN"

[[form]]
name = "wp"
preset = "cf7"
token_env = "FORM_TOKEN"

[[form]]
name = "crm"
preset = "bitrix24"
token_env = "FORM_TOKEN"

[[form]]
name = "jot"
preset = "jotform"
token_env = "FORM_TOKEN"
"""
TILDA = {
    "Name": "Мария",
    "Email": "maria@yandex.ru",
    "Phone": "8 (916) 123-45-67",
    "Textarea": "Здравствуйте! Есть ли доставка в Казань?",
    "tranid": "4012345:6789012",
    "formid": "form521938576",
}


class Client:
    """A synchronous client that calls the app in process, through httpx's ASGI transport.

    Not Starlette's TestClient: with Starlette 1.x it warns (an error here)
    unless the separate ``httpx2`` package is installed.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        """Send one request and return the read response."""

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://hooks.test"
            ) as client:
                return await client.request(method, url, **kwargs)  # type: ignore[arg-type]

        return asyncio.run(send())

    def get(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("POST", url, **kwargs)


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    """The app under test, its database and its clock."""

    client: Client
    sessions: sessionmaker[Session]
    clock: Clock = field(default_factory=Clock)

    def post(self, form: str, body: bytes | str, content_type: str | None = FORM_URLENCODED,
             token: str | None = TOKEN, **headers: str) -> tuple[int, dict[str, object]]:  # fmt: skip
        """Post ``body`` to the form's webhook; return the status code and the JSON answer."""
        if content_type is not None:
            headers["content-type"] = content_type
        if token is not None:
            headers["x-watchdog-token"] = token
        response = self.client.post(f"/hooks/{form}", content=body, headers=headers)
        return response.status_code, response.json()

    def rows(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(Message)) or 0)


def load(tmp_path: Path, text: str = CONFIG) -> Config:
    path = tmp_path / "watchdog.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ={"FORM_TOKEN": TOKEN, "WEB_PASSWORD": "pw"})


def world_for(url: str, tmp_path: Path) -> Iterator[World]:
    upgrade(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    clock = Clock()
    yield World(Client(create_app(load(tmp_path), sessions, clock=clock)), sessions, clock)
    engine.dispose()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The app on a SQLite database."""
    yield from world_for(f"sqlite:///{tmp_path / 'watchdog.db'}", tmp_path)


@pytest.fixture
def any_db_world(db_url: str, tmp_path: Path) -> Iterator[World]:
    """The app on SQLite, then on PostgreSQL."""
    yield from world_for(db_url, tmp_path)


def urlencoded(values: dict[str, str]) -> str:
    return urllib.parse.urlencode(values)


# --- storing ---------------------------------------------------------------------------


def test_a_tilda_submission_is_stored_as_a_form_request(any_db_world: World) -> None:
    status, answer = any_db_world.post("contact", urlencoded(TILDA))

    with any_db_world.sessions() as session:
        row = session.scalars(select(Message)).one()
        verdict = session.scalars(select(Classification)).one()
    assert (status, answer) == (200, {"status": "stored", "id": row.id})
    assert (row.from_addr, row.from_name, row.phone) == ("maria@yandex.ru", "Мария", "+79161234567")
    assert row.text == "Здравствуйте! Есть ли доставка в Казань?"
    assert row.form_submission_id == "4012345:6789012"
    assert row.received_at == NOW
    assert (verdict.category, verdict.request) == ("form", True)


def test_token_in_the_query_is_accepted(world: World) -> None:
    response = world.client.post(
        f"/hooks/contact?token={TOKEN}",
        content=urlencoded(TILDA),
        headers={"content-type": FORM_URLENCODED},
    )

    assert response.json()["status"] == "stored"
    assert world.rows() == 1


def test_json_and_multipart_bodies_are_read(world: World) -> None:
    as_json = world.post("contact", json.dumps(TILDA), "application/json")
    multipart = world.client.post(
        "/hooks/contact",
        data={**TILDA, "tranid": "4012345:0000001"},
        files={"attachment": ("photo.jpg", b"\xff\xd8 jpeg", "image/jpeg")},
        headers={"x-watchdog-token": TOKEN},
    )

    assert as_json == (200, {"status": "stored", "id": 1})
    assert multipart.status_code == 200
    assert multipart.json()["status"] == "stored"
    assert world.rows() == 2


def test_a_jotform_multipart_post_is_stored(world: World) -> None:
    raw_request = {
        "slug": "submit/241234567890/",
        "q3_name": {"first": "John", "last": "Smith"},
        "q4_email": "john.smith@gmail.com",
        "q5_phoneNumber": {"full": "+44 20 7946 0958"},
        "q6_message": "Do you ship to London?",
    }
    response = world.client.post(
        "/hooks/jot",
        data={"formID": "241234567890", "submissionID": "5912345678901234567",
              "formTitle": "Contact Us", "rawRequest": json.dumps(raw_request),
              "pretty": "Name:John Smith, E-mail:john.smith@gmail.com"},
        files={"none": ("", b"")},
        headers={"x-watchdog-token": TOKEN},
    )  # fmt: skip

    assert response.json()["status"] == "stored"
    with world.sessions() as session:
        row = session.scalars(select(Message)).one()
    assert (row.from_name, row.from_addr, row.phone) == (
        "John Smith", "john.smith@gmail.com", "+442079460958",
    )  # fmt: skip
    assert row.form_submission_id == "5912345678901234567"


# --- refusals: status, and nothing stored -------------------------------------------------


BIG = "Textarea=" + "я" * 200_000  # 400 KB once percent-encoded


@pytest.mark.parametrize(
    ("form", "body", "content_type", "token", "status"),
    [
        pytest.param("contact", urlencoded(TILDA), FORM_URLENCODED, None, 401, id="no-token"),
        pytest.param("contact", urlencoded(TILDA), FORM_URLENCODED, "nope", 401, id="wrong-token"),
        pytest.param("nosuch", urlencoded(TILDA), FORM_URLENCODED, TOKEN, 404, id="unknown-form"),
        pytest.param(
            "nosuch", urlencoded(TILDA), FORM_URLENCODED, None, 404, id="unknown-no-token"
        ),
        pytest.param("contact", BIG, FORM_URLENCODED, TOKEN, 413, id="too-large"),
        pytest.param("contact", "Имя: Мария", "text/plain", TOKEN, 415, id="text-plain"),
        pytest.param("contact", urlencoded(TILDA), None, TOKEN, 415, id="no-content-type"),
        pytest.param("contact", "{not json", "application/json", TOKEN, 400, id="bad-json"),
        pytest.param("contact", "Name=Мария", FORM_URLENCODED, TOKEN, 422, id="nothing-usable"),
        pytest.param("contact", "", FORM_URLENCODED, TOKEN, 422, id="empty"),
    ],
)
def test_refused_requests_store_nothing(
    any_db_world: World, form: str, body: str, content_type: str | None, token: str | None,
    status: int,
) -> None:  # fmt: skip
    got, answer = any_db_world.post(form, body.encode(), content_type, token)

    assert got == status
    assert answer["status"] == "rejected" and answer["error"]
    assert any_db_world.rows() == 0


def test_a_body_larger_than_its_content_length_claims_is_413(world: World) -> None:
    body = ("Textarea=" + "a" * 300_000).encode()

    status, _ = world.post("contact", body, FORM_URLENCODED, TOKEN, **{"content-length": "20"})

    assert status == 413
    assert world.rows() == 0


def test_a_chunked_body_over_the_limit_is_413(world: World) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"Textarea="
        for _ in range(40):
            yield b"a" * 8192

    response = world.client.post(
        "/hooks/contact",
        content=chunks(),
        headers={"content-type": FORM_URLENCODED, "x-watchdog-token": TOKEN},
    )

    assert response.status_code == 413
    assert world.rows() == 0


def test_a_body_of_exactly_the_limit_is_accepted(world: World) -> None:
    prefix = "Textarea="
    body = (prefix + "a" * (256 * 1024 - len(prefix))).encode()

    assert world.post("contact", body)[0] == 200
    assert world.rows() == 1


# --- test pings and retries -------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "body"),
    [
        pytest.param("contact", "test=test", id="tilda"),
        pytest.param("crm", "event=ONAPPTEST&ts=1730620000&auth[domain]=shop.bitrix24.ru", id="bitrix24"),
    ],
)  # fmt: skip
def test_a_provider_test_ping_is_answered_and_not_stored(
    world: World, form: str, body: str
) -> None:
    assert world.post(form, body) == (200, {"status": "test"})
    assert world.rows() == 0


def test_a_retry_with_the_same_submission_id_is_stored_once(any_db_world: World) -> None:
    first = any_db_world.post("contact", urlencoded(TILDA))
    any_db_world.clock.now = NOW + timedelta(days=3)  # long past the 24 h content window
    retried = any_db_world.post("contact", urlencoded({**TILDA, "COOKIES": "_ym_uid=1"}))

    assert first == (200, {"status": "stored", "id": 1})
    assert retried == (200, {"status": "duplicate"})
    assert any_db_world.rows() == 1


def test_an_identical_body_without_id_is_a_retry_within_24_hours_only(world: World) -> None:
    body = json.dumps(
        {"your-name": "Ivan", "your-email": "ivan@mail.ru", "your-message": "Do you deliver?"}
    )
    statuses = []
    for offset in (timedelta(0), timedelta(hours=23, minutes=59), timedelta(hours=24, seconds=1)):
        world.clock.now = NOW + offset
        statuses.append(world.post("wp", body, "application/json")[1]["status"])

    assert statuses == ["stored", "duplicate", "stored"]
    assert world.rows() == 2


# --- metrics ---------------------------------------------------------------------------------


def test_metrics_count_requests_by_form_and_status_and_stored_messages(world: World) -> None:
    world.post("contact", urlencoded(TILDA))
    world.post("contact", urlencoded(TILDA))
    world.post("contact", urlencoded(TILDA), token="wrong")
    world.post("guess-1", "x=1")
    world.post("guess-2", "x=1")

    text = world.client.get("/metrics").text

    assert 'watchdog_webhook_requests_total{form="contact",status="200"} 2.0' in text
    assert 'watchdog_webhook_requests_total{form="contact",status="401"} 1.0' in text
    assert 'watchdog_webhook_requests_total{form="(unknown)",status="404"} 2.0' in text
    assert 'watchdog_messages_stored_total{form="contact"} 1.0' in text
    assert 'watchdog_messages_stored_total{form="wp"} 0.0' in text
    assert "Мария" not in text and "maria" not in text
