"""A working day end to end: `watchdog run --once --now` every hour, real Dovecot and SMTP.

The shop's policy is design.md's: remind the team at 100 % of the 2-hour
deadline, tell the owner at 200 %, then every 4 business hours. Two
customers write on Monday morning and nobody answers them; a third is
answered in time. The team and the owner must get the right e-mails at the
right steps, each exactly once, and the owner one digest on Tuesday morning.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.dovecot import PASSWORD, DovecotServer, MailUser
from tests.fixtures.smtp import ReceivedMail, SmtpServer, running_smtp_server
from watchdog.cli import app

MONDAY_10 = datetime(2025, 11, 10, 7, 0, tzinfo=UTC)  # Monday 10:00 in Moscow

CONFIG = """
[database]
url = "sqlite:///{db}"

[owner]
email = "owner@shop.test"
language = "ru"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "Watchdog <watchdog@shop.test>"

[sla]
first_response = "2h"
timezone = "Europe/Moscow"
working_hours = "09:00-18:00"
working_days = "mon-fri"
holidays = "RU"

[[escalation.step]]
after = "100%"
notify = "team"

[[escalation.step]]
after = "200%"
notify = "owner"
repeat = "4h"

[digest]
at = "09:00"

[[mailbox]]
name = "orders"
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "{user}"
password_env = "WATCHDOG_TEST_PASSWORD"
team = ["anna@shop.test"]
"""


def customer_mail(name: str, address: str, subject: str, msgid: str, to: str) -> bytes:
    return (
        f"From: {name} <{address}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: Mon, 10 Nov 2025 10:00:00 +0300\r\nMessage-ID: <{msgid}>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        "Здравствуйте! Подскажите, пожалуйста, когда будет доставка?\r\n"
    ).encode()


@pytest.fixture(scope="module")
def day(
    dovecot: DovecotServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ReceivedMail]]:
    """Play Monday 10:00 to Tuesday 10:00 in hourly cycles; yield every e-mail sent.

    Module-scoped: the day is played once and each test reads a part of it.
    """
    dovecot.start()
    mailbox_user = MailUser(dovecot, dovecot.new_user("day"), PASSWORD)
    tmp_path = tmp_path_factory.mktemp("day")
    with running_smtp_server() as smtp_server, pytest.MonkeyPatch.context() as monkeypatch:
        yield from _play_the_day(mailbox_user, smtp_server, tmp_path, monkeypatch)
    dovecot.kick(mailbox_user.address)


def _play_the_day(
    mailbox_user: MailUser,
    smtp_server: SmtpServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[list[ReceivedMail]]:
    mailbox_user.create_folder("Sent", special_use="\\Sent")
    monkeypatch.setenv("WATCHDOG_TEST_PASSWORD", mailbox_user.password)
    config = tmp_path / "watchdog.toml"
    config.write_text(
        CONFIG.format(
            db=tmp_path / "w.db", smtp_port=smtp_server.port,
            imap_port=mailbox_user.port, user=mailbox_user.address,
        ),
        encoding="utf-8",
    )  # fmt: skip
    to = mailbox_user.address
    arrivals = [
        ("Ольга", "olga@mail.ru", "Заказ 101", "q1@mail.ru", MONDAY_10),
        ("Пётр", "petr@yandex.ru", "Заказ 202", "q2@yandex.ru", MONDAY_10 + timedelta(minutes=5)),
        (
            "Ирина",
            "irina@gmail.com",
            "Заказ 303",
            "q3@gmail.com",
            MONDAY_10 + timedelta(minutes=10),
        ),
    ]
    for name, address, subject, msgid, at in arrivals:
        raw = customer_mail(name, address, subject, msgid, to)
        mailbox_user.append("INBOX", raw, internal_date=at)
    answer = (
        f"From: Анна <{to}>\r\nTo: irina@gmail.com\r\nSubject: Re: Заказ 303\r\n"
        "Date: Mon, 10 Nov 2025 10:40:00 +0300\r\nMessage-ID: <a3@shop.test>\r\n"
        "In-Reply-To: <q3@gmail.com>\r\nReferences: <q3@gmail.com>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nИрина, доставим завтра.\r\n"
    ).encode()
    mailbox_user.append("Sent", answer, internal_date=MONDAY_10 + timedelta(minutes=40))

    runner = CliRunner()
    at = MONDAY_10
    while at <= MONDAY_10 + timedelta(days=1):
        for _ in range(2):  # a cycle repeated at the same moment must send nothing new
            result = runner.invoke(
                app, ["--config", str(config), "run", "--once", "--now", at.isoformat()]
            )
            assert result.exit_code == 0, result.output
        at += timedelta(hours=1)
    yield smtp_server.messages


def mails_to(mails: list[ReceivedMail], recipient: str) -> list[ReceivedMail]:
    return [m for m in mails if recipient in m.rcpt_tos]


def text_of(mail: ReceivedMail) -> str:
    part = mail.message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def mentioning(mails: list[ReceivedMail], customer: str) -> list[ReceivedMail]:
    return [m for m in mails if customer in text_of(m)]


def test_the_team_is_reminded_once_per_waiting_customer_at_the_deadline(
    day: list[ReceivedMail],
) -> None:
    team = mails_to(day, "anna@shop.test")

    assert len(mentioning(team, "olga@mail.ru")) == 1
    assert len(mentioning(team, "petr@yandex.ru")) == 1
    assert all(m.message["Date"] for m in team)


def test_the_owner_hears_at_twice_the_deadline_then_every_four_business_hours(
    day: list[ReceivedMail],
) -> None:
    owner = [
        m for m in mails_to(day, "owner@shop.test") if "Сводка" not in str(m.message["Subject"])
    ]

    # 200 % at 14:00, then 4 business hours later: 18:00 Monday; the next would be Tuesday 13:00.
    assert len(mentioning(owner, "olga@mail.ru")) == 2
    assert len(mentioning(owner, "petr@yandex.ru")) == 2


def test_a_customer_answered_in_time_is_never_escalated(day: list[ReceivedMail]) -> None:
    assert (
        mentioning([m for m in day if "Сводка" not in str(m.message["Subject"])], "irina@gmail.com")
        == []
    )


def test_the_digest_arrives_once_on_tuesday_morning(day: list[ReceivedMail]) -> None:
    digests = [m for m in mails_to(day, "owner@shop.test") if "Сводка" in str(m.message["Subject"])]

    assert len(digests) == 1
    assert "olga@mail.ru" in text_of(digests[0])


def test_every_notification_has_its_own_message_id(day: list[ReceivedMail]) -> None:
    ids = [m.message["Message-ID"] for m in day]

    assert len(ids) == len(set(ids))
