"""The escalation tick: record which cases reached a step, and queue who must be told.

``decide_escalations(session, config, now)`` runs once per tick:

1. **Candidates, in SQL.** Open cases that may have reached a step: for a
   share of the deadline of at least 100 % the deadline must have passed
   (``deadline_at <= now``, on the (state, deadline_at) index); for an earlier
   share or a fixed time, the case must be at least as old in wall time as
   the step's business time (business time never runs faster than the wall
   clock). Cases outside both bounds cannot have a step due and are not loaded.
2. **The exact check, in Python**, per candidate: ``policy.due_steps`` with the
   source's calendar and the (step, repeat) pairs already recorded.
3. **Record each decision** with ``INSERT ... ON CONFLICT DO NOTHING`` on
   UNIQUE(case_id, step_index, repeat_no). The constraint, not this code,
   makes a duplicate impossible: a second decider (another daemon, a replay)
   that planned the same step gets no row back and leaves that step out of
   its notifications. On PostgreSQL it waits for the first decider's
   transaction and then sees its row; on SQLite writers take turns.
4. **Queue notifications, grouped**: one outbox row per (channel, recipient,
   audience, delivery time) listing every case that reached a step in this
   tick, so two cases at the team step give each team member one e-mail
   naming both, and the owner's step is a separate e-mail. Each Escalation row
   points at its outbox row (the first, by recipient, when a step goes to
   several people: the schema has one link).
5. **Commit once**: the decisions and their notifications exist together or
   not at all. No savepoints: pysqlite would turn the first one into a commit
   of its own.

Delivery time. A step whose ``deliver`` is ``business_hours`` (the default for
"team") is *decided* as soon as it is due, but when ``now`` is outside the
source's working time its outbox row gets ``next_attempt_at`` = the next
opening: the 3 a.m. rule, so a replay or a late tick at night does not wake
the team; they find one e-mail at 09:00. ``any_time`` steps (the owner's
default) are sent at once.

Fallbacks, so that a decision never goes unheard: a "team" step of a source
with no ``team`` goes to the owner; a "telegram" step with no chat configured
goes to the owner by e-mail. ``step_index`` is the step's position in the
config: reordering steps makes recorded decisions refer to other steps.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, false, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from watchdog.config.schema import Config, EscalationStep, SlaConfig
from watchdog.errors import WatchdogError
from watchdog.escalate.policy import CaseClock, DueStep, due_steps, earliest_age, next_due
from watchdog.notify.email import (
    Audience,
    WaitingCase,
    message_id,
    render_escalation,
    render_telegram,
)
from watchdog.sla import BusinessCalendar, calendar_for
from watchdog.storage.models import Case, CaseEvent, Escalation, Message, Outbox, Source

log = logging.getLogger(__name__)

#: Stored as a case's next escalation moment when no step is left to fire.
NEVER_ESCALATES = datetime(9999, 12, 31, tzinfo=UTC)

_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True, slots=True, order=True)
class Planned:
    """A notification the policy found due for one case, not yet recorded."""

    case_id: int
    step_index: int
    repeat_no: int
    source: str = field(compare=False)
    due_at: datetime = field(compare=False)


@dataclass(frozen=True, slots=True, order=True)
class GroupKey:
    """What makes one notification: the same channel, recipient, audience and delivery time."""

    channel: str  # "email" | "telegram"
    recipient: str  # an address, or a [[notify.telegram]] chat name
    audience: Audience
    not_before: datetime


@dataclass
class EscalationReport:
    """What one tick decided: ``recorded`` (case, step, repeat) keys, ``lost`` to another
    decider, and the ids of the outbox rows queued."""

    recorded: list[tuple[int, int, int]] = field(default_factory=list)
    lost: list[tuple[int, int, int]] = field(default_factory=list)
    outbox_ids: list[int] = field(default_factory=list)


def decide_escalations(session: Session, config: Config, now: datetime) -> EscalationReport:
    """Record every escalation due at ``now`` and queue its notifications; commit once.

    The steps are numbered in the module docstring.
    """
    upcoming: dict[int, datetime] = {}
    plan = plan_escalations(session, config, now, upcoming=upcoming)
    report = record_escalations(session, config, plan, now)
    _reschedule(session, upcoming)
    session.commit()
    return report


def reset_schedule(session: Session) -> None:
    """Forget every open case's next escalation moment, so the next tick computes it anew.

    Called when a process starts: the escalation steps or the calendars may
    have changed in the config since the moments were stored.
    """
    session.execute(update(Case).where(Case.state == "open").values(next_escalation_at=None))
    session.commit()


def _reschedule(session: Session, upcoming: dict[int, datetime]) -> None:
    """Store when each checked case can next have a step due (NEVER_ESCALATES if never)."""
    for case_id, moment in upcoming.items():
        session.execute(update(Case).where(Case.id == case_id).values(next_escalation_at=moment))


# --- 1 and 2: what is due -----------------------------------------------------------


def plan_escalations(
    session: Session,
    config: Config,
    now: datetime,
    *,
    upcoming: dict[int, datetime] | None = None,
) -> list[Planned]:
    """Return the notifications due at ``now`` and not recorded, in (case, step, repeat) order.

    Reads only. A case whose calendar cannot be computed is logged and
    skipped, so one bad case never stops the others. ``upcoming``, when
    given, is filled with each checked case's next due moment.
    """
    steps = config.escalation.steps
    candidates = session.execute(
        select(Case, Source.name)
        .join(Source, Source.id == Case.source_id)
        .where(Case.state == "open", candidate_condition(config, now))
        .order_by(Case.id)
    ).all()
    recorded = _recorded(session, [case.id for case, _ in candidates])
    plan: list[Planned] = []
    for case, source in candidates:
        try:
            calendar = source_calendar(config, source)
            due = due_steps(_clock(case), steps, calendar, now, recorded.get(case.id, ()))
            if upcoming is not None:
                upcoming[case.id] = next_due(_clock(case), steps, calendar, now) or NEVER_ESCALATES
        except WatchdogError as exc:  # e.g. NoWorkingTimeError: a calendar that never opens
            log.error("case %s: cannot check escalation steps: %s", case.id, exc)
            continue
        plan.extend(_planned(case.id, source, item) for item in due)
    return sorted(plan)


def candidate_condition(config: Config, now: datetime) -> ColumnElement[bool]:
    """Return the SQL condition an open case must meet to possibly have a step due at ``now``."""
    steps = config.escalation.steps
    late = [step for step in steps if not isinstance(step.after, timedelta) and step.after >= 1]
    early = [step for step in steps if step not in late]
    conditions: list[ColumnElement[bool]] = []
    if late:  # a share >= 100 % is reached at the deadline or later
        conditions.append(Case.deadline_at <= now)
    if early:
        age = earliest_age(early, shortest_first_response(config))
        conditions.append(Case.received_at <= now - age)
    if not conditions:
        return false()
    scheduled = or_(Case.next_escalation_at.is_(None), Case.next_escalation_at <= now)
    return and_(scheduled, or_(*conditions))


def shortest_first_response(config: Config) -> timedelta:
    """Return the shortest ``first_response`` of any source (or of [sla] itself)."""
    return min(
        (config.sla_for(source.name).first_response for source in config.sources),
        default=config.sla.first_response,
    )


def source_sla(config: Config, source: str) -> SlaConfig:
    """Return a source's [sla]; a source no longer in the config falls back to [sla]."""
    names = {known.name for known in config.sources}
    return config.sla_for(source) if source in names else config.sla


