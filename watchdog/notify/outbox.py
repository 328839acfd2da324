"""The sender: deliver outbox rows one at a time, each exactly once as far as we can know.

``handle_one_outbox(session_factory, channels, now)`` does one unit of work and
returns True if it did any ("call me again"), so the scheduler's job and
``watchdog run --once`` share it. It never sleeps: a row waits in the
database until its ``next_attempt_at``.

One unit of work, in order:

1. **Settle an abandoned row.** A row at ``sending`` whose attempt began more
   than ``lease`` ago was claimed by a process that died (or hung) between
   the claim and the result; see "The in-doubt window" below.
2. **Claim** the pending row due first: a conditional UPDATE
   ``pending → sending`` that goes on only if exactly one row changed (else
   another sender took it), **committed before anything is sent**, so a
   second sender can never take the same row.
3. **Deliver** it through its channel, outside any transaction.
4. **Record** the result in a new transaction:

   - accepted: ``sent``, ``sent_at``, the relay's receipt in ``relay_response``;
   - transient error: back to ``pending`` with ``attempts + 1`` and
     ``next_attempt_at`` after an exponential backoff (capped; at least the
     ``retry_after`` a chat API asked for);
   - permanent error, or ``max_attempts`` used up: ``failed`` and an alarm
     (kind ``notification_failed``, key the row's id), so a notification
     that will never arrive is itself reported, once.

The in-doubt window
-------------------
Between the relay's "250 queued" and our commit of ``sent`` there is a moment
in which a crash (power cut, SIGKILL, OOM) leaves the row at ``sending``
although the message went out. No protocol removes that window; what we do
is make it recognisable and bounded:

- a row at ``sending`` is never picked up as pending; it is settled only after
  its ``lease`` has expired (longer than any send can take), so a restart does
  not resend at once and a slow sender is not raced;
- it is then **resent once**, with the same Message-ID and Date (both derived
  from the row, never from the attempt), and ``last_error`` starts with
  ``in doubt``: the dashboard can show it, :func:`count_in_doubt` counts it,
  and mail clients that de-duplicate by Message-ID show a double once. We
  choose a possible duplicate over a possible loss: an escalation exists
  because a customer is waiting;
- a row found abandoned a *second* time is marked ``failed`` with an alarm
  instead: if the row itself is what kills the process, resending it forever
  would crash-loop the daemon.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from watchdog.alarms import raise_alarm
from watchdog.errors import SendError
from watchdog.notify.channels import Channel, OutboxItem
from watchdog.storage.models import Outbox

log = logging.getLogger(__name__)

NOTIFICATION_FAILED = "notification_failed"  # alarm kind: an outbox row gave up; key = row id
IN_DOUBT = "in doubt"  # how ``last_error`` of a resent abandoned row starts

SessionFactory = Callable[[], Session]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How the outbox retries.

    ``first_delay`` after the first failure, multiplied by ``factor`` after each
    further one, never more than ``max_delay``; ``max_attempts`` attempts in all.
    ``lease``: how long a row may stay at ``sending`` before it counts as
    abandoned; it must exceed the longest send (a few relay timeouts).
    The defaults try for about five hours before giving up.
    """

    first_delay: timedelta = timedelta(minutes=1)
    factor: float = 2.0
    max_delay: timedelta = timedelta(hours=1)
    max_attempts: int = 10
    lease: timedelta = timedelta(minutes=15)


def retry_delay(attempts: int, policy: RetryPolicy, retry_after: float | None = None) -> timedelta:
    """Return how long to wait after the ``attempts``-th failed attempt (1 for the first).

    Parameters: ``attempts`` made so far; ``retry_after`` seconds the other
    side asked for, which wins when it is longer (but is capped too).
    Returns ``first_delay * factor ** (attempts - 1)``, at most ``max_delay``.
    """
    delay = min(policy.first_delay * policy.factor ** max(attempts - 1, 0), policy.max_delay)
    if retry_after is not None:
        delay = max(delay, min(timedelta(seconds=retry_after), policy.max_delay))
    return delay


def handle_one_outbox(
    session_factory: SessionFactory,
    channels: Mapping[str, Channel],
    now: datetime,
    *,
    policy: RetryPolicy | None = None,
) -> bool:
    """Settle one abandoned row, or send one due row; return True if there was work.

    The steps are numbered in the module docstring. False means nothing is
    due at ``now``: the caller can stop until the next tick.
    """
    policy = policy or RetryPolicy()
    with session_factory() as session:
        if _settle_abandoned(session, now, policy):
            return True
        claimed = _claim(session, now)
    if claimed is None:
        return False
    if claimed is _LOST:
        return True  # another sender took it; there may be more
    assert isinstance(claimed, OutboxItem)
    outcome = _deliver(claimed, channels)
    with session_factory() as session:
        _record(session, claimed, outcome, now, policy)
    return True


def count_in_doubt(session: Session) -> int:
    """Return how many rows were resent after being abandoned at ``sending`` (for metrics)."""
    query = select(Outbox.id).where(Outbox.last_error.like(f"{IN_DOUBT}%"))
    return len(session.scalars(query).all())


# --- 1. abandoned rows ------------------------------------------------------------


