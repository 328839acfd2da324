"""Subjects reduced to what stays the same across a conversation.

Phones and webmail often drop In-Reply-To, so a reply is matched by who and
what: "Re: Fwd: [#1234] Заказ" and "Отв: заказ" are one conversation.
"""

from __future__ import annotations

import re

# Reply and forward prefixes of the mail clients shops meet: English, Russian
# (Outlook's «Отв:», «Пересл:», «Ответ:»), German (AW, WG), Nordic (SV, VS),
# French (TR), Spanish (RV); with an optional counter like "Re[2]:" or "RE(3):".
_PREFIX = re.compile(
    r"^\s*(?:re|fwd?|aw|wg|sv|vs|tr|rv|отв|ответ|пересл|перес|fw)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
    re.IGNORECASE,
)
# Ticket tags that helpdesks add and customers keep or drop: [#1234], [Ticket#2025110310000011],
# [SR-123], (#42). A tag needs a digit, so a list tag like "[shop]" stays.
_TAG = re.compile(
    r"\[\s*(?:ticket|заявка|case|sr|req)?\s*[#№-]?\s*[A-Za-z]*-?\d+\s*\]|\(\s*#\d+\s*\)",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")


def normalize_subject(subject: str) -> str:
    """Return the subject without reply/forward prefixes, ticket tags, case or spacing noise."""
    text = subject or ""
    while True:
        stripped = _TAG.sub(" ", _PREFIX.sub("", text, count=1)).strip()
        if stripped == text:
            break
        text = stripped
    return _SPACE.sub(" ", text).strip().casefold()
