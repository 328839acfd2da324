"""The owner's front page (SLA summary, open alarms, recent messages) and one message in detail.

Handlers read the database in a worker thread, turn rows into small view
records here (formatting, translating, trimming), and hand them to Jinja2
templates that only lay them out. Templates autoescape everything, so nothing a
sender wrote is ever rendered as markup: subjects and texts show exactly as
written. Snippets are the exception: text holding HTML is first reduced to
its words with nh3, so a one-line preview never shows tag soup. Raw
message bytes are never sent to the browser, only their size.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

import nh3
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, defer, selectinload
from starlette.concurrency import run_in_threadpool

from watchdog.alarms import open_alarms
from watchdog.storage.models import Alarm, Message, Source
from watchdog.web.auth import require_owner
from watchdog.web.context import WebContext, web_context
from watchdog.web.i18n import ALARM_KINDS
from watchdog.web.pages import SummaryView, local, render, summary_view

RECENT = 100  # messages listed on the front page
SNIPPET_CHARS = 160

router = APIRouter(dependencies=[Depends(require_owner)])


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One line of the message list, formatted for display."""

    id: int
    received: str
    source: str
    sender: str
    subject: str
    category: str
    request: bool | None
    parse_error: str | None
    snippet: str


@dataclass(frozen=True, slots=True)
class AlarmRow:
    """One open alarm, in words."""

    raised: str
    what: str
    detail: str
    message_id: int | None


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    """The front page: the SLA summary and open alarms at the top, then the recent messages."""
    ctx = web_context(request)
    summary, alarms, messages = await run_in_threadpool(_front_page, ctx)
    return render(ctx, "index.html", summary=summary, alarms=alarms, messages=messages)


@router.get("/messages/{message_id}", response_class=HTMLResponse)
async def message(message_id: int, request: Request) -> HTMLResponse:
    """One message: headers, text, how it was classified, and its raw size."""
    ctx = web_context(request)
    detail = await run_in_threadpool(_message_detail, ctx, message_id)
    if detail is None:
        return render(ctx, "missing.html", status_code=404)
    return render(ctx, "message.html", **detail)


def _front_page(ctx: WebContext) -> tuple[SummaryView, list[AlarmRow], list[MessageRow]]:
    zone, lang = ctx.config.sla.timezone, ctx.config.owner.language
    now = ctx.clock()
    with ctx.sessions() as session:
        summary = summary_view(session, now, zone)
        alarms = [_alarm_row(alarm, zone, lang) for alarm in open_alarms(session)]
        query = (
            select(Message, Source.name)
            .join(Source, Message.source_id == Source.id)
            .options(defer(Message.raw), selectinload(Message.classification))
            .order_by(Message.received_at.desc(), Message.id.desc())
            .limit(RECENT)
        )
        rows = [_message_row(row, source, zone) for row, source in session.execute(query)]
    return summary, alarms, rows


def _message_detail(ctx: WebContext, message_id: int) -> dict[str, Any] | None:
    zone = ctx.config.sla.timezone
    with ctx.sessions() as session:
        row = _load_message(session, message_id)
        if row is None:
            return None
        source = session.get(Source, row.source_id)
        return {
            "row": _message_row(row, source.name if source else "?", zone),
            "headers": _header_lines(row, zone),
            "text": row.text,
            "rules": list(row.classification.rules) if row.classification else [],
            "size": row.size,
            "truncated": row.raw_truncated,
        }


def _load_message(session: Session, message_id: int) -> Message | None:
    query = (
        select(Message)
        .where(Message.id == message_id)
        .options(defer(Message.raw), selectinload(Message.classification))
    )
    return session.scalar(query)


def _message_row(row: Message, source: str, zone: tzinfo) -> MessageRow:
    verdict = row.classification
    return MessageRow(
        id=row.id,
        received=local(row.received_at, zone),
        source=source,
        sender=_sender(row),
        subject=row.subject,
        category=verdict.category if verdict else "",
        request=verdict.request if verdict else None,
        parse_error=row.parse_error,
        snippet=snippet(row.text),
    )


def _header_lines(row: Message, zone: tzinfo) -> list[tuple[str, str]]:
    """Return (UI key, value) pairs of the headers worth showing; empty ones are left out."""
    lines = [
        ("from", _sender(row)),
        ("to", _addresses(row.to_addrs)),
        ("cc", _addresses(row.cc_addrs)),
        ("reply_to", _addresses(row.reply_to)),
        ("phone", row.phone or ""),
        ("sent", local(row.sent_at, zone) if row.sent_at else ""),
        ("folder", row.folder or ""),
        ("direction", row.direction),
        ("submission_id", row.form_submission_id or ""),
        ("message_id", row.message_id_header or ""),
    ]
    return [(key, value) for key, value in lines if value]


def _alarm_row(alarm: Alarm, zone: tzinfo, lang: str) -> AlarmRow:
    return AlarmRow(
        raised=local(alarm.raised_at, zone),
        what=ALARM_KINDS[lang].get(alarm.kind, alarm.kind),
        detail=alarm.detail or "",
        message_id=alarm.message_id,
    )


def _sender(row: Message) -> str:
    if row.from_name and row.from_addr:
        return f"{row.from_name} <{row.from_addr}>"
    return row.from_addr or row.from_name or row.phone or ""


def _addresses(items: list[dict[str, str]]) -> str:
    return ", ".join(
        f"{item.get('name')} <{item.get('email')}>" if item.get("name") else item.get("email", "")
        for item in items
    )


def plain_text(text: str) -> str:
    """Return ``text`` with any HTML reduced to its text; plain text comes back unchanged.

    nh3 drops tags (and script/style content); unescaping turns its entities
    back into characters, which the template's autoescape then escapes once.
    """
    if "<" not in text:
        return text
    return html.unescape(nh3.clean(text, tags=set()))


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """Return the start of ``text`` as one plain line of at most ``limit`` characters."""
    line = re.sub(r"\s+", " ", plain_text(text)).strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
