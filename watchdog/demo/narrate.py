"""The demo's running commentary: one plain line per thing the watchdog noticed or did.

Only words live here (Russian and English, picked by ``--lang``); what
happened is decided by the pipeline and handed in as plain values. Category
names stay in the contract's English (``[form]``, ``[customer]``) in both
languages, because they are what ``watchdog classify`` and the dashboard show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from watchdog.digest.words import Language, alarm_kind, day_name, duration, one_line

#: Longest subject or name shown in a line of commentary (a form's "subject" is its text).
SHORT = 60

_WEEKDAYS = {
    "ru": ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}

WORDS: dict[Language, dict[str, str]] = {
    "ru": {
        "intro": "Неделя «Свечной лавки» в ускоренной съёмке: {first} — {last}, "
        "сторож проверяет всё каждые {step} (ночью и в выходные реже).\n"
        "Почта orders@shop-demo.ru и форма «{form}» на сайте; срок первого ответа — "
        "2 рабочих часа (пн-пт 9:00-18:00 МСК).",
        "request": "+ запрос [{category}] {who}: «{subject}» (пришёл в {at}, ответить до {due})",
        "not_request": "· не запрос [{category}] {who}: «{subject}»",
        "follow_up": "↻ клиент пишет снова: {who} «{subject}» — запрос остаётся открытым",
        "answered_in_time": "✓ ответили {who}: «{subject}» — через {took}, в срок",
        "answered_late": "✓ ответили {who}: «{subject}» — через {took}, на {late} позже срока",
        "auto_ack": "· наш автоответ {who}: «{subject}» — это не ответ, запрос ждёт дальше",
        "internal": "· пересылка коллеге: «{subject}» — клиенту это не ответ",
        "reply": "· наше письмо {who}: «{subject}»",
        "handled": "☎ закрыт без письма: {who} «{subject}» — {by}: {reason}",
        "alarm": "! тревога: {kind}: {who} «{subject}»",
        "alarm_plain": "! тревога: {kind}: {detail}",
        "overdue": "⏰ просрочен: {who} «{subject}» — {sla} рабочего времени без ответа",
        "escalation": "✉ письмо-эскалация → {to}: «{subject}»",
        "alarm_mail": "✉ письмо о тревоге → {to}: «{subject}»",
        "digest": "✉ ежедневная сводка → {to}: «{subject}»",
        "summary": "Итог недели",
        "s_requests": "найдено запросов клиентов: {n} (из них через формы и маркетплейсы: {forms})",
        "s_answered": "ответили в срок: {in_time}; с опозданием: {late}; закрыли без письма: {handled}",
        "s_overdue": "просрочено: {overdue}; до сих пор без ответа: {missed}",
        "s_robots": "писем роботов и рассылок, не принятых за запросы: {n}",
        "s_alarms": "тревог: {n}",
        "s_escalations": "писем-эскалаций: {n}, записаны в {dir}",
        "s_digests": "ежедневных сводок: {n}, там же; последняя:",
        "files": "Все файлы демо: {dir}",
    },
    "en": {
        "intro": "A week of «Свечная лавка» (a small candle shop) in fast motion: {first} to "
        "{last}; the watchdog checks everything every {step} (less often at night and at weekends).\n"
        "Mailbox orders@shop-demo.ru and the site form «{form}»; first-response deadline: "
        "2 business hours (Mon-Fri 9:00-18:00 Moscow time).",
        "request": "+ request [{category}] {who}: «{subject}» (arrived {at}, answer due {due})",
        "not_request": "· not a request [{category}] {who}: «{subject}»",
        "follow_up": "↻ the customer writes again: {who} «{subject}»; the case stays open",
        "answered_in_time": "✓ answered {who}: «{subject}» after {took}, in time",
        "answered_late": "✓ answered {who}: «{subject}» after {took}, {late} late",
        "auto_ack": "· our autoreply to {who}: «{subject}» is not an answer; still waiting",
        "internal": "· forwarded to a colleague: «{subject}»; not an answer to the customer",
        "reply": "· our mail to {who}: «{subject}»",
        "handled": "☎ closed without e-mail: {who} «{subject}» by {by}: {reason}",
        "alarm": "! alarm: {kind}: {who} «{subject}»",
        "alarm_plain": "! alarm: {kind}: {detail}",
        "overdue": "⏰ overdue: {who} «{subject}»: {sla} of business time without an answer",
        "escalation": "✉ escalation e-mail → {to}: «{subject}»",
        "alarm_mail": "✉ alarm e-mail → {to}: «{subject}»",
        "digest": "✉ daily digest → {to}: «{subject}»",
        "summary": "The week in numbers",
        "s_requests": "customer requests found: {n} ({forms} of them via forms and marketplaces)",
        "s_answered": "answered in time: {in_time}; late: {late}; closed without e-mail: {handled}",
        "s_overdue": "went overdue: {overdue}; still unanswered: {missed}",
        "s_robots": "robot mail and newsletters not taken for requests: {n}",
        "s_alarms": "alarms: {n}",
        "s_escalations": "escalation e-mails: {n}, written to {dir}",
        "s_digests": "daily digests: {n}, in the same folder; the last one:",
        "files": "Every file of the demo: {dir}",
    },
}


@dataclass(frozen=True)
class Summary:
    """The week's numbers, as the closing lines say them."""

    requests: int
    via_forms: int
    answered_in_time: int
    answered_late: int
    handled: int
    overdue: int
    missed: int
    robots: int
    alarms: int
    escalations: int
    digests: int
    outbox: str


