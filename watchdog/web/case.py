"""``GET /cases/{id}``: one case, its timeline, why it is a case, and what can be done.

Escalation e-mails link to ``{public_url}/cases/{id}``, so that address must
keep working. The timeline merges the case's history (``case_events``) with
the messages of its conversation that no event names (a reply before the
case, a copy in another folder), in time order. The classifier's verdict on
the opening message is explained rule by rule (``explain``). While the case
is open the page offers "mark handled" with a reason and "this is not a
request" (both POSTed to ``actions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, defer, selectinload
from starlette.concurrency import run_in_threadpool

from watchdog.config import Config
from watchdog.notify.text import snippet
from watchdog.storage.models import Case, CaseEvent, Message, Source
from watchdog.track.listing import case_row
from watchdog.web.auth import Owner, require_owner
from watchdog.web.cases import case_view
from watchdog.web.context import web_context
from watchdog.web.explain import Sentences, rule_sentences, verdict_view
from watchdog.web.i18n import EVENT_KINDS, UI
from watchdog.web.messages import sender
from watchdog.web.pages import PageError, language_of, local, render, summary_view

SNIPPET_CHARS = 200
#: Events whose detail is the reason a person gave.
_WITH_REASON = frozenset({"handled", "dismissed", "reopened", "corrected_request"})

router = APIRouter()


@dataclass(frozen=True, slots=True)
class MessageBrief:
    """A message as one line of the timeline."""

    id: int
    sender: str
    subject: str
    snippet: str
    direction: str
    folder: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a case's timeline: an event (maybe about a message), or a message alone."""

    at: str
    what: str  # the event in words; "" for a message no event names
    actor: str
    detail: str
    message: MessageBrief | None


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(
    case_id: int, request: Request, owner: Annotated[Owner, Depends(require_owner)]
) -> HTMLResponse:
    """One case: its fields, its timeline, the verdict explained, and the actions while open."""
    ctx = web_context(request)
    sentences, lang = rule_sentences(request), language_of(request)

    def load() -> dict[str, Any] | None:
        with ctx.sessions() as session:
            return _detail(session, ctx.config, case_id, ctx.clock(), sentences, lang)

    detail = await run_in_threadpool(load)
    if detail is None:
        raise PageError(404, "case_not_found")
    return render(request, "case.html", **detail)


def _detail(
    session: Session, config: Config, case_id: int, now: datetime, sentences: Sentences, lang: str
) -> dict[str, Any] | None:
    found = session.execute(
        select(Case, Source.name)
        .join(Source, Source.id == Case.source_id)
        .where(Case.id == case_id)
        .options(selectinload(Case.events))
    ).one_or_none()
    if found is None:
        return None
    case, source = found
    zone = config.sla.timezone
    opening = session.scalar(
        select(Message)
        .where(Message.id == case.opening_message_id)
        .options(defer(Message.raw), selectinload(Message.classification))
    )
    verdict = verdict_view(session, case.opening_message_id,
                           opening.classification if opening else None,
                           sentences=sentences, lang=lang, zone=zone)  # fmt: skip
    return {
        "summary": summary_view(session, now, zone),
        "case": case_view(case_row(case, source, config, now), zone, lang),
        "timeline": timeline(session, case, zone, lang),
        "verdict": verdict,
        "opening_id": case.opening_message_id,
    }


def timeline(session: Session, case: Case, zone: tzinfo, lang: str) -> list[Entry]:
    """Return the case's events and its conversation's other messages, in time order."""
    messages = {
        m.id: m
        for m in session.scalars(
            select(Message)
            .where(Message.thread_id == case.thread_id)
            .options(defer(Message.raw))
            .order_by(Message.received_at, Message.id)
        )
    }
    named = {event.message_id for event in case.events if event.message_id is not None}
    for message_id in named - messages.keys():  # an event may name a message of another thread
        found = session.get(Message, message_id, options=[defer(Message.raw)])
        if found is not None:
            messages[message_id] = found
    moments: list[tuple[datetime, int, Entry]] = [
        (event.at, 1, _event_entry(event, messages, zone, lang)) for event in case.events
    ]
    moments += [
        (m.received_at, 0, Entry(local(m.received_at, zone), "", "", "", _brief(m)))
        for m in messages.values()
        if m.id not in named
    ]
    return [entry for _, _, entry in sorted(moments, key=lambda item: (item[0], item[1]))]


def _event_entry(event: CaseEvent, messages: dict[int, Message], zone: tzinfo, lang: str) -> Entry:
    detail = event.detail or {}
    if event.kind in _WITH_REASON:
        text = str(detail.get("reason", ""))
    elif event.kind == "escalated":
        whom = str(detail.get("notify", ""))
        text = UI[lang].get(f"notify_{whom}", whom)
    else:
        text = ""
    message = messages.get(event.message_id) if event.message_id is not None else None
    return Entry(
        at=local(event.at, zone),
        what=EVENT_KINDS[lang].get(event.kind, event.kind),
        actor=event.actor or "",
        detail=text,
        message=_brief(message) if message is not None else None,
    )


def _brief(message: Message) -> MessageBrief:
    return MessageBrief(
        id=message.id,
        sender=sender(message),
        subject=message.subject,
        snippet=snippet(message.text, SNIPPET_CHARS),
        direction=message.direction,
        folder=message.folder or "",
    )
