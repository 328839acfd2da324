"""The owner's dashboard as a whole: its pages, its security, its error pages.

``install_dashboard(app, config)`` adds to the app built by ``create_app``:

- the routers of the pages (``overview``, ``cases``, ``case``, ``actions``,
  ``messages``, ``sources``, ``alarms``, ``digests``) and of the front door
  (``login``, ``language``), and the stylesheet under ``/static``;
- the per-process security state (``auth.Security``): a random CSRF key,
  the logins, the login throttle;
- headers on every response that forbid scripts, frames, sniffing,
  referrers and caching: the pages are full of strangers' text, and this is
  the second wall behind escaping it;
- one handler that turns ``pages.PageError`` into a page in the reader's
  language (or a redirect).

The pages contain no script at all, so the Content-Security-Policy allows
none; styles come from our own stylesheet only. The Referrer-Policy is
"same-origin", not "no-referrer": under "no-referrer" a browser sends
``Origin: null`` with our own forms, which the CSRF check must refuse.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watchdog.web import (
    actions,
    alarms,
    case,
    cases,
    digests,
    language,
    login,
    messages,
    overview,
    sources,
)
from watchdog.web.auth import Security
from watchdog.web.pages import PageError, local_path, render, words
from watchdog.web.session import SessionStore
from watchdog.web.throttle import Throttle

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
ROUTERS = (login, language, overview, cases, case, actions, messages, sources, alarms, digests)


def install_dashboard(app: FastAPI) -> None:
    """Add the dashboard's pages, security state, headers and error pages to ``app``."""
    app.state.security = Security(
        key=secrets.token_bytes(32), sessions=SessionStore(), throttle=Throttle()
    )
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(PageError, _page_error)  # type: ignore[arg-type]  # narrower type
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for module in ROUTERS:
        app.include_router(module.router)


async def _page_error(request: Request, error: PageError) -> Response:
    """Show a PageError: a redirect, or a short page saying what is wrong in the reader's words."""
    if error.location is not None:
        return RedirectResponse(error.location, status_code=303)
    message = words(request).get(error.words or "", error.words or "")
    response = render(request, "error.html", error.status, message=message, detail=error.detail,
                      back=local_path(error.back, ""))  # fmt: skip
    response.headers.update(error.headers)
    return response


class SecurityHeaders:
    """ASGI middleware: add ``SECURITY_HEADERS`` to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response as it starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
