"""Slowing down password guessing at the dashboard's login.

Each client (its IP address: behind a reverse proxy on the same machine,
every client is the proxy, so this becomes one limit for everyone) gets
``FREE`` wrong passwords; after that each further attempt must wait twice as
long as the one before, from one second up to ``CAP``, counted from the last
failure. A right password resets the count. While a client must wait its
attempts are refused without looking at the password, so they teach an
attacker nothing and do not lengthen the wait.

Guessing a random 12-character password at one try per 15 minutes takes
longer than the universe has; the owner who mistypes five times waits a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

FREE = 5  # wrong passwords before any wait
FIRST_WAIT = 1.0  # seconds, doubled with every further failure
CAP = 900.0  # the longest wait, in seconds
FORGET = 3600.0  # a client quiet this long after its wait ends starts afresh
LIMIT = 10_000  # clients remembered at once; the stalest are forgotten first


@dataclass
class _Failures:
    count: int
    last: float


class Throttle:
    """Wrong-password counts per client, in memory; safe across threads."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._failures: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def wait(self, client: str) -> float:
        """Return how many seconds ``client`` must wait before its next try (0: it may try now)."""
        with self._lock:
            failures = self._failures.get(client)
            if failures is None:
                return 0.0
            left = failures.last + delay(failures.count) - self.clock()
            return max(left, 0.0)

    def failed(self, client: str) -> None:
        """Count a wrong password from ``client``."""
        now = self.clock()
        with self._lock:
            self._forget_stale(now)
            failures = self._failures.pop(client, None) or _Failures(0, now)
            self._failures[client] = _Failures(failures.count + 1, now)  # now the newest

    def succeeded(self, client: str) -> None:
        """Forget ``client``'s failures: it knew the password."""
        with self._lock:
            self._failures.pop(client, None)

    def _forget_stale(self, now: float) -> None:
        for client, failures in list(self._failures.items()):
            if now - failures.last > delay(failures.count) + FORGET:
                del self._failures[client]
        while len(self._failures) >= LIMIT:
            del self._failures[next(iter(self._failures))]


def delay(failures: int) -> float:
    """Return the wait after ``failures`` wrong passwords in a row, in seconds."""
    if failures < FREE:
        return 0.0
    doublings = min(failures - FREE, 30)  # 2**30 s is far past CAP; no float overflow
    return min(FIRST_WAIT * float(2**doublings), CAP)
