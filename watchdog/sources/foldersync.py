"""Reading one IMAP folder into the database: incremental, read-only, resumable.

``FolderSyncer`` is one folder's part of a mailbox poll (``mailsync``). The
state kept in ``folder_sync`` is UIDVALIDITY, the last UID read and
HIGHESTMODSEQ. One poll of a folder:

1. STATUS: UIDVALIDITY, UIDNEXT, MESSAGES and (CONDSTORE) HIGHESTMODSEQ.
2. Idle if UIDVALIDITY and HIGHESTMODSEQ are what we stored: every new
   message, flag change and expunge raises HIGHESTMODSEQ (RFC 7162), so
   nothing else is sent. That is one round trip per folder, whatever the
   folder's size. Otherwise EXAMINE the folder (read-only) and go on.
3. A different UIDVALIDITY means every stored UID is void: read the folder
   again from UID 1, but first match each message's Message-ID, Date and
   size against the rows we have and re-point those instead of storing
   them twice.
4. New mail: ``UID FETCH last+1:* (RFC822.SIZE)``, then batches (at most
   ``batch_size`` messages and about ``BATCH_BYTES``) of ``BODY.PEEK[]<0.N>``,
   each batch's FETCH sent before the one before it is stored (pipelined:
   the server works while we store).
   Each batch is committed with the new last UID, so a crash resumes where
   it stopped, without loss and without duplicates. Never UNSEEN, never a
   SINCE window: after a week of downtime everything past the last UID is read.
5. Changes to mail we have: with CONDSTORE, ``UID FETCH 1:last (FLAGS)
   (CHANGEDSINCE m VANISHED)`` returns changed flags and (QRESYNC) expunged
   UIDs in one round trip. Without it, the flags of the newest
   ``FLAG_WINDOW`` messages are re-read (where \\Answered matters), and a
   message count that differs from ours triggers one UID SEARCH ALL.

Gone messages get ``gone_at``; requests leaving INBOX, or appearing in Trash
or Junk, may raise alarms (see :mod:`watchdog.sources.mailalarms`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from watchdog.config.schema import MailboxConfig
from watchdog.errors import SourceError
from watchdog.ingest.parse import parse_message
from watchdog.ingest.read import Ingestor, ReadMail
from watchdog.ingest.store import Arrival, MailLocation, insert_mails
from watchdog.sources import mailalarms
from watchdog.sources.folders import ChosenFolder, FolderMap, Role
from watchdog.sources.imap import FetchedMail, FolderStatus, MailboxReader, PrefetchingReader
from watchdog.sources.ingestpool import (
    MailBytes,
    MailReaders,
    ReadPolicy,
    WorkerAnswer,
    open_readers,
)
from watchdog.storage.models import Alarm, FolderSync, Message, Source

DEFAULT_BATCH = 250
"""Messages per FETCH: few round trips, yet a crash loses at most one batch's work."""
BATCH_BYTES = 16 * 1024 * 1024
"""A batch also ends when this many bytes are due, so memory stays flat with big mail."""
FLAG_WINDOW = 500
"""Without CONDSTORE, the flags of this many newest messages are re-read each poll."""
_IN_CHUNK = 500
"""Rows looked up per SQL ``IN (...)``: well under SQLite's variable limit."""
_MAX_ID = 998


@dataclass
class FolderReport:
    """What one poll did in one folder."""

    role: Role
    name: str
    new: int = 0
    broken: int = 0
    flag_changes: int = 0
    vanished: int = 0
    repointed: int = 0
    uidvalidity_reset: bool = False
    idle: bool = False


@dataclass
class PollReport:
    """What one poll of a mailbox did, or why it failed (``error``, ``permanent``)."""

    source: str
    folders: dict[Role, FolderReport] = field(default_factory=dict)
    alarms: list[tuple[str, str]] = field(default_factory=list)
    folder_map: FolderMap | None = None
    error: str | None = None
    permanent: bool | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def new(self) -> int:
        return sum(folder.new for folder in self.folders.values())

    def note(self, alarm: Alarm | None) -> None:
        if alarm is not None:
            self.alarms.append((alarm.kind, alarm.key))


