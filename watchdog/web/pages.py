"""What every dashboard page shares: templates, language, times, redirects, error pages.

Pages are rendered with autoescape on and strict undefined values, so
nothing a sender wrote is ever markup; the security headers come from
``dashboard``'s middleware. Times are stored in UTC and shown in
``sla.timezone``, where the owner reads them. The language is the
``watchdog_lang`` cookie (set by ``language``), else ``[owner] language``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session

from watchdog.sla import sla_summary
from watchdog.web.context import web_context
from watchdog.web.i18n import LANGUAGES, UI

LANG_COOKIE = "watchdog_lang"

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
)


class PageError(Exception):
    """Stop handling a request and show a page instead: an error in words, or a redirect.

    ``words`` is a key of the UI table (shown in the reader's language), or
    ``None`` with ``location`` for a 303 redirect there. ``detail`` is shown
    under the words, ``back`` is a path on this site the page links to.
    """

    def __init__(
        self, status: int, words: str | None = None, *, location: str | None = None,
        detail: str = "", back: str = "", headers: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(words or location)
        self.status, self.words, self.location = status, words, location
        self.detail, self.back, self.headers = detail, back, headers or {}


@dataclass(frozen=True, slots=True)
class SummaryView:
    """The SLA summary at the top of the pages: open and overdue cases, and since when."""

    open: int
    overdue: int
    overdue_since: str  # local time of the oldest passed deadline; "" when none is overdue


def summary_view(session: Session, now: datetime, zone: tzinfo) -> SummaryView:
    """Return the SLA summary at ``now``, its time shown in ``zone``."""
    summary = sla_summary(session, now)
    since = local(summary.overdue_since, zone) if summary.overdue_since else ""
    return SummaryView(open=summary.open, overdue=summary.overdue, overdue_since=since)


def local(moment: datetime | None, zone: tzinfo) -> str:
    """Show a stored UTC time in the business's time zone, where the owner reads it ("" for None)."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def language_of(request: Request) -> str:
    """Return the reader's language: their choice (cookie), else the owner's from the config."""
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LANGUAGES else web_context(request).config.owner.language


def words(request: Request) -> dict[str, str]:
    """Return the UI words in the reader's language."""
    return UI[language_of(request)]


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """Render ``template`` in the reader's language, with the logged-in owner's CSRF token."""
    lang = language_of(request)
    owner = getattr(request.state, "owner", None)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    page = TEMPLATES.get_template(template).render(
        lang=lang, ui=UI[lang], owner=owner, csrf=owner.csrf if owner else "",
        here=quote(here, safe=""), **values,
    )  # fmt: skip
    return HTMLResponse(page, status_code=status_code)


def local_path(value: str | None, default: str = "/") -> str:
    """Return ``value`` if it is a path on this site ("/cases?state=all"), else ``default``.

    Guards every "go back to" address against open redirects: no scheme, no
    host, no "//host" or "/\\host" (which browsers read as another site), no
    control characters.
    """
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(char) < 32 or char == "\\" for char in value):
        return default
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else default


def see_other(path: str) -> RedirectResponse:
    """Return a 303 to a path on this site: after a POST, the browser GETs the result."""
    return RedirectResponse(local_path(path), status_code=303)
