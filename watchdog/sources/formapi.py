"""Form services' APIs (Jotform, Typeform): the one module here that speaks HTTP.

Each service has one client behind the small :class:`FormApi` protocol:
``fetch_since(cursor, now=...)`` returns the submissions newer than
``cursor`` (all of them when it is None), oldest first. The clients fetch;
``watchdog.sources.formanswers`` reads the JSON; ``watchdog.sources.formpull``
decides the cursor and stores.

Errors are translated here, so nothing above knows httpx::

    401, 403, 404                        SourceError(permanent=True): a wrong key or form id
                                         does not fix itself
    429, 5xx, timeouts, network errors   retried with backoff (tenacity, bounded), then
                                         SourceError(permanent=False)
    any other status, a non-JSON answer  SourceError(permanent=False), not retried now

Secrets: Jotform documents the key both as ``?apiKey=`` and as an ``APIKEY``
header; we send the header, so the key is never part of a URL, and httpx's
own log line ("HTTP Request: GET https://...") or an exception's text cannot
show it. Typeform's token is a ``Bearer`` header. Messages we build name the
service and the form, never the key, and are scrubbed of it in case a
service echoes it back.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from watchdog import __version__
from watchdog.config.schema import FormConfig, FormFields
from watchdog.errors import SourceError
from watchdog.ingest.submission import FormSubmission
from watchdog.sources.formanswers import (
    JOTFORM_TIMEZONE,
    jotform_submission,
    typeform_submission,
    typeform_titles,
)

log = logging.getLogger(__name__)

JOTFORM_URL = "https://api.jotform.com"  # EU: https://eu-api.jotform.com, HIPAA: hipaa-api
TYPEFORM_URL = "https://api.typeform.com"  # EU data center: https://api.eu.typeform.com
#: Connecting should be quick; a page of a thousand submissions may take a while to build.
TIMEOUT = httpx.Timeout(30.0, connect=10.0)

Params = Mapping[str, str | int]


class FormApi(Protocol):
    """A form service's API, as the puller sees it."""

    def fetch_since(
        self, cursor: datetime | None, *, now: datetime
    ) -> tuple[list[FormSubmission], datetime | None]:
        """Return the submissions received after ``cursor``, oldest first, and the new cursor.

        The new cursor is the newest ``received_at`` returned, or ``cursor``
        when there was nothing new. ``now`` stands in for a submission whose
        own time cannot be read. Raises SourceError.
        """
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Retry:
    """How hard one request is tried: ``attempts`` in all, waiting between them.

    The wait doubles from ``first_wait`` seconds up to ``max_wait``; a
    ``Retry-After`` from the service (Typeform sends one with 429) is obeyed
    up to ``max_wait``. ``sleep`` is injectable so tests wait for nothing.
    """

    attempts: int = 4
    first_wait: float = 1.0
    max_wait: float = 60.0
    sleep: Callable[[float], None] = time.sleep


def open_form_api(
    form: FormConfig,
    *,
    transport: httpx.BaseTransport | None = None,
    retry: Retry = Retry(),
    page_size: int | None = None,
) -> FormApi:
    """Return the client for the form's ``[form.api]``: kind, form id, key and (EU) base_url.

    The form's ``[form.fields]`` tell which answers hold the contacts, as for
    its webhook. ``transport`` replaces the network (tests pass an
    ``httpx.MockTransport``). Raises ValueError for a form without ``[form.api]``.
    """
    api = form.api
    if api is None:
        raise ValueError(f"form {form.name!r} has no [form.api]")
    options = _Options(api.form_id, api.api_key.reveal(), transport, retry, form.fields)
    if api.kind == "jotform":
        return JotformApi(options, base_url=api.base_url or JOTFORM_URL, page_size=page_size)
    return TypeformApi(options, base_url=api.base_url or TYPEFORM_URL, page_size=page_size)


@dataclass(frozen=True, slots=True)
class _Options:
    """What every client needs: the form, the key, and how to reach the service."""

    form_id: str
    key: str
    transport: httpx.BaseTransport | None
    retry: Retry
    chosen: FormFields


# --- Jotform --------------------------------------------------------------------------


