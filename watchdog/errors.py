"""Every error the watchdog raises on purpose, under one base class.

The tree::

    WatchdogError                 anything we raise deliberately
    ├── ConfigError               the config file is wrong; carries every problem found
    ├── StorageError              the database cannot be opened or migrated
    ├── RuleError                 a rules file is wrong; carries file and rule name
    ├── SourceError               a mailbox or form service failed; ``permanent`` says whether retrying helps
    └── SendError                 the mail relay or a chat refused a notification; ``permanent`` likewise

Edge modules translate library exceptions into these (``raise ... from exc``), so
nothing above an edge has to know imaplib, smtplib or httpx.
"""

from __future__ import annotations


class WatchdogError(Exception):
    """Base class: its ``str()`` is a message fit to show a shop owner."""


class ConfigError(WatchdogError):
    """The configuration is unusable.

    ``problems`` holds one line per problem, each naming the file and the key
    path, so that every mistake is reported at once rather than one per run.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class StorageError(WatchdogError):
    """The database cannot be reached, created or migrated."""


class RuleError(WatchdogError):
    """A rules file is malformed: names the file and, when known, the rule."""

    def __init__(self, file: str, rule: str | None, problem: str) -> None:
        self.file, self.rule, self.problem = file, rule, problem
        where = f"{file}: rule {rule!r}" if rule else file
        super().__init__(f"{where}: {problem}")


class SourceError(WatchdogError):
    """A source (mailbox or form service) failed.

    ``permanent`` is True when retrying cannot help (wrong password, unknown
    folder) and False for network trouble that may pass.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        self.permanent = permanent
        super().__init__(message)


class SendError(WatchdogError):
    """A notification could not be delivered; ``permanent`` as for SourceError.

    ``retry_after`` (seconds) is how long the other side asked us to wait
    (a chat API's rate limit); None when it did not say.
    """

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        self.permanent = permanent
        self.retry_after = retry_after
        super().__init__(message)