def source_calendar(config: Config, source: str) -> BusinessCalendar:
    """Return the business calendar of a source by name."""
    return calendar_for(source_sla(config, source))


def _clock(case: Case) -> CaseClock:
    return CaseClock(received_at=case.received_at, deadline_at=case.deadline_at, state=case.state)


def _planned(case_id: int, source: str, due: DueStep) -> Planned:
    return Planned(case_id, due.step_index, due.repeat_no, source=source, due_at=due.due_at)


def _recorded(session: Session, case_ids: Sequence[int]) -> dict[int, list[tuple[int, int]]]:
    """Return the (step, repeat) pairs recorded per case, for the given cases."""
    found: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for chunk in _chunks(case_ids):
        rows = session.execute(
            select(Escalation.case_id, Escalation.step_index, Escalation.repeat_no).where(
                Escalation.case_id.in_(chunk)
            )
        )
        for case_id, step_index, repeat_no in rows:
            found[case_id].append((step_index, repeat_no))
    return found


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    return (ids[start : start + _CHUNK] for start in range(0, len(ids), _CHUNK))


# --- 3 and 4: record, then queue ------------------------------------------------------


def record_escalations(
    session: Session, config: Config, plan: Sequence[Planned], now: datetime
) -> EscalationReport:
    """Insert the Escalation rows of ``plan`` and the grouped outbox rows; do not commit.

    A planned step whose row another decider inserted first is reported in
    ``lost`` and left out of every notification.
    """
    report = EscalationReport()
    won: list[tuple[Planned, int]] = []
    for planned in sorted(plan):  # one order for every decider: no lock-order deadlocks
        escalation_id = _insert_escalation(session, planned, now)
        key = (planned.case_id, planned.step_index, planned.repeat_no)
        if escalation_id is None:
            report.lost.append(key)
            continue
        report.recorded.append(key)
        won.append((planned, escalation_id))
    if won:
        report.outbox_ids = _queue(session, config, won, now)
        _log_events(session, config, [planned for planned, _ in won], now)
    return report


