"""``GET /alarms`` and ``POST /alarms/{id}/acknowledge``: what needs the owner now.

Open alarms are listed first, those nobody acknowledged before the others,
then the latest cleared ones. Acknowledging says "I have seen it": it is
recorded with who and when and shown, but it does not clear the alarm,
since the trouble (a request in Junk, a mailbox down) may still be there;
the watchdog clears an alarm when the trouble is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased
from starlette.concurrency import run_in_threadpool

from watchdog.storage.models import Alarm, Message, Source
from watchdog.web.auth import Owner, require_owner, require_post
from watchdog.web.context import web_context
from watchdog.web.i18n import ALARM_KINDS
from watchdog.web.pages import PageError, language_of, local, render, see_other

CLEARED_SHOWN = 50  # cleared alarms listed under the open ones

router = APIRouter()


@dataclass(frozen=True, slots=True)
class AlarmView:
    """One alarm, in words."""

    id: int
    raised: str
    what: str
    detail: str
    source: str
    message_id: int | None
    case_id: int | None
    cleared: str
    acknowledged: str
    acknowledged_by: str


@router.get("/alarms", response_class=HTMLResponse)
async def alarm_list(
    request: Request, owner: Annotated[Owner, Depends(require_owner)]
) -> HTMLResponse:
    """Open alarms (unacknowledged first), then the latest cleared ones."""
    ctx = web_context(request)
    lang = language_of(request)

    def load() -> tuple[list[AlarmView], list[AlarmView]]:
        with ctx.sessions() as session:
            zone = ctx.config.sla.timezone
            return (alarm_views(session, zone, lang, cleared=False),
                    alarm_views(session, zone, lang, cleared=True))  # fmt: skip

    open_alarms, cleared = await run_in_threadpool(load)
    return render(request, "alarms.html", open_alarms=open_alarms, cleared=cleared)


@router.post("/alarms/{alarm_id}/acknowledge")
async def acknowledge(
    alarm_id: int, request: Request, owner: Annotated[Owner, Depends(require_post)]
) -> Response:
    """Record that the logged-in user saw the alarm (once: the first acknowledgement stays)."""
    ctx = web_context(request)
    now = ctx.clock()

    def change() -> bool:
        with ctx.sessions() as session:
            if session.get(Alarm, alarm_id) is None:
                return False
            session.execute(
                update(Alarm)
                .where(Alarm.id == alarm_id, Alarm.acknowledged_at.is_(None))
                .values(acknowledged_at=now, acknowledged_by=owner.user)
            )
            session.commit()
            return True

    if not await run_in_threadpool(change):
        raise PageError(404, "alarm_not_found", back="/alarms")
    return see_other("/alarms")


def alarm_views(
    session: Session, zone: tzinfo, lang: str, *, cleared: bool, limit: int = CLEARED_SHOWN
) -> list[AlarmView]:
    """Return the open alarms (all, unacknowledged first), or the latest ``limit`` cleared ones."""
    source, message_source = aliased(Source), aliased(Source)
    query = (
        select(Alarm, source.name, message_source.name)
        .outerjoin(source, source.id == Alarm.source_id)
        .outerjoin(Message, Message.id == Alarm.message_id)
        .outerjoin(message_source, message_source.id == Message.source_id)
    )
    if cleared:
        query = query.where(Alarm.cleared_at.is_not(None))
        query = query.order_by(Alarm.cleared_at.desc(), Alarm.id.desc()).limit(limit)
    else:
        query = query.where(Alarm.cleared_at.is_(None)).order_by(
            Alarm.acknowledged_at.is_not(None), Alarm.raised_at.desc(), Alarm.id.desc()
        )
    return [
        _view(alarm, name or via_message or "", zone, lang)
        for alarm, name, via_message in session.execute(query)
    ]


def _view(alarm: Alarm, source: str, zone: tzinfo, lang: str) -> AlarmView:
    return AlarmView(
        id=alarm.id,
        raised=local(alarm.raised_at, zone),
        what=ALARM_KINDS[lang].get(alarm.kind, alarm.kind),
        detail=alarm.detail or "",
        source=source,
        message_id=alarm.message_id,
        case_id=alarm.case_id,
        cleared=local(alarm.cleared_at, zone),
        acknowledged=local(alarm.acknowledged_at, zone),
        acknowledged_by=alarm.acknowledged_by or "",
    )
