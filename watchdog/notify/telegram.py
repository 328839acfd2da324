"""Telegram: the only module that posts to the Bot API.

One call sends, ``sendMessage``, as documented at https://core.telegram.org/bots/api::

    POST {api_url}/bot{token}/sendMessage
    {"chat_id": "...", "text": "...", "disable_web_page_preview": true}

    200 {"ok": true, "result": {"message_id": 42, ...}}
    4xx {"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7",
         "parameters": {"retry_after": 7}}

``watchdog doctor`` also asks ``getMe`` (is the token good: ``{"ok": true,
"result": {"id": ..., "is_bot": true, "username": "shop_bot", ...}}``) and
``getChat`` (can the bot see the chat: ``{"ok": true, "result": {"id": ...,
"type": "private", "first_name": ...}}``, or ``"title"`` for a group); both
post nothing.

The text is sent without ``parse_mode``, so a customer's words need no escaping
and cannot turn into markup.

Errors become :class:`~watchdog.errors.SendError`: 429 is transient and
carries ``retry_after``; 5xx, timeouts and network trouble are transient;
400 (bad chat id, chat upgraded to a supergroup), 401 (bad token), 403 (bot
blocked or not in the chat) and other 4xx are permanent.

The bot token is part of the URL *path*, so any error or log line that shows
the URL would show the token. Therefore errors are built from the response's
description only and raised outside the ``except`` block (the httpx
exception, which knows the URL, is neither chained nor kept as context), and a filter on the ``httpx`` logger rewrites
``/bot<token>/`` in its request log lines.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx

from watchdog.config.schema import TelegramConfig
from watchdog.errors import SendError

DEFAULT_TIMEOUT_S = 10.0
PERMANENT_CODES = frozenset({400, 401, 403, 404})

_TOKEN_IN_PATH = re.compile(r"/bot[^/\s]+/")


class _RedactBotToken(logging.Filter):
    """Rewrite ``/bot<token>/`` to ``/bot<redacted>/`` in a log record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/bot" in message:
            record.msg, record.args = _TOKEN_IN_PATH.sub("/bot<redacted>/", message), None
        return True


logging.getLogger("httpx").addFilter(_RedactBotToken())


class TelegramBot:
    """Post messages to one ``[[notify.telegram]]`` chat.

    ``transport`` replaces the network (tests pass ``httpx.MockTransport``).
    """

    def __init__(
        self,
        chat: TelegramConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self._chat = chat
        self._transport = transport
        self._timeout = timeout

    @property
    def name(self) -> str:
        """Return the chat's name in the config ("telegram", "telegram:<name>" targets)."""
        return self._chat.name

    def send(self, text: str) -> str:
        """Post ``text`` to the chat; return "telegram message_id=N" as the receipt.

        Raises SendError (see the module docstring); its message never holds the token.
        """
        payload = {"chat_id": self._chat.chat_id, "text": text, "disable_web_page_preview": True}
        result = self._call("sendMessage", payload)
        return f"telegram message_id={result.get('message_id')}"

    def get_me(self) -> str:
        """Return the bot's "@username" (getMe): the token is good. Posts nothing.

        Raises SendError like ``send``: permanent for a token the API refuses.
        """
        result = self._call("getMe", {})
        return f"@{result.get('username', '?')}"

    def get_chat(self) -> str:
        """Return the chat's title, or the person's name (getChat): the bot can reach it.

        Posts nothing. Raises SendError like ``send``: permanent for a chat the
        bot cannot see ("chat not found": nobody sent it /start there).
        """
        chat = self._call("getChat", {"chat_id": self._chat.chat_id})
        person = " ".join(str(chat[key]) for key in ("first_name", "last_name") if chat.get(key))
        username = f"@{chat['username']}" if chat.get("username") else ""
        return str(chat.get("title") or person or username or self._chat.chat_id)

    def _call(self, method: str, payload: dict[str, object]) -> dict[str, Any]:
        """Call ``method``; return its ``result`` object, or raise SendError for a refusal."""
        answer = self._post(method, payload)
        if isinstance(answer, str):  # raised here, outside the except: nothing chained
            raise SendError(f"{self._where()}: {answer}")
        body = _json(answer)
        result = body.get("result") if body is not None else None
        if body is not None and body.get("ok") is True and answer.status_code == 200:
            return result if isinstance(result, dict) else {}
        raise self._refusal(answer.status_code, body)

    def _post(self, method: str, payload: dict[str, object]) -> httpx.Response | str:
        """Return the API's response, or the reason (token removed) there was none."""
        try:
            with httpx.Client(transport=self._transport, timeout=self._timeout) as client:
                return client.post(self._url(method), json=payload)
        except httpx.TimeoutException:
            return "timed out"
        except httpx.HTTPError as exc:
            return self._redact(str(exc)) or type(exc).__name__

    def _url(self, method: str) -> str:
        """Return the method's URL; it holds the token, so it never goes into a message."""
        return f"{self._chat.api_url.rstrip('/')}/bot{self._chat.bot_token.reveal()}/{method}"

    def _refusal(self, status: int, body: dict[str, Any] | None) -> SendError:
        """Return the SendError for a refused request, permanent or transient by its code."""
        code = body.get("error_code") if body else None
        code = code if isinstance(code, int) else status
        description = str(body.get("description", "")) if body else ""
        parameters = body.get("parameters") if body else None
        parameters = parameters if isinstance(parameters, dict) else {}
        retry_after = parameters.get("retry_after")
        message = f"{self._where()}: {code} {self._redact(description) or 'unexpected answer'}"
        if isinstance(parameters.get("migrate_to_chat_id"), int):
            message += f" (the group is now chat_id {parameters['migrate_to_chat_id']})"
        if code == 429:
            wait = float(retry_after) if isinstance(retry_after, int | float) else None
            return SendError(message, retry_after=wait)
        return SendError(message, permanent=code in PERMANENT_CODES or 400 <= code < 500)

    def _where(self) -> str:
        """Return "telegram <name>" for messages: the chat's name, never the token."""
        return f"telegram {self._chat.name}"

    def _redact(self, text: str) -> str:
        """Return ``text`` without the token, wherever it might appear."""
        token = self._chat.bot_token.reveal()
        return text.replace(token, "<redacted>") if token else text


def _json(response: httpx.Response) -> dict[str, Any] | None:
    """Return the response's JSON object, or None if it is not one (a proxy's HTML page)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
