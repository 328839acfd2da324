"""Value types of the config file, each parsed from the text a shop owner writes.

Every parser takes the raw TOML value and either returns the typed value or
raises :class:`ValueProblem` (a pydantic custom error) whose text says what was
expected; :mod:`watchdog.config.problems` adds the key path and the value that
was given. The ``Annotated`` aliases at the bottom are what the schema uses, so
each rule ("a duration is 30s, 2h or 1h30m") is written down exactly once.

Examples of what the user writes and what the program gets::

    "1h30m"                    -> timedelta(hours=1, minutes=30)      Duration
    "150%"                     -> 1.5                                  Percent
    "09:00-13:00,14:00-18:00"  -> (Shift(09:00, 13:00), Shift(14:00, 18:00))
    "mon-fri"                  -> frozenset({0, 1, 2, 3, 4})           WorkingDays
    "US-CA"                    -> HolidayRegion("US", "CA")            Holidays
    "Shop <Shop@Example.com>"  -> Address("Shop", "shop@example.com")  FromAddress
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from email.utils import formataddr, parseaddr
from functools import cache
from typing import Annotated, Any, Literal, NamedTuple, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays as holidays_lib
from pydantic import PlainValidator
from pydantic_core import PydanticCustomError

#: pydantic error type of a value that is not what the key expects; its
#: context holds ``expected`` and the formatter appends ", got <value>".
EXPECTED = "watchdog_expected"
#: pydantic error type of a problem whose whole text is in the context's
#: ``message`` (no ", got ..." is appended).
PROBLEM = "watchdog_problem"


def expected(what: str, hint: str = "") -> PydanticCustomError:
    """Return the error for a value that is not ``what`` (e.g. "an integer 1-65535").

    ``hint`` follows the value shown, e.g. 'did you mean "Europe/Moscow"?'.
    """
    return PydanticCustomError(EXPECTED, "expected {expected}", {"expected": what, "hint": hint})


def problem(message: str) -> PydanticCustomError:
    """Return an error whose text is ``message`` as it is."""
    return PydanticCustomError(PROBLEM, "{message}", {"message": message})


# --- durations and percentages --------------------------------------------------

_DURATION_RE = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_DURATION_HINT = 'a duration like "30m", "2h" or "1d"'
_PERCENT_RE = re.compile(r"(\d+(?:\.\d+)?)%")


def _duration_or_none(value: object) -> timedelta | None:
    """Return the positive duration written in ``value``, or None if it is not one."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower().replace(" ", "")
    match = _DURATION_RE.fullmatch(text)
    if not text or match is None:
        return None
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    result = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    return result if result > timedelta(0) else None


def parse_duration(value: object) -> timedelta:
    """Parse "30s", "30m", "2h", "1d" or a combination like "1h30m"; it must be positive."""
    result = _duration_or_none(value)
    if result is None:
        raise expected(_DURATION_HINT)
    return result


def _percent_or_none(value: object) -> float | None:
    """Return "150%" as 1.5, or None if ``value`` is not a positive percentage."""
    if not isinstance(value, str):
        return None
    match = _PERCENT_RE.fullmatch(value.strip().replace(" ", ""))
    if match is None or float(match.group(1)) <= 0:
        return None
    return float(match.group(1)) / 100


def parse_percent(value: object) -> float:
    """Parse a positive percentage such as "150%" into the fraction 1.5."""
    result = _percent_or_none(value)
    if result is None:
        raise expected('a percentage like "100%"')
    return result


def parse_after(value: object) -> timedelta | float:
    """Parse an escalation step's ``after``: a share of the deadline or a fixed time.

    A float is a fraction of the deadline (1.0 is the deadline itself); a
    timedelta is business time after the request arrived.
    """
    result: timedelta | float | None = _percent_or_none(value)
    if result is None:
        result = _duration_or_none(value)
    if result is None:
        raise expected('a share of the deadline like "100%" or a duration like "30m" or "2h"')
    return result


# --- clock times, working hours and days ----------------------------------------

_CLOCK_RE = re.compile(r"([01]?\d|2[0-4]):([0-5]\d)")
_HOURS_HINT = 'working hours like "09:00-18:00" or "09:00-13:00,14:00-18:00"'


