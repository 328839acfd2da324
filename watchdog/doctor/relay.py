"""The relay our e-mails leave through (SMTP): connect, secure and log in as a send would.

Nothing is sent, except with ``--send-test``: then exactly one message, to
the owner, plainly marked automatic.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email.message import EmailMessage

from watchdog.doctor.i18n import Phrasebook
from watchdog.doctor.report import Checkup, Finding
from watchdog.doctor.trouble import Server, explain, security_words
from watchdog.errors import SendError
from watchdog.notify.email import build_email, message_id
from watchdog.notify.mailer import Mailer

_T = Phrasebook(
    {
        "relay": ("mail relay {host}:{port}", "сервер отправки почты {host}:{port}"),
        "ports.smtp": (
            "starttls goes with port 587, tls with 465, none with 25",
            "starttls — это порт 587, tls — 465, none — 25",
        ),
        "relay.ok": (
            (
                "connected ({security}), {login}; nothing sent (--send-test sends the owner "
                "one message)"
            ),
            (
                "соединение есть ({security}), {login}; ничего не отправлено (--send-test "
                "отправит владельцу одно письмо)"
            ),
        ),
        "relay.login": ("logged in as {user}", "вход как {user} выполнен"),
        "relay.anonymous": ("no login configured", "вход не настроен"),
        "relay.sent": (
            "sent a test message to {to}; the relay answered: {receipt}",
            "проверочное письмо отправлено на {to}; сервер ответил: {receipt}",
        ),
        "relay.sent.note": (
            "not there in a few minutes? Look in Spam, then search the relay's log for that answer",
            (
                "не пришло за несколько минут? Загляните в «Спам», потом найдите этот ответ "
                "в журнале сервера отправки"
            ),
        ),
        "relay.broken": (
            "{detail}; until this is fixed, reminders and the digest cannot be sent",
            "{detail}; пока это не исправлено, напоминания и сводка не уйдут",
        ),
        "test.subject": (
            "Watchdog: test message from `watchdog doctor`",
            "Watchdog: проверочное письмо от `watchdog doctor`",
        ),
        "test.body": (
            (
                "This message was sent by `watchdog doctor --send-test` on {machine}.\n\n"
                "It reached you, so reminders and the daily digest will reach you too.\n"
                "Nothing needs to be done.\n"
            ),
            (
                "Это письмо отправила команда `watchdog doctor --send-test` на {machine}.\n\n"
                "Раз оно дошло, напоминания и ежедневная сводка тоже дойдут.\n"
                "Ничего делать не нужно.\n"
            ),
        ),
    }
)


def check_relay(checkup: Checkup) -> Iterator[Finding]:
    """Connect to the relay and log in as a notification would; send only with ``send_test``."""
    smtp, lang = checkup.config.smtp, checkup.lang
    subject = _T(lang, "relay", host=smtp.host, port=smtp.port)
    mailer = Mailer(smtp, ssl_context=checkup.ssl_context)
    try:
        if checkup.send_test:
            receipt = mailer.send(_test_message(checkup))
        else:
            mailer.check()
    except SendError as exc:
        detail, fix = explain(exc, _relay_server(checkup), lang)
        yield Finding(subject, "fail", _T(lang, "relay.broken", detail=detail), fix=fix)
        return
    if checkup.send_test:
        detail = _T(lang, "relay.sent", to=checkup.config.owner.email, receipt=receipt)
        yield Finding(subject, "ok", detail, (_T(lang, "relay.sent.note"),))
        return
    login = (
        _T(lang, "relay.login", user=smtp.username)
        if smtp.username
        else _T(lang, "relay.anonymous")
    )
    security = security_words(lang, smtp.security)
    yield Finding(subject, "ok", _T(lang, "relay.ok", security=security, login=login))


def _relay_server(checkup: Checkup) -> Server:
    smtp, lang = checkup.config.smtp, checkup.lang
    return Server(
        host=smtp.host,
        port=smtp.port,
        section="[smtp]",
        ports=_T(lang, "ports.smtp"),
        user=smtp.username,
        secret=checkup.secrets.describe(lang, ("smtp", "password")),
        timeout_s=smtp.timeout.total_seconds(),
    )


def _test_message(checkup: Checkup) -> EmailMessage:
    """Return the one message ``--send-test`` sends: to the owner, plainly marked automatic."""
    config, lang = checkup.config, checkup.lang
    sender = config.smtp.from_
    domain = sender.email.rpartition("@")[2]
    return build_email(
        sender=sender,
        recipient=config.owner.email,
        subject=_T(lang, "test.subject"),
        text=_T(lang, "test.body", machine=socket.gethostname()),
        html=None,
        message_id_header=message_id("doctor", [checkup.now.isoformat()], domain),
        date=checkup.now,
    )
