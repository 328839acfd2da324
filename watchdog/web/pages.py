"""What every dashboard page shares: the templates, the security headers, the SLA summary.

Pages are rendered with autoescape on and strict undefined values, and sent
with headers that forbid scripts, frames and caching. Times are stored in UTC
and shown in ``sla.timezone``, where the owner reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session

from watchdog.sla import sla_summary
from watchdog.web.context import WebContext
from watchdog.web.i18n import UI

#: Defence in depth on pages full of strangers' text: no scripts, no frames, no caching.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
)


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


def local(moment: datetime, zone: tzinfo) -> str:
    """Show a stored UTC time in the business's time zone (where the owner reads it)."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def render(ctx: WebContext, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """Render ``template`` in the owner's language, with the security headers."""
    lang = ctx.config.owner.language
    page = TEMPLATES.get_template(template).render(lang=lang, ui=UI[lang], **values)
    return HTMLResponse(page, status_code=status_code, headers=SECURITY_HEADERS)
