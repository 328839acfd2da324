"""Storing what the sources bring: one message row and its classification, per arrival.

Both kinds of source end here: a mailbox hands in raw bytes and where they
sit (folder, UIDVALIDITY, UID); a form hands in a ``FormSubmission``. The
functions add rows to the caller's session and never commit: the caller
commits together with its own bookkeeping (a folder's last UID), so that a
crash between the two cannot skip or double a message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, union_all
from sqlalchemy.orm import Session, make_transient_to_detached

from watchdog.classify.setup import context_from_config, identity_from_config, rules_from_config
from watchdog.config import Config
from watchdog.ingest.read import Ingestor, ReadMail, read_mail
from watchdog.ingest.submission import FormSubmission
from watchdog.storage.models import Classification, Message, Source, SourceKind

#: A retried form delivery without an id is recognised within this window.
RETRY_WINDOW = timedelta(hours=24)
#: The tables themselves, for multi-row INSERTs that skip the ORM (see ``insert_mails``).
_MESSAGES: Table = Message.__table__  # type: ignore[assignment]
_CLASSIFICATIONS: Table = Classification.__table__  # type: ignore[assignment]
#: A form submission already stored: the same provider id, or the same content since ``since``.
#: Two indexed lookups (the unique constraint's index, then the content_hash index) in one
#: round trip; UNION ALL because SQLite, without ANALYZE statistics, answers the same
#: condition written with OR by scanning all of the source's rows.
_STORED_BEFORE = union_all(
    select(Message.id).where(
        Message.source_id == bindparam("source_id"),
        Message.form_submission_id == bindparam("submission_id"),
    ),
    select(Message.id).where(
        Message.source_id == bindparam("source_id"),
        Message.content_hash == bindparam("digest"),
        Message.created_at >= bindparam("since"),
    ),
).limit(1)
_INSERT_MESSAGE = insert(Message).returning(Message.id)


@dataclass(frozen=True, slots=True)
class MailLocation:
    """Where a mail sits on its server: the identity the unique constraint binds."""

    folder: str
    role: str
    uidvalidity: int
    uid: int


def ensure_source(session: Session, kind: SourceKind, name: str, now: datetime) -> Source:
    """Return the ``sources`` row for a configured source, creating it on first sight."""
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        source = Source(kind=kind, name=name, created_at=now)
        session.add(source)
        session.flush()
    return source


@dataclass(frozen=True, slots=True)
class Arrival:
    """One mail as its server handed it over: where it sits, its bytes and what the server says.

    ``size`` is the full size on the server when only the first part was
    fetched (``truncated``); ``received_at`` is the server's INTERNALDATE.
    """

    where: MailLocation
    raw: bytes
    received_at: datetime
    flags: tuple[str, ...] = ()
    size: int | None = None
    truncated: bool = False


def store_mail(
    session: Session,
    ingestor: Ingestor,
    source_id: int,
    where: MailLocation,
    raw: bytes,
    *,
    received_at: datetime,
    now: datetime,
    flags: tuple[str, ...] = (),
    size: int | None = None,
    truncated: bool = False,
) -> Message:
    """Parse, classify and add one mail; a message that cannot be parsed is added as broken.

    ``size`` is the full size on the server when only the first part was
    fetched (``truncated``); ``received_at`` is the server's INTERNALDATE.
    """
    read = read_mail(ingestor, raw, folder_role=where.role)
    arrival = Arrival(where, raw, received_at, flags, size, truncated)
    row = _mail_row(read, arrival, source_id, now)
    row.classification = _classification(read, now)
    session.add(row)
    return row


def insert_mails(
    session: Session, source_id: int, mails: Sequence[tuple[Arrival, ReadMail]], now: datetime
) -> list[int]:
    """Insert read mails and their classifications in two statements; return the new row ids.

    The same rows as ``store_mail`` adds one by one, written as two
    multi-row INSERTs (one for the messages, one for their classifications)
    instead of the session's unit of work: a first sync stores tens of
    thousands of mails, and per-object bookkeeping cost more than the SQL.
    The rows are not in the session; ids come back in the order given.
    """
    if not mails:
        return []
    rows = [_mail_values(read, arrival, source_id, now) for arrival, read in mails]
    _insert_rows(session, _MESSAGES, rows)
    ids = _ids_of(session, source_id, [arrival.where for arrival, _ in mails])
    verdicts = [
        _classification_values(read, message_id, now)
        for message_id, (_, read) in zip(ids, mails, strict=True)
    ]
    _insert_rows(session, _CLASSIFICATIONS, verdicts)
    return ids


def _insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT rows (all with the same keys) with one driver ``executemany``.

    What ``session.execute(insert(table), rows)`` does, less its per-row
    bookkeeping, which cost half of a first sync's inserting: the statement
    is compiled once for the rows' keys, every value goes through the bind
    processor SQLAlchemy itself would apply for this dialect (JSON, UTC
    timestamps, booleans), and the driver gets the values in the order the
    SQL names them. A statement that would need Python-side defaults (a
    column missing from the rows) takes the ordinary path.
    """
    connection = session.connection()
    keys = list(rows[0])
    compiled = insert(table).compile(dialect=connection.dialect, column_keys=keys)
    processors = getattr(compiled, "_bind_processors", None)
    if compiled.insert_prefetch or processors is None or any(len(row) != len(keys) for row in rows):
        session.execute(insert(table), rows)
        return
    names = list(compiled.positiontup or ()) if compiled.positional else keys
    convert = [_remembering(f) if f is not None else None for f in map(processors.get, names)]
    values = [
        [row[name] if f is None else f(row[name]) for name, f in zip(names, convert, strict=True)]
        for row in rows
    ]
    if compiled.positional:
        connection.exec_driver_sql(compiled.string, [tuple(v) for v in values])
    else:
        connection.exec_driver_sql(compiled.string, [dict(zip(names, v)) for v in values])


