"""``GET /digests`` (the archive) and ``GET /digests/{day}``: the daily digests as sent.

The archive lists each day's digest with what became of its e-mail; a
digest shows its subject and its plain-text body, exactly as the owner was
sent them (the HTML body is ours too, but the text one says the same and
needs no trust in any markup).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.concurrency import run_in_threadpool

from watchdog.storage.models import Digest
from watchdog.web.auth import Owner, require_owner
from watchdog.web.context import web_context
from watchdog.web.pages import PageError, local, render

ARCHIVE = 400  # days listed, newest first

router = APIRouter()
OwnerDep = Annotated[Owner, Depends(require_owner)]


@dataclass(frozen=True, slots=True)
class DigestLine:
    """One day's digest in the archive."""

    day: str  # ISO date: the digest's address
    status: str  # queued | skipped
    delivery: str  # the outbox row's status: pending, sending, sent, failed; "" if skipped
    sent: str
    subject: str


@router.get("/digests", response_class=HTMLResponse)
async def digest_list(request: Request, owner: OwnerDep) -> HTMLResponse:
    """Every digest, newest first."""
    ctx = web_context(request)

    def load() -> list[DigestLine]:
        with ctx.sessions() as session:
            return digest_lines(session, ctx.config.sla.timezone)

    return render(request, "digests.html", digests=await run_in_threadpool(load))


@router.get("/digests/{day}", response_class=HTMLResponse)
async def digest(day: str, request: Request, owner: OwnerDep) -> HTMLResponse:
    """One day's digest as it was sent: subject and text; 404 for a day without one."""
    ctx = web_context(request)
    try:
        wanted = date.fromisoformat(day)
    except ValueError:
        raise PageError(404, "digest_not_found", back="/digests") from None

    def load() -> tuple[DigestLine, str] | None:
        with ctx.sessions() as session:
            row = session.scalar(
                select(Digest).where(Digest.day == wanted).options(selectinload(Digest.outbox))
            )
            if row is None:
                return None
            return _line(row, ctx.config.sla.timezone), row.outbox.body_text if row.outbox else ""

    found = await run_in_threadpool(load)
    if found is None:
        raise PageError(404, "digest_not_found", back="/digests")
    line, text = found
    return render(request, "digest.html", digest=line, text=text)


def digest_lines(session: Session, zone: tzinfo, limit: int = ARCHIVE) -> list[DigestLine]:
    """Return the latest ``limit`` digests, newest day first."""
    query = (
        select(Digest).options(selectinload(Digest.outbox)).order_by(Digest.day.desc()).limit(limit)
    )
    return [_line(row, zone) for row in session.scalars(query)]


def _line(row: Digest, zone: tzinfo) -> DigestLine:
    outbox = row.outbox
    return DigestLine(
        day=row.day.isoformat(),
        status=row.status,
        delivery=outbox.status if outbox else "",
        sent=local(outbox.sent_at if outbox else None, zone),
        subject=outbox.subject if outbox else "",
    )
