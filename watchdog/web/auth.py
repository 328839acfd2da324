"""HTTP Basic for the dashboard, which shows customers' mail.

The login is ``[web] username`` and ``password``; both are compared in
constant time, and both comparisons always run, so timing tells nothing about
which half was wrong. Without a password (no ``[web]`` table, or a config
loaded without secrets) the dashboard answers 503 rather than serving open.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from fastapi import HTTPException, Request

from watchdog.web.context import web_context

CHALLENGE = 'Basic realm="inbox-watchdog", charset="UTF-8"'


def require_owner(request: Request) -> None:
    """FastAPI dependency: let the request through only with the dashboard's login.

    Raises HTTPException 503 when no password is configured, 401 (with a
    WWW-Authenticate challenge, so a browser asks) when the login is missing or wrong.
    """
    web = web_context(request).config.web
    password = web.password.reveal() if web is not None else ""
    if web is None or not password:
        raise HTTPException(
            503, "The dashboard is off: set a password in [web] (password_env or password_file)."
        )
    if not credentials_match(request.headers.get("authorization"), web.username, password):
        raise HTTPException(401, "Log in to see the dashboard.", {"WWW-Authenticate": CHALLENGE})


def credentials_match(header: str | None, username: str, password: str) -> bool:
    """Return True when an ``Authorization: Basic ...`` header carries this login."""
    given_user, given_password = _basic_credentials(header)
    user_ok = hmac.compare_digest(given_user.encode(), username.encode())
    password_ok = hmac.compare_digest(given_password.encode(), password.encode())
    return user_ok & password_ok  # not "and": both comparisons always run


def _basic_credentials(header: str | None) -> tuple[str, str]:
    """Return (user, password) from a Basic header; ("", "") when there is none or it is garbled."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else ("", "")