class JotformApi:
    """Jotform's ``GET /form/{id}/submissions``, filtered by ``created_at``, paged by offset.

    Jotform's times are wall times in the account's time zone, US Eastern by
    default (``timezone``); the filter is sent in the same zone, so even a
    wrongly assumed zone moves both the stored times and the filter alike and
    loses nothing. Pages come newest first: a submission arriving while we
    page shifts the offsets by one, which repeats an item (dropped by id)
    rather than skipping one. Deleted submissions are skipped.
    """

    PAGE_SIZE = 100  # Jotform allows up to 1000

    def __init__(
        self,
        options: _Options,
        *,
        base_url: str = JOTFORM_URL,
        page_size: int | None = None,
        timezone: ZoneInfo = JOTFORM_TIMEZONE,
    ) -> None:
        self._options, self._base_url, self._timezone = options, base_url, timezone
        self._page_size = page_size or self.PAGE_SIZE

    def fetch_since(
        self, cursor: datetime | None, *, now: datetime
    ) -> tuple[list[FormSubmission], datetime | None]:
        """Return the submissions created after ``cursor``, oldest first (see FormApi)."""
        auth = {"APIKEY": self._options.key}
        with _Http.open("Jotform", self._base_url, self._options, auth) as http:
            items = self._items(http, cursor)
        found = [self._submission(item, now) for item in items]
        return _oldest_first([s for s in found if s is not None], cursor)

    def _submission(self, item: Mapping[str, Any], now: datetime) -> FormSubmission | None:
        return jotform_submission(
            item, timezone=self._timezone, fallback_time=now, chosen=self._options.chosen
        )

    def _items(self, http: _Http, cursor: datetime | None) -> list[Mapping[str, Any]]:
        """Return every item after ``cursor``, page by page, each id once."""
        path = f"/form/{quote(self._options.form_id, safe='')}/submissions"
        params: dict[str, str | int] = {"limit": self._page_size, "orderby": "created_at"}
        if cursor is not None:
            params["filter"] = json.dumps({"created_at:gt": jotform_filter_time(cursor)})
        seen: dict[str, Mapping[str, Any]] = {}
        offset = 0
        while True:
            page = _list(http.get_json(path, {**params, "offset": offset}), "content", http)
            fresh = {str(i.get("id")): i for i in page if str(i.get("id")) not in seen}
            seen.update(fresh)
            if len(page) < self._page_size or not fresh:  # the end, or a server ignoring offset
                return list(seen.values())
            offset += len(page)


def jotform_filter_time(cursor: datetime, timezone: ZoneInfo = JOTFORM_TIMEZONE) -> str:
    """Return ``cursor`` as Jotform filter text: wall time in the account's zone.

    When DST ends, the wall times 01:00-01:59 happen twice and compare as
    text, so a cursor inside that hour could skip the second pass through
    it; the filter then starts before the repeated hour instead.
    """
    local = cursor.astimezone(timezone)
    while local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        cursor -= timedelta(minutes=30)
        local = cursor.astimezone(timezone)
    return local.strftime("%Y-%m-%d %H:%M:%S")


# --- Typeform -------------------------------------------------------------------------


class TypeformApi:
    """Typeform's Responses API: ``GET /forms/{id}/responses`` since a time, paged by token.

    Completed responses only, oldest first (``sort=submitted_at,asc``); each
    next page asks for the responses ``after`` the last token seen. The
    Responses API gives field ids, not questions, so the form's definition
    (``GET /forms/{id}``) is read once per fetch to label the answers; if
    that fails (a token without ``forms:read``), answers are labelled by ref.
    """

    PAGE_SIZE = 200  # Typeform allows up to 1000

    def __init__(
        self, options: _Options, *, base_url: str = TYPEFORM_URL, page_size: int | None = None
    ) -> None:
        self._options, self._base_url = options, base_url
        self._page_size = page_size or self.PAGE_SIZE

    def fetch_since(
        self, cursor: datetime | None, *, now: datetime
    ) -> tuple[list[FormSubmission], datetime | None]:
        """Return the responses submitted since ``cursor``, oldest first (see FormApi)."""
        auth = {"Authorization": f"Bearer {self._options.key}"}
        with _Http.open("Typeform", self._base_url, self._options, auth) as http:
            titles = self._titles(http)
            items = self._items(http, cursor)
        chosen = self._options.chosen
        found = [
            typeform_submission(i, titles=titles, fallback_time=now, chosen=chosen) for i in items
        ]
        return _oldest_first(found, cursor)

    @property
    def _form_path(self) -> str:
        return f"/forms/{quote(self._options.form_id, safe='')}"

    def _titles(self, http: _Http) -> dict[str, str]:
        """Return {field id: question}; {} when the definition cannot be read (it is optional)."""
        try:
            return typeform_titles(http.get_json(self._form_path, {}))
        except SourceError as exc:
            log.info("%s; answers are labelled by their ref instead", exc)
            return {}

    def _items(self, http: _Http, cursor: datetime | None) -> list[Mapping[str, Any]]:
        """Return every completed response since ``cursor``, page by page, each token once."""
        params: dict[str, str | int] = {
            "page_size": self._page_size,
            "completed": "true",
            "sort": "submitted_at,asc",
        }
        if cursor is not None:
            params["since"] = cursor.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        seen: dict[str, Mapping[str, Any]] = {}
        while True:
            page = _list(http.get_json(f"{self._form_path}/responses", params), "items", http)
            fresh = {str(i.get("token")): i for i in page if str(i.get("token")) not in seen}
            seen.update(fresh)
            if len(page) < self._page_size or not fresh:  # the end, or a server ignoring after
                return list(seen.values())
            params = {**params, "after": str(page[-1].get("token"))}


# --- HTTP, retries and errors ---------------------------------------------------------