def _settle_abandoned(session: Session, now: datetime, policy: RetryPolicy) -> bool:
    """Resend-once or fail one row left at ``sending`` past its lease; True if one was settled."""
    row = session.scalars(
        select(Outbox)
        .where(Outbox.status == "sending", Outbox.last_attempt_at <= now - policy.lease)
        .order_by(Outbox.last_attempt_at, Outbox.id)
        .limit(1)
    ).first()
    if row is None:
        return False
    seen = row.last_attempt_at
    was_in_doubt = (row.last_error or "").startswith(IN_DOUBT)
    note = f"{IN_DOUBT}: abandoned at sending since {seen.isoformat() if seen else '?'}"
    values: dict[str, object] = {"attempts": row.attempts + 1}
    if was_in_doubt:
        values |= {"status": "failed", "last_error": f"{note}, for the second time; not resent"}
    else:
        values |= {"status": "pending", "next_attempt_at": now, "last_error": note}
    changed = session.execute(
        update(Outbox)
        .where(Outbox.id == row.id, Outbox.status == "sending", Outbox.last_attempt_at == seen)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(changed) == 1:
        _after_abandoned(session, row, was_in_doubt, note, now)
    session.commit()
    return True


def _after_abandoned(session: Session, row: Outbox, failed: bool, note: str, now: datetime) -> None:
    """Log the in-doubt decision loudly, and raise the alarm when the row is given up."""
    if failed:
        log.error(
            "outbox %s (%s to %s) abandoned twice; marked failed", row.id, row.kind, row.recipient
        )
        _alarm(session, row.id, f"{row.kind} to {row.recipient}: {note}, for the second time", now)
    else:
        log.warning(
            "outbox %s (%s to %s) %s; resending once with Message-ID %s",
            row.id,
            row.kind,
            row.recipient,
            note,
            row.message_id_header,
        )


# --- 2. claim -----------------------------------------------------------------------


class _Lost:
    """Marker: the row was taken by another sender between our SELECT and UPDATE."""


_LOST = _Lost()


def _claim(session: Session, now: datetime) -> OutboxItem | _Lost | None:
    """Claim the due row first in line; return it, _LOST if another sender won, None if none."""
    row_id = session.scalar(
        select(Outbox.id)
        .where(Outbox.status == "pending", Outbox.next_attempt_at <= now)
        .order_by(Outbox.next_attempt_at, Outbox.id)
        .limit(1)
    )
    if row_id is None:
        return None
    changed = session.execute(
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.status == "pending")
        .values(status="sending", last_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(changed) != 1:
        session.rollback()
        return _LOST
    row = session.scalars(
        select(Outbox).where(Outbox.id == row_id).execution_options(populate_existing=True)
    ).one()
    item = OutboxItem.of(row)
    session.commit()  # the claim is durable before anything leaves the building
    return item


# --- 3. deliver -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What one delivery attempt came to: a receipt, or an error."""

    receipt: str | None = None
    error: SendError | None = None


def _deliver(item: OutboxItem, channels: Mapping[str, Channel]) -> _Outcome:
    """Deliver through the row's channel; any exception becomes an outcome, never escapes.

    An unexpected exception (a bug, not a refusal) counts as transient, so a
    row that trips it is retried and finally failed, never crash-looping.
    """
    channel = channels.get(item.channel)
    if channel is None:
        return _Outcome(error=SendError(f"no channel {item.channel!r}", permanent=True))
    try:
        return _Outcome(receipt=channel.deliver(item))
    except SendError as exc:
        return _Outcome(error=exc)
    except Exception as exc:  # one bad row must not stop the sender
        log.exception("outbox %s: unexpected error from channel %s", item.id, item.channel)
        return _Outcome(error=SendError(f"internal error: {type(exc).__name__}: {exc}"))


# --- 4. record ----------------------------------------------------------------------


def _record(
    session: Session, item: OutboxItem, outcome: _Outcome, now: datetime, policy: RetryPolicy
) -> None:
    """Write the attempt's result, if the row is still ours; raise the alarm on giving up."""
    row = session.get(Outbox, item.id)
    if row is None or row.status != "sending" or row.last_attempt_at != now:
        log.warning("outbox %s was settled by someone else while we sent it", item.id)
        return
    row.attempts += 1
    error = outcome.error
    if error is None:
        row.status, row.sent_at, row.relay_response = "sent", now, outcome.receipt
        row.last_error = row.last_error if _in_doubt(row) else None
    elif error.permanent or row.attempts >= policy.max_attempts:
        row.status, row.last_error = "failed", _note(row, str(error))
        why = "refused" if error.permanent else f"gave up after {row.attempts} attempts"
        _alarm(session, row.id, f"{row.kind} to {row.recipient} {why}: {error}", now)
    else:
        row.status, row.last_error = "pending", _note(row, str(error))
        row.next_attempt_at = now + retry_delay(row.attempts, policy, error.retry_after)
    session.commit()


def _in_doubt(row: Outbox) -> bool:
    """Return True if the row was resent after being abandoned."""
    return (row.last_error or "").startswith(IN_DOUBT)


def _note(row: Outbox, error: str) -> str:
    """Return the new ``last_error``, keeping an in-doubt row's first line so it stays counted."""
    if _in_doubt(row):
        return f"{(row.last_error or '').splitlines()[0]}\n{error}"
    return error


def _alarm(session: Session, outbox_id: int, detail: str, now: datetime) -> None:
    """Raise the ``notification_failed`` alarm for one row (once: the key is the row's id)."""
    raise_alarm(session, kind=NOTIFICATION_FAILED, key=str(outbox_id), now=now, detail=detail)


def _rowcount(result: object) -> int:
    """Return how many rows an UPDATE changed."""
    return int(getattr(result, "rowcount", 0) or 0)
