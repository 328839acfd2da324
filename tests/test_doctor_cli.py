"""``watchdog doctor`` as the owner runs it: real Dovecot and aiosmtpd, report and exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.dovecot import MailUser, free_port
from tests.fixtures.smtp import SmtpServer
from watchdog.cli import app

CONFIG = """
[database]
url = "sqlite:///{tmp}/w.db"

[owner]
email = "owner@shop.test"
language = "{lang}"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "Watchdog <watchdog@shop.test>"
"""

MAILBOX = """
[[mailbox]]
name = "{name}"
host = "127.0.0.1"
port = {port}
security = "none"
username = "{user}"
password_env = "WATCHDOG_{env}_PASSWORD"
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, smtp: SmtpServer | None, *tables: str, lang: str = "en") -> Path:
    port = smtp.port if smtp else free_port()
    path = tmp_path / "watchdog.toml"
    base = CONFIG.format(tmp=tmp_path, lang=lang, smtp_port=port)
    path.write_text(base + "".join(tables), encoding="utf-8")
    return path


def three_mailboxes(user: MailUser, closed: int) -> list[str]:
    """A good mailbox, one whose password is wrong, and one where nothing listens."""
    return [
        MAILBOX.format(name="orders", port=user.port, user=user.address, env="ORDERS"),
        MAILBOX.format(name="hello", port=user.port, user=user.address, env="HELLO"),
        MAILBOX.format(name="old", port=closed, user=user.address, env="OLD"),
    ]


@pytest.fixture
def shop_mailbox(mailbox_user: MailUser, monkeypatch: pytest.MonkeyPatch) -> MailUser:
    """The account behind all three mailboxes: Sent, Trash and Junk exist; two passwords right."""
    for name, flag in (("Sent", "\\Sent"), ("Trash", "\\Trash"), ("Junk", "\\Junk")):
        mailbox_user.create_folder(name, flag)
    monkeypatch.setenv("WATCHDOG_ORDERS_PASSWORD", mailbox_user.password)
    monkeypatch.setenv("WATCHDOG_HELLO_PASSWORD", "hello-wrong-password")
    monkeypatch.setenv("WATCHDOG_OLD_PASSWORD", mailbox_user.password)
    return mailbox_user


def block(out: str, start: str) -> list[str]:
    """Return the report line starting with ``start`` and the indented lines under it."""
    lines = out.splitlines()
    [first] = [n for n, line in enumerate(lines) if line.startswith(start)]
    rest = lines[first + 1 :]
    under = next((n for n, line in enumerate(rest) if not line.startswith(" ")), len(rest))
    return lines[first : first + 1 + under]


@pytest.mark.dovecot
def test_three_mailboxes_get_three_distinct_plain_diagnoses_and_exit_1(
    tmp_path: Path, shop_mailbox: MailUser, smtp_server: SmtpServer
) -> None:
    closed = free_port()
    config = write(tmp_path, smtp_server, *three_mailboxes(shop_mailbox, closed))

    code, out, err = run("--config", str(config), "doctor", "--lang", "en")

    assert code == 1, out + err
    good = block(out, "ok    mailbox orders ")
    wrong = block(out, "FAIL  mailbox hello ")
    gone = block(out, "FAIL  mailbox old ")
    assert good[0].endswith(": logged in (no encryption)")
    assert "the server offers: IDLE, CONDSTORE, QRESYNC, SPECIAL-USE" in good[1]
    assert good[-4:] == [
        '         inbox: "INBOX" (by its usual name)',
        '         sent:  "Sent" (the server marks it \\Sent)',
        '         trash: "Trash" (the server marks it \\Trash)',
        '         junk:  "Junk" (the server marks it \\Junk)',
    ]
    assert wrong[0].endswith(
        f": the server refused the login as {shop_mailbox.address}: "
        "[AUTHENTICATIONFAILED] Authentication failed."
    )
    assert (
        wrong[1]
        .strip()
        .startswith(
            'how to fix: check username in [[mailbox]] "hello" and the password, '
            "the value of $WATCHDOG_HELLO_PASSWORD"
        )
    )
    assert gone[0].endswith(f": nothing answers at 127.0.0.1:{closed}: the connection was refused")
    assert gone[1].strip().startswith('how to fix: check host and port in [[mailbox]] "old"')
    assert out.splitlines()[-1] == "Problems to fix: 2 (marked FAIL); each says how."
    assert "hello-wrong-password" not in out + err
    assert shop_mailbox.password not in out + err


