"""The doctor's words in the owner's language: small phrase books, one per check module.

Each module keeps its own sentences next to the code that uses them::

    _T = Phrasebook({"relay.ok": ("connected ({security})", "соединение есть ({security})")})
    _T(lang, "relay.ok", security="TLS")

A phrase is a pair (English, Russian) of ``str.format`` templates taking the
same named values; a test checks every book for that, so a translation cannot
silently drop a value. The words are for a shop owner, not an engineer: what
was seen and what to do, with the config key to change.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from watchdog.config.types import Language

#: Every phrase book made, for the test that compares each phrase's two languages.
BOOKS: list[Phrasebook] = []

_INDEX = {"en": 0, "ru": 1}


class Phrasebook:
    """Phrases by key, each an (English, Russian) pair of format templates."""

    def __init__(self, phrases: Mapping[str, tuple[str, str]]) -> None:
        self.phrases = dict(phrases)
        BOOKS.append(self)

    def __call__(self, lang: Language, phrase: str, /, **values: object) -> str:
        """Return ``phrase`` in ``lang``, filled with ``values``.

        Raises KeyError for an unknown key or a missing value: a bug, not a
        user's mistake.
        """
        return self.phrases[phrase][_INDEX[lang]].format(**values)


def placeholders(template: str) -> frozenset[str]:
    """Return the names a template fills in ("{host}:{port}" gives host and port)."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


_WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "ru": ("пн", "вт", "ср", "чт", "пт", "сб", "вс"),
}
_DATES = {"en": "%Y-%m-%d", "ru": "%d.%m.%Y"}


def weekday(lang: Language, index: int) -> str:
    """Return the short name of a weekday (0 = Monday)."""
    return _WEEKDAYS[lang][index]


def date_format(lang: Language) -> str:
    """Return the strftime pattern of a date: 2025-11-03 in English, 03.11.2025 in Russian."""
    return _DATES[lang]