class Narrator:
    """Writes the commentary to ``stream``, each line stamped with the virtual time."""

    def __init__(self, stream: TextIO, language: Language, zone: ZoneInfo) -> None:
        self.stream = stream
        self.language = language
        self.zone = zone
        self._day: object = None

    def say(self, key: str, now: datetime | None = None, **values: object) -> None:
        """Write one line; the first line of a new local day gets a heading with the date."""
        shown = {name: _short(value) if name in ("subject", "who") else value
                 for name, value in values.items()}  # fmt: skip
        text = WORDS[self.language][key].format(**shown)
        if now is None:
            self._write(text)
            return
        local = now.astimezone(self.zone)
        if local.date() != self._day:
            self._day = local.date()
            self._write(f"\n— {day_name(self.language, local.date())} —")
        self._write(f"{local:%H:%M}  {text}")

    def when(self, instant: datetime) -> str:
        """Return a short local time, with the weekday: "Вт 12:12", "Tue 12:12"."""
        local = instant.astimezone(self.zone)
        return f"{_WEEKDAYS[self.language][local.weekday()]} {local:%H:%M}"

    def took(self, value: timedelta) -> str:
        """Return a business-time duration in words."""
        return duration(self.language, value)

    def alarm_kind(self, kind: str) -> str:
        return alarm_kind(self.language, kind)

    def summary(self, numbers: Summary) -> None:
        """Write the closing numbers."""
        self._write(f"\n{WORDS[self.language]['summary']}")
        lines: list[tuple[str, dict[str, object]]] = [
            ("s_requests", {"n": numbers.requests, "forms": numbers.via_forms}),
            ("s_answered", {"in_time": numbers.answered_in_time, "late": numbers.answered_late,
                            "handled": numbers.handled}),
            ("s_overdue", {"overdue": numbers.overdue, "missed": numbers.missed}),
            ("s_robots", {"n": numbers.robots}),
            ("s_alarms", {"n": numbers.alarms}),
            ("s_escalations", {"n": numbers.escalations, "dir": numbers.outbox}),
            ("s_digests", {"n": numbers.digests}),
        ]  # fmt: skip
        for key, values in lines:
            self._write("  " + WORDS[self.language][key].format(**values))

    def block(self, text: str) -> None:
        """Write a block of text (the digest) indented, so it stands apart from the commentary."""
        for line in text.rstrip().splitlines():
            self._write(f"    {line}".rstrip())

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def _short(value: object) -> str:
    """Return customer text on one line, cut so one event stays one line of the terminal."""
    return one_line(str(value), SHORT)


def who(name: str | None, address: str | None) -> str:
    """Return "Name <address>", or whichever of the two is known, on one line."""
    name, address = one_line(name), one_line(address)
    if name and address:
        return f"{name} <{address}>"
    return name or address or "?"
