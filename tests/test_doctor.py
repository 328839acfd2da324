"""``watchdog doctor``'s checks against real servers (Dovecot, aiosmtpd) and documented APIs.

Each test builds a config file as a user would write it, loads it, runs the
checks with a fixed ``now`` and reads the report the owner would read.
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.dovecot import MailUser, free_port
from tests.fixtures.formservices import FakeJotform
from tests.fixtures.smtp import SmtpServer
from watchdog.config import load_config
from watchdog.config.types import Language
from watchdog.doctor import (
    Checkup,
    Finding,
    SecretOrigins,
    check_calendar,
    check_forms,
    check_mailboxes,
    check_relay,
    check_telegram,
    diagnose,
    render,
)
from watchdog.sources.imap import ImapClientReader

#: Friday 31 October 2025, 16:00 in Moscow: Saturday 1 November is worked, Monday
#: 3 and Tuesday 4 November are days off (Russia moved the Saturday's day off).
FRIDAY = datetime.fromisoformat("2025-10-31T16:00:00+03:00")

BASE = """
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


def write(tmp_path: Path, *tables: str, lang: Language = "en", smtp_port: int = 0) -> Path:
    """Write a config: the base tables (owner, a relay) and then ``tables``."""
    text = BASE.format(tmp=tmp_path, lang=lang, smtp_port=smtp_port or free_port())
    path = tmp_path / "watchdog.toml"
    path.write_text(text + "\n".join(tables), encoding="utf-8")
    return path


def mailbox(name: str, user: MailUser, *, port: int | None = None, **keys: str) -> str:
    """A [[mailbox]] table for ``user``'s account, its password in $WATCHDOG_<NAME>_PASSWORD."""
    lines = [
        "[[mailbox]]",
        f'name = "{name}"',
        f'host = "{user.host}"',
        f"port = {port or user.port}",
        f'security = "{keys.pop("security", "none")}"',
        f'username = "{user.address}"',
        f'password_env = "WATCHDOG_{name.upper()}_PASSWORD"',
        'timeout = "10s"',
        *(f'{key} = "{value}"' for key, value in keys.items()),
    ]
    return "\n".join(lines) + "\n"


def checkup(
    path: Path, environ: dict[str, str] | None = None, *, now: datetime = FRIDAY, **options: Any
) -> Checkup:
    config = load_config(path, environ=environ or {})
    return Checkup(config, now=now, secrets=SecretOrigins.from_file(path), **options)


def about(findings: Iterable[Finding], start: str) -> Finding:
    """Return the one finding whose subject starts with ``start``."""
    [found] = [finding for finding in findings if finding.subject.startswith(start)]
    return found


def text(finding: Finding) -> str:
    return "\n".join([finding.detail, *finding.lines, finding.fix])


# --- mailboxes ------------------------------------------------------------------------


@pytest.mark.dovecot
def test_doctor_tells_a_good_mailbox_a_wrong_password_and_a_closed_port_apart(
    tmp_path: Path, mailbox_user: MailUser
) -> None:
    mailbox_user.create_folder("Отправленные", "\\Sent")
    closed = free_port()
    path = write(
        tmp_path,
        mailbox("good", mailbox_user),
        mailbox("wrong", mailbox_user),
        mailbox("gone", mailbox_user, port=closed),
    )
    environ = {
        "WATCHDOG_GOOD_PASSWORD": mailbox_user.password,
        "WATCHDOG_WRONG_PASSWORD": "not-the-password",
        "WATCHDOG_GONE_PASSWORD": mailbox_user.password,
    }

    findings = list(check_mailboxes(checkup(path, environ)))

    good, wrong, gone = (about(findings, f"mailbox {name} ") for name in ("good", "wrong", "gone"))
    assert good.status != "fail" and "logged in (no encryption)" in good.detail
    assert wrong.status == "fail"
    assert wrong.detail.startswith(f"the server refused the login as {mailbox_user.address}")
    assert "$WATCHDOG_WRONG_PASSWORD" in wrong.fix
    assert gone.status == "fail"
    assert gone.detail.startswith(f"nothing answers at 127.0.0.1:{closed}")
    assert "check host and port" in gone.fix
    assert "not-the-password" not in "".join(text(finding) for finding in findings)


