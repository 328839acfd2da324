"""Cross-site request forgery: every POST must prove it comes from our own pages.

Two checks, both on every POST of the dashboard (login and logout included):

1. the form carries a token bound to the browser's cookie: an HMAC, under
   a key only this process knows, of the session id (or, before login, of a
   random login cookie). Another site can make a browser send our cookie,
   but cannot read the page that holds the token;
2. the request does not say it comes from elsewhere: an ``Origin`` header
   naming another site (or ``null``), or ``Sec-Fetch-Site: cross-site`` or
   ``same-site``, is refused even with a token. A request without these
   headers (an old browser, a script) relies on the token alone.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import Request

FIELD = "csrf"  # the hidden form field that carries the token


def csrf_token(key: bytes, bound_to: str) -> str:
    """Return the token that forms of the browser holding cookie value ``bound_to`` carry."""
    return hmac.new(key, b"csrf:" + bound_to.encode(), hashlib.sha256).hexdigest()


def token_matches(key: bytes, bound_to: str | None, given: str | None) -> bool:
    """Return True when ``given`` is the token of ``bound_to`` (compared in constant time)."""
    if not bound_to or not given:
        return False
    return hmac.compare_digest(csrf_token(key, bound_to).encode(), given.encode())


def foreign_origin(request: Request, public_url: str | None) -> bool:
    """Return True when the request's own headers say it was sent from another site.

    Our origins are the one the request was addressed to and ``public_url``'s
    (the address a reverse proxy serves us under).
    """
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    ours = {f"{request.url.scheme}://{request.headers.get('host', '')}".lower()}
    if public_url:
        parts = urlsplit(public_url)
        ours.add(f"{parts.scheme}://{parts.netloc}".lower())
    return origin.lower() not in ours


async def form_token(request: Request) -> str | None:
    """Return the token the POSTed form carries, or None (the form is parsed once and cached)."""
    value = (await request.form()).get(FIELD)
    return value if isinstance(value, str) else None
