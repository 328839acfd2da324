"""``run_demo``: play the bundled week through the real watchdog, and tell what it did.

Everything below the mailbox is the production code path: the same config
loader, migrations, ``run_cycle``, webhook, escalation decider, outbox sender
and digest. Only three edges are replaced, each behind the interface the
daemon uses too:

- IMAP: :class:`watchdog.demo.reader.DemoMailbox` shows the week's mail as
  virtual time passes it;
- the clock: :class:`watchdog.demo.clock.VirtualClock`, one step at a time;
- SMTP: :class:`watchdog.demo.mailer.FolderMailer` writes each e-mail to
  ``<out>/outbox/`` as a .eml file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from watchdog.config import Config
from watchdog.cycle import Edges, run_cycle
from watchdog.demo.clock import BUSY_STEP, Pacer, VirtualClock, timeline
from watchdog.demo.mailer import FolderMailer
from watchdog.demo.narrate import Narrator, Summary
from watchdog.demo.reader import DemoMailbox
from watchdog.demo.report import narrate_step
from watchdog.demo.shop import FORM, Language, Shop, write_shop
from watchdog.demo.week import Week, WeekError, load_week
from watchdog.ingest.read import Ingestor
from watchdog.ingest.store import ingestor_for
from watchdog.notify import Channel
from watchdog.notify.channels import EmailChannel
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade_engine
from watchdog.storage.models import Alarm, Case, Classification, Message, Outbox
from watchdog.track.cases import handle_case
from watchdog.web.app import create_app

STARTS_AT = timedelta(hours=8)
"""The demo starts watching on Monday at 08:00, before the shop opens."""
LASTS = timedelta(days=7, hours=2)
"""From Monday 08:00 to the next Monday at 10:00, after that morning's digest and the weekend's overdue mail."""


@dataclass(frozen=True)
class DemoResult:
    """What the demo left behind: the config and database to serve, and the files it wrote."""

    out_dir: Path
    config: Config
    config_path: Path
    outbox: Path
    end: datetime
    web_password: str
    summary: Summary
    escalations: tuple[Path, ...]
    digests: tuple[Path, ...]


@dataclass
class _World:
    """Everything one step needs, built once."""

    week: Week
    shop: Shop
    sessions: sessionmaker[Session]
    clock: VirtualClock
    edges: Edges
    ingestor: Ingestor
    web: FastAPI
    narrator: Narrator

    @property
    def config(self) -> Config:
        return self.shop.config


def run_demo(
    out_dir: Path,
    *,
    pace: float,
    stream: TextIO,
    language: Language = "ru",
    listen: str = "127.0.0.1:8080",
) -> DemoResult:
    """Play the week into ``out_dir``; ``pace`` is how many real seconds the week lasts.

    ``pace = 0`` runs as fast as the machine can (tests); otherwise the pauses
    between steps stretch the week to about ``pace`` seconds, so a person can
    read along.
    Writes ``watchdog.toml``, ``watchdog.db`` and ``outbox/*.eml`` there, and the
    story to ``stream``. ``listen`` only goes into the config (the dashboard's
    address in e-mail links); serving it is the caller's business.
    """
    week = load_week()
    shop = write_shop(out_dir, language=language, listen=listen)
    engine = make_engine(shop.config.database.url)
    upgrade_engine(engine)
    sessions = session_factory(engine)
    start = week.monday + STARTS_AT
    clock = VirtualClock(start)
    mailer = FolderMailer(out_dir / "outbox")
    narrator = Narrator(stream, language, shop.config.sla.timezone)
    world = _World(
        week=week, shop=shop, sessions=sessions, clock=clock,
        edges=_edges(week, clock, mailer), ingestor=ingestor_for(shop.config),
        web=create_app(shop.config, sessions, clock=clock), narrator=narrator,
    )  # fmt: skip
    try:
        _play(world, timeline(start, start + LASTS, shop.config.sla.timezone), pace)
        return _finish(world, out_dir, mailer)
    finally:
        engine.dispose()


def _edges(week: Week, clock: VirtualClock, mailer: FolderMailer) -> Edges:
    """Return the demo's ways out: the bundled mailbox for IMAP, the folder for SMTP."""

    def channels(config: Config) -> Mapping[str, Channel]:
        return {"email": EmailChannel(mailer, config.smtp.from_)}

    return Edges(connect=DemoMailbox(week, clock).connect, channels=channels)


def _play(world: _World, moments: list[datetime], pace: float) -> None:
    """Run a step at each moment, the pauses spreading ``pace`` seconds over the week."""
    local = world.config.sla.timezone
    world.narrator.say(
        "intro",
        first=moments[0].astimezone(local).strftime("%d.%m.%Y %H:%M"),
        last=moments[-1].astimezone(local).strftime("%d.%m.%Y %H:%M"),
        step=world.narrator.took(BUSY_STEP),
        form=FORM,
    )
    pacer = Pacer(pace / len(moments))
    previous: datetime | None = None
    for now in moments:
        step(world, previous, now)
        previous = now
        pacer.wait()


def step(world: _World, previous: datetime | None, now: datetime) -> None:
    """One step of the week at ``now``:

    1. the site form posts what visitors submitted since the last step;
    2. staff close the cases they answered by phone or in a marketplace
       (the week's ``[[handle]]`` entries), as ``watchdog handle`` would;
    3. one full watchdog cycle, as ``watchdog run --once --now`` runs it:
       poll, classify, track, look for silence, escalate, queue the digest,
       and send the outbox (through the folder mailer);
    4. tell what happened in this step.
    """
    world.clock.now = now
    _post_forms(world, previous, now)
    _handle_cases(world, previous, now)
    run_cycle(world.sessions, world.config, now, edges=world.edges, ingestor=world.ingestor)
    with world.sessions() as session:
        narrate_step(session, world.config, world.narrator, previous, now)


def _post_forms(world: _World, previous: datetime | None, now: datetime) -> None:
    """POST each submission due in (previous, now] to the webhook, at its own time."""
    for post in world.week.posts:
        if (previous is None or previous < post.at) and post.at <= now:
            world.clock.now = post.at  # the webhook stamps the arrival with its clock
            response = post_in_process(
                world.web,
                f"/hooks/{post.form}",
                post.body,
                {"Content-Type": "application/json", "X-Watchdog-Token": world.shop.form_token},
            )
            world.clock.now = now
            if response.status_code != 200:
                raise WeekError(f"{post.file}: the webhook answered {response.status_code}: "
                                f"{response.text}")  # fmt: skip


def post_in_process(
    app: FastAPI, path: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    """POST to the app in this process, through the whole HTTP stack but no socket.

    httpx's ASGI transport rather than Starlette's TestClient, which warns
    unless a separate package is installed.
    """

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            return await client.post(path, content=body, headers=headers)

    return asyncio.run(send())


def _handle_cases(world: _World, previous: datetime | None, now: datetime) -> None:
    """Close by hand the cases the week says someone answered by phone or in a marketplace."""
    for handling in world.week.handlings:
        if not ((previous is None or previous < handling.at) and handling.at <= now):
            continue
        with world.sessions() as session:
            case_id = session.scalar(
                select(Case.id)
                .where(Case.state == "open", Case.subject.contains(handling.subject))
                .order_by(Case.id)
                .limit(1)
            )
            if case_id is None:
                raise WeekError(
                    f"handle: no open case about {handling.subject!r} at {handling.at} "
                    "(a case is opened by the first step after its request arrives)"
                )
            handle_case(session, case_id, by=handling.by, reason=handling.reason, now=handling.at)
            session.commit()


def _finish(world: _World, out_dir: Path, mailer: FolderMailer) -> DemoResult:
    """Say the week's numbers and the last digest; return what the demo left behind."""
    end = world.clock.now
    with world.sessions() as session:
        summary = summarise(session, end, out_dir / "outbox", mailer.written)
        last_digest = session.scalar(
            select(Outbox.body_text).where(Outbox.kind == "digest").order_by(Outbox.id.desc())
        )
    world.narrator.summary(summary)
    if last_digest:
        world.narrator.block(last_digest)
    world.narrator.say("files", dir=out_dir)
    return DemoResult(
        out_dir=out_dir,
        config=world.config,
        config_path=world.shop.path,
        outbox=out_dir / "outbox",
        end=end,
        web_password=world.shop.web_password,
        summary=summary,
        escalations=tuple(path for path in mailer.written if "-escalation-" in path.name),
        digests=tuple(path for path in mailer.written if "-digest-" in path.name),
    )


def summarise(session: Session, end: datetime, outbox: Path, written: list[Path]) -> Summary:
    """Count what the week came to, from the database (the same rows the dashboard shows)."""
    opening = aliased(Message)
    rows = session.execute(
        select(Case, Classification.category)
        .join(opening, opening.id == Case.opening_message_id)
        .outerjoin(Classification, Classification.message_id == opening.id)
    ).all()
    cases = [case for case, _ in rows]
    robots = session.scalar(
        select(func.count())
        .select_from(Message)
        .join(Classification, Classification.message_id == Message.id)
        .where(Message.direction == "incoming", Classification.request.is_(False))
    )
    return Summary(
        requests=len(cases),
        via_forms=sum(1 for _, category in rows if category == "form"),
        answered_in_time=sum(1 for c in cases if c.answered_at and c.answered_at <= c.deadline_at),
        answered_late=sum(1 for c in cases if c.answered_at and c.answered_at > c.deadline_at),
        handled=sum(1 for c in cases if c.state == "handled"),
        overdue=sum(1 for c in cases if (c.answered_at or c.handled_at or end) > c.deadline_at),
        missed=sum(1 for c in cases if c.state == "open" and c.deadline_at <= end),
        robots=robots or 0,
        alarms=session.scalar(select(func.count()).select_from(Alarm)) or 0,
        escalations=sum(1 for path in written if "-escalation-" in path.name),
        digests=sum(1 for path in written if "-digest-" in path.name),
        outbox=str(outbox),
    )