@pytest.mark.dovecot
def test_a_good_mailbox_shows_its_capabilities_and_how_each_folder_was_found(
    tmp_path: Path, mailbox_user: MailUser
) -> None:
    mailbox_user.create_folder("Отправленные", "\\Sent")
    mailbox_user.create_folder("Корзина")
    mailbox_user.create_folder("Спам", "\\Junk")
    path = write(tmp_path, mailbox("orders", mailbox_user))

    [finding] = check_mailboxes(checkup(path, {"WATCHDOG_ORDERS_PASSWORD": mailbox_user.password}))

    assert finding.status == "ok"
    assert "the server offers: IDLE, CONDSTORE, QRESYNC, SPECIAL-USE" in finding.lines
    assert "changes and deletions are read cheaply (QRESYNC)" in finding.lines
    folders = [line.split() for line in finding.lines[finding.lines.index("folders:") + 1 :]]
    assert [" ".join(words) for words in folders] == [
        'inbox: "INBOX" (by its usual name)',
        'sent: "Отправленные" (the server marks it \\Sent)',
        'trash: "Корзина" (by its usual name)',
        'junk: "Спам" (the server marks it \\Junk)',
    ]


@pytest.mark.dovecot
def test_a_mailbox_without_a_sent_folder_fails_and_lists_what_the_server_has(
    tmp_path: Path, mailbox_user: MailUser
) -> None:
    mailbox_user.create_folder("Archive")
    path = write(tmp_path, mailbox("orders", mailbox_user))

    [finding] = check_mailboxes(checkup(path, {"WATCHDOG_ORDERS_PASSWORD": mailbox_user.password}))

    assert finding.status == "fail"
    assert finding.detail.startswith("no Sent folder found: replies cannot be seen")
    assert 'set sent = "<folder>" in [[mailbox]] "orders"' in finding.fix
    assert '"Archive"' in finding.fix and '"INBOX"' in finding.fix


@pytest.mark.dovecot
def test_a_folder_named_in_the_config_but_missing_on_the_server_fails(
    tmp_path: Path, mailbox_user: MailUser
) -> None:
    path = write(tmp_path, mailbox("orders", mailbox_user, sent="Sent Items"))

    [finding] = check_mailboxes(checkup(path, {"WATCHDOG_ORDERS_PASSWORD": mailbox_user.password}))

    assert finding.status == "fail"
    assert 'sent = "Sent Items": the server has no such folder' in finding.detail
    assert "exactly as the server lists it" in finding.fix


@pytest.mark.dovecot
def test_tls_on_a_plain_port_and_an_untrusted_certificate_are_told_apart(
    tmp_path: Path, mailbox_user: MailUser
) -> None:
    tls_port = mailbox_user.server.tls_port
    path = write(
        tmp_path,
        mailbox("plain", mailbox_user, security="tls"),
        mailbox("selfsigned", mailbox_user, port=tls_port, security="tls"),
    )
    environ = {
        name: mailbox_user.password
        for name in ("WATCHDOG_PLAIN_PASSWORD", "WATCHDOG_SELFSIGNED_PASSWORD")
    }

    plain, selfsigned = check_mailboxes(checkup(path, environ))

    assert (
        plain.detail
        == f"127.0.0.1:{mailbox_user.port} answered without encryption, so TLS cannot start there"
    )
    assert plain.fix.startswith('security and port in [[mailbox]] "plain" must go together')
    assert selfsigned.detail == "the server's certificate is not trusted: self-signed certificate"
    assert "issued for" in selfsigned.fix


@pytest.mark.dovecot
def test_a_certificate_the_machine_trusts_logs_in_over_tls(
    tmp_path: Path, mailbox_user: MailUser
) -> None:
    mailbox_user.create_folder("Sent", "\\Sent")
    path = write(
        tmp_path, mailbox("orders", mailbox_user, port=mailbox_user.server.tls_port, security="tls")
    )
    trusted = ssl.create_default_context(cafile=str(mailbox_user.server.cert_path))

    def connect(box: Any) -> ImapClientReader:
        return ImapClientReader.open(box, ssl_context=trusted)

    [finding] = check_mailboxes(
        checkup(path, {"WATCHDOG_ORDERS_PASSWORD": mailbox_user.password}, connect=connect)
    )

    assert finding.detail.startswith("logged in (TLS)")


