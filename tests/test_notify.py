"""Notifications: the e-mail's words, the real SMTP relay, Telegram's Bot API, and the outbox.

The relay is a real aiosmtpd server (``tests/fixtures/smtp.py``); Telegram,
which cannot run here, is scripted with ``httpx.MockTransport`` from the Bot
API's documented requests and answers. The outbox runs on SQLite and
PostgreSQL and is driven by an explicit ``now``: nothing here sleeps.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.dovecot import HOST, free_port
from tests.fixtures.smtp import SmtpServer
from watchdog.config import Secret, SmtpConfig, TelegramConfig
from watchdog.errors import SendError
from watchdog.notify import NOTIFICATION_FAILED, RetryPolicy, count_in_doubt, handle_one_outbox
from watchdog.notify.channels import Channel, EmailChannel, OutboxItem, TelegramChannel
from watchdog.notify.email import WaitingCase, build_email, render_escalation, render_telegram
from watchdog.notify.mailer import Mailer
from watchdog.notify.outbox import retry_delay
from watchdog.notify.telegram import TelegramBot
from watchdog.notify.text import plural, snippet
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Alarm, Outbox

MOSCOW = ZoneInfo("Europe/Moscow")
NOW = datetime(2025, 11, 5, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
TOKEN = "123456:AAE-secret-bot-token_xyz"


def waiting(
    case_id: int, waited: timedelta, *, customer: str = "Eve <eve@example.com>", text: str = "Hi"
) -> WaitingCase:
    return WaitingCase(
        id=case_id,
        customer=customer,
        source="orders",
        subject="Where is my order?",
        received_at=datetime(2025, 11, 5, 7, 0, tzinfo=UTC),
        zone=MOSCOW,
        waited=waited,
        text=text,
    )


THREE = [
    waiting(1, timedelta(hours=2)),
    waiting(2, timedelta(hours=5, minutes=20)),
    waiting(3, timedelta(minutes=40)),
]


# --- the e-mail's words ---------------------------------------------------------------


def test_subject_says_how_many_wait_and_the_longest_in_russian() -> None:
    mail = render_escalation(THREE, language="ru", audience="owner", public_url=None)
    assert mail.subject == "3 клиента ждут ответа, дольше всех — 5 ч 20 мин"


def test_subject_in_english() -> None:
    mail = render_escalation(THREE, language="en", audience="owner", public_url=None)
    assert mail.subject == "3 customers are waiting for an answer, the longest for 5 h 20 min"


def test_subject_for_one_customer() -> None:
    one = [waiting(1, timedelta(hours=2))]
    assert render_escalation(one, language="ru", audience="team", public_url=None).subject == (
        "Клиент ждёт ответа уже 2 ч"
    )
    assert render_escalation(one, language="en", audience="team", public_url=None).subject == (
        "A customer has waited 2 h for an answer"
    )


@pytest.mark.parametrize(
    ("count", "form"),
    [(1, "клиент"), (2, "клиента"), (4, "клиента"), (5, "клиентов"), (11, "клиентов"),
     (12, "клиентов"), (21, "клиент"), (22, "клиента"), (111, "клиентов")],
)  # fmt: skip
def test_russian_plurals(count: int, form: str) -> None:
    assert plural(count, "ru", "клиент", "клиента", "клиентов") == form


def test_body_lists_each_case_longest_first_with_door_time_and_link() -> None:
    mail = render_escalation(
        THREE, language="ru", audience="team", public_url="https://w.shop.test/"
    )
    assert mail.text.index("5 ч 20 мин") < mail.text.index("2 ч") < mail.text.index("40 мин")
    assert "Откуда: orders" in mail.text
    assert "05.11.2025 10:00 MSK" in mail.text  # 07:00 UTC shown in the shop's zone
    assert "https://w.shop.test/cases/2" in mail.text
    assert 'href="https://w.shop.test/cases/2"' in mail.html


def test_customer_text_is_escaped_in_html() -> None:
    sly = waiting(
        1, timedelta(hours=3), customer='<img src=x onerror="alert(1)"> Mallory', text="a < b & c"
    )
    mail = render_escalation([sly], language="en", audience="owner", public_url=None)
    assert "<img" not in mail.html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; Mallory" in mail.html
    assert "a &lt; b &amp; c" in mail.html
    assert "<img src=x" in mail.text  # the text part shows the words as they are


def test_snippet_drops_markup_and_scripts_and_is_short() -> None:
    html = "<p>Hello!<script>steal()</script> I ordered <b>two</b> chairs.</p>" + " word" * 100
    short = snippet(html)
    assert short.startswith("Hello! I ordered two chairs. word")
    assert "<" not in short and "steal" not in short
    assert len(short) <= 200 and short.endswith("…")


def test_snippet_keeps_plain_text_with_angle_brackets() -> None:
    assert (
        snippet("Write to <anna@mail.ru>\n\nplease,  a<b") == "Write to <anna@mail.ru> please, a<b"
    )


def test_snippet_removes_bidi_overrides() -> None:
    assert snippet("pay\u202efdp.exe") == "pay fdp.exe"


def test_telegram_text_is_plain_and_fits() -> None:
    many = [waiting(i, timedelta(hours=3), text="x" * 300) for i in range(100)]
    text = render_telegram(many, language="en", public_url="https://w.shop.test")
    assert text.startswith("100 customers are waiting")
    assert len(text) <= 4096


def test_email_carries_the_rows_identity_and_says_it_is_automatic() -> None:
    mail = render_escalation(THREE, language="en", audience="owner", public_url=None)
    message = build_email(
        sender=SMTP_FROM,
        recipient="owner@shop.test",
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        message_id_header="<watchdog.escalation.abc@shop.test>",
        date=NOW,
    )
    assert message["Message-ID"] == "<watchdog.escalation.abc@shop.test>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"


# --- the SMTP relay ---------------------------------------------------------------------


def smtp_config(
    server: SmtpServer, *, login: bool = False, password: str | None = None
) -> SmtpConfig:
    table: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "security": server.security,
        "from": "Watchdog <watchdog@shop.test>",
        "timeout": "5s",
    }
    if login:
        table |= {"username": server.username, "password": Secret(password or server.password)}
    return SmtpConfig.model_validate(table)


def mailer(server: SmtpServer, *, login: bool = False, password: str | None = None) -> Mailer:
    context = ssl.create_default_context(cafile=server.cert_path) if server.cert_path else None
    return Mailer(smtp_config(server, login=login, password=password), ssl_context=context)


SMTP_FROM = SmtpConfig.model_validate({"host": "x", "from": "Watchdog <watchdog@shop.test>"}).from_


def a_message(to: str = "owner@shop.test") -> EmailMessage:
    return build_email(
        sender=SMTP_FROM,
        recipient=to,
        subject="1 customer waits",
        text="Eve waits.",
        html="<p>Eve waits.</p>",
        message_id_header="<watchdog.escalation.1@shop.test>",
        date=NOW,
    )


def test_mailer_sends_in_plain_smtp(smtp_server: SmtpServer) -> None:
    receipt = mailer(smtp_server).send(a_message())
    [received] = smtp_server.messages
    assert receipt.startswith("250")
    assert received.mail_from == "watchdog@shop.test"
    assert received.rcpt_tos == ["owner@shop.test"]
    assert received.message["Message-ID"] == "<watchdog.escalation.1@shop.test>"
    assert (received.tls, received.authenticated_as) == (False, None)


def test_mailer_uses_starttls_and_logs_in(smtp_server_tls: SmtpServer) -> None:
    mailer(smtp_server_tls, login=True).send(a_message())
    [received] = smtp_server_tls.messages
    assert (received.tls, received.authenticated_as) == (True, smtp_server_tls.username)


def test_mailer_speaks_implicit_tls(smtp_server_implicit_tls: SmtpServer) -> None:
    mailer(smtp_server_implicit_tls, login=True).send(a_message())
    [received] = smtp_server_implicit_tls.messages
    assert received.tls


def test_a_refused_login_is_permanent(smtp_server_tls: SmtpServer) -> None:
    with pytest.raises(SendError) as caught:
        mailer(smtp_server_tls, login=True, password="wrong").send(a_message())
    assert caught.value.permanent
    assert "wrong" not in str(caught.value)


def test_an_untrusted_certificate_is_permanent(smtp_server_tls: SmtpServer) -> None:
    untrusting = Mailer(smtp_config(smtp_server_tls), ssl_context=ssl.create_default_context())
    with pytest.raises(SendError) as caught:
        untrusting.send(a_message())
    assert caught.value.permanent


@pytest.mark.parametrize(("code", "permanent"), [(451, False), (550, True)])
def test_relay_codes_decide_whether_to_retry(
    smtp_server: SmtpServer, code: int, permanent: bool
) -> None:
    smtp_server.respond_with(code, "No", at="DATA")
    with pytest.raises(SendError) as caught:
        mailer(smtp_server).send(a_message())
    assert caught.value.permanent is permanent
    assert str(code) in str(caught.value)


def test_a_relay_that_does_not_answer_is_a_transient_timeout(smtp_server: SmtpServer) -> None:
    smtp_server.hang(at="DATA")
    config = smtp_config(smtp_server).model_copy(update={"timeout": timedelta(seconds=0.3)})
    with pytest.raises(SendError) as caught:
        Mailer(config).send(a_message())
    assert not caught.value.permanent
    assert smtp_server.messages == []


def test_nobody_listening_is_transient() -> None:
    config = SmtpConfig.model_validate(
        {"host": HOST, "port": free_port(), "security": "none", "from": "w@shop.test"}
    )
    with pytest.raises(SendError) as caught:
        Mailer(config).send(a_message())
    assert not caught.value.permanent


# --- Telegram ---------------------------------------------------------------------------

Handler = Callable[[httpx.Request], httpx.Response]


def bot(handler: Handler) -> TelegramBot:
    chat = TelegramConfig.model_validate(
        {"name": "shop", "bot_token": Secret(TOKEN), "chat_id": "-100123"}
    )
    return TelegramBot(chat, transport=httpx.MockTransport(handler))


def test_telegram_posts_send_message_as_documented() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True, "result": {"message_id": 42, "chat": {}}})

    assert bot(handler).send("2 customers are waiting") == "telegram message_id=42"
    [request] = seen
    assert (request.method, request.url.path) == ("POST", f"/bot{TOKEN}/sendMessage")
    assert json.loads(request.content) == {
        "chat_id": "-100123",
        "text": "2 customers are waiting",
        "disable_web_page_preview": True,
    }


def refusing(status: int, body: dict[str, object]) -> Handler:
    return lambda request: httpx.Response(status, json=body)


def test_telegram_429_is_transient_with_retry_after() -> None:
    answer = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
              "parameters": {"retry_after": 7}}  # fmt: skip
    with pytest.raises(SendError) as caught:
        bot(refusing(429, answer)).send("hi")
    assert (caught.value.permanent, caught.value.retry_after) == (False, 7.0)


def test_telegram_403_is_permanent_and_never_shows_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answer = {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SendError) as caught:
        bot(refusing(403, answer)).send("hi")
    assert caught.value.permanent
    assert "blocked" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert TOKEN not in str(caught.value) and TOKEN not in caplog.text
    assert "/bot<redacted>/sendMessage" in caplog.text  # httpx's own request log line


def test_telegram_network_errors_are_transient_and_never_show_the_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    with pytest.raises(SendError) as caught:
        bot(handler).send("hi")
    assert not caught.value.permanent
    assert TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_telegram_server_errors_are_transient() -> None:
    with pytest.raises(SendError) as caught:
        bot(lambda request: httpx.Response(502, text="<html>Bad Gateway</html>")).send("hi")
    assert not caught.value.permanent


# --- the outbox ---------------------------------------------------------------------------


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    upgrade(db_url)
    engine = make_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


def queue(sessions: sessionmaker[Session], *, channel: str = "email", **values: object) -> int:
    """Add a pending outbox row due at NOW; return its id."""
    row = Outbox(
        kind="escalation",
        channel=channel,
        recipient="owner@shop.test" if channel == "email" else "shop",
        subject="1 customer waits",
        body_text="Eve waits.",
        body_html=None,
        message_id_header=f"<watchdog.escalation.{len(str(values))}.{id(values)}@shop.test>",
        status="pending",
        attempts=0,
        next_attempt_at=NOW,
        created_at=NOW,
    )
    for name, value in values.items():
        setattr(row, name, value)
    with sessions() as session:
        session.add(row)
        session.commit()
        return row.id


def load(sessions: sessionmaker[Session], row_id: int) -> Outbox:
    with sessions() as session:
        row = session.get(Outbox, row_id)
        assert row is not None
        return row


def alarms(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    with sessions() as session:
        return [(a.kind, a.key) for a in session.scalars(select(Alarm))]


class Recorder:
    """A channel that accepts everything and remembers it."""

    def __init__(self) -> None:
        self.items: list[OutboxItem] = []

    def deliver(self, item: OutboxItem) -> str:
        self.items.append(item)
        return "250 OK"


def email_channel(server: SmtpServer) -> dict[str, Channel]:
    return {"email": EmailChannel(mailer(server), SMTP_FROM)}


def test_a_row_is_sent_once_however_often_the_sender_runs(
    sessions: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    row_id = queue(sessions)
    channels = email_channel(smtp_server)

    assert handle_one_outbox(sessions, channels, NOW) is True
    for later in range(5):
        assert handle_one_outbox(sessions, channels, NOW + later * MINUTE) is False

    row = load(sessions, row_id)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, NOW)
    assert row.relay_response and row.relay_response.startswith("250")
    [received] = smtp_server.messages
    assert received.message["Message-ID"] == row.message_id_header


def test_451_is_retried_later_with_backoff(
    sessions: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    row_id = queue(sessions)
    channels = email_channel(smtp_server)
    smtp_server.respond_with(451, "Try again later", at="DATA", times=1)

    assert handle_one_outbox(sessions, channels, NOW) is True
    row = load(sessions, row_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, NOW + MINUTE)
    assert "451" in (row.last_error or "")

    assert handle_one_outbox(sessions, channels, NOW + MINUTE / 2) is False  # not yet
    assert handle_one_outbox(sessions, channels, NOW + MINUTE) is True
    assert load(sessions, row_id).status == "sent"
    assert len(smtp_server.messages) == 1
    assert alarms(sessions) == []


def test_550_fails_the_row_and_raises_an_alarm_once(
    sessions: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    row_id = queue(sessions)
    smtp_server.respond_with(550, "Mailbox unavailable", at="RCPT")

    assert handle_one_outbox(sessions, email_channel(smtp_server), NOW) is True
    assert handle_one_outbox(sessions, email_channel(smtp_server), NOW + MINUTE) is False

    row = load(sessions, row_id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "550" in (row.last_error or "")
    assert alarms(sessions) == [(NOTIFICATION_FAILED, str(row_id))]


def test_a_hanging_relay_times_out_and_is_retried(
    sessions: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    row_id = queue(sessions)
    smtp_server.hang(at="DATA")
    config = smtp_config(smtp_server).model_copy(update={"timeout": timedelta(seconds=0.3)})
    channels: dict[str, Channel] = {"email": EmailChannel(Mailer(config), SMTP_FROM)}

    assert handle_one_outbox(sessions, channels, NOW) is True
    row = load(sessions, row_id)
    assert (row.status, row.attempts) == ("pending", 1)

    smtp_server.release()
    assert handle_one_outbox(sessions, channels, NOW + MINUTE) is True
    assert load(sessions, row_id).status == "sent"


def test_transient_errors_give_up_after_max_attempts(sessions: sessionmaker[Session]) -> None:
    class Down:
        def deliver(self, item: OutboxItem) -> str:
            raise SendError("connection refused")

    row_id = queue(sessions)
    policy = RetryPolicy(max_attempts=3)
    now = NOW
    while handle_one_outbox(sessions, {"email": Down()}, now, policy=policy):
        now = load(sessions, row_id).next_attempt_at

    row = load(sessions, row_id)
    assert (row.status, row.attempts) == ("failed", 3)
    assert alarms(sessions) == [(NOTIFICATION_FAILED, str(row_id))]


def test_a_bug_in_a_channel_does_not_stop_the_sender(sessions: sessionmaker[Session]) -> None:
    class Broken:
        def deliver(self, item: OutboxItem) -> str:
            raise ZeroDivisionError("oops")

    row_id = queue(sessions)
    assert handle_one_outbox(sessions, {"email": Broken()}, NOW) is True
    row = load(sessions, row_id)
    assert row.status == "pending" and "ZeroDivisionError" in (row.last_error or "")


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy()
    delays = [retry_delay(attempts, policy) for attempts in range(1, 10)]
    assert delays[:4] == [MINUTE, 2 * MINUTE, 4 * MINUTE, 8 * MINUTE]
    assert delays[-1] == timedelta(hours=1)
    assert retry_delay(1, policy, retry_after=90) == timedelta(seconds=90)


def test_telegram_rate_limit_is_honoured_by_the_outbox(sessions: sessionmaker[Session]) -> None:
    answer = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 300",
              "parameters": {"retry_after": 300}}  # fmt: skip
    row_id = queue(sessions, channel="telegram")
    channels: dict[str, Channel] = {
        "telegram": TelegramChannel({"shop": bot(refusing(429, answer))})
    }

    assert handle_one_outbox(sessions, channels, NOW) is True
    row = load(sessions, row_id)
    assert (row.status, row.next_attempt_at) == ("pending", NOW + timedelta(seconds=300))
    assert TOKEN not in (row.last_error or "")


def test_a_row_another_sender_is_sending_is_left_alone(sessions: sessionmaker[Session]) -> None:
    # Claimed a minute ago by another process, which is still talking to the relay.
    row_id = queue(sessions, status="sending", last_attempt_at=NOW - MINUTE)
    channel = Recorder()

    for later in range(10):
        assert handle_one_outbox(sessions, {"email": channel}, NOW + later * MINUTE) is False
    assert channel.items == []
    assert load(sessions, row_id).status == "sending"


def test_an_abandoned_row_is_resent_once_with_the_same_message_id(
    sessions: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    # The process died between claiming the row (11:30) and recording the result.
    row_id = queue(sessions, status="sending", last_attempt_at=NOW - timedelta(minutes=30))
    channels = email_channel(smtp_server)

    assert handle_one_outbox(sessions, channels, NOW) is True  # settles: in doubt
    row = load(sessions, row_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert (row.last_error or "").startswith("in doubt")

    assert handle_one_outbox(sessions, channels, NOW) is True  # resends
    row = load(sessions, row_id)
    assert (row.status, row.attempts) == ("sent", 2)
    assert (row.last_error or "").startswith("in doubt")  # still recognisable afterwards
    [received] = smtp_server.messages
    assert received.message["Message-ID"] == row.message_id_header
    with sessions() as session:
        assert count_in_doubt(session) == 1
    assert alarms(sessions) == []


def test_a_row_abandoned_twice_is_failed_with_an_alarm(sessions: sessionmaker[Session]) -> None:
    row_id = queue(sessions, status="sending", last_attempt_at=NOW - timedelta(minutes=30))
    channel = Recorder()

    class Crash(BaseException):
        """Stands in for the process dying in the middle of a send."""

    class Dying:
        def deliver(self, item: OutboxItem) -> str:
            raise Crash

    assert handle_one_outbox(sessions, {"email": channel}, NOW) is True  # in doubt: pending
    with pytest.raises(Crash):
        handle_one_outbox(sessions, {"email": Dying()}, NOW)  # claimed, then "killed"
    later = NOW + timedelta(minutes=30)
    assert handle_one_outbox(sessions, {"email": channel}, later) is True

    row = load(sessions, row_id)
    assert row.status == "failed"
    assert channel.items == []
    assert alarms(sessions) == [(NOTIFICATION_FAILED, str(row_id))]


def test_an_unknown_channel_fails_the_row(sessions: sessionmaker[Session]) -> None:
    row_id = queue(sessions, channel="pigeon")
    assert handle_one_outbox(sessions, {}, NOW) is True
    assert load(sessions, row_id).status == "failed"
