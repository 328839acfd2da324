"""``GET /sources``: every door's health, its folders, and whether its silence is worrying.

- health: the last successful read, the last error and since when the
  source cannot be reached (the alarm stage's own columns);
- folders (mailboxes): which folder plays which part (inbox, Sent, Trash,
  Junk), as found on the server or set in the config, and how far each is read;
- silence: when the last request came and how the silence alarm judges the
  quiet since (``sources.silence.judge_silence``, the daemon's own judgement).

Nothing secret is shown: no password, no token, only names and addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from watchdog.config import Config, FormConfig, MailboxConfig
from watchdog.sla import calendar_for
from watchdog.sources.silence import judge_silence, recent_arrivals
from watchdog.storage.models import FolderSync, Source
from watchdog.web.auth import Owner, require_owner
from watchdog.web.cases import duration
from watchdog.web.context import web_context
from watchdog.web.pages import language_of, local, render

FOLDER_KEYS = ("inbox", "sent", "trash", "junk")
_ROLE_ORDER = {role: n for n, role in enumerate(FOLDER_KEYS)}

router = APIRouter()


@dataclass(frozen=True, slots=True)
class FolderLine:
    """One folder of a mailbox: its part, its name, how far it is read."""

    role: str
    name: str
    configured: bool  # named in the config rather than found on the server
    last_sync: str
    last_uid: int


@dataclass(frozen=True, slots=True)
class SilenceLine:
    """The silence alarm's view of a source right now."""

    last_request: str
    silent_for: str
    usual_gap: str  # "" until enough requests were seen to learn it
    limit: str  # "" when there is nothing to judge by
    working_days: bool  # measured in working-day time (expect_every), else business time
    alarming: bool


@dataclass(frozen=True, slots=True)
class SourcePage:
    """One source on the page."""

    name: str
    kind: str
    configured: bool
    where: str  # the IMAP host and login, or the webhook's path
    polled: bool  # read by the watchdog (a mailbox, a form's API); False: it only receives
    last_ok: str
    last_error: str
    last_error_at: str
    unreachable_since: str
    folders: tuple[FolderLine, ...]
    silence: SilenceLine | None  # None for a source no longer in the config


@router.get("/sources", response_class=HTMLResponse)
async def source_list(
    request: Request, owner: Annotated[Owner, Depends(require_owner)]
) -> HTMLResponse:
    """Every source: health, folder mapping, silence."""
    ctx = web_context(request)
    lang = language_of(request)

    def load() -> list[SourcePage]:
        with ctx.sessions() as session:
            return source_pages(session, ctx.config, ctx.clock(), lang)

    return render(request, "sources.html", sources=await run_in_threadpool(load))


def source_pages(session: Session, config: Config, now: datetime, lang: str) -> list[SourcePage]:
    """Return the configured sources in config order, then those only in the database."""
    zone = config.sla.timezone
    rows = {row.name: row for row in session.scalars(select(Source))}
    pages = [_page(session, config, rows.get(s.name), s, now, zone, lang) for s in config.sources]
    configured = {source.name for source in config.sources}
    pages += [
        _page(session, config, row, None, now, zone, lang)
        for name, row in sorted(rows.items())
        if name not in configured
    ]
    return pages


def _page(
    session: Session,
    config: Config,
    row: Source | None,
    source: MailboxConfig | FormConfig | None,
    now: datetime,
    zone: tzinfo,
    lang: str,
) -> SourcePage:
    name = source.name if source else row.name if row else "?"
    silence = None
    if source is not None and row is not None:
        silence = _silence(session, config, source, row, now, zone, lang)
    return SourcePage(
        name=name,
        kind=row.kind if row else ("mailbox" if isinstance(source, MailboxConfig) else "form"),
        configured=source is not None,
        where=_where(source),
        polled=not isinstance(source, FormConfig) or source.api is not None,
        last_ok=local(row.last_ok_at if row else None, zone),
        last_error=(row.last_error or "") if row else "",
        last_error_at=local(row.last_error_at if row else None, zone),
        unreachable_since=local(row.unreachable_since if row else None, zone),
        folders=_folders(session, row, source, zone) if row else (),
        silence=silence,
    )


def _where(source: MailboxConfig | FormConfig | None) -> str:
    if isinstance(source, MailboxConfig):
        return f"{source.username} @ {source.host}:{source.port}"
    if isinstance(source, FormConfig):
        return f"POST /hooks/{source.name} ({source.preset})"
    return ""


def _folders(
    session: Session, row: Source, source: MailboxConfig | FormConfig | None, zone: tzinfo
) -> tuple[FolderLine, ...]:
    named = (
        {key: getattr(source, key) for key in FOLDER_KEYS}
        if isinstance(source, MailboxConfig)
        else {}
    )
    query = select(FolderSync).where(FolderSync.source_id == row.id)
    folders = sorted(session.scalars(query), key=lambda f: (_ROLE_ORDER.get(f.role, 9), f.name))
    return tuple(
        FolderLine(
            role=folder.role,
            name=folder.name,
            configured=named.get(folder.role) == folder.name,
            last_sync=local(folder.last_sync_at, zone),
            last_uid=folder.last_uid,
        )
        for folder in folders
    )


def _silence(
    session: Session,
    config: Config,
    source: MailboxConfig | FormConfig,
    row: Source,
    now: datetime,
    zone: tzinfo,
    lang: str,
) -> SilenceLine:
    arrivals = recent_arrivals(session, row.id, now)
    verdict = judge_silence(
        arrivals,
        calendar_for(config.sla_for(source.name)),
        factor=config.alarms.silence_factor,
        now=now,
        expect_every=source.expect_every if isinstance(source, FormConfig) else None,
        watched_since=row.created_at,
    )

    def span(value: timedelta | None) -> str:
        return duration(value, lang) if value is not None else ""

    return SilenceLine(
        last_request=local(max(arrivals) if arrivals else None, zone),
        silent_for=duration(verdict.silent_for, lang),
        usual_gap=span(verdict.usual_gap),
        limit=span(verdict.limit),
        working_days=verdict.clock == "working-day",
        alarming=verdict.alarming,
    )