@pytest.mark.dovecot
def test_the_report_speaks_the_owners_language(tmp_path: Path, mailbox_user: MailUser) -> None:
    path = write(tmp_path, mailbox("orders", mailbox_user), lang="ru")
    config = load_config(path, environ={"WATCHDOG_ORDERS_PASSWORD": "nope"})
    findings = list(check_mailboxes(Checkup(config, now=FRIDAY, lang=config.owner.language)))

    report = render(findings, "ru")

    assert report[0].startswith(f"ОШИБКА    ящик orders ({mailbox_user.address} на 127.0.0.1:")
    assert f"сервер не принял вход как {mailbox_user.address}" in report[0]
    assert report[1].strip().startswith("как исправить: проверьте username")
    assert report[-1] == "Нужно исправить: 1 (отмечено «ОШИБКА»), у каждой ошибки написано как."


# --- the relay ------------------------------------------------------------------------


def relay_login(password_env: str = "WATCHDOG_SMTP_PASSWORD") -> str:
    return f'username = "watchdog@shop.test"\npassword_env = "{password_env}"\n'


def with_relay_login(path: Path) -> None:
    """Make the config's [smtp] log in (the fixture's user)."""
    text_ = path.read_text(encoding="utf-8")
    path.write_text(text_.replace('security = "none"\n', 'security = "none"\n' + relay_login(), 1))


