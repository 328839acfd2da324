"""Delivery reports: which recipients a bounce says failed, via flufl.bounce.

flufl.bounce (Mailman's bounce detectors: RFC 3464 DSNs plus heuristics
for Exim, Postfix, qmail, Exchange, Yahoo, ...) needs an
``email.message.Message``, which the normalised ``Message`` does not keep.
Re-parsing every message would double the cost of classification, and its
heuristic detectors also "find" addresses in ordinary mail (an out-of-office
naming a colleague's address, for one). So the raw bytes are parsed again
only when cheap structural hints already point at a delivery report: a
``multipart/report`` or ``message/delivery-status`` part, or a
mailer-daemon/postmaster sender. A subject is no hint: a customer's
"Delivery failed!" is about a parcel, and flufl's heuristics would find the
address in the signature. The re-parse and the detectors cost about 0.55 ms
per hinted message (52 of the 137 benchmark files); the bundled rule asks
only when no cheaper bounce rule (a DSN part, a MAILER-DAEMON sender) has
already recognised the report, and ``failed_recipients`` gives the
addresses to whoever needs them.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re

from flufl.bounce import all_failures

from watchdog.ingest.message import Message

# flufl.bounce logs a traceback when one of its detectors trips over odd
# headers, then re-raises; we catch the exception below. A NullHandler (what
# a library should have set itself) keeps that log off a bare terminal via
# logging's last-resort handler; a configured application log still sees it.
logging.getLogger("flufl.bounce").addHandler(logging.NullHandler())

#: MIME types of a delivery report's status part.
DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
#: Local parts of the senders of delivery reports.
DAEMON_NAMES = ("mailer-daemon", "mail-daemon", "postmaster", "mailerdaemon", "mdaemon")

_DAEMON = re.compile(rf"^({'|'.join(DAEMON_NAMES)})@", re.IGNORECASE)


def looks_like_dsn(message: Message) -> bool:
    """Return True when the structure or the sender hints at a delivery report.

    This is the cheap gate in front of the expensive re-parse; it decides
    nothing by itself.
    """
    if message.content_type.lower() == "multipart/report":
        return True
    if any(t.lower() in DSN_TYPES for t in message.mime_types):
        return True
    sender = message.from_.email if message.from_ else ""
    return _DAEMON.match(sender) is not None


def failed_recipients(message: Message, raw: bytes | None) -> tuple[str, ...]:
    """Return the addresses a delivery report says failed, sorted; () when none or no report.

    ``raw`` is the message's original bytes; without them (a form
    submission, a caller that did not keep them) the answer is ().
    """
    if raw is None or not looks_like_dsn(message):
        return ()
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    try:
        temporary, permanent = all_failures(parsed)
    except Exception:  # noqa: BLE001 - a detector tripping on odd headers means "none found"
        return ()
    found = {a.decode("utf-8", "replace").lower() for a in temporary | permanent}
    return tuple(sorted(a for a in found if "@" in a))
