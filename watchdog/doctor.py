"""``watchdog doctor``'s checks: each looks at one thing and says what it found in plain words.

A check never raises: whatever goes wrong becomes a failed ``Finding``, so
one broken part (an unreachable database) never hides the report on the
others. Later stages add their own checks (mailboxes, the mail relay).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from watchdog.config import Config
from watchdog.errors import WatchdogError
from watchdog.storage.engine import make_engine, safe_url
from watchdog.storage.migrate import migration_status


@dataclass(frozen=True)
class Finding:
    """One line of the report: what was checked, whether it is fine, and what was seen."""

    subject: str
    ok: bool
    detail: str


Check = Callable[[Config], Iterator[Finding]]


def check_config(config: Config) -> Iterator[Finding]:
    """Summarise what the config watches; its problems never get this far."""
    doors = f"{len(config.mailboxes)} mailbox(es), {len(config.forms)} form(s)"
    yield Finding("config", True, f"valid: {doors}; owner {config.owner.email}")
    for warning in config.warnings:
        yield Finding("config", True, f"note: {warning}")


def check_database(config: Config) -> Iterator[Finding]:
    """Connect to the database and say whether its schema is current."""
    url = config.database.url
    subject = f"database {safe_url(url)}"
    try:
        make_engine(url).dispose()
        status = migration_status(url)
    except WatchdogError as exc:
        yield Finding(subject, False, str(exc))
        return
    if status.unknown:
        yield Finding(subject, False, status.describe())
    elif status.up_to_date:
        yield Finding(subject, True, status.describe())
    else:
        yield Finding(subject, True, f"{status.describe()} (applied at start, or by `watchdog db upgrade`)")


CHECKS: tuple[Check, ...] = (check_config, check_database)


def diagnose(config: Config, checks: tuple[Check, ...] = CHECKS) -> list[Finding]:
    """Run every check and return all findings, in order."""
    return [finding for check in checks for finding in check(config)]