def _remembering(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Return ``convert`` computed once per distinct value of a batch's column.

    Rows repeat many values (``created_at``, empty address lists, the same
    flags and rule names), and each JSON or timestamp conversion costs
    microseconds: a fifth of inserting a first sync's rows. A list is
    remembered by its items when they are hashable (strings), else
    converted every time.
    """
    seen: dict[Any, Any] = {}

    def remembered(value: Any) -> Any:
        if type(value) is list:
            if value and type(value[0]) is not str:
                return convert(value)  # addresses: dicts, unhashable
            key = (list, *value)
        else:
            key = value
        try:
            return seen[key]
        except KeyError:
            result = seen[key] = convert(value)
            return result
        except TypeError:  # unhashable after all
            return convert(value)

    return remembered


def _ids_of(session: Session, source_id: int, places: list[MailLocation]) -> list[int]:
    """Row ids of mails just inserted, by their unique (folder, UIDVALIDITY, UID), in order.

    One indexed query per folder instead of INSERT ... RETURNING: SQLite cannot
    return the ids of a multi-row INSERT in order, so SQLAlchemy would insert
    row by row, which costs more than everything else here.
    """
    found: dict[tuple[str, int, int | None], int] = {}
    for folder, uidvalidity in {(p.folder, p.uidvalidity) for p in places}:
        uids = [p.uid for p in places if p.folder == folder and p.uidvalidity == uidvalidity]
        query = select(Message.id, Message.uid).where(
            Message.source_id == source_id,
            Message.folder == folder,
            Message.uidvalidity == uidvalidity,
            Message.uid.between(min(uids), max(uids)),
        )
        for row_id, uid in session.execute(query):
            found[(folder, uidvalidity, uid)] = row_id
    return [found[(p.folder, p.uidvalidity, p.uid)] for p in places]


def store_form(
    session: Session, source_id: int, submission: FormSubmission, now: datetime
) -> Message | None:
    """Add a form submission as a ``form`` request; return None when it is a retry.

    A retry is the same provider submission id, or the same content within
    ``RETRY_WINDOW`` when the provider sends no id. The unique constraint on
    (source, submission id) backs the first check against a race.

    The message and its classification are written at once with two plain
    INSERTs, not through the session's unit of work, which cost more than the
    SQL for a webhook; a later call in the same transaction sees them. The
    returned row is in the session as if loaded, holding what was written;
    the columns left to their defaults, and the classification, load on first use.
    """
    digest = submission.content_hash()
    if _is_retry(session, source_id, submission, digest, now):
        return None
    values = {
        "source_id": source_id,
        "form_submission_id": submission.submission_id,
        "from_addr": submission.email,
        "from_name": submission.name,
        "subject": _form_subject(submission),
        "received_at": submission.received_at,
        "direction": "incoming",
        "size": len(submission.raw),
        "raw": submission.raw,
        "text": submission.message,
        "phone": submission.phone,
        "content_hash": digest,
        "created_at": now,
    }
    connection = session.connection()
    message_id = connection.execute(_INSERT_MESSAGE, values).scalar_one()
    connection.execute(
        insert(Classification),
        {
            "message_id": message_id,
            "category": "form",
            "request": True,
            "rules": [f"form:{submission.provider}"],
            "created_at": now,
        },
    )
    row = Message(id=message_id, **values)
    make_transient_to_detached(row)  # known to be in the database: no INSERT, no SELECT
    session.add(row)
    return row


def _is_retry(
    session: Session, source_id: int, submission: FormSubmission, digest: str, now: datetime
) -> bool:
    """Return True when the source already holds this submission: same id, or same content lately."""
    params = {
        "source_id": source_id,
        "submission_id": submission.submission_id,
        "digest": digest,
        "since": now - RETRY_WINDOW,
    }
    return session.execute(_STORED_BEFORE, params).first() is not None


def _form_subject(submission: FormSubmission) -> str:
    first_line = submission.message.strip().splitlines()[0] if submission.message.strip() else ""
    return first_line[:120]


def _mail_row(read: ReadMail, arrival: Arrival, source_id: int, now: datetime) -> Message:
    return Message(**_mail_values(read, arrival, source_id, now))


def _mail_values(read: ReadMail, arrival: Arrival, source_id: int, now: datetime) -> dict[str, Any]:
    """Every column of a mail's ``messages`` row, by attribute name."""
    where = arrival.where
    return {
        **read.columns,
        "source_id": source_id,
        "folder": where.folder,
        "uidvalidity": where.uidvalidity,
        "uid": where.uid,
        "received_at": arrival.received_at,
        "raw": arrival.raw,
        "flags": list(arrival.flags),
        "size": arrival.size or len(arrival.raw),
        "raw_truncated": arrival.truncated,
        "created_at": now,
    }


def _classification(read: ReadMail, now: datetime) -> Classification:
    return Classification(
        category=read.category, request=read.request, rules=list(read.rules), created_at=now
    )


def _classification_values(read: ReadMail, message_id: int, now: datetime) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "category": read.category,
        "request": read.request,
        "rules": list(read.rules),
        "created_at": now,
    }


def ingestor_for(config: Config) -> Ingestor:
    """Build the Ingestor from the config (rules folder, our domains and people)."""
    return Ingestor(
        rules=rules_from_config(config),
        context=context_from_config(config),
        ours=identity_from_config(config),
        rule_dirs=(str(config.classify.rules_dir),) if config.classify.rules_dir else (),
    )
