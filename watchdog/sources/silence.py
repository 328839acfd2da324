"""The silence alarm: a source that has stopped bringing requests may be broken.

A broken form looks exactly like a quiet week, so each source's usual gap
between requests is learned and a silence far beyond it raises
``source_silent``. Two parts:

- pure: :func:`usual_gap` and :func:`judge_silence` take arrival times, the
  source's business calendar and ``now``, and say whether to worry;
- thin, with the database: :func:`check_silence` runs the judgement for every
  configured source, raises one alarm per silence and clears it once a
  request arrives again.

Which clock measures a silence:

- the **learned** gap and the silence it is compared with are business time
  of the source's calendar, so nights, weekends and holidays never look like
  an outage (a Friday-evening request followed by a quiet weekend is about
  no business time at all);
- ``expect_every`` (a form's "a submission every 2d at least") is
  *working-day time*: wall time on working days, around the clock, skipping
  days off. Business time would stretch "2d" to 48 business hours, more than
  a week of 9-hour days, which is not what anyone writing "2d" means; wall
  time would alarm every weekend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchdog.alarms import SOURCE_SILENT, clear_alarms, raise_alarm
from watchdog.config.schema import Config, FormConfig
from watchdog.config.schema import Source as SourceConfig
from watchdog.sla.calendar import BusinessCalendar, calendar_for
from watchdog.storage.models import Alarm, Classification, Message, Source

#: How many of a source's latest requests the usual gap is learned from.
HISTORY = 50
#: Requests needed before a usual gap is learned: with fewer, one lucky
#: burst or one slow week would set the bar, so no learned alarm is raised.
MIN_HISTORY = 5
#: The usual gap is this percentile of the recent gaps: a high one, because
#: an ordinary slow afternoon must stay below factor x usual.
PERCENTILE = 80
#: The smallest usual gap: a busy mailbox whose requests come minutes apart
#: would otherwise alarm over a lunch break. The alarm is for a broken door.
MIN_USUAL_GAP = timedelta(hours=1)


@dataclass(frozen=True)
class SilenceVerdict:
    """What :func:`judge_silence` found about one source at ``now``.

    ``since`` is when the silence began (the last request, or when the
    source was first watched if it never had one), None if unknown.
    ``silent_for`` is the silence in the clock ``limit`` is measured in
    (``clock``: "business" or "working-day"). ``limit`` is None when there is
    nothing to judge by (no ``expect_every`` and too little history).
    """

    since: datetime | None
    silent_for: timedelta
    usual_gap: timedelta | None
    limit: timedelta | None
    clock: str
    alarming: bool

    def describe(self) -> str:
        """Return one sentence for the alarm, e.g. for the owner's e-mail."""
        text = f"no request for {_human(self.silent_for)} of {self.clock} time"
        if self.usual_gap is not None:
            text += f"; usually one every {_human(self.usual_gap)}"
        if self.limit is not None:
            text += f"; the alarm is set at {_human(self.limit)}"
        return text


def _human(span: timedelta) -> str:
    """Return a duration as "3d 4h 5m" (whole minutes)."""
    minutes = span // timedelta(minutes=1)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes or not parts else []
    return " ".join(parts)


