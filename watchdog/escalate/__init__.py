"""Escalation: which waiting cases reached a step of the policy, recorded exactly once.

- ``policy``: pure arithmetic; ``due_steps(case, steps, calendar, now, recorded)``.
- ``decide``: the tick; ``decide_escalations(session, config, now)`` records the
  decisions and queues their notifications in the outbox, in one transaction.

Usage (once per tick, with the clock read once)::

    with session_factory() as session:
        report = decide_escalations(session, config, now)
"""

from __future__ import annotations

from watchdog.escalate.decide import EscalationReport, decide_escalations
from watchdog.escalate.policy import CaseClock, DueStep, due_steps

__all__ = ["CaseClock", "DueStep", "EscalationReport", "decide_escalations", "due_steps"]
