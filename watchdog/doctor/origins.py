"""Where each secret came from, so a "how to fix" line can name the variable or file.

The loaded config holds only resolved, masked secrets: it no longer knows
that the IMAP password of "orders" came from ``$WATCHDOG_ORDERS_PASSWORD``.
The doctor reads the raw TOML once more for that, and only for the *names*
(``password_env``, ``token_file``): a value is never read here, and a secret
written in the file is described as "written in the config file".
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchdog.config.types import Language
from watchdog.doctor.i18n import Phrasebook

#: A secret's place in the config: the table ("mailbox", "orders") and the key ("password").
Place = tuple[str, ...]

_T = Phrasebook(
    {
        "env": ("the value of ${name}", "значение переменной ${name}"),
        "file": ("the contents of the file {path}", "содержимое файла {path}"),
        "inline": ("the {key} written in the config file", "{key}, записанный в файле настроек"),
        "unknown": (
            "{key}_env or {key}_file in the config",
            "{key}_env или {key}_file в настройках",
        ),
    }
)


@dataclass(frozen=True)
class SecretOrigins:
    """How each secret was given: ``("env", NAME)``, ``("file", PATH)`` or ``("inline", "")``.

    Keys are (table, source name, ..., key): ``("mailbox", "orders", "password")``,
    ``("smtp", "password")``, ``("form", "site", "token")``,
    ``("form", "site", "api", "api_key")``, ``("telegram", "shop", "bot_token")``.
    """

    given: Mapping[Place, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: Path) -> SecretOrigins:
        """Read ``path``'s secret spellings; nothing known when it cannot be read (it was, once)."""
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return cls()
        return cls.from_toml(raw)

    @classmethod
    def from_toml(cls, raw: Mapping[str, Any]) -> SecretOrigins:
        """Return the spellings found in a parsed config file."""
        given: dict[Place, tuple[str, str]] = {}
        _note(given, ("smtp",), raw.get("smtp"), "password")
        _note(given, ("web",), raw.get("web"), "password")
        for box in _tables(raw.get("mailbox")):
            _note(given, ("mailbox", str(box.get("name"))), box, "password")
        for form in _tables(raw.get("form")):
            name = str(form.get("name"))
            _note(given, ("form", name), form, "token")
            _note(given, ("form", name, "api"), form.get("api"), "api_key")
        notify = raw.get("notify")
        chats = _tables(notify.get("telegram") if isinstance(notify, dict) else None)
        for number, chat in enumerate(chats):
            name = str(chat.get("name", "telegram" if number == 0 else ""))
            _note(given, ("telegram", name), chat, "bot_token")
        return cls(given)

    def describe(self, lang: Language, place: Place) -> str:
        """Say where the secret at ``place`` (ending in its key) is read from, in words."""
        key = place[-1]
        kind, where = self.given.get(place, ("unknown", ""))
        if kind == "env":
            return _T(lang, "env", name=where)
        if kind == "file":
            return _T(lang, "file", path=where)
        return _T(lang, kind, key=key)


def _tables(value: object) -> list[dict[str, Any]]:
    """Return the tables of an array of tables (anything else gives none)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _note(given: dict[Place, tuple[str, str]], table: Place, raw: object, key: str) -> None:
    """Record how ``key`` is spelled in the raw ``table``, if it is there at all."""
    if not isinstance(raw, dict):
        return
    if isinstance(raw.get(f"{key}_env"), str):
        given[(*table, key)] = ("env", raw[f"{key}_env"])
    elif isinstance(raw.get(f"{key}_file"), str):
        given[(*table, key)] = ("file", raw[f"{key}_file"])
    elif key in raw:
        given[(*table, key)] = ("inline", "")
