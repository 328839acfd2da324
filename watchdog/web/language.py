"""``GET /language/{ru|en}?next=/path``: switch the dashboard's language, then go back.

The choice is a cookie (a year long), so it holds on the login form too and
across restarts; without it the dashboard speaks ``[owner] language``. It
is a preference, not an action on the watchdog's data, so a link is enough.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from watchdog.web.auth import set_cookie
from watchdog.web.i18n import LANGUAGES
from watchdog.web.pages import LANG_COOKIE, PageError, local_path, see_other

YEAR = 365 * 24 * 3600

router = APIRouter()


@router.get("/language/{code}")
async def choose_language(code: str, request: Request, next: str = "/") -> Response:
    """Remember ``code`` as the reader's language; 404 for a language we do not speak."""
    if code not in LANGUAGES:
        raise PageError(404, "no_such_language")
    response = see_other(local_path(next))
    set_cookie(request, response, LANG_COOKIE, code, max_age=YEAR)
    return response
