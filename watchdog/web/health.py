"""GET /healthz: does the service answer, and does its database?

No password: it says only "ok" or "error", so a load balancer or a
container orchestrator can probe it.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from watchdog.storage.engine import storage_error
from watchdog.web.context import WebContext, web_context

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """Answer 200 {"status": "ok"} when the database answers a query, else 503."""
    if await run_in_threadpool(database_answers, web_context(request)):
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "error", "error": "database unavailable"}, status_code=503)


def database_answers(ctx: WebContext) -> bool:
    """Return True when ``SELECT 1`` succeeds; log why (password hidden) when it does not."""
    with ctx.sessions() as session:
        try:
            session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            log.warning(
                "health check: %s",
                storage_error(session.get_bind().engine.url, "cannot query", exc),
            )
            return False
    return True
