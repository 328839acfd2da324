"""Builders of test mails: realistic raw bytes, written in the tests that use them.

``letter`` covers ordinary single-part and text+HTML mail with any headers;
``delivery_report`` builds an RFC 3464 bounce. Both return bytes, so tests go
through the real parser, exactly as mail from a mailbox does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.policy import SMTP

from watchdog.classify import ClassifyContext, Decision, RuleSet, classify, load_rules
from watchdog.ingest.parse import parse_message

SHOP = ClassifyContext(
    own_domains=frozenset({"shop-test.ru"}),
    staff=frozenset({"anna.shop@gmail.com"}),
)

_RULES: list[RuleSet] = []


def bundled_rules() -> RuleSet:
    """The bundled rule set, loaded once per test session."""
    if not _RULES:
        _RULES.append(load_rules())
    return _RULES[0]


def letter(
    body: str = "Здравствуйте! Подскажите, пожалуйста, есть ли куртка в размере M?",
    *,
    frm: str = "Марина Белова <marina.belova@gmail.com>",
    to: str | None = "info@shop-test.ru",
    subject: str = "Куртка",
    headers: Mapping[str, str] | None = None,
    html: str | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> bytes:
    """Return one mail as bytes; ``headers`` adds any header (Reply-To, Auto-Submitted, ...).

    ``attachments`` are (content type, file name, bytes).
    """
    msg = EmailMessage(policy=SMTP)
    msg["From"] = frm
    if to is not None:
        msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Tue, 04 Nov 2025 10:15:00 +0300"
    msg["Message-ID"] = "<t.1@mail.example>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for ctype, filename, data in attachments:
        maintype, _, subtype = ctype.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def delivery_report(
    failed: str = "anna.kovaleva8@mail.ru",
    *,
    frm: str = "Mail Delivery System <MAILER-DAEMON@mx1.shop-test.ru>",
    subject: str = "Undelivered Mail Returned to Sender",
    with_status_part: bool = True,
) -> bytes:
    """Return a Postfix-style RFC 3464 report about a message to ``failed``."""
    status = (
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx1.shop-test.ru\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
    )
    notice = (
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "This is the mail system at host mx1.shop-test.ru.\r\n\r\n"
        "I'm sorry to have to inform you that your message could not\r\n"
        f"be delivered to one or more recipients.\r\n\r\n<{failed}>: host said: 550 user unknown\r\n"
    )
    parts = [notice]
    if with_status_part:
        parts.append(status)
    parts.append(
        "Content-Type: text/rfc822-headers\r\n\r\n"
        f"From: info@shop-test.ru\r\nTo: {failed}\r\nSubject: Ваш заказ\r\n"
    )
    body = "".join(f"--B\r\n{p}\r\n" for p in parts) + "--B--\r\n"
    ctype = (
        'multipart/report; report-type=delivery-status; boundary="B"'
        if with_status_part
        else 'multipart/mixed; boundary="B"'
    )
    head = (
        f"From: {frm}\r\nTo: info@shop-test.ru\r\nSubject: {subject}\r\n"
        "Date: Tue, 04 Nov 2025 10:15:00 +0300\r\nMessage-ID: <b.1@mx1.shop-test.ru>\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: {ctype}\r\n\r\n"
    )
    return (head + body).encode()


def decide(raw: bytes, context: ClassifyContext = SHOP, rules: RuleSet | None = None) -> Decision:
    """Parse and classify ``raw`` with the bundled rules (or ``rules``)."""
    return classify(parse_message(raw), rules or bundled_rules(), context, raw=raw)
