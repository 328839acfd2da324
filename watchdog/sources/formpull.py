"""One scheduled pull of a form service's API: new submissions in, the source's health noted.

The steps of :func:`pull_form`:

1. find (or create) the form's source row and derive the cursor, then end
   that transaction: no database transaction stays open while we wait on
   the network;
2. ask the service for the submissions after the cursor;
3. on success, store each with ``store_form`` (a repeat from the overlap, or
   a submission the webhook already brought, is dropped by its id), note
   ``last_ok_at``, end the outage and clear its alarm; commit once, so a
   crash stores either the whole batch or none of it;
4. on a SourceError, note ``last_error``, start the outage if none is going
   on, and raise SOURCE_UNREACHABLE once it has lasted ``unreachable_after``
   (at once when the error is permanent: a refused key does not heal by
   waiting). The alarm's key is the source and the outage's start, so later
   failed pulls of the same outage raise nothing new; the next outage has a
   new start and a new alarm.

Where the cursor lives: nowhere. There is no column for it, and none is
needed: every submission stored for this source is a ``messages`` row with
``received_at``, so the cursor is the newest ``received_at`` of the source
minus ``OVERLAP``. A batch is committed whole (step 3), so the newest stored
time means "everything before it was fetched", and the overlap is fetched
again and dropped by ``store_form``'s dedupe on submission id. The overlap
covers a service that indexes a submission a little after its timestamp,
Jotform's second-granular "greater than" filter, and clock differences. With
no messages yet, the first pull fetches the form's whole history (requests
nobody answered are exactly what the watchdog is for).

A caveat: messages the form's webhook stored for the same source count too.
Should the webhook deliver a submission while the API pull has been failing
for longer than the overlap *and* the webhook has lost an earlier one, that
earlier one is not fetched. Both channels failing at once is the only way
to lose a submission here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchdog.alarms import SOURCE_UNREACHABLE, clear_alarms, raise_alarm
from watchdog.config.schema import FormConfig
from watchdog.errors import SourceError
from watchdog.ingest.store import ensure_source, store_form
from watchdog.ingest.submission import FormSubmission
from watchdog.sources.formapi import FormApi
from watchdog.storage.models import Message, Source

log = logging.getLogger(__name__)

#: How far before the newest stored submission each pull starts again.
OVERLAP = timedelta(minutes=10)

ClientFactory = Callable[[FormConfig], FormApi]
SessionFactory = Callable[[], Session]


@dataclass(frozen=True, slots=True)
class PullReport:
    """What one pull did: how many submissions came and were new, or why it failed.

    ``alarm_raised`` is True only for the pull that raised the outage's alarm;
    ``alarms_cleared`` counts the alarms a successful pull ended.
    """

    form: str
    fetched: int = 0
    stored: int = 0
    error: str | None = None
    permanent: bool = False
    alarm_raised: bool = False
    alarms_cleared: int = 0

    @property
    def ok(self) -> bool:
        """True when the service answered."""
        return self.error is None


def pull_form(
    session_factory: SessionFactory,
    form: FormConfig,
    *,
    now: datetime,
    client_factory: ClientFactory,
    unreachable_after: timedelta,
) -> PullReport:
    """Fetch the form's new submissions from its service and store them (see the module steps).

    ``client_factory`` builds the API client from the form's ``[form.api]``
    (``watchdog.sources.formapi.open_form_api`` in the daemon). A SourceError
    is reported in the returned PullReport, never raised: one failing source
    must not stop the others. Raises ValueError for a form without
    ``[form.api]``; database errors propagate.
    """
    if form.api is None:
        raise ValueError(f"form {form.name!r} has no [form.api] to pull from")
    source_id, cursor = _start(session_factory, form.name, now)
    try:
        submissions, _ = client_factory(form).fetch_since(cursor, now=now)
    except SourceError as exc:
        return _failed(session_factory, form.name, source_id, exc, now, unreachable_after)
    return _succeeded(session_factory, form.name, source_id, submissions, now)


def cursor_for(session: Session, source_id: int) -> datetime | None:
    """Return where the next pull starts: the newest stored ``received_at`` minus OVERLAP.

    None when the source has no messages yet: fetch everything.
    """
    newest = session.scalar(
        select(func.max(Message.received_at)).where(Message.source_id == source_id)
    )
    return None if newest is None else newest - OVERLAP


def _start(
    session_factory: SessionFactory, name: str, now: datetime
) -> tuple[int, datetime | None]:
    """Step 1: return the source's id and the cursor, committing a newly created source."""
    with session_factory() as session:
        source = ensure_source(session, "form", name, now)
        cursor = cursor_for(session, source.id)
        session.commit()
        return source.id, cursor


def _succeeded(
    session_factory: SessionFactory,
    name: str,
    source_id: int,
    submissions: list[FormSubmission],
    now: datetime,
) -> PullReport:
    """Step 3: store the batch, note the success and end any outage, in one commit."""
    with session_factory() as session:
        stored = sum(store_form(session, source_id, s, now) is not None for s in submissions)
        source = session.get_one(Source, source_id)
        source.last_ok_at, source.unreachable_since = now, None
        cleared = clear_alarms(session, kind=SOURCE_UNREACHABLE, source_id=source_id, now=now)
        session.commit()
    if stored or cleared:
        log.info("form %s: %d new submission(s) of %d fetched", name, stored, len(submissions))
    return PullReport(name, fetched=len(submissions), stored=stored, alarms_cleared=cleared)


def _failed(
    session_factory: SessionFactory,
    name: str,
    source_id: int,
    exc: SourceError,
    now: datetime,
    unreachable_after: timedelta,
) -> PullReport:
    """Step 4: note the error, start or continue the outage, raise its alarm when due."""
    message = str(exc)
    log.warning("form %s: %s", name, message)
    with session_factory() as session:
        source = session.get_one(Source, source_id)
        source.last_error, source.last_error_at = message, now
        since = source.unreachable_since or now
        source.unreachable_since = since
        alarm = None
        if exc.permanent or now - since >= unreachable_after:
            key = f"{name}@{since.astimezone(UTC).isoformat(timespec='seconds')}"
            alarm = raise_alarm(
                session, kind=SOURCE_UNREACHABLE, key=key, now=now, detail=message,
                source_id=source_id,
            )  # fmt: skip
        session.commit()
    return PullReport(name, error=message, permanent=exc.permanent, alarm_raised=alarm is not None)