def _insert_escalation(session: Session, planned: Planned, now: datetime) -> int | None:
    """Insert one decision; return its id, or None if it was recorded already."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(Escalation)
        .values(
            case_id=planned.case_id,
            step_index=planned.step_index,
            repeat_no=planned.repeat_no,
            decided_at=now,
        )
        .on_conflict_do_nothing(index_elements=["case_id", "step_index", "repeat_no"])
        .returning(Escalation.id)
    )
    return session.execute(statement).scalar_one_or_none()


def _queue(
    session: Session, config: Config, won: Sequence[tuple[Planned, int]], now: datetime
) -> list[int]:
    """Add one outbox row per group and link each escalation to its row; return the row ids."""
    steps = config.escalation.steps
    groups: dict[GroupKey, list[tuple[Planned, int]]] = defaultdict(list)
    for planned, escalation_id in won:
        for key in group_keys(config, planned.source, steps[planned.step_index], now):
            groups[key].append((planned, escalation_id))
    cases = _waiting_cases(session, config, {planned.case_id for planned, _ in won}, now)
    linked: set[int] = set()
    outbox_ids = []
    for key in sorted(groups):
        members = groups[key]
        row = _outbox_row(config, key, members, cases, now)
        session.add(row)
        session.flush()
        outbox_ids.append(row.id)
        unlinked = [escalation_id for _, escalation_id in members if escalation_id not in linked]
        if unlinked:
            session.execute(
                update(Escalation).where(Escalation.id.in_(unlinked)).values(outbox_id=row.id)
            )
            linked.update(unlinked)
    return outbox_ids


def group_keys(config: Config, source: str, step: EscalationStep, now: datetime) -> list[GroupKey]:
    """Return who hears of a step reached by a case of ``source``, and from when.

    See the module docstring for the fallbacks to the owner and for the
    business-hours delivery time.
    """
    not_before = now
    if step.deliver == "business_hours":
        calendar = source_calendar(config, source)
        if not calendar.is_open(now):
            not_before = calendar.next_opening(now)
    return [
        GroupKey(channel, recipient, audience, not_before)
        for channel, recipient, audience in _recipients(config, source, step.notify)
    ]


def _recipients(config: Config, source: str, target: str) -> list[tuple[str, str, Audience]]:
    """Return (channel, recipient, audience) for a step's ``notify`` target."""
    owner = config.owner.email.lower()
    if target == "owner":
        return [("email", owner, "owner")]
    if target == "team":
        team = next((known.team for known in config.sources if known.name == source), ())
        return [("email", member.lower(), "team") for member in team] or [("email", owner, "team")]
    try:
        chats = config.telegram_chats_for(target)
    except KeyError:
        chats = ()
    return [("telegram", chat.name, "telegram") for chat in chats] or [("email", owner, "owner")]


def _waiting_cases(
    session: Session, config: Config, case_ids: set[int], now: datetime
) -> dict[int, WaitingCase]:
    """Return the cases to show, with their door, request text and business time waited."""
    found: dict[int, WaitingCase] = {}
    for chunk in _chunks(sorted(case_ids)):
        rows = session.execute(
            select(Case, Source.name, Message.text)
            .join(Source, Source.id == Case.source_id)
            .join(Message, Message.id == Case.opening_message_id)
            .where(Case.id.in_(chunk))
        )
        for case, source, text in rows:
            sla = source_sla(config, source)
            found[case.id] = WaitingCase(
                id=case.id,
                customer=case.customer,
                source=source,
                subject=case.subject,
                received_at=case.received_at,
                zone=sla.timezone,
                waited=calendar_for(sla).elapsed(case.received_at, now),
                text=text or "",
            )
    return found


def _outbox_row(
    config: Config,
    key: GroupKey,
    members: Sequence[tuple[Planned, int]],
    cases: dict[int, WaitingCase],
    now: datetime,
) -> Outbox:
    """Return the pending outbox row of one group, its words rendered now, once."""
    shown = [cases[case_id] for case_id in sorted({planned.case_id for planned, _ in members})]
    public_url = config.web.public_url if config.web else None
    language = config.owner.language
    decisions = sorted(f"{p.case_id}:{p.step_index}:{p.repeat_no}" for p, _ in members)
    parts = [key.channel, key.recipient, key.audience, *decisions]
    row = Outbox(
        kind="escalation",
        channel=key.channel,
        recipient=key.recipient,
        message_id_header=message_id(
            "escalation", parts, config.smtp.from_.email.rpartition("@")[2]
        ),
        status="pending",
        attempts=0,
        next_attempt_at=key.not_before,
        created_at=now,
    )
    if key.channel == "telegram":
        text = render_telegram(shown, language=language, public_url=public_url)
        row.subject, row.body_text, row.body_html = text.partition("\n")[0], text, None
    else:
        mail = render_escalation(
            shown, language=language, audience=key.audience, public_url=public_url
        )
        row.subject, row.body_text, row.body_html = mail.subject, mail.text, mail.html
    return row


def _log_events(session: Session, config: Config, won: Sequence[Planned], now: datetime) -> None:
    """Add an "escalated" line to each case's history (for the dashboard; nothing reads it back)."""
    steps = config.escalation.steps
    for planned in won:
        step = steps[planned.step_index]
        session.add(
            CaseEvent(
                case_id=planned.case_id,
                at=now,
                kind="escalated",
                detail={
                    "step": planned.step_index,
                    "repeat": planned.repeat_no,
                    "notify": step.notify,
                    "due_at": planned.due_at.isoformat(),
                },
            )
        )
