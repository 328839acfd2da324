"""The business calendar as the deadlines will see it: zone, open or closed, periods, holidays.

Everything is computed from the ``now`` the caller passes (``--now`` on the
command line), never from the clock, so the same config and the same
``now`` always print the same calendar. Sources whose ``[*.sla]`` makes a
calendar of their own get a paragraph each.

Holiday *names* come from the ``holidays`` library in the owner's language;
whether a day is worked comes from :class:`BusinessCalendar` alone, the one
the deadlines use, so the doctor cannot disagree with them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import holidays as holidays_lib

from watchdog.config.schema import SlaConfig
from watchdog.config.types import Language
from watchdog.doctor.i18n import Phrasebook, date_format, weekday
from watchdog.doctor.report import Checkup, Finding
from watchdog.sla.calendar import (
    HORIZON_DAYS,
    BusinessCalendar,
    NoWorkingTimeError,
    calendar_for,
)

PERIODS = 3
HOLIDAYS = 5
#: How far ahead days off are looked for: a year and a bit finds five anywhere.
HORIZON = timedelta(days=400)

_HOLIDAY_LANGUAGES = {"ru": "ru", "en": "en_US"}
_DAY = timedelta(days=1)

_T = Phrasebook(
    {
        "calendar": ("calendar ({zone})", "календарь ({zone})"),
        "calendar.of": ("calendar of {names} ({zone})", "календарь для {names} ({zone})"),
        "open": (
            "open now ({local}) until {until}; a request arriving now is due by {due}",
            (
                "сейчас рабочее время ({local}) до {until}; на заявку, пришедшую сейчас, "
                "нужно ответить до {due}"
            ),
        ),
        "closed": (
            "closed now ({local}); opens {opens}; a request arriving now is due by {due}",
            (
                "сейчас нерабочее время ({local}); начало работы {opens}; на заявку, пришедшую "
                "сейчас, нужно ответить до {due}"
            ),
        ),
        "week": (
            "working week: {days}, {hours}; public holidays of {region}",
            "рабочая неделя: {days}, {hours}; праздники: {region}",
        ),
        "no_region": ("none", "не учитываются"),
        "periods": ("next working periods:", "ближайшее рабочее время:"),
        "holidays": ("next holidays and days off:", "ближайшие праздники и выходные:"),
        "holidays.none": (
            'no days off besides the working week (holidays = "none", no extra_days_off)',
            'выходных сверх рабочей недели нет (holidays = "none", extra_days_off пуст)',
        ),
        "extra_off": ("day off (extra_days_off)", "выходной (extra_days_off)"),
        "workdays": ("working days on a usual day off:", "рабочие дни в обычный выходной:"),
        "moved": ("working day moved from a holiday", "рабочий день по переносу"),
        "extra_work": ("working day (extra_work_days)", "рабочий день (extra_work_days)"),
        "never": (
            "no working time within two years: deadlines cannot be counted",
            "рабочего времени нет в ближайшие два года: сроки ответа не посчитать",
        ),
        "never.fix": (
            "check working_days, working_hours and extra_days_off in {section}",
            "проверьте working_days, working_hours и extra_days_off в {section}",
        ),
    }
)


@dataclass(frozen=True)
class _DayOff:
    """A run of consecutive days off with one name."""

    first: date
    last: date
    name: str


def check_calendar(checkup: Checkup) -> Iterator[Finding]:
    """Describe ``[sla]``'s calendar, then each source's own calendar where it differs."""
    config = checkup.config
    groups: dict[tuple[BusinessCalendar, timedelta], tuple[SlaConfig, list[str]]] = {}
    main = (calendar_for(config.sla), config.sla.first_response)
    groups[main] = (config.sla, [])
    for source in config.sources:
        sla = config.sla_for(source.name)
        key = (calendar_for(sla), sla.first_response)
        groups.setdefault(key, (sla, []))[1].append(source.name)
    for (calendar, _), (sla, names) in groups.items():
        own = names if (calendar, sla.first_response) != main else []
        yield _describe(calendar, sla, own, checkup)


def _describe(
    calendar: BusinessCalendar, sla: SlaConfig, names: list[str], checkup: Checkup
) -> Finding:
    lang, now, zone = checkup.lang, checkup.now, calendar.timezone
    subject = (
        _T(lang, "calendar.of", names=", ".join(names), zone=zone.key)
        if names
        else _T(lang, "calendar", zone=zone.key)
    )
    try:
        periods = _periods(calendar, now)
        due = calendar.add(now, sla.first_response)
    except NoWorkingTimeError:
        section = f"[sla], .sla of {', '.join(names)}" if names else "[sla]"
        return Finding(
            subject, "fail", _T(lang, "never"), fix=_T(lang, "never.fix", section=section)
        )
    local = _moment(now, calendar, lang)
    when = {"local": local, "due": _moment(due, calendar, lang)}
    if periods[0][0] <= now:
        detail = _T(lang, "open", until=_clock(periods[0][1], calendar), **when)
    else:
        detail = _T(lang, "closed", opens=_moment(periods[0][0], calendar, lang), **when)
    lines = [_week(calendar, lang), _T(lang, "periods")]
    lines += [f"  {_period(start, end, calendar, lang)}" for start, end in periods]
    lines += _days_off_lines(calendar, now, lang)
    return Finding(subject, "ok", detail, tuple(lines))


def _periods(calendar: BusinessCalendar, now: datetime) -> list[tuple[datetime, datetime]]:
    """Return the working intervals not yet over at ``now``, the next PERIODS of them.

    Raises NoWorkingTimeError when the calendar never opens.
    """
    calendar.next_opening(now)  # raises for a calendar without working time
    found: list[tuple[datetime, datetime]] = []
    day = now.astimezone(calendar.timezone).date()
    # next_opening found one within HORIZON_DAYS; a calendar may open once and never again.
    last = day + timedelta(days=HORIZON_DAYS + 2)
    while len(found) < PERIODS and day <= last:
        found += [(start, end) for start, end in calendar.intervals(day) if end > now]
        day += _DAY
    return found[:PERIODS]


def _days_off_lines(calendar: BusinessCalendar, now: datetime, lang: Language) -> list[str]:
    """Return the next holidays and days off, then the days worked on a usual day off meanwhile."""
    today = now.astimezone(calendar.timezone).date()
    runs = _days_off(calendar, today, lang)
    if not runs:
        return [_T(lang, "holidays.none")]
    lines = [_T(lang, "holidays")]
    for run in runs:
        span = _day(run.first, lang)
        if run.last != run.first:
            span += f" – {_day(run.last, lang)}"
        lines.append(f"  {span} {run.name}")
    worked = _worked_days_off(calendar, today, runs[-1].last, lang)
    if worked:
        lines += [_T(lang, "workdays"), *worked]
    return lines


def _days_off(calendar: BusinessCalendar, today: date, lang: Language) -> list[_DayOff]:
    """Return up to HOLIDAYS runs of days off from ``today`` on: public ones and the shop's own."""
    names = _holiday_names(calendar, today, lang)
    runs: list[_DayOff] = []
    day = today
    while day <= today + HORIZON:
        name = _T(lang, "extra_off") if day in calendar.extra_days_off else names.get(day)
        if name is not None and not calendar.is_working_day(day):
            last = runs[-1] if runs else None
            if last is not None and last.name == name and last.last == day - _DAY:
                runs[-1] = _DayOff(last.first, day, name)
            elif len(runs) == HOLIDAYS:
                break
            else:
                runs.append(_DayOff(day, day, name))
        day += _DAY
    return runs