class _Transient(Exception):
    """A failure worth another try (429, 5xx, timeout, network); carries Retry-After."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


class _Http:
    """One httpx client for one fetch: JSON GETs with retries, errors as SourceError."""

    def __init__(self, client: httpx.Client, service: str, options: _Options) -> None:
        self._client, self._service, self._options = client, service, options

    @classmethod
    @contextmanager
    def open(
        cls, service: str, base_url: str, options: _Options, auth: Mapping[str, str]
    ) -> Iterator[_Http]:
        """Yield a client for ``base_url`` sending ``auth`` headers; closed afterwards."""
        headers = {
            **auth,
            "Accept": "application/json",
            "User-Agent": f"inbox-watchdog/{__version__}",
        }
        with httpx.Client(
            base_url=base_url, headers=headers, timeout=TIMEOUT, transport=options.transport
        ) as client:
            yield cls(client, service, options)

    def get_json(self, path: str, params: Params) -> Any:
        """Return the JSON of ``GET path``, trying again on transient failures.

        Raises SourceError: permanent for 401/403/404, transient otherwise.
        """
        retry = self._options.retry
        retrying = Retrying(
            stop=stop_after_attempt(retry.attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            sleep=retry.sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            return retrying(self._get_once, path, params)
        except _Transient as exc:
            tries = f"{retry.attempts} tries" if retry.attempts > 1 else "one try"
            raise self.error(f"no answer after {tries}: {exc.reason}") from exc

    def error(self, problem: str, *, permanent: bool = False) -> SourceError:
        """Return a SourceError naming the service and the form, scrubbed of the key."""
        text = f"{self._service} form {self._options.form_id}: {problem}"
        return SourceError(self.scrub(text), permanent=permanent)

    def scrub(self, text: str) -> str:
        """Return ``text`` with the key replaced by "***" (a service might echo it)."""
        key = self._options.key
        return text.replace(key, "***") if key else text

    def _get_once(self, path: str, params: Params) -> Any:
        try:
            response = self._client.get(path, params=params)
        except httpx.TimeoutException as exc:
            raise _Transient(f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _Transient(f"network error: {self.scrub(_first_line(exc))}") from exc
        return self._json(response)

    def _json(self, response: httpx.Response) -> Any:
        """Return the body of a good response; raise for a bad one (see the module docstring)."""
        body = _body(response)
        status = response.status_code
        code = body.get("responseCode") if isinstance(body, dict) else None
        if status == 200 and isinstance(code, int) and code != 200:
            status = code  # Jotform may report an error inside a 200
        if 200 <= status < 300 and body is not None:
            return body
        said = self.scrub(_service_says(body))
        if status in (401, 403, 404):
            raise self.error(f"{_PERMANENT[status]} (HTTP {status}{said})", permanent=True)
        if status == 429 or status >= 500:
            raise _Transient(f"HTTP {status}{said}", _retry_after(response))
        if 200 <= status < 300:
            raise self.error(f"the service answered with something other than JSON (HTTP {status})")
        raise self.error(f"unexpected answer HTTP {status}{said}")

    def _wait(self, state: RetryCallState) -> float:
        """Return how long to wait: the service's Retry-After, else a doubling backoff."""
        retry = self._options.retry
        failure = state.outcome.exception() if state.outcome else None
        asked = failure.retry_after if isinstance(failure, _Transient) else None
        if asked is not None:
            return min(asked, retry.max_wait)
        return float(min(retry.first_wait * 2 ** (state.attempt_number - 1), retry.max_wait))

    def _log_retry(self, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        reason = failure.reason if isinstance(failure, _Transient) else "failure"
        log.warning(
            "%s form %s: %s; trying again in %.0f s",
            self._service,
            self._options.form_id,
            reason,
            wait,
        )


_PERMANENT = {
    401: "the API key was refused; check api_key",
    403: "the API key may not read this form; check its permissions",
    404: "no such form here; check form_id, and base_url for an EU or HIPAA account",
}


def _list(body: Any, key: str, http: _Http) -> list[Mapping[str, Any]]:
    """Return ``body[key]`` as a list of objects; raise SourceError if the shape is wrong."""
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise http.error(f'unexpected answer: no "{key}" list')
    return [item for item in items if isinstance(item, Mapping)]


def _oldest_first(
    found: list[FormSubmission], cursor: datetime | None
) -> tuple[list[FormSubmission], datetime | None]:
    found.sort(key=lambda submission: submission.received_at)
    return found, (found[-1].received_at if found else cursor)


def _body(response: httpx.Response) -> Any:
    """Return the parsed JSON body, or None when it is not JSON."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _service_says(body: Any) -> str:
    """Return ": <the service's own explanation>" (Jotform message, Typeform description)."""
    if not isinstance(body, dict):
        return ""
    said = body.get("message") or body.get("description") or body.get("code")
    return f": {str(said).strip()[:200]}" if said else ""


def _retry_after(response: httpx.Response) -> float | None:
    """Return Retry-After in seconds; None when absent or given as a date."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
