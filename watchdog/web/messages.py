"""``GET /messages`` (what arrived, newest first) and ``GET /messages/{id}`` in detail.

Handlers read the database in a worker thread, turn rows into small view
records here (formatting, trimming), and hand them to templates that only
lay them out. Templates autoescape everything, so nothing a sender wrote is
ever markup: subjects and texts show exactly as written. Snippets are
reduced to plain words first (``notify.text.snippet``, with nh3), so a
one-line preview never shows tag soup. Raw message bytes never reach the
browser, only their size. A message the classifier did not take for a
request offers "this is a request" (``actions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, defer, selectinload
from starlette.concurrency import run_in_threadpool

from watchdog.notify.text import snippet
from watchdog.storage.models import Case, Message, Source
from watchdog.track.corrections import request_refusal
from watchdog.web.auth import Owner, require_owner
from watchdog.web.context import web_context
from watchdog.web.explain import Sentences, rule_sentences, verdict_view
from watchdog.web.pages import PageError, language_of, local, render

RECENT = 100  # messages listed
SNIPPET_CHARS = 160

router = APIRouter()
OwnerDep = Annotated[Owner, Depends(require_owner)]


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


@router.get("/messages", response_class=HTMLResponse)
async def message_list(request: Request, owner: OwnerDep) -> HTMLResponse:
    """The latest messages of every source, newest first, the broken ones marked."""
    ctx = web_context(request)

    def load() -> list[MessageRow]:
        with ctx.sessions() as session:
            return recent_messages(session, ctx.config.sla.timezone)

    return render(request, "messages.html", messages=await run_in_threadpool(load))


@router.get("/messages/{message_id}", response_class=HTMLResponse)
async def message(message_id: int, request: Request, owner: OwnerDep) -> HTMLResponse:
    """One message: headers, text, why it was classified so, and its raw size."""
    ctx = web_context(request)
    sentences, lang = rule_sentences(request), language_of(request)

    def load() -> dict[str, Any] | None:
        with ctx.sessions() as session:
            return _detail(session, message_id, ctx.config.sla.timezone, sentences, lang)

    detail = await run_in_threadpool(load)
    if detail is None:
        raise PageError(404, "not_found")
    return render(request, "message.html", **detail)


def recent_messages(session: Session, zone: tzinfo, limit: int = RECENT) -> list[MessageRow]:
    """Return the ``limit`` latest messages as list rows."""
    query = (
        select(Message, Source.name)
        .join(Source, Message.source_id == Source.id)
        .options(defer(Message.raw), selectinload(Message.classification))
        .order_by(Message.received_at.desc(), Message.id.desc())
        .limit(limit)
    )
    return [message_row(row, source, zone) for row, source in session.execute(query)]


def _detail(
    session: Session, message_id: int, zone: tzinfo, sentences: Sentences, lang: str
) -> dict[str, Any] | None:
    row = session.scalar(
        select(Message)
        .where(Message.id == message_id)
        .options(defer(Message.raw), selectinload(Message.classification))
    )
    if row is None:
        return None
    source = session.get(Source, row.source_id)
    own = session.scalar(select(Case).where(Case.opening_message_id == row.id))
    verdict = verdict_view(session, row.id, row.classification, sentences=sentences,
                           lang=lang, zone=zone)  # fmt: skip
    refused = request_refusal(row.id, row.direction, own.state if own else None)
    return {
        "row": message_row(row, source.name if source else "?", zone),
        "headers": _header_lines(row, zone),
        "text": row.text,
        "verdict": verdict,
        "case_id": own.id if own else _thread_case(session, row),
        "can_mark_request": refused is None and not (verdict.request and own is None),
        "size": row.size,
        "truncated": row.raw_truncated,
    }


def _thread_case(session: Session, row: Message) -> int | None:
    """Return the latest case of the message's conversation, if it has one."""
    if row.thread_id is None:
        return None
    query = select(Case.id).where(Case.thread_id == row.thread_id).order_by(Case.id.desc())
    return session.scalar(query.limit(1))


def message_row(row: Message, source: str, zone: tzinfo) -> MessageRow:
    """Return one message as a list line."""
    verdict = row.classification
    return MessageRow(
        id=row.id,
        received=local(row.received_at, zone),
        source=source,
        sender=sender(row),
        subject=row.subject,
        category=verdict.category if verdict else "",
        request=verdict.request if verdict else None,
        parse_error=row.parse_error,
        snippet=snippet(row.text, SNIPPET_CHARS),
    )


def _header_lines(row: Message, zone: tzinfo) -> list[tuple[str, str]]:
    """Return (UI key, value) pairs of the headers worth showing; empty ones are left out."""
    lines = [
        ("from", sender(row)),
        ("to", _addresses(row.to_addrs)),
        ("cc", _addresses(row.cc_addrs)),
        ("reply_to", _addresses(row.reply_to)),
        ("phone", row.phone or ""),
        ("sent", local(row.sent_at, zone)),
        ("folder", row.folder or ""),
        ("direction", row.direction),
        ("submission_id", row.form_submission_id or ""),
        ("message_id", row.message_id_header or ""),
    ]
    return [(key, value) for key, value in lines if value]


def sender(row: Message) -> str:
    """Return who sent the message, as "Name <address>", an address, a name or a phone."""
    if row.from_name and row.from_addr:
        return f"{row.from_name} <{row.from_addr}>"
    return row.from_addr or row.from_name or row.phone or ""


def _addresses(items: list[dict[str, str]]) -> str:
    return ", ".join(
        f"{item.get('name')} <{item.get('email')}>" if item.get("name") else item.get("email", "")
        for item in items
    )
