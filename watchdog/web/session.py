"""Dashboard logins: random session ids in a cookie, what they stand for kept in memory.

Why not a signed cookie (Starlette's SessionMiddleware with itsdangerous, or
an HMAC token of our own): a signed cookie stays valid until it expires, so
"log out" could only ask the browser to forget it, and a copied cookie would
keep working. Here the cookie is only a 256-bit random id; the server keeps
the login it stands for, so logging out really ends it, and there is no
signing key to keep, rotate or leak. The price is that a restart of the
process logs the owner out, which is acceptable for one person's dashboard.

Sessions end after ``IDLE`` without a request, and after ``LIFETIME`` in any
case. At most ``LIMIT`` are kept: the oldest goes first, so a flood of logins
cannot fill the memory. Ids are looked up by their SHA-256, never compared
as they are. Times come from a monotonic clock (the app's clock is the
business clock, which tests and the demo stop).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

IDLE = 12 * 3600.0  # seconds without a request before a login ends
LIFETIME = 7 * 24 * 3600.0  # seconds after which a login ends whatever happens
LIMIT = 100  # logins kept at once


@dataclass
class Login:
    """Who logged in, and when (monotonic seconds)."""

    user: str
    started: float
    seen: float


class SessionStore:
    """The logins of one process, by the hash of their session id; safe across threads."""

    def __init__(
        self,
        *,
        idle: float = IDLE,
        lifetime: float = LIFETIME,
        limit: int = LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle, self.lifetime, self.limit, self.clock = idle, lifetime, limit, clock
        self._logins: dict[str, Login] = {}  # insertion order = age
        self._lock = threading.Lock()

    def create(self, user: str) -> str:
        """Start a login for ``user``; return its new session id (the cookie's value)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            while len(self._logins) >= self.limit:
                del self._logins[next(iter(self._logins))]
            self._logins[_key(token)] = Login(user=user, started=now, seen=now)
        return token

    def user(self, token: str | None) -> str | None:
        """Return who ``token`` is logged in as, or None; a live login's idle time restarts."""
        if not token:
            return None
        now, key = self.clock(), _key(token)
        with self._lock:
            login = self._logins.get(key)
            if login is None:
                return None
            if now - login.seen > self.idle or now - login.started > self.lifetime:
                del self._logins[key]
                return None
            login.seen = now
            return login.user

    def drop(self, token: str | None) -> None:
        """End the login of ``token``, if there is one."""
        if token:
            with self._lock:
                self._logins.pop(_key(token), None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._logins)


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
