"""Turning validation failures into the lines a shop owner reads.

Every problem is a key path plus a message; :func:`format_line` renders it as
``watchdog.toml: mailbox[2].port: expected an integer 1-65535, got "99x"``.
Pydantic's own wording and documentation URLs never reach the user:
:func:`from_pydantic` translates each error type it knows, and anything else
becomes a neutral "has a value of the wrong type". Values are echoed in TOML
spelling, except under a secret key, where they are never shown.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from datetime import date, time
from typing import Any, NamedTuple

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from watchdog.config.secrets import Loc, Secret, secret_keys, submodel
from watchdog.config.types import EXPECTED, PROBLEM


class Problem(NamedTuple):
    """One thing wrong with the file: where (a key path; empty for the file) and what."""

    loc: Loc
    message: str


_SUGGESTION_RE = re.compile(r'unknown key; did you mean "(.+)"\?')

_GENERIC = {
    "string_type": "expected a string",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected an integer",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "dict_type": "expected a table",
}


def format_path(loc: Loc) -> str:
    """Render ``("mailbox", 1, "port")`` as ``mailbox[2].port``: arrays count from 1."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part + 1}]"
        else:
            path += f".{part}" if path else part
    return path


def format_line(file_name: str, problem: Problem) -> str:
    """Return ``<file>: <key path>: <message>``, or ``<file>: <message>`` for the whole file."""
    if not problem.loc:
        return f"{file_name}: {problem.message}"
    return f"{file_name}: {format_path(problem.loc)}: {problem.message}"


def show(value: object, limit: int = 60) -> str:
    """Return ``value`` as it would be spelled in TOML, shortened to about ``limit`` characters."""
    if isinstance(value, Secret):
        return "a hidden value"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, int | float):
        text = repr(value)
    elif isinstance(value, date | time):
        text = value.isoformat()
    elif isinstance(value, dict):
        return "a table"
    elif isinstance(value, list):
        text = "[" + ", ".join(show(item, limit) for item in value) + "]"
    else:
        return f"a value of type {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def from_pydantic(
    error: ErrorDetails, root: type[BaseModel], secret_names: frozenset[str]
) -> Problem:
    """Translate one pydantic error into a :class:`Problem` in our own words."""
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "missing":
        is_table = _is_table(root, loc)
        return Problem(loc, f"required {'table' if is_table else 'key'} is missing")
    if kind == "extra_forbidden":
        return Problem(loc, _unknown_key(root, loc))
    if kind == PROBLEM:
        return Problem(loc, str(error.get("ctx", {}).get("message", "")))
    if kind == EXPECTED:
        what = f"expected {error.get('ctx', {}).get('expected', '')}"
    elif kind in ("list_type", "tuple_type") and isinstance(error["input"], dict):
        what = f"expected an array of tables [[{format_path(loc)}]]"
    else:
        what = _GENERIC.get(kind, "has a value of the wrong type")
    hidden = bool(loc) and loc[-1] in secret_names
    shown = "a hidden value" if hidden else show(error["input"])
    hint = str(error.get("ctx", {}).get("hint", ""))
    return Problem(loc, f"{what}, got {shown}" + (f"; {hint}" if hint else ""))


def _is_table(root: type[BaseModel], loc: Loc) -> bool:
    """True if the key at ``loc`` holds a table (or an array of tables) rather than a value."""
    parent = model_at(root, loc[:-1])
    if parent is None:
        return False
    fields = {info.alias or name: info for name, info in parent.model_fields.items()}
    return loc[-1] in fields and submodel(fields[str(loc[-1])].annotation) is not None


def suggested_key(problem: Problem) -> str | None:
    """Return the key an unknown-key problem suggests, or None."""
    match = _SUGGESTION_RE.fullmatch(problem.message)
    return match.group(1) if match else None


def _unknown_key(root: type[BaseModel], loc: Loc) -> str:
    """Return the message for an unknown key, suggesting the allowed key it resembles."""
    model = model_at(root, loc[:-1])
    allowed = allowed_keys(model) if model else []
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.7)
    return f'unknown key; did you mean "{close[0]}"?' if close else "unknown key"


def allowed_keys(model: type[BaseModel]) -> list[str]:
    """Return every key a table of ``model`` may hold, with ``X_env``/``X_file`` for secrets."""
    keys = [info.alias or name for name, info in model.model_fields.items()]
    for key in secret_keys(model):
        keys += [f"{key}_env", f"{key}_file"]
    return keys


def model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """Return the model of the table at ``loc`` (array indexes are skipped), or None."""
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        fields = {info.alias or name: info for name, info in model.model_fields.items()}
        model = submodel(fields[part].annotation) if part in fields else None
    return model


def all_models(root: type[BaseModel]) -> Iterator[type[BaseModel]]:
    """Yield ``root`` and every model reachable from its fields, each once."""
    seen: list[type[BaseModel]] = []
    todo = [root]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.append(model)
        yield model
        for info in model.model_fields.values():
            sub = submodel(info.annotation)
            if sub is not None:
                todo.append(sub)


def file_position(raw: Any, loc: Loc) -> tuple[int, ...]:
    """Return where ``loc`` sits in the file, so problems can be listed top to bottom.

    TOML tables keep their key order, so a key's index in its table is its
    order in the file; a missing key sorts at the end of its table.
    """
    position: list[int] = []
    node = raw
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str):
            keys = list(node)
            position.append(keys.index(part) if part in keys else len(keys))
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int):
            position.append(part)
            node = node[part] if part < len(node) else None
        else:
            position.append(10**6)
            node = None
    return tuple(position)
