"""The bundled demo week: which mail arrives where and when, read from ``mail/week.toml``.

The week is data, not code, so that the story can be retold by editing
``week.toml`` and the ``.eml``/``.json`` files beside it. Times in the manifest
are written "tue 10:12": a day of the week of ``week_of`` and a wall-clock
time in Moscow (no DST there, so no hour is ever missing or doubled).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any
from zoneinfo import ZoneInfo

from watchdog.errors import WatchdogError

MOSCOW = ZoneInfo("Europe/Moscow")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FOLDERS = ("INBOX", "Sent", "Junk", "Trash")


class WeekError(WatchdogError):
    """The bundled week's manifest is wrong (a bug in the package data, named by its entry)."""


@dataclass(frozen=True, slots=True)
class Mail:
    """One bundled e-mail: where it lies, since when, and (maybe) when it went to Trash."""

    file: str
    folder: str
    at: datetime
    raw: bytes
    flags: tuple[str, ...] = ()
    moved_to_trash: datetime | None = None


@dataclass(frozen=True, slots=True)
class Post:
    """One form submission posted to ``POST /hooks/<form>`` at ``at``."""

    file: str
    form: str
    at: datetime
    body: bytes


@dataclass(frozen=True, slots=True)
class Handling:
    """Someone closes a case without an e-mail: the case whose subject contains ``subject``."""

    at: datetime
    subject: str
    by: str
    reason: str


@dataclass(frozen=True)
class Week:
    """The whole demo week; ``monday`` is 00:00 Moscow time of its Monday, in UTC."""

    monday: datetime
    mails: tuple[Mail, ...]
    posts: tuple[Post, ...]
    handlings: tuple[Handling, ...]

    @property
    def forms(self) -> tuple[str, ...]:
        """Return the names of the forms the week posts to, in order of first use."""
        return tuple(dict.fromkeys(post.form for post in self.posts))


def bundled_files() -> Traversable:
    """Return the folder of the bundled week (inside the installed package)."""
    return resources.files("watchdog.demo").joinpath("mail")


def load_week(folder: Traversable | None = None) -> Week:
    """Read ``week.toml`` and every file it names; raise WeekError naming a bad entry."""
    folder = folder or bundled_files()
    data = tomllib.loads(folder.joinpath("week.toml").read_text(encoding="utf-8"))
    monday = _monday(data.get("week_of"))
    return Week(
        monday=monday,
        mails=tuple(_mail(folder, monday, i, e) for i, e in enumerate(data.get("mail", []))),
        posts=tuple(_post(folder, monday, i, e) for i, e in enumerate(data.get("post", []))),
        handlings=tuple(_handling(monday, i, e) for i, e in enumerate(data.get("handle", []))),
    )


def moment(monday: datetime, text: str, where: str = "at") -> datetime:
    """Return "tue 10:12" of the week starting ``monday`` as an aware UTC datetime."""
    day, _, clock = text.strip().partition(" ")
    try:
        offset = DAYS.index(day.lower())
        wall = time.fromisoformat(clock)
    except ValueError as exc:
        raise WeekError(f'{where}: expected "<mon..sun> HH:MM", got {text!r}') from exc
    local = monday.astimezone(MOSCOW).date() + timedelta(days=offset)
    return datetime.combine(local, wall, MOSCOW).astimezone(UTC)


def _monday(value: object) -> datetime:
    if not isinstance(value, date) or value.weekday() != 0:
        raise WeekError(f"week_of: expected the date of a Monday, got {value!r}")
    return datetime.combine(value, time(0), MOSCOW).astimezone(UTC)


def _mail(folder: Traversable, monday: datetime, index: int, entry: dict[str, Any]) -> Mail:
    where = f"mail[{index}]"
    if entry.get("folder") not in FOLDERS:
        raise WeekError(f"{where}.folder: expected one of {', '.join(FOLDERS)}")
    trash = entry.get("moved_to_trash")
    return Mail(
        file=entry["file"],
        folder=entry["folder"],
        at=moment(monday, entry["at"], f"{where}.at"),
        raw=_crlf(folder.joinpath(entry["file"]).read_bytes()),
        flags=tuple(entry.get("flags", ())),
        moved_to_trash=moment(monday, trash, f"{where}.moved_to_trash") if trash else None,
    )


def _post(folder: Traversable, monday: datetime, index: int, entry: dict[str, Any]) -> Post:
    return Post(
        file=entry["file"],
        form=entry["form"],
        at=moment(monday, entry["at"], f"post[{index}].at"),
        body=folder.joinpath(entry["file"]).read_bytes(),
    )


def _handling(monday: datetime, index: int, entry: dict[str, Any]) -> Handling:
    return Handling(
        at=moment(monday, entry["at"], f"handle[{index}].at"),
        subject=entry["subject"],
        by=entry["by"],
        reason=entry["reason"],
    )


def _crlf(raw: bytes) -> bytes:
    """Return the mail with CRLF line ends, as an IMAP server hands it out."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
