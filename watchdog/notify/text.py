"""Small text helpers for notifications: snippets, durations, plurals, local times.

They format and never decide; the templates call them as filters and globals.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import nh3

SNIPPET_CHARS = 200

# A tag nh3 would treat as markup: "<p>", "</div>", "<br/>", "<a href=...>". A bare
# address like "<anna@example.com>" is not one, so plain text keeps it.
_TAG_RE = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)(?:\s[^<>]*)?/?>")
_MARKUP_TAGS = frozenset(nh3.ALLOWED_TAGS) | {"script", "style", "html", "body", "head", "meta"}
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SPACE_RE = re.compile(r"\s+")


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """Return the start of a customer's text as one plain line of at most ``limit`` characters.

    Text that contains HTML markup (a form service may send it) goes through
    nh3 with no tag allowed, which also drops script and style contents, and
    is then unescaped back to text; plain text is left alone, so "<a@b.ru>" in
    it survives. Control and bidi-override characters go (they can disguise
    text), whitespace is collapsed. The result is *text*: the HTML template
    escapes it like anything else.
    """
    if _looks_like_html(text):
        text = html.unescape(nh3.clean(text, tags=set()))
    flat = _SPACE_RE.sub(" ", _CONTROL_RE.sub(" ", text)).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    word_end = cut.rfind(" ")
    if word_end >= limit // 2:
        cut = cut[:word_end]
    return cut.rstrip(" ,.;:-") + "…"


def _looks_like_html(text: str) -> bool:
    """Return True if ``text`` holds at least one tag of a known HTML element."""
    return any(match.group(1).lower() in _MARKUP_TAGS for match in _TAG_RE.finditer(text))


def one_line(text: str) -> str:
    """Return ``text`` with line breaks and control characters made spaces (for headers)."""
    return _SPACE_RE.sub(" ", _CONTROL_RE.sub(" ", text)).strip()


_UNITS = {"ru": ("ч", "мин"), "en": ("h", "min")}


def duration(value: timedelta, language: str) -> str:
    """Return a waiting time as hours and minutes: "5 ч 20 мин", "45 min", "2 h".

    Business time is shown in hours, never days: a "day" of business time is
    ambiguous (9 hours? 24?), an hour is not. Seconds are dropped.
    """
    hour_unit, minute_unit = _UNITS.get(language, _UNITS["en"])
    minutes = max(int(value.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} {hour_unit} {minutes} {minute_unit}"
    if hours:
        return f"{hours} {hour_unit}"
    return f"{minutes} {minute_unit}"


def plural(count: int, language: str, one: str, few: str, many: str | None = None) -> str:
    """Return the form of a noun for ``count``: Russian has three, English two.

    Russian: 1, 21, 31 ... take ``one`` ("клиент"); 2-4, 22-24 ... ``few``
    ("клиента"); the rest, including 11-14, ``many`` ("клиентов"). English
    uses ``one`` for 1 and ``few`` otherwise.
    """
    if language != "ru":
        return one if count == 1 else few
    tens, units = count % 100, count % 10
    if units == 1 and tens != 11:
        return one
    if 2 <= units <= 4 and not 12 <= tens <= 14:
        return few
    return many if many is not None else few


_LOCAL_FORMATS = {"ru": "%d.%m.%Y %H:%M", "en": "%Y-%m-%d %H:%M"}


def local_time(instant: datetime, zone: ZoneInfo, language: str) -> str:
    """Return ``instant`` as the shop's wall clock shows it, with the zone's abbreviation.

    DST: the abbreviation ("CET"/"CEST") tells the two 02:30s of an autumn night apart.
    """
    local = instant.astimezone(zone)
    pattern = _LOCAL_FORMATS.get(language, _LOCAL_FORMATS["en"])
    return f"{local.strftime(pattern)} {local.tzname() or zone.key}"
