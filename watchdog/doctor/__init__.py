"""``watchdog doctor``: check the config and everything it points at, and say so in plain words.

One module per family of checks, each a function ``check_*(checkup)`` that
yields :class:`Finding` values and never raises:

- :mod:`.basics`: the config and the database (is the schema current?);
- :mod:`.mailboxes`: every mailbox (login, capabilities, the folders chosen);
- :mod:`.relay`: the mail relay (login; one real message with ``--send-test``);
  both with :mod:`.trouble` telling a wrong password from a closed port or a
  TLS mix-up;
- :mod:`.chat`: each Telegram chat (getMe, getChat);
- :mod:`.forms`: what to paste into each form service, and its API if pulled;
- :mod:`.calendar`: the business calendar at ``now``.

:mod:`.report` holds the shapes and prints the report; :mod:`.i18n` and
:mod:`.origins` give the words (in ``owner.language``) and name where each
secret comes from, never its value.
"""

from __future__ import annotations

from watchdog.doctor.basics import check_config, check_database
from watchdog.doctor.calendar import check_calendar
from watchdog.doctor.chat import check_telegram
from watchdog.doctor.forms import check_forms
from watchdog.doctor.mailboxes import check_mailboxes
from watchdog.doctor.origins import SecretOrigins
from watchdog.doctor.relay import check_relay
from watchdog.doctor.report import Check, Checkup, Finding, Status, render
from watchdog.doctor.report import diagnose as _diagnose

#: Every check, in the order the report shows them.
CHECKS: tuple[Check, ...] = (
    check_config,
    check_database,
    check_mailboxes,
    check_relay,
    check_telegram,
    check_forms,
    check_calendar,
)


def diagnose(checkup: Checkup, checks: tuple[Check, ...] = CHECKS) -> list[Finding]:
    """Run ``checks`` (all of them by default) and return every finding, in order."""
    return _diagnose(checkup, checks)


__all__ = [
    "CHECKS",
    "Check",
    "Checkup",
    "Finding",
    "SecretOrigins",
    "Status",
    "check_calendar",
    "check_config",
    "check_database",
    "check_forms",
    "check_mailboxes",
    "check_relay",
    "check_telegram",
    "diagnose",
    "render",
]
