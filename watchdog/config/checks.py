"""Checks across tables: unique names, and escalation steps that name a real chat.

They run on the raw TOML rather than on the validated models so that they are
reported together with every other problem, even when some unrelated key is
wrong and no model could be built. Values of the wrong type are skipped here;
validation reports those.
"""

from __future__ import annotations

import re
from typing import Any

from watchdog.config.problems import Problem, format_path
from watchdog.config.secrets import Loc

_NAME_RE = re.compile(r"[a-z0-9_-]+")


def cross_check(raw: dict[str, Any]) -> list[Problem]:
    """Return the problems that only show when tables are compared with each other."""
    sources = _names(raw, ("mailbox",)) + _names(raw, ("form",))
    chats = _names(raw, ("notify", "telegram"), first_default="telegram")
    problems = _duplicates(sources, "source names (of mailboxes and forms)")
    problems += _duplicates(chats, "[[notify.telegram]] names")
    problems += _unknown_chats(raw, {name for _, name in chats})
    return problems


def _tables(raw: dict[str, Any], path: tuple[str, ...]) -> list[tuple[Loc, dict[str, Any]]]:
    """Return (loc, table) for each table of the array of tables at ``path``."""
    node: Any = raw
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, list):
        return []
    return [((*path, i), table) for i, table in enumerate(node) if isinstance(table, dict)]


def _names(
    raw: dict[str, Any], path: tuple[str, ...], first_default: str | None = None
) -> list[tuple[Loc, str]]:
    """Return (loc of the name key, name) for each table at ``path`` that has a string name."""
    found = []
    for loc, table in _tables(raw, path):
        name = table.get("name", first_default if loc[-1] == 0 else None)
        if isinstance(name, str):
            found.append(((*loc, "name"), name))
    return found


def _duplicates(names: list[tuple[Loc, str]], what: str) -> list[Problem]:
    """Report every name already used by an earlier table."""
    first: dict[str, Loc] = {}
    problems = []
    for loc, name in names:
        if name in first:
            where = format_path(first[name][:-1])
            problems.append(
                Problem(loc, f'"{name}" is already the name of {where}; {what} must be unique')
            )
        else:
            first[name] = loc
    return problems


def _unknown_chats(raw: dict[str, Any], chats: set[str]) -> list[Problem]:
    """Report steps notifying "telegram" with no chat configured, or "telegram:<unknown>"."""
    problems = []
    for loc, step in _tables(raw, ("escalation", "step")):
        target = step.get("notify")
        if not isinstance(target, str) or not target.startswith("telegram"):
            continue
        prefix, colon, name = target.partition(":")
        if prefix != "telegram" or (colon and not _NAME_RE.fullmatch(name)):
            continue  # not a chat reference, or a malformed one that validation reports
        if not colon and not chats:
            problems.append(Problem((*loc, "notify"), "no [[notify.telegram]] chat is configured"))
        elif colon and name not in chats:
            known = ", ".join(f'"{chat}"' for chat in sorted(chats))
            message = f'no [[notify.telegram]] is named "{name}"' + (
                f" (there are {known})" if known else " (none is configured)"
            )
            problems.append(Problem((*loc, "notify"), message))
    return problems
