"""What the owner can change from the dashboard's pages, each a POST that ends in a redirect.

- ``POST /cases/{id}/handle`` (``reason``): closed without an e-mail, as
  ``watchdog handle`` does;
- ``POST /cases/{id}/not-request`` (``reason`` optional): the classifier was
  wrong, the case is dismissed and the correction recorded;
- ``POST /messages/{id}/request`` (``reason`` optional): the classifier was
  wrong the other way, the message gets its case.

Every one needs a login and passes the CSRF checks (``auth.require_post``).
The work is done by ``watchdog.track``, at the app's clock, in the name of
the logged-in user; a refusal there (no reason, already closed) is a page
saying so, with a way back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from watchdog.track.cases import CaseError, handle_case
from watchdog.track.corrections import correct_not_request, correct_to_request
from watchdog.track.setup import policy_for
from watchdog.web.auth import Owner, require_post
from watchdog.web.context import web_context
from watchdog.web.pages import PageError, see_other

router = APIRouter()
PostDep = Annotated[Owner, Depends(require_post)]
Reason = Annotated[str, Form()]


@router.post("/cases/{case_id}/handle")
async def handle(case_id: int, request: Request, owner: PostDep, reason: Reason = "") -> Response:
    """Mark the case handled without an e-mail; a reason is required."""
    now = web_context(request).clock()

    def change(session: Session) -> int:
        return handle_case(session, case_id, by=owner.user, reason=reason, now=now).id

    return see_other(f"/cases/{await _apply(request, change, back=f'/cases/{case_id}')}")


@router.post("/cases/{case_id}/not-request")
async def not_request(
    case_id: int, request: Request, owner: PostDep, reason: Reason = ""
) -> Response:
    """Dismiss the case: its message was no request (the correction goes to the digest)."""
    now = web_context(request).clock()

    def change(session: Session) -> int:
        return correct_not_request(session, case_id, by=owner.user, reason=reason, now=now).id

    return see_other(f"/cases/{await _apply(request, change, back=f'/cases/{case_id}')}")


@router.post("/messages/{message_id}/request")
async def is_request(
    message_id: int, request: Request, owner: PostDep, reason: Reason = ""
) -> Response:
    """Give the message the case a request gets; show that case."""
    ctx = web_context(request)
    now = ctx.clock()

    def change(session: Session) -> int:
        policy = policy_for(ctx.config, session)
        case = correct_to_request(session, policy, message_id, by=owner.user,
                                  reason=reason, now=now)  # fmt: skip
        return case.id

    return see_other(f"/cases/{await _apply(request, change, back=f'/messages/{message_id}')}")


async def _apply(request: Request, change: Callable[[Session], int], *, back: str) -> int:
    """Run ``change`` in its own transaction in a worker thread; return the case it names.

    A CaseError (unknown case, already closed, no reason) rolls back and
    becomes a 409 page that says why and links ``back``.
    """
    ctx = web_context(request)

    def run() -> int | str:
        with ctx.sessions() as session:
            try:
                case_id = change(session)
            except CaseError as error:
                session.rollback()
                return str(error)
            session.commit()
            return case_id

    result = await run_in_threadpool(run)
    if isinstance(result, str):
        raise PageError(409, "action_refused", detail=result, back=back)
    return result