@dataclass
class PollJob:
    """One poll's shared state, so the steps below keep short signatures."""

    session: Session
    mailbox: MailboxConfig
    ingestor: Ingestor
    source: Source
    now: datetime
    batch_size: int
    report: PollReport
    reading: ReadPolicy
    watch: mailalarms.Watch | None = None
    readers: MailReaders | None = None  # worker processes for the whole poll, when it is big


class FolderSyncer:
    """Steps 1-5 of the module docstring, for one folder of a mailbox's poll."""

    def __init__(
        self,
        job: PollJob,
        reader: MailboxReader,
        folder: ChosenFolder,
        early: FolderStatus | None = None,
    ) -> None:
        self.job, self.reader, self.folder, self.early = job, reader, folder, early
        self.session = job.session
        self.report = job.report.folders.setdefault(
            folder.role, FolderReport(folder.role, folder.name)
        )
        self.pending = _Pending()

    def run(self) -> None:
        self.sync = self._folder_sync()
        if self.reader.condstore and self._idle(self.early or self.reader.status(self.folder.wire)):
            # Committed with the poll's outcome: an idle poll writes once, not per folder.
            self.report.idle = True
            self.sync.last_sync_at = self.job.now
            return
        status = self.reader.examine(self.folder.wire)
        if self.sync.uidvalidity != status.uidvalidity:
            self._start_over(status.uidvalidity)
        known_uid = self.sync.last_uid
        self._read_new(status)
        self._notice_changes(status, known_uid)
        self.sync.highestmodseq = status.highestmodseq
        self.sync.last_sync_at = self.job.now
        self._commit()

    def _commit(self) -> None:
        """Commit, and only then count what was done: a failed attempt is rolled back uncounted."""
        self.session.commit()
        self.pending.add_to(self.report, self.job.report)
        self.pending = _Pending()

    # -- state -----------------------------------------------------------------

    def _folder_sync(self) -> FolderSync:
        query = select(FolderSync).where(
            FolderSync.source_id == self.job.source.id, FolderSync.name == self.folder.name
        )
        sync = self.session.scalar(query)
        if sync is None:
            sync = FolderSync(source_id=self.job.source.id, name=self.folder.name, last_uid=0)
            self.session.add(sync)
        sync.role = self.folder.role
        return sync

    def _start_over(self, uidvalidity: int) -> None:
        """A new UIDVALIDITY (or the first sync): every UID we knew is void; read from 1."""
        if self.sync.uidvalidity is not None:
            self.report.uidvalidity_reset = True
        self.sync.uidvalidity, self.sync.last_uid, self.sync.highestmodseq = uidvalidity, 0, None
        self._commit()

    def _idle(self, status: FolderStatus) -> bool:
        """True when UIDVALIDITY and HIGHESTMODSEQ prove nothing changed; without CONDSTORE, never."""
        return (
            status.uidvalidity == self.sync.uidvalidity
            and status.highestmodseq is not None
            and status.highestmodseq == self.sync.highestmodseq
        )

    # -- new mail --------------------------------------------------------------

    def _read_new(self, status: FolderStatus) -> None:
        """Fetch, read and store every new mail, committing batch by batch in UID order.

        With worker processes, the next batches are fetched (and read by the
        workers) while this one waits for its reads; with none, each batch is
        fetched, read and stored before the next. Either way a batch is
        committed together with its last UID, oldest batch first.
        """
        if status.uidnext is not None and status.uidnext <= self.sync.last_uid + 1:
            return
        sizes = self.reader.list_new(self.sync.last_uid + 1)
        resync = self._has_orphans()
        shared = self.job.readers
        if shared is not None and shared.depth:
            # Started as the poll began (its backlog was big), closed as it ends: once
            # running, the workers read a small folder's mail too, off the polling process.
            readers = shared
        else:
            readers = open_readers(self.job.ingestor, len(sizes), self.job.reading)
        try:
            # Re-pointing (resync) changes rows as it fetches: no fetching ahead then.
            ahead = 0 if resync else readers.depth
            in_flight: deque[_Batch] = deque()
            limit = self.job.mailbox.max_fetch_bytes
            plan = list(batches(sorted(sizes), sizes, limit, self.job.batch_size))
            prefetch = self.reader if isinstance(self.reader, PrefetchingReader) else None
            if prefetch is not None and plan and not resync:
                prefetch.prefetch_mail(plan[0], limit)
            for index, uids in enumerate(plan):
                if prefetch is not None and index + 1 < len(plan) and not resync:
                    # The server sends the next batch while this one is read and stored.
                    prefetch.prefetch_mail(plan[index + 1], limit)
                in_flight.append(self._fetch_batch(uids, sizes, resync, readers))
                while len(in_flight) > ahead:
                    self._store_batch(in_flight.popleft(), readers)
            while in_flight:
                self._store_batch(in_flight.popleft(), readers)
        finally:
            if readers is not shared:
                readers.close()
        if status.uidnext is not None:
            # Expunged before we saw them: no need to ask about those UIDs again.
            self.sync.last_uid = max(self.sync.last_uid, status.uidnext - 1)
        if resync:
            self._retire_orphans()

    def _fetch_batch(
        self, uids: list[int], sizes: dict[int, int], resync: bool, readers: MailReaders
    ) -> _Batch:
        """Fetch a batch and hand it to the readers; a UID expunged meanwhile is left out."""
        last = uids[-1]
        if resync:
            uids = self._repoint_known(uids)
        fetched = self._fetch_tolerant(uids)
        assert self.sync.uidvalidity is not None
        arrivals: list[Arrival] = []
        errors: list[str | None] = []
        for uid in uids:
            got = fetched.get(uid)
            if got is None:
                continue  # expunged between listing and fetching: nothing to store
            where = MailLocation(self.folder.name, self.folder.role, self.sync.uidvalidity, uid)
            if isinstance(got, str):
                arrival = Arrival(where, b"", self.job.now, size=sizes.get(uid) or None)
                errors.append(f"could not be fetched: {got}"[:2000])
            else:
                arrival = Arrival(where, got.raw, got.internal_date or self.job.now, got.flags,
                                  got.size, got.truncated)  # fmt: skip
                errors.append(None)
            arrivals.append(arrival)
        mails: list[MailBytes] = [(a.raw, self.folder.role) for a in arrivals]
        return _Batch(last, arrivals, errors, mails, readers.submit(mails))

    def _store_batch(self, batch: _Batch, readers: MailReaders) -> None:
        """Insert a fetched batch once it is read, judge its arrivals, commit it with its last UID."""
        reads = readers.result(batch.pending, batch.mails)
        stored: list[tuple[Arrival, ReadMail]] = []
        for arrival, read, error in zip(batch.arrivals, reads, batch.errors, strict=True):
            if error is not None:
                read = ReadMail({**read.columns, "parse_error": error}, read.category,
                                read.request, read.rules)  # fmt: skip
            stored.append((arrival, read))
            self.pending.new += 1
            self.pending.broken += read.columns["parse_error"] is not None
        ids = insert_mails(self.session, self.job.source.id, stored, self.job.now)
        if self.folder.role in ("trash", "junk"):
            self._judge_arrivals([
                row_id for row_id, (_, read) in zip(ids, stored, strict=True)
                if read.request and read.columns["direction"] != "outgoing"
            ])  # fmt: skip
        self.sync.last_uid = max(self.sync.last_uid, batch.last_uid)
        self._commit()

    def _fetch_tolerant(self, uids: list[int]) -> dict[int, FetchedMail | str]:
        """Fetch a batch; if the server refuses it, fetch one by one and keep each refusal.

        A network failure is not a refusal: it propagates, and the poll retries.
        """
        limit = self.job.mailbox.max_fetch_bytes
        try:
            return dict(self.reader.fetch_mail(uids, limit))
        except SourceError as exc:
            if not exc.permanent:
                raise
            if len(uids) == 1:
                return {uids[0]: str(exc)}
        result: dict[int, FetchedMail | str] = {}
        for uid in uids:
            try:
                result.update(self.reader.fetch_mail([uid], limit))
            except SourceError as exc:
                if not exc.permanent:
                    raise
                result[uid] = str(exc)
        return result

    def _judge_arrivals(self, row_ids: list[int]) -> None:
        """Raise the alarms a request arriving in Trash or Junk calls for (only requests can)."""
        watch = self.job.watch
        assert watch is not None
        if not row_ids:
            return
        query = (
            select(Message)
            .where(Message.id.in_(row_ids))
            .order_by(Message.id)
            .options(selectinload(Message.classification))
        )
        for row in self.session.scalars(query):
            if self.folder.role == "trash":
                self.pending.note(mailalarms.arrived_in_trash(self.session, watch, row))
            else:
                self.pending.note(mailalarms.arrived_in_junk(self.session, watch, row))

    # -- UIDVALIDITY changes ---------------------------------------------------

    def _orphans(self) -> Select[Message]:
        return select(Message).where(
            Message.source_id == self.job.source.id,
            Message.folder == self.folder.name,
            Message.uidvalidity != self.sync.uidvalidity,
            Message.gone_at.is_(None),
        )

    def _has_orphans(self) -> bool:
        return (
            self.session.scalar(self._orphans().with_only_columns(Message.id).limit(1)) is not None
        )

    def _repoint_known(self, uids: list[int]) -> list[int]:
        """Re-point rows we already have to their new UIDs; return the UIDs still unknown.

        Only the Message-ID and Date headers are fetched for this, so a
        rebuilt folder is not downloaded twice.
        """
        unknown: list[int] = []
        for uid, head in self.reader.fetch_headers(uids).items():
            row = self._match(head)
            if row is None:
                unknown.append(uid)
                continue
            row.uidvalidity, row.uid, row.flags = self.sync.uidvalidity, uid, list(head.flags)
            self.session.flush()  # the next match must not pick this row again
            self.pending.repointed += 1
        return sorted(unknown)

    def _match(self, head: FetchedMail) -> Message | None:
        parsed = parse_message(head.raw.rstrip(b"\r\n") + b"\r\n\r\n")
        mid = parsed.message_id[:_MAX_ID] if parsed.message_id else None
        query = self._orphans().where(
            Message.message_id_header.is_(None)
            if mid is None
            else Message.message_id_header == mid,
            Message.sent_at.is_(None) if parsed.date is None else Message.sent_at == parsed.date,
            Message.size == head.size,
        )
        return self.session.scalar(query.order_by(Message.id).limit(1))

    def _retire_orphans(self) -> None:
        """After a full re-read, rows that matched nothing left the folder during the rebuild."""
        rows = list(self.session.scalars(self._orphans()))
        self._gone(rows)

    # -- changes to known mail -------------------------------------------------

    def _notice_changes(self, status: FolderStatus, known_uid: int) -> None:
        if known_uid < 1:
            return
        since = self.sync.highestmodseq
        if status.highestmodseq is not None and since is not None:
            changes = self.reader.changes_since(since, known_uid)
            self._apply_flags(changes.flags)
            if changes.vanished is not None:
                self._gone(self._alive_rows(sorted(changes.vanished)))
                return
        else:
            self._apply_flags(
                self.reader.fetch_flags(self._flag_window_start(known_uid), known_uid)
            )
        self._count_and_search(status, known_uid)

    def _flag_window_start(self, known_uid: int) -> int:
        newest = (
            self._alive()
            .with_only_columns(Message.uid)
            .where(Message.uid <= known_uid)
            .order_by(Message.uid.desc())
            .offset(FLAG_WINDOW - 1)
            .limit(1)
        )
        return self.session.scalar(newest) or 1

    def _count_and_search(self, status: FolderStatus, known_uid: int) -> None:
        """Without QRESYNC: only when the server counts other than we do, ask for every UID."""
        upto = status.uidnext - 1 if status.uidnext is not None else known_uid
        count_query = self._alive().with_only_columns(func.count()).where(Message.uid <= upto)
        if self.session.scalar(count_query) == status.exists:
            return
        present = self.reader.all_uids()
        stored = self.session.scalars(
            self._alive().with_only_columns(Message.uid).where(Message.uid <= upto)
        )
        missing = sorted(uid for uid in stored if uid is not None and uid not in present)
        self._gone(self._alive_rows(missing))

    def _apply_flags(self, flags: dict[int, tuple[str, ...]]) -> None:
        for row in self._alive_rows(sorted(flags)):
            new = list(flags[row.uid or 0])
            if sorted(row.flags or []) != new:
                row.flags = new
                self.pending.flag_changes += 1

    def _gone(self, rows: Iterable[Message]) -> None:
        watch = self.job.watch
        assert watch is not None
        for row in rows:
            row.gone_at = self.job.now
            self.pending.vanished += 1
            if self.folder.role == "inbox":
                self.pending.note(mailalarms.left_inbox(self.session, watch, row))

    def _alive(self) -> Select[Message]:
        return select(Message).where(
            Message.source_id == self.job.source.id,
            Message.folder == self.folder.name,
            Message.uidvalidity == self.sync.uidvalidity,
            Message.gone_at.is_(None),
        )

    def _alive_rows(self, uids: Sequence[int]) -> Iterator[Message]:
        for start in range(0, len(uids), _IN_CHUNK):
            chunk = uids[start : start + _IN_CHUNK]
            yield from list(self.session.scalars(self._alive().where(Message.uid.in_(chunk))))


