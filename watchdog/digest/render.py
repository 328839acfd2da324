"""Lay a :class:`DigestReport` out as an e-mail: subject, plain text and HTML, in ru or en.

Each language has a template family in ``templates/``:
``digest-subject.<lang>.txt``, ``digest-body.<lang>.txt`` and
``digest-body.<lang>.html``. The templates only format: what to lead with
(``report.headline``), grammatical forms (``plural``) and durations
(``duration``) are decided in Python. Customer text reaches the HTML only
through autoescape, and every line of it passes ``one_line`` first, so a
subject cannot inject markup, break the layout or smuggle terminal escapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from watchdog.digest.report import DigestReport
from watchdog.digest.words import (
    LANGUAGES,
    Language,
    alarm_kind,
    day_name,
    duration,
    moment,
    one_line,
    plural_form,
    short_day,
)

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class RenderedDigest:
    """A digest as it is sent: a one-line subject and two bodies saying the same."""

    subject: str
    text: str
    html: str


def render_digest(
    report: DigestReport,
    language: Language,
    *,
    owner_name: str | None = None,
    dashboard_url: str | None = None,
) -> RenderedDigest:
    """Return the digest in ``language``; raise ValueError for a language we do not write."""
    if language not in LANGUAGES:
        raise ValueError(f"digest language {language!r} is not one of {', '.join(LANGUAGES)}")
    env = _environment(language, report)
    context = {"report": report, "owner_name": owner_name, "dashboard_url": dashboard_url}
    subject = env.get_template(f"digest-subject.{language}.txt").render(context)
    return RenderedDigest(
        subject=" ".join(subject.split()),
        text=env.get_template(f"digest-body.{language}.txt").render(context),
        html=env.get_template(f"digest-body.{language}.html").render(context),
    )


def _environment(language: Language, report: DigestReport) -> Environment:
    """Return an environment whose filters speak ``language`` and the report's time zone.

    Built per call: it is cheap next to the queries, and binding the
    language into the filters keeps the templates free of it.
    """
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        plural=lambda count, *forms: plural_form(language, count, *forms),
        duration=partial(duration, language),
        day=partial(day_name, language),
        short_day=partial(short_day, language),
        at=lambda instant: _moment(language, instant, report),
        alarm=partial(alarm_kind, language),
        line=one_line,
    )
    return env


def _moment(language: Language, instant: datetime, report: DigestReport) -> str:
    return moment(language, instant, report.timezone)
