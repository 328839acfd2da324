"""The command line as a user meets it: db upgrade, doctor, and the exit codes they pin."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.dovecot import MailUser
from tests.fixtures.smtp import SmtpServer
from watchdog.cli import app
from watchdog.storage.migrate import migration_status

REPO = Path(__file__).resolve().parent.parent

GOOD = """
[database]
url = "sqlite:///{db}"

[owner]
email = "owner@shop.test"

[smtp]
host = "127.0.0.1"
security = "none"
from = "Watchdog <watchdog@shop.test>"

[[mailbox]]
name = "orders"
host = "127.0.0.1"
security = "none"
username = "orders@shop.test"
password_env = "WATCHDOG_ORDERS_PASSWORD"
"""

THREE_MISTAKES = """
[owner]
email = "owner@shop.test"

[smtp]
host = "smtp.shop.test"
security = "ssl"
from = "Watchdog <watchdog@shop.test>"

[sla]
first_response = "2x"

[[mailbox]]
name = "orders"
host = "imap.shop.test"
port = "99x"
username = "orders@shop.test"
password_env = "WATCHDOG_ORDERS_PASSWORD"
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, text: str, name: str = "watchdog.toml") -> Path:
    path = tmp_path / name
    path.write_text(text.format(db=tmp_path / "w.db"), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_db_upgrade_creates_the_schema_without_any_secret_set(tmp_path: Path) -> None:
    config = write(tmp_path, GOOD)

    code, out, _ = run("--config", str(config), "db", "upgrade")

    assert code == 0
    assert "up to date" in out
    assert migration_status(f"sqlite:///{tmp_path / 'w.db'}").up_to_date


def test_doctor_on_a_config_with_three_mistakes_prints_three_lines_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHDOG_ORDERS_PASSWORD", "secret")
    config = write(tmp_path, THREE_MISTAKES, "bad.toml")

    code, out, err = run("--config", str(config), "doctor")

    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        f'{config}: smtp.security: expected one of starttls, tls, none, got "ssl"',
        f'{config}: sla.first_response: expected a duration like "30m", "2h" or "1d", got "2x"',
        f'{config}: mailbox[1].port: expected an integer 1-65535, got "99x"',
    ]


def test_doctor_names_the_unset_variable_and_never_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path, GOOD)

    code, _, err = run("--config", str(config), "doctor")

    assert code == 2
    assert (
        "mailbox[1].password_env: environment variable WATCHDOG_ORDERS_PASSWORD is not set" in err
    )


def test_doctor_reports_a_good_config_a_fresh_database_and_the_folders_it_chose(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mailbox_user: MailUser,
    smtp_server: SmtpServer,
) -> None:
    mailbox_user.create_folder("Отправленные", special_use="\\Sent")
    monkeypatch.setenv("WATCHDOG_ORDERS_PASSWORD", mailbox_user.password)
    config = write(tmp_path, at_relay(at_dovecot(GOOD, mailbox_user), smtp_server))

    code, out, err = run("--config", str(config), "doctor", "--lang", "en")

    assert code == 0, out + err
    assert f"ok    mail relay 127.0.0.1:{smtp_server.port}: connected (no encryption)" in out
    assert smtp_server.messages == [], "doctor must not send anything"
    assert "ok    config: read without errors: 1 mailbox(es), 0 form(s)" in out
    assert "empty: the tables are created when the watchdog starts" in out
    assert 'sent:  "Отправленные" (the server marks it \\Sent)' in out
    assert mailbox_user.password not in out + err


def test_doctor_fails_a_mailbox_whose_password_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mailbox_user: MailUser
) -> None:
    monkeypatch.setenv("WATCHDOG_ORDERS_PASSWORD", "not-the-password")
    config = write(tmp_path, at_dovecot(GOOD, mailbox_user))

    code, out, _ = run("--config", str(config), "doctor", "--lang", "en")

    assert code == 1
    assert "FAIL  mailbox orders" in out
    assert "the server refused the login" in out
    assert "not-the-password" not in out


def test_doctor_says_when_the_relay_refuses_the_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer
) -> None:
    monkeypatch.setenv("WATCHDOG_ORDERS_PASSWORD", "secret")
    monkeypatch.setenv("WATCHDOG_SMTP_PASSWORD", "wrong-relay-password")
    text = at_relay(GOOD, smtp_server).replace(
        'security = "none"\nfrom =',
        f'security = "none"\nusername = "{smtp_server.username}"\n'
        'password_env = "WATCHDOG_SMTP_PASSWORD"\nfrom =',
        1,
    )
    config = write(tmp_path, text)

    code, out, _ = run("--config", str(config), "doctor", "--lang", "en")

    assert code == 1
    assert "FAIL  mail relay" in out
    assert "reminders and the digest cannot be sent" in out
    assert "wrong-relay-password" not in out


def at_relay(text: str, server: SmtpServer) -> str:
    """Point the config's [smtp] at the test relay."""
    return text.replace(
        '[smtp]\nhost = "127.0.0.1"\n', f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\n', 1
    )


def at_dovecot(text: str, user: MailUser) -> str:
    """Point the config's mailbox at the test Dovecot account."""
    return text.replace(
        'host = "127.0.0.1"\nsecurity = "none"\nusername = "orders@shop.test"',
        f'host = "127.0.0.1"\nport = {user.port}\nsecurity = "none"\nusername = "{user.address}"',
    )


def test_doctor_says_when_the_database_cannot_be_reached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHDOG_ORDERS_PASSWORD", "secret")
    url = f"postgresql+psycopg://watchdog:dbpass-not-shown@127.0.0.1:{free_port()}/watchdog"
    config = write(tmp_path, GOOD.replace('url = "sqlite:///{db}"', f'url = "{url}"'))

    code, out, _ = run("--config", str(config), "doctor", "--lang", "en")

    assert code == 1
    assert "FAIL  database" in out
    assert "cannot connect" in out
    assert "dbpass-not-shown" not in out


def test_config_path_comes_from_the_environment_when_no_option_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path, GOOD)
    monkeypatch.setenv("WATCHDOG_CONFIG", str(config))

    code, out, _ = run("db", "upgrade")

    assert code == 0
    assert "up to date" in out


def test_example_config_upgrades_a_database_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    code, out, _ = run("--config", str(REPO / "config.example.toml"), "db", "upgrade")

    assert code == 0, out
    assert (tmp_path / "watchdog.db").exists()


def test_version_names_the_distribution() -> None:
    code, out, _ = run("--version")

    assert code == 0
    assert out.startswith("inbox-watchdog ")
