"""POST /hooks/{form}: a site form's webhook, kept thin.

The handler parses, checks the token, hands the body to
``watchdog.sources.forms.parse_submission`` and the result to
``watchdog.ingest.store.store_form`` (through ``writer.FormWriter``, which
commits). Its checks, in order:

1. 404 when no ``[[form]]`` has that name. Form names are not secrets (they
   are in the URL the site posts to), so saying "no such form" before asking
   for the token leaks nothing and tells a mistyped URL from a wrong token;
2. 401 when the token (``X-Watchdog-Token`` header, else ``?token=``) is
   missing or wrong, compared in constant time; the body is not read;
3. 413 when Content-Length, or the body actually read, passes 256 KiB (the
   read stops there); 415 for a content type other than JSON, urlencoded or
   multipart; 400 for a body that is not what its type says;
4. 200 ``{"status": "test"}`` for a provider's test ping, 422 when the
   submission holds neither text nor a way to reach the visitor;
5. 200 ``{"status": "stored", "id": N}``, or ``{"status": "duplicate"}`` for a
   retried delivery (same provider id, or same content within 24 h).

Every success is 200, never 201: Wix and others count only 200 as delivered.
Nothing is stored for any 4xx. A database failure answers 503, so the
provider retries later.
"""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from watchdog.config import FormConfig
from watchdog.ingest.submission import FormSubmission
from watchdog.sources.forms import (
    MalformedPayload,
    UnsupportedContentType,
    check_content_type,
    parse_submission,
)
from watchdog.web.context import WebContext, web_context
from watchdog.web.metrics import UNKNOWN_FORM

MAX_BODY_BYTES = 256 * 1024
TOKEN_HEADER = "X-Watchdog-Token"

log = logging.getLogger(__name__)
router = APIRouter()


class BodyTooLarge(Exception):
    """The request body is larger than MAX_BODY_BYTES."""


@router.post("/hooks/{form}")
async def receive(form: str, request: Request) -> JSONResponse:
    """Receive one submission of the form ``form``; count the answer by form and status."""
    ctx = web_context(request)
    response = await _answer(ctx, form, request)
    label = form if form in ctx.forms else UNKNOWN_FORM
    ctx.metrics.webhook_requests.labels(form=label, status=str(response.status_code)).inc()
    return response


async def _answer(ctx: WebContext, name: str, request: Request) -> JSONResponse:
    """Run the checks of the module docstring, in order, and store what passes them."""
    form = ctx.forms.get(name)
    if form is None:
        return _rejected(404, "there is no form with this name")
    if not token_matches(form, request):
        return _rejected(401, f"wrong or missing token (send it in {TOKEN_HEADER} or ?token=)")
    content_type = request.headers.get("content-type")
    now = ctx.clock()
    try:
        check_content_type(content_type)
        body = await read_body(request, MAX_BODY_BYTES)
        submission = parse_submission(form.preset, form.fields, content_type, body, received_at=now)
    except BodyTooLarge:
        return _rejected(413, f"the body is larger than {MAX_BODY_BYTES // 1024} KiB")
    except UnsupportedContentType as exc:
        return _rejected(415, str(exc))
    except MalformedPayload as exc:
        return _rejected(400, str(exc))
    if submission is None:
        return JSONResponse({"status": "test"})
    if not submission.usable:
        return _rejected(422, "the submission has no text, no email and no phone")
    return await _stored(ctx, form, submission)


async def _stored(ctx: WebContext, form: FormConfig, submission: FormSubmission) -> JSONResponse:
    try:
        row_id = await ctx.writer.store(form.name, submission)
    except SQLAlchemyError:
        log.exception("form %s: the submission could not be stored", form.name)
        return JSONResponse({"status": "error", "error": "database unavailable"}, status_code=503)
    if row_id is None:
        return JSONResponse({"status": "duplicate"})
    ctx.metrics.messages_stored.labels(form=form.name).inc()
    return JSONResponse({"status": "stored", "id": row_id})


def token_matches(form: FormConfig, request: Request) -> bool:
    """Return True when the request carries the form's token; compared in constant time.

    A form whose token is empty (config loaded without secrets) accepts nothing.
    """
    given = request.headers.get(TOKEN_HEADER) or request.query_params.get("token") or ""
    expected = form.token.reveal()
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


async def read_body(request: Request, limit: int) -> bytes:
    """Return the body; raise BodyTooLarge as soon as Content-Length or the data passes ``limit``.

    The declared length is checked first so an honest large upload is refused
    unread; the count while reading catches a chunked or lying client without
    ever holding more than ``limit`` plus one chunk.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def _rejected(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"status": "rejected", "error": reason}, status_code=status)
