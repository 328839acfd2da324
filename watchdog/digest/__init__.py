"""The owner's daily digest: who was left unanswered, who was answered late, what broke.

- ``report``: the digest of one local day as plain data (pure aggregation over
  cases, alarms and corrections);
- ``load``: the thin query layer that reads those facts (``build_report``);
- ``render``: that data as an e-mail (subject, text, HTML) in Russian or English,
  from the template family in ``templates/``;
- ``schedule``: when a day's digest is due (``digest.at`` in ``sla.timezone``) and
  queueing it exactly once (UNIQUE(digests.day)) for the outbox sender;
- ``words``: plural forms, durations and dates in both languages.

Usage::

    day = digest_due(now, config)                  # None until digest.at
    digest = queue_digest(session, config, now)    # None if not due or already queued
"""

from __future__ import annotations

from watchdog.digest.load import build_report
from watchdog.digest.render import RenderedDigest, render_digest
from watchdog.digest.report import DigestReport
from watchdog.digest.schedule import (
    QUEUED,
    SKIPPED,
    digest_due,
    find_digest,
    latest_complete_day,
    message_id_for,
    prepare_digest,
    queue_digest,
)

__all__ = [
    "QUEUED",
    "SKIPPED",
    "DigestReport",
    "RenderedDigest",
    "build_report",
    "digest_due",
    "find_digest",
    "latest_complete_day",
    "message_id_for",
    "prepare_digest",
    "queue_digest",
    "render_digest",
]
