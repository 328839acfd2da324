"""Finding, reading and validating the config file, reporting every problem at once.

Loading goes in four steps:

1. read the file and parse the TOML (a syntax error stops here: nothing after
   it can be trusted);
2. resolve the secrets (``X`` / ``X_env`` / ``X_file``), collecting problems;
3. compare tables with each other (unique names, known chats);
4. validate everything against :mod:`watchdog.config.schema`.

Problems from steps 2-4 are pooled, sorted in file order and raised together
as one :class:`~watchdog.errors.ConfigError`, so a user fixes the whole file
in one go rather than one mistake per run.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from watchdog.config.checks import cross_check
from watchdog.config.problems import (
    Problem,
    all_models,
    file_position,
    format_line,
    from_pydantic,
    suggested_key,
)
from watchdog.config.schema import Config
from watchdog.config.secrets import SecretContext, resolve_secrets, secret_keys
from watchdog.errors import ConfigError

ENV_VAR = "WATCHDOG_CONFIG"
DEFAULT_PATH = Path("watchdog.toml")

_TOML_WHERE_RE = re.compile(
    r"^(?P<message>.*) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$"
)
_SECRET_NAMES = frozenset(key for model in all_models(Config) for key in secret_keys(model))


def resolve_config_path(cli_value: str | None, environ: Mapping[str, str] | None = None) -> Path:
    """Return the config file to use: ``--config``, else ``$WATCHDOG_CONFIG``, else ./watchdog.toml.

    An empty ``WATCHDOG_CONFIG`` counts as unset. The path is returned as given
    (not made absolute), so error messages show what the user typed.
    """
    if cli_value:
        return Path(cli_value)
    from_env = (os.environ if environ is None else environ).get(ENV_VAR)
    return Path(from_env) if from_env else DEFAULT_PATH


def load_config(
    path: Path, *, environ: Mapping[str, str] | None = None, need_secrets: bool = True
) -> Config:
    """Read, validate and freeze the config at ``path``; secrets come from ``environ``.

    ``environ`` defaults to ``os.environ``. With ``need_secrets=False`` (for
    commands that use no secret, like ``db upgrade``) the ``*_env`` variables
    and ``*_file`` files are not read, and secrets given that way stay empty.
    Raises ConfigError listing every problem found, one line each, in file order.
    """
    name = str(path)
    raw = _read_toml(path, name)
    ctx = SecretContext(
        environ=os.environ if environ is None else environ,
        base_dir=path.parent,
        need_secrets=need_secrets,
    )
    data = resolve_secrets(raw, Config, (), ctx)
    problems = [Problem(loc, text) for loc, text in ctx.problems] + cross_check(raw)
    warnings = [format_line(name, Problem(loc, text)) for loc, text in ctx.warnings]
    warnings += [format_line(name, note) for note in _notes(raw)]
    context = {"base_dir": path.parent, "warnings": warnings}
    try:
        config = Config.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        problems += [from_pydantic(error, Config, _SECRET_NAMES) for error in errors]
        raise _config_error(name, raw, problems) from None
    if problems:
        raise _config_error(name, raw, problems) from None
    return config


def _config_error(name: str, raw: dict[str, Any], problems: list[Problem]) -> ConfigError:
    """Build the error: problems in file order, each once."""
    problems = _drop_explained_missing(problems)
    ordered = sorted(problems, key=lambda problem: file_position(raw, problem.loc))
    lines = [format_line(name, problem) for problem in ordered]
    return ConfigError(list(dict.fromkeys(lines)))


def _drop_explained_missing(problems: list[Problem]) -> list[Problem]:
    """Drop "required key is missing" for a key that a misspelt key next to it meant.

    ``pasword_env = ...`` is one mistake: the line suggesting "password_env"
    says all there is to say, so "password: required key is missing" goes.
    """
    meant = set()
    for problem in problems:
        key = suggested_key(problem)
        if key is not None:
            base = key.removesuffix("_env").removesuffix("_file")
            meant.update({(*problem.loc[:-1], key), (*problem.loc[:-1], base)})
    return [
        problem
        for problem in problems
        if not (problem.message.startswith("required key is missing") and problem.loc in meant)
    ]


def _notes(raw: dict[str, Any]) -> list[Problem]:
    """Return non-fatal remarks about the file as a whole."""
    if not raw.get("mailbox") and not raw.get("form"):
        return [Problem((), "no [[mailbox]] or [[form]] is configured, so nothing is watched")]
    return []


def _read_toml(path: Path, name: str) -> dict[str, Any]:
    """Return the parsed TOML; raise ConfigError with one line if it cannot be read or parsed."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        hint = f"give --config, set {ENV_VAR}, or create {DEFAULT_PATH}"
        raise ConfigError([f"{name}: config file not found ({hint})"]) from None
    except OSError as exc:
        raise ConfigError([f"{name}: cannot read the config file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{name}: the file is not UTF-8 text (byte {exc.start + 1})"]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{name}: {_where(str(exc))}"]) from None


def _where(message: str) -> str:
    """Turn tomllib's "Invalid value (at line 3, column 10)" into "line 3, column 10: Invalid value".

    Python 3.11's TOMLDecodeError has no line/column attributes: they are only
    in the text, so they are parsed out of it.
    """
    match = _TOML_WHERE_RE.match(message)
    if match is None:
        return message
    if match.group("line") is None:
        return f"end of file: {match.group('message')}"
    return f"line {match.group('line')}, column {match.group('col')}: {match.group('message')}"
