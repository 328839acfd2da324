"""The escalation e-mail: rendered from a template family, composed into a MIME message.

Each e-mail is a family of templates in ``watchdog/notify/templates/``, one
per part and language (``[owner] language``, ru or en)::

    escalation-subject.<lang>.txt   one line: how many customers wait, the longest for how long
    escalation-body.<lang>.txt      the plain-text part
    escalation-body.<lang>.html     the HTML part (autoescaped: customers' words are data)
    escalation-telegram.<lang>.txt  the same news as one chat message

Templates format and never decide: who is told, and which cases, is decided
by ``watchdog.escalate``. Rendering happens when the notification is decided
and the result is stored in the outbox row, so a retry, a restart or a
resend after a crash sends the very same words.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from watchdog.config.types import Address
from watchdog.notify.text import duration, local_time, one_line, plural, snippet

Audience = Literal["team", "owner", "telegram"]

TELEGRAM_LIMIT = 4096  # the Bot API's longest message, in characters

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True, slots=True)
class WaitingCase:
    """One case as an escalation shows it.

    ``text`` is the request's text as stored; the templates show a sanitised
    snippet of it. ``zone`` is the source's ``sla.timezone``, in which the
    arrival is shown; ``waited`` is business time since arrival.
    """

    id: int
    customer: str
    source: str
    subject: str
    received_at: datetime
    zone: ZoneInfo
    waited: timedelta
    text: str


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """An e-mail's words: one-line subject, plain text and HTML."""

    subject: str
    text: str
    html: str


def render_escalation(
    cases: Sequence[WaitingCase],
    *,
    language: str,
    audience: Audience,
    public_url: str | None,
) -> RenderedEmail:
    """Return the escalation e-mail listing ``cases``, longest waiting first.

    ``public_url`` is the dashboard's address for the links ``/cases/<id>``;
    None leaves the links out (no ``[web]`` table, no dashboard).
    """
    context = _context(cases, language=language, audience=audience, public_url=public_url)
    return RenderedEmail(
        subject=one_line(_render("escalation-subject", language, "txt", context)),
        text=_render("escalation-body", language, "txt", context),
        html=_render("escalation-body", language, "html", context),
    )


def render_telegram(cases: Sequence[WaitingCase], *, language: str, public_url: str | None) -> str:
    """Return the escalation as one Telegram message (plain text, no markup to escape).

    Cut at the Bot API's limit; the dashboard link and the e-mail carry the rest.
    """
    context = _context(cases, language=language, audience="telegram", public_url=public_url)
    text = _render("escalation-telegram", language, "txt", context).strip()
    return text if len(text) <= TELEGRAM_LIMIT else text[: TELEGRAM_LIMIT - 1] + "…"


def _context(
    cases: Sequence[WaitingCase], *, language: str, audience: Audience, public_url: str | None
) -> dict[str, object]:
    """Return what every template of the family gets."""
    ordered = sorted(cases, key=lambda case: (-case.waited, case.received_at, case.id))
    base = public_url.rstrip("/") if public_url else None
    return {
        "audience": audience,
        "count": len(ordered),
        "longest": duration(max((c.waited for c in ordered), default=timedelta(0)), language),
        "cases": [_case_view(case, language, base) for case in ordered],
        "plural": lambda count, *forms: plural(count, language, *forms),
        "dashboard": base,
    }


def _case_view(case: WaitingCase, language: str, base: str | None) -> dict[str, object]:
    """Return one case formatted for display: strings only, nothing left to compute."""
    return {
        "id": case.id,
        "customer": one_line(case.customer) or "?",
        "source": case.source,
        "subject": one_line(case.subject),
        "received": local_time(case.received_at, case.zone, language),
        "waited": duration(case.waited, language),
        "snippet": snippet(case.text),
        "link": f"{base}/cases/{case.id}" if base else None,
    }


def _render(family: str, language: str, extension: str, context: dict[str, object]) -> str:
    """Render ``<family>.<language>.<extension>``; English when the language has no template."""
    name = f"{family}.{language}.{extension}"
    if name not in _ENV.list_templates():
        name = f"{family}.en.{extension}"
    return _ENV.get_template(name).render(context)


def message_id(kind: str, parts: Iterable[str], domain: str) -> str:
    """Return a Message-ID derived only from what a notification is about.

    ``parts`` name the notification (channel, recipient, and the decisions it
    carries, such as "case 7 step 1 repeat 0"); the same parts always give
    the same id. Stored in the outbox row and sent unchanged on every attempt,
    it makes the one in-doubt resend recognisable, and mail clients that
    de-duplicate by Message-ID show it once.
    """
    digest = hashlib.sha256("\n".join([kind, *parts]).encode()).hexdigest()[:32]
    return f"<watchdog.{kind}.{digest}@{domain}>"


def build_email(
    *,
    sender: Address,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    message_id_header: str,
    date: datetime,
) -> EmailMessage:
    """Return the MIME message of an outbox row: text, plus HTML as an alternative.

    ``Auto-Submitted: auto-generated`` (RFC 3834) keeps auto-responders from
    answering, and makes our own e-mail read as automatic if it lands in a
    watched mailbox: an escalation must never open a case of its own.
    """
    message = EmailMessage()
    message["From"] = HeaderAddress(display_name=sender.name, addr_spec=sender.email)
    message["To"] = recipient
    message["Subject"] = one_line(subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id_header
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message
