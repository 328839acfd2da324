"""The tables of the watchdog, as typed SQLAlchemy 2 declarative models.

The pipeline (sources → ingest → classify → track → sla → escalate → notify →
digest) keeps everything it must remember here, so that a restart, a crash or
a second daemon never loses or repeats work. Several unique constraints are
not tidiness but the guarantees themselves:

- ``messages`` (source, folder, uidvalidity, uid) and (source,
  form_submission_id): a message polled twice or a form webhook retried is
  stored once;
- ``cases.opening_message_id``: one request opens at most one case;
- ``escalations`` (case, step, repeat): each escalation is sent at most once, ever;
- ``outbox.message_id_header``: a notification has one deterministic identity,
  so an in-doubt send can be recognised in the relay's or the recipient's mail;
- ``digests.day``: one digest per day;
- ``alarms`` (kind, key): one alarm per occurrence.

Conventions:

- Every timestamp is a ``UTCDateTime``: aware UTC in Python on both SQLite and
  PostgreSQL; a naive datetime is refused rather than guessed.
- No column defaults to "now": the clock is read once per cycle and passed in
  (``--now`` replays must write the same rows), so callers set every timestamp.
- Text that comes from outside (headers, subjects, folder names, form fields)
  is ``Text`` without a length, so an odd message can always be stored; our own
  vocabularies are short ``String``s, closed ones guarded by a CHECK constraint.
- Constraint and index names follow ``NAMING_CONVENTION`` so migrations can
  refer to them by a name that is the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SourceKind = Literal["mailbox", "form"]
FolderRole = Literal["inbox", "sent", "trash", "junk", "other"]
Direction = Literal["incoming", "outgoing", "unknown"]
Category = Literal["customer", "form", "autoreply", "bounce", "bulk", "notification", "staff"]
CaseState = Literal["open", "answered", "handled", "dismissed"]
CorrectionVerdict = Literal["not_request", "request"]
OutboxKind = Literal["escalation", "digest", "alarm"]
OutboxStatus = Literal["pending", "sending", "sent", "failed"]

SOURCE_KINDS: tuple[SourceKind, ...] = ("mailbox", "form")
FOLDER_ROLES: tuple[FolderRole, ...] = ("inbox", "sent", "trash", "junk", "other")
DIRECTIONS: tuple[Direction, ...] = ("incoming", "outgoing", "unknown")
CATEGORIES: tuple[Category, ...] = (
    "customer",
    "form",
    "autoreply",
    "bounce",
    "bulk",
    "notification",
    "staff",
)
REQUEST_CATEGORIES: frozenset[Category] = frozenset({"customer", "form"})
CASE_STATES: tuple[CaseState, ...] = ("open", "answered", "handled", "dismissed")
CORRECTION_VERDICTS: tuple[CorrectionVerdict, ...] = ("not_request", "request")
OUTBOX_KINDS: tuple[OutboxKind, ...] = ("escalation", "digest", "alarm")
OUTBOX_STATUSES: tuple[OutboxStatus, ...] = ("pending", "sending", "sent", "failed")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """Return a CHECK that ``column`` holds one of ``values`` (named ``<column>``)."""
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime.

    PostgreSQL keeps ``timestamptz`` and returns it in the session's zone;
    SQLite keeps text without an offset. Converting to UTC on the way in and
    attaching UTC on the way out makes both behave the same, and keeps SQLite's
    text comparable in queries (every value has the same offset). A naive
    datetime raises ValueError: guessing its zone is how deadlines drift by hours.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return ``value`` in UTC (without tzinfo for SQLite, which cannot keep it)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: pass an aware datetime")
        in_utc = value.astimezone(UTC)
        return in_utc.replace(tzinfo=None) if dialect.name == "sqlite" else in_utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored value as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every model; carries the naming convention for constraints."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), date: Date()}


class Source(Base):
    """One watched door: a mailbox (``[[mailbox]]``) or a site form (``[[form]]``).

    ``name`` is the name in the config file, so renaming it there starts a new
    source. The ``last_*`` and ``unreachable_since`` columns let the alarm stage
    tell a single failed poll from an outage, and ``doctor`` report both.
    """

    __tablename__ = "sources"
    __table_args__ = (_one_of("kind", SOURCE_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SourceKind] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]
    last_ok_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    unreachable_since: Mapped[datetime | None]


class FolderSync(Base):
    """How far one IMAP folder of a mailbox has been read.

    UIDVALIDITY and UIDs are unsigned 32-bit numbers in IMAP, so they do not fit
    a signed INTEGER: they are BIGINT. When the server's UIDVALIDITY differs from
    ``uidvalidity`` the folder was rebuilt and every UID here is meaningless; the
    ingest stage then re-reads the folder and matches messages by Message-ID.
    """

    __tablename__ = "folder_sync"
    __table_args__ = (
        UniqueConstraint("source_id", "name"),
        _one_of("role", FOLDER_ROLES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    role: Mapped[FolderRole] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)  # the server's name, decoded from modified UTF-7
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    highestmodseq: Mapped[int | None] = mapped_column(BigInteger)
    last_sync_at: Mapped[datetime | None]


class Thread(Base):
    """A conversation: requests and replies grouped by headers, or by who and what.

    ``counterpart`` is the customer's lower-cased address and ``phone`` the
    number a form gave; with ``subject_norm`` (subject without Re:/Fwd: and
    whitespace noise) they find a thread when the headers do not.
    """

    __tablename__ = "threads"
    __table_args__ = (
        Index(None, "counterpart", "subject_norm"),
        Index(None, "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_norm: Mapped[str] = mapped_column(Text, default="")
    counterpart: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    last_message_at: Mapped[datetime | None]


class Message(Base):
    """One email or form submission as stored: what ``watchdog.ingest`` produced.

    A mailbox message is identified by (source, folder, uidvalidity, uid), a form
    submission by (source, form_submission_id). SQL treats NULLs as distinct, so
    each unique constraint binds only its own kind of message. A form service
    that retries without an id is recognised by ``content_hash`` instead
    (same source, same hash, within 24 h).

    ``to_addrs``, ``cc_addrs`` and ``reply_to`` are lists of
    ``{"name": ..., "email": ...}`` objects; ``flags`` is the list of IMAP flags.
    ``raw`` is the message as received, cut at a size limit when
    ``raw_truncated``. A message that could not be parsed is still stored, with
    the reason in ``parse_error``. ``gone_at`` is set when the message left its
    folder (moved or expunged): whether that was a request deleted unanswered is
    for the alarm stage to decide.

    PostgreSQL cannot index a value longer than about 2.7 kB, so ingest must cap
    ``message_id_header`` (and should cap ``content_hash`` to a hex digest).
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("source_id", "folder", "uidvalidity", "uid"),
        UniqueConstraint("source_id", "form_submission_id"),
        Index(None, "source_id", "message_id_header"),
        Index(None, "source_id", "content_hash"),
        Index(None, "thread_id"),
        # The tracker reads "what is new" through this: a partial index holds only
        # untracked rows, so a tick costs what arrived, not the whole history.
        Index(
            "ix_messages_untracked",
            "id",
            sqlite_where=text("tracked_at IS NULL"),
            postgresql_where=text("tracked_at IS NULL"),
        ),
        _one_of("direction", DIRECTIONS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    folder: Mapped[str | None] = mapped_column(Text)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    form_submission_id: Mapped[str | None] = mapped_column(Text)
    message_id_header: Mapped[str | None] = mapped_column(Text)
    in_reply_to: Mapped[str | None] = mapped_column(Text)
    references_: Mapped[str | None] = mapped_column(Text)  # the References header, as is
    from_addr: Mapped[str | None] = mapped_column(Text)
    from_name: Mapped[str | None] = mapped_column(Text)
    reply_to: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    to_addrs: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    cc_addrs: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None]  # the Date header, when readable
    received_at: Mapped[datetime]  # arrival: INTERNALDATE, or when the form posted
    direction: Mapped[Direction] = mapped_column(String(10), default="unknown")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    raw_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text, default="")  # the new part, quotes removed
    phone: Mapped[str | None] = mapped_column(Text)
    parse_error: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(128))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id"))
    gone_at: Mapped[datetime | None]
    tracked_at: Mapped[datetime | None]  # when the tracker looked at it (threads, cases)
    created_at: Mapped[datetime]

    classification: Mapped[Classification | None] = relationship(
        back_populates="message", uselist=False
    )


