"""A site-form submission, whichever way it arrived (webhook or a form service's API).

Webhook presets and API clients each turn their provider's payload into this
one shape; ``watchdog.ingest.store.store_form`` then stores it like any other
message, as a request of category ``form``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class FormSubmission:
    """What a visitor sent through a form.

    ``submission_id`` is the provider's own id when it has one (a retried
    delivery repeats it); ``fields`` keeps every field as sent, for display;
    ``phone`` is normalised to E.164 when it could be read, else as written.
    ``raw`` is the request body as received, kept like a mail's raw bytes.
    """

    provider: str
    received_at: datetime
    message: str = ""
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    submission_id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    raw: bytes = b""

    @property
    def usable(self) -> bool:
        """True when there is something to answer: a text, or a way to reach the visitor."""
        return bool(self.message.strip() or self.email or self.phone)

    def content_hash(self) -> str:
        """A digest of what the visitor sent, to recognise a retry that carries no id."""
        canonical = json.dumps(
            {
                "fields": sorted(self.fields.items()),
                "message": self.message,
                "email": self.email,
                "phone": self.phone,
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()
