"""What a check gets (a :class:`Checkup`) and gives (:class:`Finding`), and the printed report.

A check never raises: whatever goes wrong becomes a failed finding, so one
broken part (an unreachable database) never hides the report on the others.
Findings come in three kinds: ``ok``; ``warn``, worth reading but not
broken (the doctor still exits 0); and ``fail``, which always carries a
"how to fix" line and makes the doctor exit 1.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from watchdog.config import Config
from watchdog.config.types import Language
from watchdog.doctor.i18n import Phrasebook
from watchdog.doctor.origins import SecretOrigins
from watchdog.sources.imap import Connect, default_connect

if TYPE_CHECKING:
    import httpx

Status = Literal["ok", "warn", "fail"]

_T = Phrasebook(
    {
        "mark.ok": ("ok", "ок"),
        "mark.warn": ("NOTE", "ВНИМАНИЕ"),
        "mark.fail": ("FAIL", "ОШИБКА"),
        "fix": ("how to fix: {text}", "как исправить: {text}"),
        "all.good": ("All good: nothing to fix.", "Всё в порядке: исправлять нечего."),
        "all.notes": (
            "Nothing is broken; {count} note(s) worth reading (marked {mark}).",
            "Ничего не сломано; стоит прочесть замечания: {count} (отмечены «{mark}»).",
        ),
        "all.fail": (
            "Problems to fix: {count} (marked {mark}); each says how.",
            "Нужно исправить: {count} (отмечено «{mark}»), у каждой ошибки написано как.",
        ),
    }
)


@dataclass(frozen=True)
class Finding:
    """One item of the report: what was checked, how it stands, what was seen, what to do.

    ``lines`` are further facts shown indented below (folders, working
    periods); ``fix`` says what to do, for ``warn`` and ``fail``.
    """

    subject: str
    status: Status
    detail: str
    lines: tuple[str, ...] = ()
    fix: str = ""

    @property
    def ok(self) -> bool:
        """True unless this finding is a failure (a warning is not one)."""
        return self.status != "fail"


@dataclass(frozen=True)
class Checkup:
    """What every check needs: the config, the owner's language, the clock, and the seams.

    ``now`` is read once by the caller (``--now`` in tests), so the calendar
    part is the same on every run. ``send_test`` lets the relay check send
    one real message to the owner. ``connect``, ``ssl_context`` and ``http``
    replace the network's edges in tests (``http`` is an httpx transport for
    Telegram and the form services).
    """

    config: Config
    now: datetime
    lang: Language = "en"
    send_test: bool = False
    secrets: SecretOrigins = field(default_factory=SecretOrigins)
    connect: Connect = default_connect
    ssl_context: ssl.SSLContext | None = None
    http: httpx.BaseTransport | None = None


Check = Callable[[Checkup], Iterator[Finding]]


def diagnose(checkup: Checkup, checks: Iterable[Check]) -> list[Finding]:
    """Run every check and return all findings, in order."""
    return [finding for check in checks for finding in check(checkup)]


def render(findings: list[Finding], lang: Language) -> list[str]:
    """Return the report's lines: a mark, the subject and what was seen; then the summary.

    Failures get their "how to fix" line; further facts are indented under
    the first line, so the marks stay in one column for the eye to run down.
    """
    marks = {status: _T(lang, f"mark.{status}") for status in ("ok", "warn", "fail")}
    width = max(len(mark) for mark in marks.values()) + 1
    indent = " " * (width + 2)
    lines: list[str] = []
    for finding in findings:
        lines.append(f"{marks[finding.status]:<{width}} {finding.subject}: {finding.detail}")
        lines += [f"{indent}{line}" for line in finding.lines]
        if finding.fix:
            lines.append(f"{indent}{_T(lang, 'fix', text=finding.fix)}")
    lines.append(_summary(findings, lang, marks))
    return lines


def _summary(findings: list[Finding], lang: Language, marks: dict[str, str]) -> str:
    failed = sum(1 for finding in findings if finding.status == "fail")
    noted = sum(1 for finding in findings if finding.status == "warn")
    if failed:
        return _T(lang, "all.fail", count=failed, mark=marks["fail"])
    if noted:
        return _T(lang, "all.notes", count=noted, mark=marks["warn"])
    return _T(lang, "all.good")
