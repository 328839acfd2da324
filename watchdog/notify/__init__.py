"""Notifications: render them, queue them in the outbox, and deliver each row once.

- ``email``: the escalation e-mail's template family (ru/en) and its MIME message;
- ``mailer``: the SMTP relay (the only smtplib import);
- ``telegram``: the Bot API (the only place that posts to Telegram);
- ``channels``: one ``deliver(item)`` interface over both;
- ``outbox``: ``handle_one_outbox(session_factory, channels, now) -> bool``.

Usage (the scheduler's job and ``run --once`` alike)::

    channels = channels_from_config(config)
    while handle_one_outbox(session_factory, channels, now):
        pass
"""

from __future__ import annotations

from watchdog.notify.channels import Channel, OutboxItem, channels_from_config
from watchdog.notify.outbox import (
    NOTIFICATION_FAILED,
    RetryPolicy,
    count_in_doubt,
    handle_one_outbox,
    retry_delay,
)

__all__ = [
    "NOTIFICATION_FAILED",
    "Channel",
    "OutboxItem",
    "RetryPolicy",
    "channels_from_config",
    "count_in_doubt",
    "handle_one_outbox",
    "retry_delay",
]