class Classification(Base):
    """The verdict on one message: its category and the rules that decided it.

    ``rules`` lists the names of the rules that fired, in order, so the
    dashboard and ``classify --explain`` can say why. ``request`` is stored, not
    derived, so a later change to what counts as a request does not rewrite history.
    """

    __tablename__ = "classifications"
    __table_args__ = (_one_of("category", CATEGORIES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    category: Mapped[Category] = mapped_column(String(16))
    request: Mapped[bool] = mapped_column(Boolean)
    rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]

    message: Mapped[Message] = relationship(back_populates="classification")


class Case(Base):
    """A request waiting for a human answer, from the first message to its close.

    ``deadline_at`` is computed once, when the case opens, from the source's
    business calendar; the pair (state, deadline_at) is indexed so "open and
    overdue at ``now``" is one indexed query. A case ends ``answered`` (a human
    reply was seen: ``answered_message_id``) or ``handled`` (someone closed it
    without mail, with ``handled_by`` and ``handled_reason``) or ``dismissed``
    (someone said it was not a request at all: ``dismissed_at``; who and why
    are in its :class:`Correction`).
    ``marked_answered_no_reply`` is True when it counts as answered on evidence
    other than a reply we saw (the ``\\Answered`` flag), so the dashboard can say so.
    ``opening_message_id`` is unique: one request message opens at most one case.
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index(None, "state", "deadline_at"),
        Index(None, "state", "next_escalation_at"),
        Index(None, "thread_id"),
        _one_of("state", CASE_STATES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    opening_message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    customer: Mapped[str] = mapped_column(Text, default="")  # "Name <email>" or a phone
    subject: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    state: Mapped[CaseState] = mapped_column(String(16), default="open")
    answered_at: Mapped[datetime | None]
    answered_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    handled_at: Mapped[datetime | None]
    handled_by: Mapped[str | None] = mapped_column(Text)
    handled_reason: Mapped[str | None] = mapped_column(Text)
    marked_answered_no_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    dismissed_at: Mapped[datetime | None]
    # When the next escalation step can fall due: NULL until the decider has looked
    # (or after a restart reset it), NEVER_ESCALATES when no step is left.
    next_escalation_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.at, CaseEvent.id"
    )


class CaseEvent(Base):
    """One line of a case's history ("opened", "follow-up", "answered", "escalated"...).

    An append-only log for the dashboard and for explaining afterwards why a
    case was closed or escalated; no decision reads it back.
    """

    __tablename__ = "case_events"
    __table_args__ = (Index(None, "case_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    actor: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    case: Mapped[Case] = relationship(back_populates="events")


class Outbox(Base):
    """A notification to send, and what became of it.

    The row is written before anything is sent, set to ``sending`` right before
    the relay is called (``last_attempt_at``) and to ``sent`` or back to
    ``pending``/``failed`` after. A row found at ``sending`` after a crash is in
    doubt; ``message_id_header`` is deterministic and unique so that the notify
    stage can look for it instead of silently sending twice.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(None, "status", "next_attempt_at"),
        _one_of("kind", OUTBOX_KINDS),
        _one_of("status", OUTBOX_STATUSES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))  # "email" | "telegram"
    recipient: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    message_id_header: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    relay_response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Escalation(Base):
    """The decision to notify about a case at one escalation step and repeat.

    UNIQUE(case_id, step_index, repeat_no) is the at-most-once guarantee of the
    escalation policy: the row is inserted before the notification is queued,
    so a second daemon, a restart or a replay hits the constraint instead of
    notifying again. ``repeat_no`` is 0 for a step's first notification.
    """

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("case_id", "step_index", "repeat_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    step_index: Mapped[int] = mapped_column(Integer)
    repeat_no: Mapped[int] = mapped_column(Integer, default=0)
    decided_at: Mapped[datetime]
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))

    outbox: Mapped[Outbox | None] = relationship()


