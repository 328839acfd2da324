"""``GET/POST /login`` and ``POST /logout``: the dashboard's front door.

Logging in:

1. ``GET /login`` gives the browser a random login cookie (SameSite=Strict,
   only for /login) and a form whose CSRF token is bound to it, so even the
   login form cannot be posted from another site;
2. ``POST /login`` checks the origin and the token, then the throttle (a
   client that guessed wrong too often waits, and its password is not even
   looked at), then the login in constant time;
3. a right login starts a new session (a fresh id: a session id planted
   beforehand is worth nothing) and goes back to the page first asked for,
   if that is a path on this site (``pages.local_path``: no open redirect).

``POST /logout`` ends the session on the server, not just in the browser.
"""

from __future__ import annotations

import math
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from watchdog.web import csrf
from watchdog.web.auth import (
    SESSION_COOKIE,
    Owner,
    check_csrf,
    configured_login,
    credentials_match,
    forget_cookie,
    require_post,
    security_of,
    set_cookie,
)
from watchdog.web.pages import PageError, local_path, render, see_other

LOGIN_COOKIE = "watchdog_login"

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/") -> Response:
    """The login form; someone already logged in goes straight on."""
    configured_login(request)
    security = security_of(request)
    if security.sessions.user(request.cookies.get(SESSION_COOKIE)) is not None:
        return see_other(local_path(next))
    return _form(request, next=local_path(next))


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    token: Annotated[str, Form(alias=csrf.FIELD)] = "",
) -> Response:
    """Check the login; on success start a session and go back to the page asked for."""
    expected_user, expected = configured_login(request)
    check_csrf(request, token, bound_to=request.cookies.get(LOGIN_COOKIE))
    security = security_of(request)
    client = request.client.host if request.client else "unknown"
    wait = security.throttle.wait(client)
    if wait > 0:
        seconds = str(math.ceil(wait))
        raise PageError(429, "login_throttled", detail=seconds, headers={"Retry-After": seconds})
    if not credentials_match(username, password, expected_user, expected):
        security.throttle.failed(client)
        return _form(request, next=local_path(next), username=username, status_code=401)
    security.throttle.succeeded(client)
    security.sessions.drop(request.cookies.get(SESSION_COOKIE))
    response = see_other(local_path(next))
    set_cookie(request, response, SESSION_COOKIE, security.sessions.create(expected_user))
    forget_cookie(request, response, LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, owner: Annotated[Owner, Depends(require_post)]) -> Response:
    """End the session, here and in the browser, and show the login form."""
    security_of(request).sessions.drop(owner.token)
    response = see_other("/login")
    forget_cookie(request, response, SESSION_COOKIE)
    return response


def _form(
    request: Request, *, next: str, username: str = "", status_code: int = 200
) -> HTMLResponse:
    """Render the login form, bound to the browser's login cookie (made now if it has none)."""
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    token = csrf.csrf_token(security_of(request).key, nonce)
    response = render(request, "login.html", status_code, next=next, username=username,
                      login_csrf=token, failed=status_code == 401)  # fmt: skip
    set_cookie(request, response, LOGIN_COOKIE, nonce, path="/login", samesite="strict")
    return response