class Shift(NamedTuple):
    """One stretch of working time within a day, ``start`` < ``end``.

    An end of "24:00" (the end of the day) is stored as ``time.max``, since
    ``datetime.time`` cannot hold 24:00.
    """

    start: time
    end: time


def _clock_or_none(text: str, *, allow_24: bool) -> time | None:
    """Return "HH:MM" as a time, or None; "24:00" becomes ``time.max`` when allowed."""
    match = _CLOCK_RE.fullmatch(text.strip())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour == 24:
        return time.max if allow_24 and minute == 0 else None
    return time(hour, minute)


def parse_clock(value: object) -> time:
    """Parse a time of day: "HH:MM" or a TOML local time such as 09:00:00."""
    if isinstance(value, time):
        return value
    result = _clock_or_none(value, allow_24=False) if isinstance(value, str) else None
    if result is None:
        raise expected('a time of day like "09:00"')
    return result


def parse_working_hours(value: object) -> tuple[Shift, ...]:
    """Parse "09:00-18:00" or split shifts "09:00-13:00,14:00-18:00", sorted.

    Shifts may touch but not overlap, and none may cross midnight: a night
    shift is written as two, "00:00-06:00,22:00-24:00".
    """
    if not isinstance(value, str) or not value.strip():
        raise expected(_HOURS_HINT)
    shifts = []
    for part in value.split(","):
        start_text, dash, end_text = part.partition("-")
        start = _clock_or_none(start_text, allow_24=False)
        end = _clock_or_none(end_text, allow_24=True)
        if not dash or start is None or end is None or not start < end:
            raise expected(_HOURS_HINT)
        shifts.append(Shift(start, end))
    shifts.sort()
    for before, after in itertools.pairwise(shifts):
        if after.start < before.end:
            raise expected("working hours whose shifts do not overlap")
    return tuple(shifts)


_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAYS_HINT = 'working days like "mon-fri" or "mon,wed,sat"'


def _weekday(text: str) -> int:
    """Return 0 for "mon" (or "monday"), ... 6 for "sun"; raise for anything else."""
    name = text.strip().lower()
    for names in (_DAY_NAMES, _FULL_DAY_NAMES):
        if name in names:
            return names.index(name)
    raise expected(_DAYS_HINT)


def parse_working_days(value: object) -> frozenset[int]:
    """Parse "mon-fri", "mon,wed,sat" or a list of day names into weekday numbers.

    0 is Monday, as in ``date.weekday()``. A range may wrap around the week:
    "fri-mon" is Friday to Monday.
    """
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        value = ",".join(value)
    if not isinstance(value, str) or not value.strip():
        raise expected(_DAYS_HINT)
    days: set[int] = set()
    for part in value.split(","):
        first_text, dash, last_text = part.partition("-")
        first = _weekday(first_text)
        last = _weekday(last_text) if dash else first
        days.update((first + step) % 7 for step in range((last - first) % 7 + 1))
    return frozenset(days)


# --- calendars: time zones, public holidays, dates ------------------------------


@cache
def _timezone_names() -> frozenset[str]:
    """Every IANA name this machine knows (read once; the set is large)."""
    return frozenset(available_timezones())


def parse_timezone(value: object) -> ZoneInfo:
    """Parse an IANA time zone name such as "Europe/Moscow", suggesting a close one."""
    if isinstance(value, str) and value.strip():
        try:
            return ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            pass
    close = (
        difflib.get_close_matches(value, sorted(_timezone_names()), n=1)
        if isinstance(value, str)
        else []
    )
    hint = f'did you mean "{close[0]}"?' if close else ""
    raise expected('an IANA time zone like "Europe/Moscow"', hint)


class HolidayRegion(NamedTuple):
    """Whose public holidays count as days off: a country and maybe a subdivision.

    Feed it to ``holidays.country_holidays(country, subdiv=subdivision)``.
    """

    country: str
    subdivision: str | None = None


@cache
def _supported_countries() -> dict[str, list[str]]:
    """ISO country codes the holidays package knows, with their subdivisions."""
    return holidays_lib.list_supported_countries(include_aliases=False)


