"""A lease in the database: one daemon works, a second one waits.

Exactly-once does not depend on it (the unique constraints and the outbox's
conditional claim hold even with two daemons working), but two daemons
polling the same mailboxes would double the load and the log lines. The
lease is a row (name, holder, expires_at): taking it is one conditional
UPDATE that succeeds only for its holder or once it has expired, so two
processes can never both believe they hold it. The holder renews it well
before it expires; a daemon killed with SIGKILL loses it after ``ttl``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from watchdog.storage.models import Lease

DAEMON = "daemon"


def acquire(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease ``name`` for ``holder`` until ``now + ttl``; return whether we hold it.

    Commits: a lease is only worth something once other processes can see it.
    """
    taken = session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
    )
    if int(getattr(taken, "rowcount", 0) or 0) == 1:
        session.commit()
        return True
    session.rollback()
    try:
        with session.begin_nested():
            session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
        session.commit()
    except IntegrityError:  # the row exists and someone else holds it
        session.rollback()
        return False
    return True


def release(session: Session, name: str, holder: str) -> None:
    """Give the lease up at a clean stop, so a waiting daemon takes over at once."""
    session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
    session.commit()
