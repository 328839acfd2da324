"""Storing what the sources bring: one message row and its classification, per arrival.

Both kinds of source end here: a mailbox hands in raw bytes and where they
sit (folder, UIDVALIDITY, UID); a form hands in a ``FormSubmission``. The
functions add rows to the caller's session and never commit: the caller
commits together with its own bookkeeping (a folder's last UID), so that a
crash between the two cannot skip or double a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchdog.classify import ClassifyContext, Decision, RuleSet, classify
from watchdog.classify.setup import context_from_config, identity_from_config, rules_from_config
from watchdog.config import Config
from watchdog.ingest.message import Address, OurIdentity
from watchdog.ingest.message import Message as Parsed
from watchdog.ingest.parse import parse_message
from watchdog.ingest.submission import FormSubmission
from watchdog.storage.models import Classification, Message, Source, SourceKind

#: A retried form delivery without an id is recognised within this window.
RETRY_WINDOW = timedelta(hours=24)
#: RFC 5322 caps a header line at 998 characters; PostgreSQL cannot index much longer values.
_MAX_ID = 998


@dataclass(frozen=True)
class Ingestor:
    """What turning bytes into a classified message needs: the rules and who we are."""

    rules: RuleSet
    context: ClassifyContext
    ours: OurIdentity


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
    parsed = parse_message(raw, ours=ingestor.ours, folder_role=where.role)
    decision = classify(parsed, ingestor.rules, ingestor.context, raw=raw)
    row = _mail_row(parsed, raw, source_id, where, received_at, now)
    row.flags, row.size, row.raw_truncated = list(flags), size or len(raw), truncated
    row.classification = _classification(decision, now)
    session.add(row)
    return row


def store_form(
    session: Session, source_id: int, submission: FormSubmission, now: datetime
) -> Message | None:
    """Add a form submission as a ``form`` request; return None when it is a retry.

    A retry is the same provider submission id, or the same content within
    ``RETRY_WINDOW`` when the provider sends no id. The unique constraint on
    (source, submission id) backs the first check against a race.
    """
    digest = submission.content_hash()
    if _is_retry(session, source_id, submission, digest, now):
        return None
    row = Message(
        source_id=source_id,
        form_submission_id=submission.submission_id,
        from_addr=submission.email,
        from_name=submission.name,
        subject=_form_subject(submission),
        received_at=submission.received_at,
        direction="incoming",
        size=len(submission.raw),
        raw=submission.raw,
        text=submission.message,
        phone=submission.phone,
        content_hash=digest,
        created_at=now,
    )
    row.classification = Classification(
        category="form", request=True, rules=[f"form:{submission.provider}"], created_at=now
    )
    session.add(row)
    return row


def _is_retry(
    session: Session, source_id: int, submission: FormSubmission, digest: str, now: datetime
) -> bool:
    same = select(Message.id).where(Message.source_id == source_id).limit(1)
    if submission.submission_id is not None:
        by_id = same.where(Message.form_submission_id == submission.submission_id)
        if session.scalar(by_id) is not None:
            return True
    recent = same.where(
        Message.content_hash == digest, Message.created_at >= now - RETRY_WINDOW
    )
    return session.scalar(recent) is not None


def _form_subject(submission: FormSubmission) -> str:
    first_line = submission.message.strip().splitlines()[0] if submission.message.strip() else ""
    return first_line[:120]


def _mail_row(
    parsed: Parsed,
    raw: bytes,
    source_id: int,
    where: MailLocation,
    received_at: datetime,
    now: datetime,
) -> Message:
    return Message(
        source_id=source_id,
        folder=where.folder,
        uidvalidity=where.uidvalidity,
        uid=where.uid,
        message_id_header=_cap(parsed.message_id),
        in_reply_to=_cap(parsed.in_reply_to),
        references_=" ".join(f"<{ref}>" for ref in parsed.references) or None,
        from_addr=parsed.from_.email if parsed.from_ else None,
        from_name=parsed.from_.name if parsed.from_ else None,
        reply_to=_addresses(parsed.reply_to),
        to_addrs=_addresses(parsed.to),
        cc_addrs=_addresses(parsed.cc),
        subject=parsed.subject,
        sent_at=parsed.date,
        received_at=received_at,
        direction=parsed.direction,
        raw=raw,
        text=parsed.text,
        parse_error=parsed.broken,
        created_at=now,
    )


def _classification(decision: Decision, now: datetime) -> Classification:
    return Classification(
        category=decision.category,
        request=decision.request,
        rules=list(decision.rule_names),
        created_at=now,
    )


def _addresses(addresses: tuple[Address, ...]) -> list[dict[str, str]]:
    return [{"name": a.name, "email": a.email} for a in addresses]


def _cap(value: str | None) -> str | None:
    return value[:_MAX_ID] if value else value


def ingestor_for(config: Config) -> Ingestor:
    """Build the Ingestor from the config (rules folder, our domains and people)."""
    return Ingestor(
        rules=rules_from_config(config),
        context=context_from_config(config),
        ours=identity_from_config(config),
    )
