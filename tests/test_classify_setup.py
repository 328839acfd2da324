"""The config decides who "we" are for the classifier, and never makes customers colleagues."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchdog.classify.setup import context_from_config
from watchdog.cli import app
from watchdog.config import load_config

SHOP = """
[owner]
email = "olga@gmail.com"
language = "ru"

[smtp]
host = "127.0.0.1"
from = "watchdog@shop.test"

[[mailbox]]
name = "orders"
host = "127.0.0.1"
username = "orders@shop.test"
password_env = "WATCHDOG_ORDERS_PASSWORD"
team = ["anna@shop.test"]
"""

ANNA_TO_ORDERS = (
    "From: Anna <anna@shop.test>\r\nTo: orders@shop.test\r\nSubject: заказ 1234\r\n"
    "Date: Mon, 3 Nov 2025 10:00:00 +0300\r\nMessage-ID: <a1@shop.test>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "Передала заказ 1234 на склад, проверь оплату.\r\n"
).encode()

GMAIL_CUSTOMER = (
    "From: Ivan <ivan@gmail.com>\r\nTo: orders@shop.test\r\nSubject: свечи\r\n"
    "Date: Mon, 3 Nov 2025 10:00:00 +0300\r\nMessage-ID: <a2@gmail.com>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "Здравствуйте! Есть ли свечи в наличии?\r\n"
).encode()


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "watchdog.toml").write_text(SHOP, encoding="utf-8")
    (tmp_path / "anna.eml").write_bytes(ANNA_TO_ORDERS)
    (tmp_path / "ivan.eml").write_bytes(GMAIL_CUSTOMER)
    return tmp_path


def test_owner_on_a_public_provider_does_not_make_that_provider_our_domain(shop: Path) -> None:
    context = context_from_config(load_config(Path("watchdog.toml"), need_secrets=False))

    assert context.own_domains == frozenset({"shop.test"})
    assert "olga@gmail.com" in context.staff
    assert not context.is_own("ivan@gmail.com")


def test_classify_uses_the_configs_people_and_language(shop: Path) -> None:
    result = CliRunner().invoke(app, ["classify", "--json", "anna.eml", "ivan.eml"])

    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["file"], r["category"], r["request"]) for r in lines] == [
        ("anna.eml", "staff", False),
        ("ivan.eml", "customer", True),
    ]
    explained = CliRunner().invoke(app, ["classify", "--explain", "anna.eml"]).stdout
    assert "внутренняя переписка" in explained


def test_without_a_config_a_colleagues_note_stays_a_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "anna.eml").write_bytes(ANNA_TO_ORDERS)

    result = CliRunner().invoke(app, ["classify", "--json", "anna.eml"])

    assert json.loads(result.stdout)["request"] is True
