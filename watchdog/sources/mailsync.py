"""Reading a mailbox into the database: incremental, read-only, resumable.

``poll_mailbox`` is the entry point the scheduler calls for one ``[[mailbox]]``:
it connects, checks the folders we know and chooses the folders from LIST, and
has each read by ``foldersync.FolderSyncer`` (Sent first, so replies are known
before deletions are judged; then INBOX, Trash, Junk), with one pool of worker
processes for the whole poll when its backlog is big.

Network failures are retried a few times within the poll (tenacity, short
waits). A failed poll is recorded on the source; an outage longer than
``unreachable_after`` raises one SOURCE_UNREACHABLE alarm, cleared by the
next successful poll.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential
from tenacity.wait import wait_base

from watchdog.alarms import SOURCE_UNREACHABLE, clear_alarms, raise_alarm
from watchdog.config.schema import MailboxConfig
from watchdog.errors import SourceError
from watchdog.ingest.read import Ingestor
from watchdog.ingest.store import ensure_source
from watchdog.sources import mailalarms
from watchdog.sources.folders import (
    ChosenFolder,
    FolderMap,
    Role,
    choose_folders,
    encode_modified_utf7,
    overrides_of,
)
from watchdog.sources.foldersync import DEFAULT_BATCH, FolderSyncer, PollJob, PollReport
from watchdog.sources.imap import Connect, FolderStatus, MailboxReader, default_connect
from watchdog.sources.ingestpool import MailReaders, ReadPolicy, open_readers
from watchdog.storage.models import FolderSync, Source

SYNC_ORDER: tuple[Role, ...] = ("sent", "inbox", "trash", "junk")
"""Sent first: a reply is stored before the request it answers is judged deleted."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one poll retries a network failure.

    The default waits 0.5 s then 1 s: short, so a poll stays bounded (each
    attempt may also take up to the mailbox's ``timeout``). Tests pass
    ``RetryPolicy(wait=wait_none())``.
    """

    attempts: int = 3
    wait: wait_base = field(default_factory=lambda: wait_exponential(multiplier=0.5, max=4))


def poll_mailbox(
    session_factory: Callable[[], Session],
    mailbox: MailboxConfig,
    ingestor: Ingestor,
    *,
    now: datetime,
    unreachable_after: timedelta,
    connect: Connect = default_connect,
    retry: RetryPolicy | None = None,
    batch_size: int = DEFAULT_BATCH,
    reading: ReadPolicy | None = None,
) -> PollReport:
    """Read what is new in a mailbox, store it, and return what happened.

    1. Make sure the ``sources`` row exists (its ``created_at`` is when
       watching began: older mail is history, stored but never alarmed).
    2. Read every watched folder, retrying network failures a few times.
    3. Record the outcome on the source: success ends an outage and clears
       its alarm; failure starts or continues one, and raises the alarm once
       the outage has lasted longer than ``unreachable_after``.

    Never raises SourceError: a failed poll is in the report (and on the
    source row). Database errors and bugs do propagate. ``reading`` says when
    a big backlog is parsed and classified in worker processes (see
    :mod:`watchdog.sources.ingestpool`).
    """
    report = PollReport(mailbox.name)
    policy = retry or RetryPolicy()
    with session_factory() as session:
        source = ensure_source(session, "mailbox", mailbox.name, now)
        session.commit()
        job = PollJob(
            session, mailbox, ingestor, source, now, batch_size, report, reading or ReadPolicy()
        )
        try:
            for attempt in _retrying(policy):
                with attempt:
                    _attempt(job, connect)
        except SourceError as exc:
            session.rollback()
            _record_failure(job, exc, unreachable_after)
        else:
            _record_success(job)
        session.commit()
    return report


def _retrying(policy: RetryPolicy) -> Retrying:
    return Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=policy.wait,
        retry=retry_if_exception(lambda exc: isinstance(exc, SourceError) and not exc.permanent),
        reraise=True,
    )


def _attempt(job: PollJob, connect: Connect) -> None:
    """One try at reading the mailbox; uncommitted work is rolled back if it fails."""
    try:
        reader = connect(job.mailbox)
        try:
            sync_mailbox(job, reader)
        finally:
            reader.close()
    except BaseException:
        job.session.rollback()
        raise


def sync_mailbox(job: PollJob, reader: MailboxReader) -> None:
    """Check the folders we know, choose the folders from LIST, then sync each in SYNC_ORDER."""
    early = _early_status(job, reader)
    folders = choose_folders(reader.list_folders(), overrides_of(job.mailbox))
    job.report.folder_map = folders
    job.watch = mailalarms.Watch(
        source_id=job.source.id,
        inbox_folder=folders.inbox.name,
        watching_since=job.source.created_at,
        trust_answered_flag=job.mailbox.trust_answered_flag,
        now=job.now,
    )
    job.readers = _start_readers(job, reader, folders, early)
    try:
        for role in SYNC_ORDER:
            chosen: ChosenFolder | None = getattr(folders, role)
            if chosen is not None:
                FolderSyncer(job, reader, chosen, early.get(chosen.name)).run()
    finally:
        if job.readers is not None:
            job.readers.close()
        job.readers = None


def _start_readers(
    job: PollJob, reader: MailboxReader, folders: FolderMap, early: dict[str, FolderStatus]
) -> MailReaders | None:
    """Start worker processes now when this poll has a big backlog; None when it has not.

    The backlog is counted from each folder's STATUS (with CONDSTORE every
    folder's sync begins with one anyway: it is asked now and reused, so no
    command is added). Started now, the workers are ready by the time the
    big folder's first batch arrives, instead of that batch waiting for them
    (see ``MailReaders.start``). Once started, they read every folder's new
    mail in this poll, however little (see ``FolderSyncer._read_new``).
    """
    if not reader.condstore:
        return None
    known = {
        row.name: row
        for row in job.session.scalars(
            select(FolderSync).where(FolderSync.source_id == job.source.id)
        )
    }
    backlog = 0
    for role in SYNC_ORDER:
        chosen: ChosenFolder | None = getattr(folders, role)
        if chosen is None:
            continue
        status = early.get(chosen.name)
        if status is None:
            status = early[chosen.name] = reader.status(chosen.wire)
        sync = known.get(chosen.name)
        if sync is None or sync.uidvalidity != status.uidvalidity:
            backlog += status.exists
        elif status.uidnext is not None:
            backlog += max(0, status.uidnext - 1 - sync.last_uid)
    readers = open_readers(job.ingestor, backlog, job.reading)
    if not readers.depth:
        return None
    readers.start()
    return readers


def _early_status(job: PollJob, reader: MailboxReader) -> dict[str, FolderStatus]:
    """STATUS every folder we have read before, ahead of LIST; return them by name.

    Quirk: Dovecot 2.3 with Maildir answers a STATUS right after a LIST
    slowly (~0.25 s for a 20,000-message INBOX, as if LIST left the folder
    to be re-scanned) but in about a millisecond before it. Same commands,
    same count, just this order. A folder gone since (renamed, deleted) is
    skipped here and found, or not, by LIST.
    """
    if not reader.condstore:
        return {}
    query = select(FolderSync.name).where(
        FolderSync.source_id == job.source.id, FolderSync.highestmodseq.is_not(None)
    )
    found: dict[str, FolderStatus] = {}
    for name in job.session.scalars(query):
        try:
            found[name] = reader.status(encode_modified_utf7(name))
        except SourceError as exc:
            if not exc.permanent:
                raise
    return found


# -- outcome of a poll ---------------------------------------------------------


def _record_failure(job: PollJob, exc: SourceError, unreachable_after: timedelta) -> None:
    """Note the failure; raise SOURCE_UNREACHABLE once the outage is older than allowed."""
    source = job.session.get(Source, job.source.id)
    assert source is not None
    job.report.error, job.report.permanent = str(exc), exc.permanent
    source.last_error, source.last_error_at = str(exc)[:2000], job.now
    if source.unreachable_since is None:
        source.unreachable_since = job.now
    since = source.unreachable_since
    if job.now - since > unreachable_after:
        alarm = raise_alarm(
            job.session,
            kind=SOURCE_UNREACHABLE,
            key=f"{job.mailbox.name}@{since.isoformat()}",
            now=job.now,
            detail=f"mailbox {job.mailbox.name} unreachable since {since.isoformat()}: {exc}",
            source_id=source.id,
        )
        job.report.note(alarm)


def _record_success(job: PollJob) -> None:
    source = job.session.get(Source, job.source.id)
    assert source is not None
    source.last_ok_at, source.unreachable_since = job.now, None
    clear_alarms(job.session, kind=SOURCE_UNREACHABLE, source_id=source.id, now=job.now)