@dataclass
class _Batch:
    """A fetched batch on its way to the database: its mails and their pending reads."""

    last_uid: int
    arrivals: list[Arrival]
    errors: list[str | None]  # why each mail could not be fetched, or None
    mails: list[MailBytes]
    pending: Future[WorkerAnswer] | None


@dataclass
class _Pending:
    """Work done since the last commit, counted in the report once it is committed."""

    new: int = 0
    broken: int = 0
    flag_changes: int = 0
    vanished: int = 0
    repointed: int = 0
    alarms: list[Alarm] = field(default_factory=list)

    def note(self, alarm: Alarm | None) -> None:
        if alarm is not None:
            self.alarms.append(alarm)

    def add_to(self, folder: FolderReport, poll: PollReport) -> None:
        folder.new += self.new
        folder.broken += self.broken
        folder.flag_changes += self.flag_changes
        folder.vanished += self.vanished
        folder.repointed += self.repointed
        for alarm in self.alarms:
            poll.note(alarm)


def batches(
    uids: Sequence[int], sizes: dict[int, int], max_fetch_bytes: int, batch_size: int
) -> Iterator[list[int]]:
    """Split UIDs (ascending) into FETCH batches by count and by bytes to download.

    A batch never holds more than ``batch_size`` messages, nor (unless it is
    a single message) more than ``BATCH_BYTES`` of capped message sizes.
    """
    batch: list[int] = []
    weight = 0
    for uid in uids:
        cost = min(sizes.get(uid, 0), max_fetch_bytes)
        if batch and (len(batch) >= batch_size or weight + cost > BATCH_BYTES):
            yield batch
            batch, weight = [], 0
        batch.append(uid)
        weight += cost
    if batch:
        yield batch
