"""What part a stored message plays in a conversation, from its row and verdict alone.

- ``request``: a customer or form request that reached us: it opens or keeps a case;
- ``reply``: a human reply from one of our mailboxes to someone outside: it answers;
- ``auto_ack``: our own automatic acknowledgement: it answers nothing;
- ``internal``: our mail to our own people only (a forward to a colleague): answers nothing;
- ``other``: everything else (newsletters, notifications, bounces): not tracked.
"""

from __future__ import annotations

from typing import Literal

from watchdog.ingest.message import OurIdentity
from watchdog.storage.models import Message

Role = Literal["request", "reply", "auto_ack", "internal", "other"]

#: Categories whose outgoing mail is a machine's, never a person's answer.
_AUTOMATIC = frozenset({"autoreply", "bounce", "bulk", "notification"})


def role_of(message: Message, ours: OurIdentity) -> Role:
    """Return the message's role; a message without a verdict counts as a request if incoming."""
    verdict = message.classification
    category = verdict.category if verdict else "customer"
    if message.direction != "outgoing":
        return "request" if verdict is None or verdict.request else "other"
    if category in _AUTOMATIC:
        return "auto_ack" if category == "autoreply" else "other"
    return "reply" if outside_recipients(message, ours) else "internal"


def outside_recipients(message: Message, ours: OurIdentity) -> list[str]:
    """Return the To and Cc addresses that are not ours, in order."""
    found: list[str] = []
    for entry in [*message.to_addrs, *message.cc_addrs]:
        email = (entry.get("email") or "").lower()
        if email and not _is_ours(email, ours) and email not in found:
            found.append(email)
    return found


def counterpart_of(message: Message, ours: OurIdentity) -> str | None:
    """Return the customer's address: who wrote a request, or whom our reply went to.

    A form relayed by mail comes from the form service's robot; the visitor is
    in Reply-To, so that is the counterpart when it is not one of ours.
    """
    if message.direction == "outgoing":
        outside = outside_recipients(message, ours)
        return outside[0] if outside else None
    verdict = message.classification
    if verdict is not None and verdict.category == "form":
        for entry in message.reply_to:
            email = (entry.get("email") or "").lower()
            if email and not _is_ours(email, ours):
                return email
    return (message.from_addr or "").lower() or None


def customer_label(message: Message, counterpart: str | None) -> str:
    """Return how the dashboard names the customer: "Name <email>", the email, or the phone."""
    if counterpart and message.from_name and counterpart == (message.from_addr or "").lower():
        return f"{message.from_name} <{counterpart}>"
    return counterpart or message.phone or message.from_name or ""


def _is_ours(email: str, ours: OurIdentity) -> bool:
    domain = email.rpartition("@")[2]
    return email in ours.addresses or domain in ours.domains
