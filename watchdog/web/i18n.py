"""The dashboard's words in Russian and English, read from ``locale/<lang>.toml``.

Each file has three tables: ``ui`` (the pages), ``alarms`` (alarm kinds, by
``Alarm.kind``) and ``events`` (a case's history, by ``CaseEvent.kind``).
Words are data: a translator edits the TOML, and a test checks that both
languages have the same keys and that every alarm and event kind the code
writes has words.
"""

from __future__ import annotations

import tomllib
from importlib import resources

LANGUAGES: tuple[str, ...] = ("ru", "en")


def _load(lang: str) -> dict[str, dict[str, str]]:
    text = resources.files("watchdog.web").joinpath("locale", f"{lang}.toml").read_text("utf-8")
    return tomllib.loads(text)


_WORDS = {lang: _load(lang) for lang in LANGUAGES}

#: The pages' words, by language.
UI: dict[str, dict[str, str]] = {lang: words["ui"] for lang, words in _WORDS.items()}
#: Alarm kinds in plain words, by language and ``Alarm.kind``.
ALARM_KINDS: dict[str, dict[str, str]] = {lang: w["alarms"] for lang, w in _WORDS.items()}
#: A case's history in plain words, by language and ``CaseEvent.kind`` (see ``track.cases``).
EVENT_KINDS: dict[str, dict[str, str]] = {lang: w["events"] for lang, w in _WORDS.items()}