def parse_holidays(value: object) -> HolidayRegion | None:
    """Parse "RU", "US-CA" (country-subdivision) or "none" (no public holidays)."""
    hint = 'a country code for public holidays such as "RU", "DE" or "US-CA", or "none"'
    if not isinstance(value, str) or not value.strip():
        raise expected(hint)
    text = value.strip()
    if text.lower() == "none":
        return None
    country, _, subdivision = text.partition("-")
    countries = _supported_countries()
    if country.upper() not in countries:
        raise expected(hint)
    if not subdivision:
        return HolidayRegion(country.upper())
    subdivisions = countries[country.upper()]
    for known in subdivisions:
        if known.upper() == subdivision.upper():
            return HolidayRegion(country.upper(), known)
    examples = ", ".join(f'"{country.upper()}-{s}"' for s in subdivisions[:3])
    raise expected(
        f"a subdivision of {country.upper()} such as {examples}"
        if subdivisions
        else f'"{country.upper()}" alone ({country.upper()} has no subdivisions)'
    )


def parse_date(value: object) -> date:
    """Parse a TOML date (2025-01-02) or the string "2025-01-02"."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise expected('a date like 2025-05-02 or "2025-05-02"')


# --- addresses, names, network --------------------------------------------------

_EMAIL_RE = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+")
_DOMAIN_RE = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]*[a-z]{2,}[a-z0-9-]*")
_NAME_RE = re.compile(r"[a-z0-9_-]+")


def parse_email(value: object) -> str:
    """Parse an address like "anna@example.com" (lower-cased, no display name)."""
    if isinstance(value, str) and _EMAIL_RE.fullmatch(value.strip()):
        return value.strip().lower()
    raise expected('an e-mail address like "anna@example.com"')


def parse_domain(value: object) -> str:
    """Parse a mail domain like "example.com" (lower-cased)."""
    if isinstance(value, str) and _DOMAIN_RE.fullmatch(value.strip().lower()):
        return value.strip().lower()
    raise expected('a domain like "example.com"')


class Address(NamedTuple):
    """A sender: a display name (maybe empty) and a lower-cased address."""

    name: str
    email: str

    def __str__(self) -> str:
        """Return the header form, e.g. ``Watchdog <watchdog@example.com>``."""
        return formataddr((self.name, self.email)) if self.name else self.email


def parse_from(value: object) -> Address:
    """Parse "Name <addr@example.com>" or a bare address into an :class:`Address`."""
    if isinstance(value, str):
        name, addr = parseaddr(value)
        if _EMAIL_RE.fullmatch(addr) and "," not in value:
            return Address(name.strip(), addr.lower())
    raise expected('an address like "Watchdog <watchdog@example.com>" or "watchdog@example.com"')


def parse_name(value: object) -> str:
    """Parse a source or channel name: it becomes a URL path segment, so keep it plain."""
    if isinstance(value, str) and _NAME_RE.fullmatch(value):
        return value
    raise expected('a name of lowercase letters, digits, "-" and "_" like "orders"')


def parse_text(value: object) -> str:
    """Parse a non-empty string (a host name, a folder name, a field name)."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise expected("a non-empty string")


def parse_port(value: object) -> int:
    """Parse a TCP port 1-65535; a quoted number like "993" is accepted too."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is None or not 1 <= number <= 65535:
        raise expected("an integer 1-65535")
    return number


def parse_positive_int(value: object) -> int:
    """Parse a whole number greater than zero (a size or a count)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise expected("a whole number greater than 0")


