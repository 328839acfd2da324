"""Who may see the dashboard, which shows customers' mail: the owner, logged in.

The login is ``[web] username`` and ``password``. Both are compared in
constant time, and both comparisons always run, so timing tells nothing
about which half was wrong (see ``login`` for the form and the throttle).
A login is a session cookie (``session``): HttpOnly, SameSite=Lax (a link
from an escalation e-mail still opens the case), Secure when the dashboard
is served over TLS. Without a password (no ``[web]`` table, or a config
loaded without secrets) the dashboard answers 503 rather than serving open.

Dependencies for the routers:

- ``require_owner``: the request has a live login; a page asked without one
  is redirected to the login form, which comes back to it afterwards;
- ``require_post``: the same, plus the CSRF checks of ``csrf`` (403 if any fails).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated, Literal, cast
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import Response

from watchdog.web import csrf
from watchdog.web.context import web_context
from watchdog.web.pages import PageError
from watchdog.web.session import SessionStore
from watchdog.web.throttle import Throttle

SESSION_COOKIE = "watchdog_session"


@dataclass(frozen=True)
class Security:
    """The dashboard's secrets and memory, one per app: the CSRF key, logins, the throttle."""

    key: bytes
    sessions: SessionStore
    throttle: Throttle


@dataclass(frozen=True)
class Owner:
    """The logged-in person: their name, their session id, and the token their forms carry."""

    user: str
    token: str
    csrf: str


def security_of(request: Request) -> Security:
    """Return the app's security state (made by ``dashboard.install_dashboard``)."""
    return cast(Security, request.app.state.security)


def configured_login(request: Request) -> tuple[str, str]:
    """Return (username, password) from ``[web]``; raise PageError 503 when there is no password."""
    web = web_context(request).config.web
    password = web.password.reveal() if web is not None else ""
    if web is None or not password:
        raise PageError(503, "dashboard_off")
    return web.username, password


def credentials_match(user: str, password: str, expected_user: str, expected: str) -> bool:
    """Return True when both halves of the login are right, in time independent of either.

    Hashing first gives ``compare_digest`` equal lengths, so not even the
    length of the password shows in the timing.
    """
    user_ok = hmac.compare_digest(_digest(user), _digest(expected_user))
    password_ok = hmac.compare_digest(_digest(password), _digest(expected))
    return user_ok & password_ok  # not "and": both comparisons always run


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def require_owner(request: Request) -> Owner:
    """FastAPI dependency: return the logged-in owner, or stop the request.

    Raises PageError 503 when no password is configured; without a live
    login, a 303 to the login form for a page (GET), 401 for anything else.
    """
    configured_login(request)
    security = security_of(request)
    token = request.cookies.get(SESSION_COOKIE)
    user = security.sessions.user(token)
    if user is None or token is None:
        if request.method in ("GET", "HEAD"):
            asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise PageError(303, location=f"/login?next={quote(asked, safe='')}")
        raise PageError(401, "login_again")
    owner = Owner(user=user, token=token, csrf=csrf.csrf_token(security.key, token))
    request.state.owner = owner  # for the templates: the logout form, the CSRF field
    return owner


async def require_post(request: Request, owner: Annotated[Owner, Depends(require_owner)]) -> Owner:
    """FastAPI dependency for every POST of the dashboard: a login, our origin, a valid token."""
    check_csrf(request, await csrf.form_token(request), bound_to=owner.token)
    return owner


def check_csrf(request: Request, given: str | None, *, bound_to: str | None) -> None:
    """Raise PageError 403 unless the request is from our site and carries the right token."""
    web = web_context(request).config.web
    public_url = web.public_url if web is not None else None
    if csrf.foreign_origin(request, public_url):
        raise PageError(403, "csrf_origin")
    if not csrf.token_matches(security_of(request).key, bound_to, given):
        raise PageError(403, "csrf_token")


def secure_cookies(request: Request) -> bool:
    """Return True when cookies must be Secure: served over TLS, or ``public_url`` is https."""
    web = web_context(request).config.web
    public = web.public_url if web is not None else ""
    return request.url.scheme == "https" or public.lower().startswith("https://")


def set_cookie(
    request: Request, response: Response, name: str, value: str, *,
    max_age: int | None = None, path: str = "/", samesite: Literal["lax", "strict"] = "lax",
) -> None:  # fmt: skip
    """Set a dashboard cookie: always HttpOnly, Secure over TLS."""
    response.set_cookie(
        name, value, max_age=max_age, path=path, httponly=True,
        secure=secure_cookies(request), samesite=samesite,
    )  # fmt: skip


def forget_cookie(request: Request, response: Response, name: str, *, path: str = "/") -> None:
    """Tell the browser to drop a dashboard cookie (with the attributes it was set with)."""
    response.delete_cookie(
        name, path=path, httponly=True, secure=secure_cookies(request), samesite="lax"
    )
