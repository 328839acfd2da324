"""How numbers, durations and dates read in the digest, in Russian and English.

Pure helpers that the templates use as filters, so a template writes
``{{ n }} {{ n|plural("клиент", "клиента", "клиентов") }}`` and never decides a
grammatical form itself. Durations are business time and so are shown in hours
and minutes only ("27 h 10 min"): a "day" of business time would mean nine
hours to one reader and twenty-four to another.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from watchdog.notify.text import duration as hours_and_minutes
from watchdog.notify.text import plural

Language = Literal["ru", "en"]
LANGUAGES: tuple[Language, ...] = ("ru", "en")

#: Longest customer text (a subject, a name) shown on one line of the digest.
MAX_LINE = 160

_MONTHS_GENITIVE_RU = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
_WEEKDAYS_RU = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_UNDER_A_MINUTE: dict[Language, str] = {"ru": "меньше минуты", "en": "under a minute"}
_SPACES = re.compile(r"\s+")


def plural_form(language: Language, count: int, *forms: str) -> str:
    """Return the form of a word that agrees with ``count`` (``notify.text.plural``'s rule).

    Russian takes three forms (1 клиент, 2 клиента, 5 клиентов; 11-14 take the
    third, 21 the first again); English takes two (1 customer, 2 customers).
    A template that gives the wrong number of forms fails loudly here.
    """
    expected = 3 if language == "ru" else 2
    if len(forms) != expected:
        raise ValueError(f"{language}: plural needs {expected} forms, got {forms!r}")
    return plural(abs(count), language, *forms)


def duration(language: Language, value: timedelta) -> str:
    """Return a duration as hours and minutes: "5 ч 20 мин", "5 h 20 min", "45 min", "2 h".

    Seconds are dropped (rounded down); under a minute is said in words, so
    "0 min" never suggests an instant answer that took 40 seconds.
    """
    if value < timedelta(minutes=1):
        return _UNDER_A_MINUTE[language]
    return hours_and_minutes(value, language)


def day_name(language: Language, day: date) -> str:
    """Return a day as a reader says it: "среда, 5 ноября 2025", "Wednesday, 5 November 2025"."""
    if language == "ru":
        return f"{_WEEKDAYS_RU[day.weekday()]}, {day.day} {_MONTHS_GENITIVE_RU[day.month - 1]} {day.year}"
    return f"{_WEEKDAYS_EN[day.weekday()]}, {day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def short_day(language: Language, day: date) -> str:
    """Return a day without weekday and year: "5 ноября", "5 November" (for subjects)."""
    months = _MONTHS_GENITIVE_RU if language == "ru" else _MONTHS_EN
    return f"{day.day} {months[day.month - 1]}"


def moment(language: Language, instant: datetime, zone: ZoneInfo) -> str:
    """Return an instant as the shop's local date and time: "5 ноября 10:00", "5 November 10:00"."""
    local = instant.astimezone(zone)
    return f"{short_day(language, local.date())} {local:%H:%M}"


def one_line(text: str | None, limit: int = MAX_LINE) -> str:
    """Return customer text fit for one line: controls gone, whitespace collapsed, cut at ``limit``.

    A subject may carry newlines or terminal escapes; in the text digest they
    would break the layout or the owner's terminal (``--print``). HTML
    escaping is the template's autoescape, not this.
    """
    cleaned = "".join(
        " " if unicodedata.category(char).startswith("C") else char for char in text or ""
    )
    cleaned = _SPACES.sub(" ", cleaned).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


#: What each alarm kind means, said to the owner. A kind not listed here (one
#: added later) is still shown, by its name.
ALARM_WORDS: dict[Language, dict[str, str]] = {
    "ru": {
        "request_deleted": "Запрос клиента удалён без ответа",
        "request_in_junk": "Запрос клиента лежит в папке «Спам»",
        "source_unreachable": "Не удаётся проверить источник",
        "source_silent": "Источник подозрительно давно молчит (может быть, сломалась форма)",
        "notification_failed": "Не удалось доставить уведомление",
    },
    "en": {
        "request_deleted": "A customer's request was deleted unanswered",
        "request_in_junk": "A customer's request is sitting in Junk",
        "source_unreachable": "A source cannot be checked",
        "source_silent": "A source has been silent for unusually long (a broken form?)",
        "notification_failed": "A notification could not be delivered",
    },
}


def alarm_kind(language: Language, kind: str) -> str:
    """Return an alarm kind in plain words, or its name made readable if it is a new kind."""
    return ALARM_WORDS[language].get(kind) or kind.replace("_", " ")