def usual_gap(arrivals: Sequence[datetime], calendar: BusinessCalendar) -> timedelta | None:
    """Return a source's usual gap between requests in business time, or None if unknown.

    The gap is the :data:`PERCENTILE`-th percentile (nearest rank) of the
    business time between consecutive arrivals among the last
    :data:`HISTORY`, at least :data:`MIN_USUAL_GAP`; None with fewer than
    :data:`MIN_HISTORY` arrivals. Requests that came together at night count
    as a gap of zero, which the percentile and the floor absorb.
    """
    recent = sorted(arrivals)[-HISTORY:]
    if len(recent) < MIN_HISTORY:
        return None
    gaps = sorted(calendar.elapsed(before, after) for before, after in pairwise(recent))
    rank = -(-PERCENTILE * len(gaps) // 100)  # ceil(p * n / 100), in integers
    return max(gaps[rank - 1], MIN_USUAL_GAP)


def judge_silence(
    arrivals: Sequence[datetime],
    calendar: BusinessCalendar,
    *,
    factor: float,
    now: datetime,
    expect_every: timedelta | None = None,
    watched_since: datetime | None = None,
) -> SilenceVerdict:
    """Return whether a source's current silence is alarming at ``now``.

    ``arrivals`` are the source's recent request arrival times (any order;
    those after ``now`` are ignored, so a replay with an earlier ``--now``
    sees what it would have seen). With ``expect_every`` the silence alarms
    once it is longer than that in working-day time; otherwise once it is
    longer than ``factor`` times the learned usual gap, in business time.
    ``watched_since`` (when the source was first seen) starts the silence of
    a source that never had a request, so a form that never worked still
    alarms under ``expect_every``.
    """
    past = [arrival for arrival in arrivals if arrival <= now]
    since = max(past) if past else watched_since
    learned = usual_gap(past, calendar)
    if expect_every is not None:
        silent = calendar.working_day_time(since, now) if since else timedelta(0)
        limit: timedelta | None = expect_every
        clock = "working-day"
    else:
        silent = calendar.elapsed(since, now) if since else timedelta(0)
        limit = learned * factor if learned is not None else None
        clock = "business"
    alarming = since is not None and limit is not None and silent > limit
    return SilenceVerdict(since, silent, learned, limit, clock, alarming)


# --- the database part ------------------------------------------------------------


def check_silence(session: Session, config: Config, now: datetime) -> list[Alarm]:
    """Raise ``source_silent`` for every configured source silent for too long; return new alarms.

    1. For each source in the config that has a ``sources`` row (a source
       never polled has nothing to judge), read its latest requests.
    2. Judge the silence in the source's own calendar (``config.sla_for``).
    3. Not alarming: clear the source's open silence alarms (a request came).
       Alarming: raise one alarm keyed by the silence's start, so repeated
       checks of the same silence raise nothing new.

    The caller commits.
    """
    raised = []
    for source in config.sources:
        row = session.scalar(select(Source).where(Source.name == source.name))
        if row is None:
            continue
        alarm = _check_one(session, config, source, row, now)
        if alarm is not None:
            raised.append(alarm)
    return raised


def _check_one(
    session: Session, config: Config, source: SourceConfig, row: Source, now: datetime
) -> Alarm | None:
    """Judge one source; clear or raise its silence alarm; return a newly raised one."""
    verdict = judge_silence(
        recent_arrivals(session, row.id, now),
        calendar_for(config.sla_for(source.name)),
        factor=config.alarms.silence_factor,
        now=now,
        expect_every=source.expect_every if isinstance(source, FormConfig) else None,
        watched_since=row.created_at,
    )
    if not verdict.alarming or verdict.since is None:
        clear_alarms(session, kind=SOURCE_SILENT, source_id=row.id, now=now)
        return None
    key = f"{source.name}@{verdict.since.isoformat()}"
    known = select(Alarm.id).where(Alarm.kind == SOURCE_SILENT, Alarm.key == key)
    if session.scalar(known) is not None:
        return None
    # A new silence: any open alarm belongs to an earlier one, which a request ended.
    clear_alarms(session, kind=SOURCE_SILENT, source_id=row.id, now=now)
    detail = f"{source.name}: {verdict.describe()}"
    return raise_alarm(
        session, kind=SOURCE_SILENT, key=key, now=now, detail=detail, source_id=row.id
    )


def recent_arrivals(session: Session, source_id: int, now: datetime) -> list[datetime]:
    """Return the arrival times of a source's latest incoming requests up to ``now``, newest first."""
    query = (
        select(Message.received_at)
        .join(Classification, Classification.message_id == Message.id)
        .where(
            Message.source_id == source_id,
            Message.direction == "incoming",
            Classification.request.is_(True),
            Message.received_at <= now,
        )
        .order_by(Message.received_at.desc())
        .limit(HISTORY)
    )
    return list(session.scalars(query))
