"""The SLA clock: first-response deadlines counted in each source's business time.

- ``calendar``: :class:`BusinessCalendar` (pure, DST-safe) turns an ``[sla]``
  table into working intervals and counts business time along them;
  ``deadline(received_at, sla)`` and ``share_elapsed(...)`` are what the SLA
  tick and the escalation steps use.

Usage::

    sla = config.sla_for("orders")
    due = deadline(message.received_at, sla)          # aware UTC
    share = share_elapsed(message.received_at, due, now, sla)   # 1.0 at the deadline
"""

from __future__ import annotations

from watchdog.sla.calendar import (
    HORIZON_DAYS,
    BusinessCalendar,
    Interval,
    NoWorkingTimeError,
    calendar_for,
    deadline,
    first_instant,
    share_elapsed,
)

__all__ = [
    "HORIZON_DAYS",
    "BusinessCalendar",
    "Interval",
    "NoWorkingTimeError",
    "calendar_for",
    "deadline",
    "first_instant",
    "share_elapsed",
]

from watchdog.sla.status import SlaSummary, sla_summary

__all__ += ["SlaSummary", "sla_summary"]
