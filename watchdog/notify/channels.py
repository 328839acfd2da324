"""Channels: how one outbox row reaches its recipient, behind one small interface.

``Channel.deliver(item)`` either returns the other side's receipt (stored as
``relay_response``) or raises :class:`~watchdog.errors.SendError` with
``permanent`` set. The outbox knows nothing else about e-mail or Telegram;
the channel is picked by the row's ``channel`` column ("email", "telegram").
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol

import httpx

from watchdog.config.schema import Config
from watchdog.config.types import Address
from watchdog.errors import SendError
from watchdog.notify.email import build_email
from watchdog.notify.mailer import Mailer
from watchdog.notify.telegram import TelegramBot
from watchdog.storage.models import Outbox


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """An outbox row as a plain value, so sending never touches a database session."""

    id: int
    kind: str
    channel: str
    recipient: str
    subject: str
    body_text: str
    body_html: str | None
    message_id_header: str
    created_at: datetime
    attempts: int

    @classmethod
    def of(cls, row: Outbox) -> OutboxItem:
        """Return the value of a loaded row."""
        return cls(
            id=row.id,
            kind=row.kind,
            channel=row.channel,
            recipient=row.recipient,
            subject=row.subject,
            body_text=row.body_text,
            body_html=row.body_html,
            message_id_header=row.message_id_header,
            created_at=row.created_at,
            attempts=row.attempts,
        )


class Channel(Protocol):
    """Something that can deliver an outbox item."""

    def deliver(self, item: OutboxItem) -> str:
        """Deliver ``item``; return a receipt, or raise SendError (``permanent`` set)."""
        ...


class MailSender(Protocol):
    """What the e-mail channel needs of a relay: :class:`~watchdog.notify.mailer.Mailer`."""

    def send(self, message: EmailMessage) -> str:
        """Send ``message``; return the relay's receipt or raise SendError."""
        ...


class EmailChannel:
    """Deliver a row as an e-mail from ``sender`` through ``mailer``.

    The Date header is the row's ``created_at``: like the Message-ID it stays
    the same on every attempt, so a resend is the same message.
    """

    def __init__(self, mailer: MailSender, sender: Address) -> None:
        self._mailer = mailer
        self._sender = sender

    def deliver(self, item: OutboxItem) -> str:
        """Compose the row's e-mail and send it."""
        message = build_email(
            sender=self._sender,
            recipient=item.recipient,
            subject=item.subject,
            text=item.body_text,
            html=item.body_html,
            message_id_header=item.message_id_header,
            date=item.created_at,
        )
        return self._mailer.send(message)


class TelegramSender(Protocol):
    """What the Telegram channel needs of a chat: :class:`~watchdog.notify.telegram.TelegramBot`."""

    def send(self, text: str) -> str:
        """Post ``text``; return a receipt or raise SendError."""
        ...


class TelegramChannel:
    """Deliver a row's text to the chat named by its ``recipient`` (a chat name, not an id).

    The row holds only the chat's config name, so neither the token nor the
    chat id is ever written to the database.
    """

    def __init__(self, bots: Mapping[str, TelegramSender]) -> None:
        self._bots = dict(bots)

    def deliver(self, item: OutboxItem) -> str:
        """Post the row's text; an unknown chat name is permanent (it left the config)."""
        bot = self._bots.get(item.recipient)
        if bot is None:
            raise SendError(f"no [[notify.telegram]] chat named {item.recipient!r}", permanent=True)
        return bot.send(item.body_text)


def channels_from_config(
    config: Config,
    *,
    ssl_context: ssl.SSLContext | None = None,
    http_transport: httpx.BaseTransport | None = None,
) -> dict[str, Channel]:
    """Return the channels of a config, keyed as the outbox's ``channel`` column."""
    bots = {
        chat.name: TelegramBot(chat, transport=http_transport) for chat in config.notify.telegram
    }
    return {
        "email": EmailChannel(Mailer(config.smtp, ssl_context=ssl_context), config.smtp.from_),
        "telegram": TelegramChannel(bots),
    }
