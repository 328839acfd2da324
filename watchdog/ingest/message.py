"""The normalised message: one email or form submission, whatever its origin.

Everything downstream (classification, tracking, the dashboard) reads this
type and never the raw MIME, so the charset, quoting and HTML mess is settled
once, in ``watchdog.ingest.parse``. Instances are immutable and hold only
plain data, so the pure stages can be tested without a mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Direction = Literal["incoming", "outgoing", "unknown"]


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox: display name (decoded, may be empty) and lower-cased e-mail."""

    name: str
    email: str

    @property
    def domain(self) -> str:
        """The part after '@', lower-cased; empty when the address has none."""
        return self.email.rpartition("@")[2] if "@" in self.email else ""


@dataclass(frozen=True, slots=True)
class Attachment:
    """What a part carries, without its bytes: enough to reason about, nothing to leak."""

    content_type: str
    filename: str | None
    size: int


@dataclass(frozen=True, slots=True)
class OurIdentity:
    """Who "we" are: decides a message's direction. Lower-cased throughout."""

    domains: frozenset[str] = frozenset()
    addresses: frozenset[str] = frozenset()

    def owns(self, address: Address | None) -> bool:
        """Return True when the address is one of ours (by address or by domain)."""
        if address is None:
            return False
        return address.email in self.addresses or address.domain in self.domains


@dataclass(frozen=True, slots=True)
class Message:
    """One normalised message.

    ``headers`` maps lower-cased header names to their decoded values, in
    order of appearance, so rules can test presence, equality or a pattern.
    ``text`` is the new part only (quoted history removed); ``full_text`` is
    the whole body as text (HTML converted). ``broken`` is None for a message
    that parsed, else the reason it could not be: a broken message is still a
    message (stored, shown, treated as a request in doubt), never an exception.

    Message ids (``message_id``, ``in_reply_to``, ``references``) are kept
    without their angle brackets and with their case as sent ("CAF=x@mail.gmail.com"):
    compare them as given. ``defects`` are the names of the stdlib parser's
    defect classes ("CloseBoundaryNotFoundDefect"); they do not make a
    message broken. ``direction`` comes from the identity and folder given to
    ``parse_message``.
    """

    raw_size: int
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    from_: Address | None = None
    sender: Address | None = None
    reply_to: tuple[Address, ...] = ()
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    subject: str = ""
    date: datetime | None = None  # aware, UTC; None when missing or unreadable
    headers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    content_type: str = "text/plain"  # of the top-level part
    mime_types: tuple[str, ...] = ()  # every part's content type, depth-first
    attachments: tuple[Attachment, ...] = ()
    text: str = ""
    full_text: str = ""
    html_only: bool = False
    direction: Direction = "unknown"
    broken: str | None = None
    defects: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (any case), or None."""
        values = self.headers.get(name.lower())
        return values[0] if values else None