def parse_factor(value: object) -> float:
    """Parse a multiplier of at least 1 ("three times the usual gap" is 3)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 1:
        return float(value)
    raise expected("a number of at least 1")


def parse_url(value: object) -> str:
    """Parse an http(s) URL with a host; a trailing "/" is dropped."""
    if isinstance(value, str):
        parts = urlsplit(value.strip())
        if parts.scheme in ("http", "https") and parts.hostname:
            return value.strip().rstrip("/")
    raise expected('an http(s) URL like "https://example.com"')


class Listen(NamedTuple):
    """Where the HTTP server binds: host (brackets removed from IPv6) and port."""

    host: str
    port: int

    def __str__(self) -> str:
        """Return "host:port", with brackets around an IPv6 host."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_listen(value: object) -> Listen:
    """Parse "127.0.0.1:8080", "localhost:8080" or "[::1]:8080"."""
    hint = 'an address to listen on like "127.0.0.1:8080"'
    if not isinstance(value, str):
        raise expected(hint)
    host, colon, port = value.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not colon or not host or " " in host or not port.isdigit():
        raise expected(hint)
    if not 1 <= int(port) <= 65535:
        raise expected(hint)
    return Listen(host, int(port))


def parse_database_url(value: object) -> str:
    """Parse a SQLAlchemy URL for SQLite or PostgreSQL, the two databases we test on."""
    if isinstance(value, str) and value.startswith(("sqlite://", "postgresql")):
        return value
    raise expected('a database URL starting with "sqlite://" or "postgresql"')


def parse_chat_id(value: object) -> str:
    """Parse a Telegram chat id, written as a number or a string ("-100123", "@channel")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise expected('a chat id like "123456789"')


def parse_notify_target(value: object) -> str:
    """Parse who a step notifies: "team", "owner", "telegram" or "telegram:<name>".

    Whether the named channel exists is checked later, against the whole file.
    """
    if isinstance(value, str):
        if value in ("team", "owner", "telegram"):
            return value
        prefix, _, name = value.partition(":")
        if prefix == "telegram" and _NAME_RE.fullmatch(name):
            return value
    raise expected('one of team, owner, telegram or "telegram:<name>"')


def choice(literal: Any) -> PlainValidator:
    """Return a validator accepting exactly the strings of the ``Literal`` given."""
    allowed: tuple[str, ...] = get_args(literal)

    def parse(value: object) -> str:
        if isinstance(value, str) and value.strip().lower() in allowed:
            return value.strip().lower()
        raise expected("one of " + ", ".join(allowed))

    return PlainValidator(parse)


def _plain(parser: Callable[[Any], Any]) -> PlainValidator:
    """Wrap a parser so that pydantic runs it instead of its own checks."""
    return PlainValidator(parser)


# --- the aliases the schema uses ------------------------------------------------

Duration = Annotated[timedelta, _plain(parse_duration)]
Percent = Annotated[float, _plain(parse_percent)]
After = Annotated[timedelta | float, _plain(parse_after)]
ClockTime = Annotated[time, _plain(parse_clock)]
WorkingHours = Annotated[tuple[Shift, ...], _plain(parse_working_hours)]
WorkingDays = Annotated[frozenset[int], _plain(parse_working_days)]
Timezone = Annotated[ZoneInfo, _plain(parse_timezone)]
Holidays = Annotated[HolidayRegion | None, _plain(parse_holidays)]
Day = Annotated[date, _plain(parse_date)]
Email = Annotated[str, _plain(parse_email)]
Domain = Annotated[str, _plain(parse_domain)]
FromAddress = Annotated[Address, _plain(parse_from)]
Name = Annotated[str, _plain(parse_name)]
Text = Annotated[str, _plain(parse_text)]
Port = Annotated[int, _plain(parse_port)]
PositiveInt = Annotated[int, _plain(parse_positive_int)]
Factor = Annotated[float, _plain(parse_factor)]
Url = Annotated[str, _plain(parse_url)]
ListenAddress = Annotated[Listen, _plain(parse_listen)]
DatabaseUrl = Annotated[str, _plain(parse_database_url)]
ChatId = Annotated[str, _plain(parse_chat_id)]
NotifyTarget = Annotated[str, _plain(parse_notify_target)]

SmtpSecurity = Literal["starttls", "tls", "none"]
ImapSecurity = Literal["tls", "starttls", "none"]
Language = Literal["ru", "en"]
Deliver = Literal["any_time", "business_hours"]
FormPreset = Literal[
    "generic", "tilda", "wix", "cf7", "elementor", "bitrix24", "jotform", "typeform", "google_forms"
]
FormApiKind = Literal["jotform", "typeform"]