def test_the_relay_is_logged_in_to_and_sent_nothing(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    path = write(tmp_path, smtp_port=smtp_server.port)
    with_relay_login(path)

    [finding] = check_relay(checkup(path, {"WATCHDOG_SMTP_PASSWORD": smtp_server.password}))

    assert finding.status == "ok"
    assert finding.detail.startswith("connected (no encryption), logged in as watchdog@shop.test")
    assert smtp_server.messages == []


def test_send_test_delivers_exactly_one_message_to_the_owner(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    path = write(tmp_path, smtp_port=smtp_server.port)
    with_relay_login(path)

    [finding] = check_relay(
        checkup(path, {"WATCHDOG_SMTP_PASSWORD": smtp_server.password}, send_test=True)
    )

    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["owner@shop.test"]
    assert mail.authenticated_as == "watchdog@shop.test"
    assert mail.message["Subject"] == "Watchdog: test message from `watchdog doctor`"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert "reminders and the daily digest will reach you too" in mail.message.get_content()
    assert (
        finding.detail
        == "sent a test message to owner@shop.test; the relay answered: 250 OK: queued"
    )


def test_a_refused_relay_login_is_diagnosed_as_such_without_the_password(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    path = write(tmp_path, smtp_port=smtp_server.port)
    with_relay_login(path)

    [finding] = check_relay(
        checkup(path, {"WATCHDOG_SMTP_PASSWORD": "wrong-relay-password"}, send_test=True)
    )

    assert finding.status == "fail"
    assert finding.detail.startswith("the server refused the login as watchdog@shop.test")
    assert finding.detail.endswith("until this is fixed, reminders and the digest cannot be sent")
    assert "$WATCHDOG_SMTP_PASSWORD" in finding.fix
    assert "wrong-relay-password" not in text(finding)
    assert smtp_server.messages == []


def test_a_relay_with_starttls_is_secured_and_its_certificate_checked(
    tmp_path: Path, smtp_server_tls: SmtpServer
) -> None:
    path = write(tmp_path, smtp_port=smtp_server_tls.port)
    path.write_text(path.read_text().replace('security = "none"', 'security = "starttls"', 1))
    assert smtp_server_tls.cert_path is not None
    trusted = ssl.create_default_context(cafile=str(smtp_server_tls.cert_path))

    [good] = check_relay(checkup(path, ssl_context=trusted))
    [untrusted] = check_relay(checkup(path))

    assert good.detail.startswith("connected (STARTTLS), no login configured")
    assert untrusted.detail.startswith("the server's certificate is not trusted")


def test_a_relay_nobody_listens_on_says_so(tmp_path: Path) -> None:
    closed = free_port()
    path = write(tmp_path, smtp_port=closed)

    [finding] = check_relay(checkup(path))

    assert finding.detail.startswith(f"nothing answers at 127.0.0.1:{closed}")
    assert "(starttls goes with port 587, tls with 465, none with 25)" in finding.fix


# --- Telegram -------------------------------------------------------------------------

TOKEN = "7000000001:AAH-doctor-test-token-not-for-print"


@dataclass
class FakeBotApi:
    """The Bot API's getMe and getChat, answering as https://core.telegram.org/bots/api documents.

    A wrong token gets ``401 Unauthorized``; an unknown chat ``400 Bad
    Request: chat not found``; any other method ``404 Not Found``.
    """

    token: str = TOKEN
    chats: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            "123456789": {"id": 123456789, "type": "private", "first_name": "Olga",
                          "username": "olga_shop"},
            "-1001234567890": {"id": -1001234567890, "type": "supergroup",
                               "title": "Лавка: заказы"},
        }
    )  # fmt: skip
    requests: list[httpx.Request] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        match = re.fullmatch(r"/bot(?P<token>[^/]+)/(?P<method>\w+)", request.url.path)
        if match is None or match["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = match["method"]
        if method == "getMe":
            return httpx.Response(200, json={"ok": True, "result": {
                "id": 7000000001, "is_bot": True, "first_name": "Shop Watchdog",
                "username": "shop_watchdog_bot", "can_join_groups": True,
                "can_read_all_group_messages": False, "supports_inline_queries": False,
            }})  # fmt: skip
        if method == "getChat":
            params = json.loads(request.content) if request.content else dict(request.url.params)
            chat = self.chats.get(str(params.get("chat_id")))
            if chat is None:
                return self._error(400, "Bad Request: chat not found")
            return httpx.Response(200, json={"ok": True, "result": chat})
        return self._error(404, "Not Found")

    @staticmethod
    def _error(code: int, description: str) -> httpx.Response:
        return httpx.Response(
            code, json={"ok": False, "error_code": code, "description": description}
        )


def telegram(chat_id: str = "123456789") -> str:
    return (
        f'[[notify.telegram]]\nbot_token_env = "WATCHDOG_TELEGRAM_TOKEN"\nchat_id = "{chat_id}"\n'
    )


def test_telegram_names_the_bot_and_the_chat_and_posts_nothing(tmp_path: Path) -> None:
    api = FakeBotApi()
    path = write(
        tmp_path,
        telegram(),
        telegram("-1001234567890").replace(
            "[[notify.telegram]]", '[[notify.telegram]]\nname = "group"'
        ),
    )

    private, group = check_telegram(
        checkup(path, {"WATCHDOG_TELEGRAM_TOKEN": TOKEN}, http=api.transport())
    )

    assert private.detail == "the bot @shop_watchdog_bot can write to “Olga”; nothing was posted"
    assert (
        group.detail
        == "the bot @shop_watchdog_bot can write to “Лавка: заказы”; nothing was posted"
    )
    assert {request.url.path.rpartition("/")[2] for request in api.requests} == {"getMe", "getChat"}


def test_a_wrong_bot_token_is_diagnosed_and_never_printed(tmp_path: Path) -> None:
    path = write(tmp_path, telegram())
    wrong = "7000000001:AAH-wrong-token-never-printed"

    [finding] = check_telegram(
        checkup(path, {"WATCHDOG_TELEGRAM_TOKEN": wrong}, http=FakeBotApi().transport())
    )

    assert finding.status == "fail"
    assert finding.detail == "Telegram does not accept the bot token (401 Unauthorized)"
    assert finding.fix.startswith("check the token, the value of $WATCHDOG_TELEGRAM_TOKEN;")
    assert wrong not in text(finding) and "AAH" not in text(finding)


def test_a_chat_the_bot_cannot_see_says_to_start_the_bot_there(tmp_path: Path) -> None:
    path = write(tmp_path, telegram("555"))

    [finding] = check_telegram(
        checkup(path, {"WATCHDOG_TELEGRAM_TOKEN": TOKEN}, http=FakeBotApi().transport())
    )

    assert finding.detail == (
        "the bot @shop_watchdog_bot cannot reach the chat (400 Bad Request: chat not found)"
    )
    assert finding.fix.startswith("send /start to the bot from that chat")


# --- forms ----------------------------------------------------------------------------

WEB = '[web]\npassword_env = "WATCHDOG_WEB_PASSWORD"\npublic_url = "{url}"\n'


def form(name: str, preset: str = "generic", extra: str = "") -> str:
    token = 'token_env = "WATCHDOG_FORM_TOKEN"'
    return f'[[form]]\nname = "{name}"\n{token}\npreset = "{preset}"\n{extra}'


FORM_ENV = {"WATCHDOG_FORM_TOKEN": "form-token-never-printed", "WATCHDOG_WEB_PASSWORD": "pw"}


def test_each_form_gets_its_address_and_header_but_never_the_token(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        form("site-contact"),
        form("landing", "tilda"),
        WEB.format(url="https://watchdog.shop.test/"),
    )

    generic, tilda = check_forms(checkup(path, FORM_ENV))

    assert generic.status == tilda.status == "ok"
    assert generic.lines[:2] == (
        "address: https://watchdog.shop.test/hooks/site-contact",
        "header:  X-Watchdog-Token: <the value of $WATCHDOG_FORM_TOKEN>",
    )
    assert tilda.lines[0] == (
        "address: https://watchdog.shop.test/hooks/landing"
        "?token=<the value of $WATCHDOG_FORM_TOKEN>"
    )
    assert tilda.lines[1].startswith("Tilda: ")
    assert "form-token-never-printed" not in text(generic) + text(tilda)


def test_a_form_without_a_web_server_fails_and_a_loopback_address_is_a_note(
    tmp_path: Path,
) -> None:
    nowhere = write(tmp_path, form("site-contact"))
    loopback = tmp_path / "loopback.toml"
    loopback.write_text(
        nowhere.read_text() + WEB.format(url="http://127.0.0.1:8080"), encoding="utf-8"
    )

    [no_web] = check_forms(checkup(nowhere, FORM_ENV))
    [local] = check_forms(checkup(loopback, FORM_ENV))

    assert no_web.status == "fail" and "no HTTP server runs" in no_web.detail
    assert local.status == "warn"
    assert local.fix.startswith("http://127.0.0.1:8080 is this machine only")


JOTFORM_API = """
[form.api]
kind = "jotform"
form_id = "251234567890"
api_key_env = "WATCHDOG_JOTFORM_API_KEY"
"""


@pytest.mark.parametrize(
    ("key", "status", "words"),
    [
        ("jf-key-0123456789abcdef", "ok", "answers for form 251234567890"),
        ("jf-wrong-key-never-printed", "fail", "the API key was refused"),
    ],
)
def test_a_pulled_form_asks_the_api_once(tmp_path: Path, key: str, status: str, words: str) -> None:
    service = FakeJotform()
    path = write(
        tmp_path, form("quotes", "jotform", JOTFORM_API), WEB.format(url="https://w.shop.test")
    )
    environ = {**FORM_ENV, "WATCHDOG_JOTFORM_API_KEY": key}

    _, api = check_forms(checkup(path, environ, http=service.transport()))

    assert api.subject == "form quotes: Jotform API"
    assert (api.status, words in api.detail) == (status, True)
    assert len(service.requests) == 1
    assert "never-printed" not in text(api)
    if status == "fail":
        assert "$WATCHDOG_JOTFORM_API_KEY" in api.fix


# --- the calendar ---------------------------------------------------------------------


def test_the_calendar_shows_the_working_saturday_and_skips_the_holidays(tmp_path: Path) -> None:
    path = write(tmp_path, '[sla]\nextra_days_off = ["2025-11-07"]\n')

    [finding] = check_calendar(checkup(path, lang="ru"))

    assert finding.subject == "календарь (Europe/Moscow)"
    assert finding.detail == (
        "сейчас рабочее время (пт 31.10.2025 16:00) до 18:00; на заявку, пришедшую сейчас, "
        "нужно ответить до пт 31.10.2025 18:00"
    )
    lines = [line.strip() for line in finding.lines]
    periods = lines[lines.index("ближайшее рабочее время:") + 1 :][:3]
    assert periods == [
        "пт 31.10.2025 09:00–18:00",
        "сб 01.11.2025 09:00–18:00",
        "ср 05.11.2025 09:00–18:00",
    ]
    days_off = lines[lines.index("ближайшие праздники и выходные:") + 1 :][:5]
    assert [line[:13] for line in days_off] == [
        "пн 03.11.2025", "вт 04.11.2025", "пт 07.11.2025", "ср 31.12.2025", "чт 01.01.2026",
    ]  # fmt: skip
    assert days_off[1] == "вт 04.11.2025 День народного единства"
    assert days_off[2] == "пт 07.11.2025 выходной (extra_days_off)"
    assert days_off[4].startswith("чт 01.01.2026 – ")  # the New Year holidays, as one run
    assert lines[-2:] == [
        "рабочие дни в обычный выходной:",
        "сб 01.11.2025 рабочий день по переносу",
    ]


def test_the_calendar_at_night_says_when_the_shop_opens(tmp_path: Path) -> None:
    path = write(tmp_path)
    saturday_night = datetime.fromisoformat("2025-11-01T20:00:00+03:00")

    [finding] = check_calendar(checkup(path, now=saturday_night))

    assert finding.detail == (
        "closed now (Sat 2025-11-01 20:00); opens Wed 2025-11-05 09:00; "
        "a request arriving now is due by Wed 2025-11-05 11:00"
    )


def test_a_source_with_its_own_hours_gets_its_own_calendar(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        '[sla]\nholidays = "none"\n',
        form("site-contact", extra='[form.sla]\nworking_hours = "10:00-14:00,15:00-19:00"\n'),
        WEB.format(url="https://w.shop.test"),
    )

    main, own = check_calendar(checkup(path, FORM_ENV))

    assert "no days off besides the working week" in main.lines[-1]
    assert own.subject == "calendar of site-contact (Europe/Moscow)"
    assert "10:00–14:00, 15:00–19:00" in own.lines[0]
    assert [line.strip() for line in own.lines[2:5]] == [
        "Fri 2025-10-31 15:00–19:00", "Mon 2025-11-03 10:00–14:00", "Mon 2025-11-03 15:00–19:00",
    ]  # fmt: skip


# --- the whole report -----------------------------------------------------------------


def test_the_summary_counts_failures_and_notes(tmp_path: Path) -> None:
    path = write(tmp_path, form("site-contact"), WEB.format(url="http://127.0.0.1:8080"))

    findings = diagnose(checkup(path, FORM_ENV))
    report = render(findings, "en")

    assert [finding.status for finding in findings if finding.subject.startswith("mail relay")] == [
        "fail"
    ]
    assert report[-1] == "Problems to fix: 1 (marked FAIL); each says how."
    marks = {line.split()[0] for line in report[:-1] if not line.startswith(" ")}
    assert marks == {"ok", "NOTE", "FAIL"}


def test_every_phrase_takes_the_same_values_in_both_languages() -> None:
    import watchdog.doctor  # noqa: F401 - imports every check module, and so every phrase book
    from watchdog.doctor.i18n import BOOKS, placeholders

    assert len(BOOKS) >= 8
    for book in BOOKS:
        for key, (english, russian) in book.phrases.items():
            assert placeholders(english) == placeholders(russian), key
            assert english.strip() and russian.strip(), key


def test_secrets_are_named_by_where_they_come_from_never_by_value() -> None:
    raw = {
        "smtp": {"password_file": "/etc/watchdog/smtp.pass"},
        "mailbox": [
            {"name": "orders", "password_env": "ORDERS_PW"},
            {"name": "x", "password": "p"},
        ],
        "notify": {"telegram": [{"bot_token_env": "TG"}, {"name": "team", "bot_token": "t"}]},
    }

    origins = SecretOrigins.from_toml(raw)

    assert (
        origins.describe("en", ("smtp", "password"))
        == "the contents of the file /etc/watchdog/smtp.pass"
    )
    assert (
        origins.describe("ru", ("mailbox", "orders", "password"))
        == "значение переменной $ORDERS_PW"
    )
    assert (
        origins.describe("en", ("mailbox", "x", "password"))
        == "the password written in the config file"
    )
    assert origins.describe("en", ("telegram", "telegram", "bot_token")) == "the value of $TG"
    assert origins.describe("en", ("telegram", "team", "bot_token")) == (
        "the bot_token written in the config file"
    )
    assert (
        origins.describe("en", ("web", "password")) == "password_env or password_file in the config"
    )
