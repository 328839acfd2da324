"""One writer for webhook submissions, committing them in groups.

Every request hands its submission to ``FormWriter.store`` and waits for the
answer. One batch is written at a time, in a worker thread, in one
transaction; submissions that arrive meanwhile form the next batch. Under a
burst this pays one commit (an fsync) and one session per batch instead of
per request, and the requests take turns first come, first served, where
SQLite's busy handler would make competing writers sleep and retry. A quiet
day writes batches of one. Within the process, two deliveries of one
submission are always in order, so the retry check in ``store_form`` cannot
be raced; a race with another process is caught by the unique constraint on
(source, submission id), and that batch is then redone one by one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from watchdog.ingest.store import ensure_source, store_form
from watchdog.ingest.submission import FormSubmission

MAX_BATCH = 100  # submissions per transaction: bounds how long one commit holds the lock


@dataclass
class _Job:
    form: str
    submission: FormSubmission
    done: asyncio.Future[int | None] = field(repr=False)

    @property
    def now(self) -> datetime:
        """The clock read once when the request came in (it is also the arrival time)."""
        return self.submission.received_at


class FormWriter:
    """Stores form submissions for the webhook handlers; see the module docstring."""

    def __init__(self, sessions: Callable[[], Session]) -> None:
        self._sessions = sessions
        self._pending: list[_Job] = []
        self._drainer: asyncio.Task[None] | None = None
        self._source_ids: dict[str, int] = {}  # sources rows are never deleted or renamed

    async def store(self, form: str, submission: FormSubmission) -> int | None:
        """Store one submission; return its row id, or None when it is a retry.

        Raises what the database raised (SQLAlchemyError) when it could not be stored.
        """
        job = _Job(form, submission, asyncio.get_running_loop().create_future())
        self._pending.append(job)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await job.done

    async def _drain(self) -> None:
        """Write batches until nothing is pending; every job gets a result or an exception."""
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                ids = await run_in_threadpool(self._write, batch)
            except Exception as exc:  # noqa: BLE001 - handed to each waiting request
                for job in batch:
                    if not job.done.done():  # its request was cancelled meanwhile
                        job.done.set_exception(exc)
            else:
                for job, row_id in zip(batch, ids, strict=True):
                    if not job.done.done():
                        job.done.set_result(row_id)

    def _write(self, batch: list[_Job]) -> list[int | None]:
        """Write the batch in one transaction; after a unique-constraint race, one by one."""
        try:
            return self._write_together(batch)
        except IntegrityError:
            return [self._write_alone(job) for job in batch]

    def _write_alone(self, job: _Job) -> int | None:
        try:
            return self._write_together([job])[0]
        except IntegrityError:  # lost the race again: the winner's row is there now
            return self._write_together([job])[0]

    def _write_together(self, batch: list[_Job]) -> list[int | None]:
        with self._sessions() as session:
            rows = [
                store_form(session, self._source_id(session, job), job.submission, job.now)
                for job in batch
            ]
            session.commit()
        for job, row in zip(batch, rows, strict=True):
            if row is not None:
                self._source_ids[job.form] = row.source_id  # cached once surely committed
        return [None if row is None else row.id for row in rows]

    def _source_id(self, session: Session, job: _Job) -> int:
        cached = self._source_ids.get(job.form)
        return (
            cached if cached is not None else ensure_source(session, "form", job.form, job.now).id
        )
