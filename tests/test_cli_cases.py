"""`watchdog cases` and `watchdog handle` as a shop owner uses them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchdog.cli import app
from watchdog.config import load_config
from watchdog.ingest.store import MailLocation, ensure_source, ingestor_for, store_mail
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.track.setup import policy_for
from watchdog.track.tracker import track_new

CONFIG = """
[database]
url = "sqlite:///{db}"

[owner]
email = "owner@shop.test"
language = "ru"

[smtp]
host = "127.0.0.1"
from = "watchdog@shop.test"

[sla]
first_response = "2h"
timezone = "Europe/Moscow"
working_hours = "09:00-18:00"
working_days = "mon-fri"
holidays = "RU"

[[mailbox]]
name = "orders"
host = "127.0.0.1"
username = "orders@shop.test"
password_env = "WATCHDOG_ORDERS_PASSWORD"
"""

FRIDAY_EVENING = datetime(2025, 10, 31, 14, 30, tzinfo=UTC)  # Fri 17:30 in Moscow


def question(n: int) -> bytes:
    return (
        f"From: Покупатель {n} <buyer{n}@mail.ru>\r\nTo: orders@shop.test\r\n"
        f"Subject: Вопрос {n}\r\nDate: Fri, 31 Oct 2025 17:30:00 +0300\r\n"
        f"Message-ID: <q{n}@mail.ru>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Здравствуйте! Подскажите, пожалуйста, сроки доставки?\r\n"
    ).encode()


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two requests waiting since Friday evening, tracked with the shop's real calendar."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "watchdog.toml"
    path.write_text(CONFIG.format(db=tmp_path / "w.db"), encoding="utf-8")
    config = load_config(path, need_secrets=False)
    upgrade(config.database.url)
    engine = make_engine(config.database.url)
    with session_factory(engine)() as session:
        source = ensure_source(session, "mailbox", "orders", FRIDAY_EVENING)
        for n in (1, 2):
            where = MailLocation("INBOX", "inbox", 1, n)
            store_mail(
                session,
                ingestor_for(config),
                source.id,
                where,
                question(n),
                received_at=FRIDAY_EVENING,
                now=FRIDAY_EVENING,
            )
        session.commit()
        track_new(session, policy_for(config, session), FRIDAY_EVENING)
    engine.dispose()
    return tmp_path


def cases(*args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(app, ["cases", "--json", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_friday_evening_request_is_due_on_the_working_saturday_before_the_holidays(
    shop: Path,
) -> None:
    [first, _] = cases()

    # 2025-11-01 was a working Saturday in Russia; 17:30 Friday + 2h = Saturday 10:30 Moscow.
    assert first["deadline_at"] == "2025-11-01T07:30:00+00:00"
    assert first["customer"] == "Покупатель 1 <buyer1@mail.ru>"
    assert first["source"] == "orders"


def test_overdue_lists_only_open_cases_past_their_deadline(shop: Path) -> None:
    assert cases("--state", "overdue", "--now", "2025-11-01T10:00+03:00") == []

    late = cases("--state", "overdue", "--now", "2025-11-05T12:00+03:00")

    assert [c["id"] for c in late] == [1, 2]
    # Fri 17:30-18:00, the working Sat 09:00-18:00, Mon-Tue Nov 3-4 off, Wed 09:00-12:00.
    waited = timedelta(minutes=30) + timedelta(hours=9) + timedelta(hours=3)
    assert late[0]["waited_business_seconds"] == int(waited.total_seconds())


def test_handle_closes_a_case_with_who_and_why(shop: Path) -> None:
    result = CliRunner().invoke(
        app, ["handle", "1", "--reason", "Позвонила клиенту", "--by", "anna"]
    )

    assert result.exit_code == 0, result.output
    assert "case 1 handled by anna" in result.stdout
    [handled] = cases("--state", "handled")
    assert (handled["id"], handled["handled_by"], handled["handled_reason"]) == (
        1,
        "anna",
        "Позвонила клиенту",
    )
    assert [c["id"] for c in cases("--state", "open")] == [2]


def test_handling_an_unknown_or_closed_case_says_so(shop: Path) -> None:
    CliRunner().invoke(app, ["handle", "1", "--reason", "phone", "--by", "anna"])

    again = CliRunner().invoke(app, ["handle", "1", "--reason", "phone"])
    unknown = CliRunner().invoke(app, ["handle", "77", "--reason", "phone"])

    assert (again.exit_code, unknown.exit_code) == (1, 1)
    assert "already handled" in again.stderr
    assert "no case 77" in unknown.stderr


def test_an_unknown_state_is_refused_with_the_allowed_ones(shop: Path) -> None:
    result = CliRunner().invoke(app, ["cases", "--state", "late"])

    assert result.exit_code == 2
    assert "open, overdue, answered, handled, dismissed, all" in result.stderr


def test_the_plain_listing_names_overdue_cases(shop: Path) -> None:
    result = CliRunner().invoke(app, ["cases", "--now", "2025-11-05T12:00+03:00"])

    assert result.stdout.count("OVERDUE") == 2
    assert "«Вопрос 1»" in result.stdout