class Digest(Base):
    """The daily digest for one day (in ``sla.timezone``).

    ``day`` is unique: the row is claimed before the digest is built, so the
    owner gets one digest a day whatever restarts or second daemons do.
    ``status`` is "queued" (its outbox row was written in the same transaction) or
    "skipped" (an empty day with ``digest.skip_empty``).
    """

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    created_at: Mapped[datetime]

    outbox: Mapped[Outbox | None] = relationship()


class Alarm(Base):
    """Something that needs the owner now, whatever the deadline.

    ``kind`` names the trouble ("request_deleted", "request_in_junk",
    "source_unreachable", "source_silent"...); ``key`` names the occurrence
    (a message's row id, an outage's start), so UNIQUE(kind, key) raises each
    occurrence once and a new outage raises a new alarm. ``cleared_at`` is set
    when the trouble is over; ``notified_at``/``outbox_id`` when the owner was told;
    ``acknowledged_at``/``acknowledged_by`` when someone said on the dashboard
    that they saw it (which does not clear it: the trouble may still be there).
    """

    __tablename__ = "alarms"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(255))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    raised_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]
    detail: Mapped[str | None] = mapped_column(Text)
    notified_at: Mapped[datetime | None]
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(Text)


class Correction(Base):
    """Someone told the watchdog that the classifier was wrong about a message.

    ``verdict`` is what the person said: ``not_request`` (the case it opened
    was dismissed) or ``request`` (a message taken for automatic mail opened
    ``case_id``). The classifier's own verdict stays as it was in
    ``classifications``: corrections are kept beside it, so the digest can
    show the owner where the rules went wrong (``at`` is indexed for that).
    """

    __tablename__ = "corrections"
    __table_args__ = (
        Index(None, "at"),
        Index(None, "message_id"),
        _one_of("verdict", CORRECTION_VERDICTS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    verdict: Mapped[CorrectionVerdict] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class Lease(Base):
    """A named lock with an expiry, held by one daemon.

    A second daemon finds the lease held and unexpired and waits instead of
    polling and sending in parallel; a crashed holder's lease simply expires.
    Take it with a conditional UPDATE (``expires_at < now`` or same holder) and
    go on only when one row changed; insert the row the first time.
    """

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime]