@pytest.mark.dovecot
def test_the_same_three_diagnoses_in_russian_by_default(
    tmp_path: Path, shop_mailbox: MailUser, smtp_server: SmtpServer
) -> None:
    closed = free_port()
    config = write(tmp_path, smtp_server, *three_mailboxes(shop_mailbox, closed), lang="ru")

    code, out, _ = run("--config", str(config), "doctor")

    assert code == 1
    assert block(out, "ок        ящик orders ")[0].endswith(": вход выполнен (без шифрования)")
    assert "сервер не принял вход как" in block(out, "ОШИБКА    ящик hello ")[0]
    assert "никто не отвечает" in block(out, "ОШИБКА    ящик old ")[0]
    assert out.splitlines()[-1].startswith("Нужно исправить: 2")


@pytest.mark.dovecot
def test_send_test_sends_the_owner_one_message_and_plain_doctor_sends_none(
    tmp_path: Path, shop_mailbox: MailUser, smtp_server: SmtpServer
) -> None:
    config = write(tmp_path, smtp_server, three_mailboxes(shop_mailbox, free_port())[0])

    quiet = run("--config", str(config), "doctor", "--lang", "en")
    received_before = list(smtp_server.messages)
    code, out, err = run("--config", str(config), "doctor", "--lang", "en", "--send-test")

    assert quiet[0] == 0, quiet[1] + quiet[2]
    assert received_before == []
    assert code == 0, out + err
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["owner@shop.test"]
    assert "sent a test message to owner@shop.test; the relay answered: 250 OK: queued" in out


def test_telegram_that_cannot_be_reached_is_a_failure_that_never_shows_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer
) -> None:
    token = "7000000001:AAH-cli-token-never-printed"
    monkeypatch.setenv("WATCHDOG_TELEGRAM_TOKEN", token)
    api = f"http://127.0.0.1:{free_port()}"
    chat = (
        f'[[notify.telegram]]\nbot_token_env = "WATCHDOG_TELEGRAM_TOKEN"\nchat_id = "42"\n'
        f'api_url = "{api}"\n'
    )
    config = write(tmp_path, smtp_server, chat)

    code, out, err = run("--config", str(config), "doctor", "--lang", "en")

    assert code == 1
    assert block(out, "FAIL  Telegram telegram (chat 42)")[0].endswith(
        f"no answer from the Bot API at {api} ([Errno 111] Connection refused)"
    )
    assert token not in out + err and "AAH" not in out + err


def test_now_fixes_the_calendar_the_report_shows(tmp_path: Path, smtp_server: SmtpServer) -> None:
    config = write(tmp_path, smtp_server)
    args = ["--config", str(config), "doctor", "--lang", "en", "--now", "2025-10-31T16:00+03:00"]

    code, out, err = run(*args)

    assert code == 0, out + err
    calendar = block(out, "ok    calendar (Europe/Moscow): ")
    assert calendar[0].endswith(
        "open now (Fri 2025-10-31 16:00) until 18:00; a request arriving now is due by "
        "Fri 2025-10-31 18:00"
    )
    assert "Sat 2025-11-01 09:00–18:00" in calendar[4]
    assert run(*args)[1] == out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lang", "de"], "Error: --lang: expected one of ru, en, got 'de'"),
        (["--now", "yesterday"], "Error: --now: expected an ISO 8601 time"),
    ],
)
def test_bad_options_exit_2_and_say_what_is_allowed(
    tmp_path: Path, args: list[str], message: str
) -> None:
    config = write(tmp_path, None)

    code, out, err = run("--config", str(config), "doctor", *args)

    assert code == 2
    assert out == ""
    assert err.startswith(message)
