"""The SMTP fixtures are real relays that fail, stall and authenticate on demand."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

import pytest

from tests.fixtures.smtp import SmtpServer


def _message(subject: str = "Напоминание: клиент ждёт ответа") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Watchdog <watchdog@shop.test>"
    message["To"] = "owner@shop.test, anna@shop.test"
    message["Subject"] = subject
    message.set_content("Заявка от Марии ждёт ответа 3 часа.")
    return message


def _context(server: SmtpServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.cert_path))


def test_sent_mail_is_recorded_with_envelope_and_bytes(smtp_server: SmtpServer) -> None:
    message = _message()
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        refused = client.send_message(message, to_addrs=["owner@shop.test", "anna@shop.test"])

    assert refused == {}
    [received] = smtp_server.messages
    assert received.mail_from == "watchdog@shop.test"
    assert received.rcpt_tos == ["owner@shop.test", "anna@shop.test"]
    assert received.message["Subject"] == "Напоминание: клиент ждёт ответа"
    assert received.data.startswith(b"From: Watchdog <watchdog@shop.test>\r\n")
    assert received.message.get_content().strip() == "Заявка от Марии ждёт ответа 3 часа."
    assert received.authenticated_as is None
    assert received.tls is False


def test_configured_451_at_data_reaches_the_client_once(smtp_server: SmtpServer) -> None:
    smtp_server.respond_with(451, "4.3.0 Try again later", times=1)

    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        with pytest.raises(smtplib.SMTPDataError) as failure:
            client.send_message(_message())
        client.send_message(_message("retry"))

    assert failure.value.smtp_code == 451
    assert [m.message["Subject"] for m in smtp_server.messages] == ["retry"]


def test_configured_550_at_rcpt_refuses_the_recipient(smtp_server: SmtpServer) -> None:
    smtp_server.respond_with(550, "5.1.1 No such user", at="RCPT")

    with (
        smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused) as failure,
    ):
        client.send_message(_message(), to_addrs=["gone@shop.test"])

    assert failure.value.recipients["gone@shop.test"][0] == 550
    assert smtp_server.messages == []


def test_permanent_550_at_data_lasts_until_reset(smtp_server: SmtpServer) -> None:
    smtp_server.respond_with(550, "5.7.1 Message rejected")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        for _ in range(2):
            with pytest.raises(smtplib.SMTPDataError) as failure:
                client.send_message(_message())
            assert failure.value.smtp_code == 550

    smtp_server.reset()
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        client.send_message(_message())
    assert len(smtp_server.messages) == 1


def test_starttls_then_auth_is_recorded(smtp_server_tls: SmtpServer) -> None:
    with smtplib.SMTP(smtp_server_tls.host, smtp_server_tls.port, timeout=5) as client:
        client.starttls(context=_context(smtp_server_tls))
        client.login(smtp_server_tls.username, smtp_server_tls.password)
        client.send_message(_message())

    [received] = smtp_server_tls.messages
    assert received.tls is True
    assert received.authenticated_as == smtp_server_tls.username


def test_starttls_server_offers_no_auth_before_tls(smtp_server_tls: SmtpServer) -> None:
    with (
        smtplib.SMTP(smtp_server_tls.host, smtp_server_tls.port, timeout=5) as client,
        pytest.raises(smtplib.SMTPNotSupportedError),
    ):
        client.login(smtp_server_tls.username, smtp_server_tls.password)


def test_wrong_smtp_password_is_refused(smtp_server: SmtpServer) -> None:
    with (
        smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client,
        pytest.raises(smtplib.SMTPAuthenticationError) as failure,
    ):
        client.login(smtp_server.username, "wrong")
    assert failure.value.smtp_code == 535


def test_plain_server_accepts_auth_on_loopback(smtp_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        client.login(smtp_server.username, smtp_server.password)
        client.send_message(_message())
    assert smtp_server.messages[0].authenticated_as == smtp_server.username


def test_implicit_tls_verifies_against_the_generated_cert(
    smtp_server_implicit_tls: SmtpServer,
) -> None:
    server = smtp_server_implicit_tls
    with smtplib.SMTP_SSL(server.host, server.port, timeout=5, context=_context(server)) as client:
        client.login(server.username, server.password)
        client.send_message(_message())
    assert server.messages[0].tls is True


def test_hang_makes_the_client_time_out_and_releases_cleanly(smtp_server: SmtpServer) -> None:
    smtp_server.hang(at="DATA")

    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        assert client.sock is not None
        client.sock.settimeout(0.5)  # the client's own patience, not a sleep
        with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
            client.send_message(_message())

    assert smtp_server.wait_until_hanging(timeout=0)
    smtp_server.release()
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        client.send_message(_message("after the stall"))
    assert [m.message["Subject"] for m in smtp_server.messages] == ["after the stall"]


def test_hang_for_seconds_then_answers(smtp_server: SmtpServer) -> None:
    smtp_server.hang(at="RCPT", seconds=0.2)

    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        client.send_message(_message())

    assert smtp_server.wait_until_hanging(timeout=0)
    assert len(smtp_server.messages) == 1