def _holiday_names(calendar: BusinessCalendar, today: date, lang: Language) -> dict[date, str]:
    """Return the region's public holidays by date, named in ``lang`` where the library can."""
    region = calendar.holidays
    if region is None:
        return {}
    years = range(today.year, (today + HORIZON).year + 1)
    book = holidays_lib.country_holidays(
        region.country, subdiv=region.subdivision, years=years, language=_HOLIDAY_LANGUAGES[lang]
    )
    return dict(book.items())


def _worked_days_off(
    calendar: BusinessCalendar, first: date, last: date, lang: Language
) -> list[str]:
    """Return lines for days outside ``working_days`` that are worked between two dates."""
    lines = []
    day = first
    while day <= last:
        if day.weekday() not in calendar.working_days and calendar.is_working_day(day):
            why = "extra_work" if day in calendar.extra_work_days else "moved"
            lines.append(f"  {_day(day, lang)} {_T(lang, why)}")
        day += _DAY
    return lines


def _week(calendar: BusinessCalendar, lang: Language) -> str:
    days = ", ".join(weekday(lang, index) for index in sorted(calendar.working_days))
    hours = ", ".join(
        f"{shift.start:%H:%M}–{'24:00' if shift.end == time.max else f'{shift.end:%H:%M}'}"
        for shift in calendar.shifts
    )
    region = calendar.holidays
    where = "-".join(part for part in region if part) if region else _T(lang, "no_region")
    return _T(lang, "week", days=days, hours=hours, region=where)


def _day(day: date, lang: Language) -> str:
    return f"{weekday(lang, day.weekday())} {day.strftime(date_format(lang))}"


def _moment(instant: datetime, calendar: BusinessCalendar, lang: Language) -> str:
    """Return an instant as the shop's wall clock shows it: "Mon 2025-11-03 09:00"."""
    local = instant.astimezone(calendar.timezone)
    return f"{_day(local.date(), lang)} {local:%H:%M}"


def _clock(instant: datetime, calendar: BusinessCalendar) -> str:
    return f"{instant.astimezone(calendar.timezone):%H:%M}"


def _period(start: datetime, end: datetime, calendar: BusinessCalendar, lang: Language) -> str:
    """Return one working period: "Mon 2025-11-03 09:00–18:00"; a shift to midnight ends 24:00."""
    local_start, local_end = start.astimezone(calendar.timezone), end.astimezone(calendar.timezone)
    finish = f"{local_end:%H:%M}" if local_end.date() == local_start.date() else "24:00"
    return f"{_moment(start, calendar, lang)}–{finish}"
