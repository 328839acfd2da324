"""Secrets in the config: the masked :class:`Secret` type and where values come from.

Every secret key ``X`` of the schema (a field typed ``Secret``) may be written
three ways: ``X`` (the value itself, allowed but warned about), ``X_env`` (the
name of an environment variable) or ``X_file`` (a file whose contents are the
value, e.g. a Docker secret). :func:`resolve_secrets` runs over the raw TOML
before validation and replaces each such trio with one resolved ``Secret``, so
that pydantic never holds a secret as a plain string and no error text can
echo one. Problems name the key and the variable or path, never the value.
"""

from __future__ import annotations

import hmac
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Union, get_args, get_origin

from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

Loc = tuple[str | int, ...]

_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Secret:
    """A password or token that shows as ``Secret('********')`` everywhere.

    Only :meth:`reveal` gives the value, so a secret reaches a log, an error or
    a ``repr(config)`` only if someone writes ``.reveal()`` there on purpose.
    """

    __slots__ = ("_value",)
    MASK: ClassVar[str] = "Secret('********')"

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value; call it only where the value is sent or compared."""
        return self._value

    def __repr__(self) -> str:
        return self.MASK

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        """Compare in constant time, so equality cannot be timed to guess a token."""
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Secret, (self._value,))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        """Accept only already-resolved secrets: :func:`resolve_secrets` makes them."""
        return core_schema.is_instance_schema(cls)


#: Stands in for a secret that could not be resolved: its problem is already
#: reported, and pydantic must not add "required key is missing" on top.
_PLACEHOLDER = Secret("")


@dataclass
class SecretContext:
    """What resolving needs, and what it found (problems and warnings, by key path)."""

    environ: Mapping[str, str]
    base_dir: Path
    #: False for commands that never use a secret (``db upgrade``): the
    #: variables and files are then named but not read, so an unset one is no problem.
    need_secrets: bool = True
    problems: list[tuple[Loc, str]] = field(default_factory=list)
    warnings: list[tuple[Loc, str]] = field(default_factory=list)


def resolve_secrets(data: object, model: type[BaseModel], loc: Loc, ctx: SecretContext) -> object:
    """Return ``data`` (a raw TOML table for ``model``) with every secret trio resolved.

    Tables for sub-models are walked recursively; anything that is not a table
    is returned unchanged, for validation to report.
    """
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name, info in model.model_fields.items():
        key = info.alias or name
        if _is_secret(info.annotation):
            secret = _resolve_one(out, key, info.is_required(), loc, ctx)
            if secret is not None:
                out[key] = secret
            continue
        sub = submodel(info.annotation)
        if sub is None or key not in out:
            continue
        if not is_array(info.annotation):
            out[key] = resolve_secrets(out[key], sub, (*loc, key), ctx)
        elif isinstance(out[key], list):
            out[key] = [
                resolve_secrets(v, sub, (*loc, key, i), ctx) for i, v in enumerate(out[key])
            ]
    return out


def secret_keys(model: type[BaseModel]) -> list[str]:
    """Return the names of ``model``'s secret fields (each also allows _env and _file)."""
    return [name for name, info in model.model_fields.items() if _is_secret(info.annotation)]


def _is_secret(annotation: Any) -> bool:
    """True for ``Secret`` and ``Secret | None``."""
    return annotation is Secret or Secret in _union_args(annotation)


def _union_args(annotation: Any) -> tuple[Any, ...]:
    origin = get_origin(annotation)
    return get_args(annotation) if origin in (Union, types.UnionType) else ()


def is_array(annotation: Any) -> bool:
    """True for ``tuple[...]`` and ``list[...]`` (an array of tables in TOML)."""
    return get_origin(annotation) in (tuple, list)


def submodel(annotation: Any) -> type[BaseModel] | None:
    """Return the model inside ``M``, ``M | None``, ``tuple[M, ...]`` or ``list[M]``."""
    candidates = (annotation, *_union_args(annotation))
    for candidate in candidates:
        if get_origin(candidate) in (tuple, list):
            candidates += get_args(candidate)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _resolve_one(
    table: dict[str, Any], key: str, required: bool, loc: Loc, ctx: SecretContext
) -> Secret | None:
    """Take ``key``, ``key_env`` and ``key_file`` out of ``table``; return the secret.

    Returns None when none of the three is given and the key is optional, and
    the placeholder when a problem was recorded instead.
    """
    spellings = (key, f"{key}_env", f"{key}_file")
    given = [spelling for spelling in spellings if spelling in table]
    values = {spelling: table.pop(spelling) for spelling in given}
    if len(given) > 1:
        ctx.problems.append(
            ((*loc, key), f"give only one of {', '.join(spellings)}; found {' and '.join(given)}")
        )
        return _PLACEHOLDER
    if not given:
        if required:
            hint = f"required key is missing (set {key}_env, {key}_file or {key})"
            ctx.problems.append(((*loc, key), hint))
            return _PLACEHOLDER
        return None
    spelling = given[0]
    if not ctx.need_secrets and spelling != key and isinstance(values[spelling], str):
        return _PLACEHOLDER
    reader = {key: _from_plain, f"{key}_env": _from_env, f"{key}_file": _from_file}[spelling]
    secret = reader(values[spelling], (*loc, spelling), ctx)
    return _PLACEHOLDER if secret is None else secret


def _from_plain(value: object, loc: Loc, ctx: SecretContext) -> Secret | None:
    """Accept a secret written in the file, with a warning (the file may be shared)."""
    if not isinstance(value, str) or not value:
        # The value is not echoed: a mistyped secret is still a secret.
        ctx.problems.append((loc, "expected a non-empty string (value hidden)"))
        return None
    key = str(loc[-1])
    noun = {"api_key": "API key", "bot_token": "bot token"}.get(key, key)
    article = "an" if noun[0] in "AEIOUaeiou" else "a"
    ctx.warnings.append(
        (loc, f"{article} {noun} is written in the file; prefer {key}_env or {key}_file")
    )
    return Secret(value)


def _from_env(value: object, loc: Loc, ctx: SecretContext) -> Secret | None:
    """Read the secret from the environment variable named by ``value``."""
    if not isinstance(value, str) or not _ENV_NAME_RE.fullmatch(value):
        # Not echoed: something that is not a variable name may be the password itself.
        hint = 'expected the name of an environment variable like "WATCHDOG_PASSWORD"'
        ctx.problems.append((loc, f"{hint} (value hidden)"))
        return None
    secret = ctx.environ.get(value)
    if secret is None:
        ctx.problems.append((loc, f"environment variable {value} is not set"))
        return None
    if not secret:
        ctx.problems.append((loc, f"environment variable {value} is empty"))
        return None
    return Secret(secret)


def _from_file(value: object, loc: Loc, ctx: SecretContext) -> Secret | None:
    """Read the secret from a file; a relative path is relative to the config file.

    Only trailing line breaks are stripped (editors add one); spaces are kept,
    since they may be part of a password.
    """
    if not isinstance(value, str) or not value.strip():
        ctx.problems.append((loc, "expected the path of a file holding the secret"))
        return None
    path = ctx.base_dir / Path(value).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        ctx.problems.append((loc, f"cannot read {path}: {exc.strerror or exc}"))
        return None
    except UnicodeDecodeError:
        ctx.problems.append((loc, f"cannot read {path}: it is not UTF-8 text"))
        return None
    secret = text.rstrip("\r\n")
    if not secret:
        ctx.problems.append((loc, f"file {path} is empty"))
        return None
    return Secret(secret)
