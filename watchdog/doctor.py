"""``watchdog doctor``'s checks: each looks at one thing and says what it found in plain words.

A check never raises: whatever goes wrong becomes a failed ``Finding``, so
one broken part (an unreachable database) never hides the report on the
others. Later stages add their own checks (mailboxes, the mail relay).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from watchdog.config import Config
from watchdog.config.schema import MailboxConfig
from watchdog.errors import SendError, SourceError, WatchdogError
from watchdog.notify.mailer import Mailer
from watchdog.sources.folders import choose_folders, overrides_of
from watchdog.sources.imap import Connect, default_connect
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
        yield Finding(
            subject, True, f"{status.describe()} (applied at start, or by `watchdog db upgrade`)"
        )


def check_mailboxes(config: Config, connect: Connect = default_connect) -> Iterator[Finding]:
    """Log in to every mailbox and show which folders the watchdog will read, and how found."""
    for mailbox in config.mailboxes:
        yield _check_mailbox(mailbox, connect)


def _check_mailbox(mailbox: MailboxConfig, connect: Connect) -> Finding:
    subject = f"mailbox {mailbox.name} ({mailbox.username} at {mailbox.host}:{mailbox.port})"
    try:
        reader = connect(mailbox)
        try:
            folders = choose_folders(reader.list_folders(), overrides_of(mailbox))
            cheap = "QRESYNC" if reader.qresync else "CONDSTORE" if reader.condstore else None
        finally:
            reader.close()
    except SourceError as exc:
        hint = "fix the config or the account" if exc.permanent else "may be temporary"
        return Finding(subject, False, f"{exc} ({hint})")
    changes = f"changes via {cheap}" if cheap else "no CONDSTORE: changes found by re-reading flags"
    missing = (
        "" if folders.sent else "; no Sent folder found, replies will not be seen (set sent = ...)"
    )
    return Finding(subject, folders.sent is not None, f"{folders.describe()}; {changes}{missing}")


def check_relay(config: Config) -> Iterator[Finding]:
    """Connect to the mail relay and log in as a notification would; send nothing."""
    subject = f"mail relay {config.smtp.host}:{config.smtp.port}"
    try:
        yield Finding(subject, True, Mailer(config.smtp).check())
    except SendError as exc:
        hint = "fix [smtp] or the account" if exc.permanent else "may be temporary"
        yield Finding(subject, False, f"{exc} ({hint}): escalations and the digest cannot be sent")


CHECKS: tuple[Check, ...] = (check_config, check_database, check_mailboxes, check_relay)


def diagnose(config: Config, checks: tuple[Check, ...] = CHECKS) -> list[Finding]:
    """Run every check and return all findings, in order."""
    return [finding for check in checks for finding in check(config)]
