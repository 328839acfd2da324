"""The rule model: TOML files in, a validated, compiled ``RuleSet`` out.

Rules are data (``rules/*.toml``, schema in ``rules/README.md``). Loading
validates everything up front and compiles every regex once, so that a bad
file is reported at start, with its file, rule and field, and classification
itself never meets a malformed rule.

Layering: the bundled folder first, then each extra folder in order. Inside
one folder a name must be unique; a later folder's rule with the same name
replaces the earlier one (that is how a shop overrides a bundled rule), and
``enabled = false`` switches a rule off (then nothing else is required).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from watchdog.bundled import rules_dir
from watchdog.classify.gate import GateIndex
from watchdog.classify.match import Condition, MatchError, Predicate, compile_condition
from watchdog.classify.model import CONCLUSIONS, Decision, FiredRule, Strength
from watchdog.errors import RuleError

_RULE_KEYS = frozenset({"name", "concludes", "strength", "enabled", "explain", "match", "note"})
_EXPLAIN_KEYS = frozenset({"ru", "en"})


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule: what it matches, what it concludes, how to say why."""

    name: str
    concludes: str
    strength: Strength
    explanation_ru: str
    explanation_en: str
    condition: Condition
    file: str
    record: FiredRule = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        record = FiredRule(
            self.name,
            self.concludes,
            self.strength,
            self.explanation_ru,
            self.explanation_en,
            self.file,
        )
        object.__setattr__(self, "record", record)  # made once: the record is immutable

    def fired(self) -> FiredRule:
        """Return the record of this rule having matched."""
        return self.record


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The enabled rules, in load order (bundled files by name, then each extra folder).

    ``gates`` finds the rules worth trying on a message (see ``watchdog.classify.gate``).
    """

    rules: tuple[Rule, ...]
    gates: GateIndex = field(init=False, repr=False, compare=False)
    #: Each rule's condition as one predicate, in rule order (what the classifier calls).
    tests: tuple[Predicate, ...] = field(init=False, repr=False, compare=False)
    #: Decisions made so far, by the positions of the rules that fired: the decision
    #: depends on nothing else, and a few dozen sets of rules fire on nearly every mail.
    decisions: dict[tuple[int, ...], Decision] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "gates", GateIndex([r.condition.needs for r in self.rules]))
        object.__setattr__(self, "tests", tuple(r.condition.test for r in self.rules))
        object.__setattr__(self, "decisions", {})

    def names(self) -> tuple[str, ...]:
        """Names of the enabled rules, in order."""
        return tuple(rule.name for rule in self.rules)


def load_rules(extra_dirs: Iterable[Path | str] = (), *, bundled: Path | None = None) -> RuleSet:
    """Load the bundled rules, then every ``*.toml`` of each extra folder, in order.

    Raise RuleError for the first problem found (file, rule, what is wrong),
    including an extra folder that does not exist.
    """
    folders = [bundled if bundled is not None else rules_dir(), *(Path(d) for d in extra_dirs)]
    merged: dict[str, Rule | None] = {}
    for folder in folders:
        if not folder.is_dir():
            raise RuleError(str(folder), None, "rules folder does not exist")
        for name, rule in _load_folder(folder):
            merged.pop(name, None)  # an override moves to where it was loaded
            merged[name] = rule
    return RuleSet(tuple(rule for rule in merged.values() if rule is not None))


def _load_folder(folder: Path) -> list[tuple[str, Rule | None]]:
    """Return (name, rule or None when disabled) for every rule of a folder; names unique."""
    seen: dict[str, str] = {}
    loaded: list[tuple[str, Rule | None]] = []
    for path in sorted(folder.glob("*.toml")):
        for name, rule in load_file(path):
            if name in seen:
                raise RuleError(str(path), name, f"duplicate rule name (also in {seen[name]})")
            seen[name] = str(path)
            loaded.append((name, rule))
    return loaded


def load_file(path: Path) -> list[tuple[str, Rule | None]]:
    """Parse one rules file; a disabled rule comes back as (name, None)."""
    file = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(file, None, f"cannot be read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(file, None, f"is not valid TOML: {exc}") from exc
    unknown = set(data) - {"rule"}
    if unknown:
        raise RuleError(
            file, None, f"unknown top-level key {min(unknown)!r}; only [[rule]] tables are allowed"
        )
    entries = data.get("rule", [])
    if not isinstance(entries, list):
        raise RuleError(file, None, "'rule' must be an array of tables: write [[rule]]")
    return [_parse_rule(file, i, cast(dict[str, Any], entry)) for i, entry in enumerate(entries)]


def _parse_rule(file: str, index: int, entry: dict[str, Any]) -> tuple[str, Rule | None]:
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RuleError(file, f"#{index + 1}", "'name' is required and must be a non-empty string")
    unknown = set(entry) - _RULE_KEYS
    if unknown:
        allowed = ", ".join(sorted(_RULE_KEYS))
        raise RuleError(file, name, f"unknown key {min(unknown)!r}; allowed: {allowed}")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RuleError(file, name, "'enabled' must be true or false")
    if not enabled:
        return name, None
    return name, Rule(
        name=name,
        concludes=_concludes(file, name, entry.get("concludes")),
        strength=_strength(file, name, entry.get("strength", "strong")),
        explanation_ru=_explain(file, name, entry.get("explain"), "ru"),
        explanation_en=_explain(file, name, entry.get("explain"), "en"),
        condition=_condition(file, name, entry.get("match")),
        file=file,
    )


def _concludes(file: str, name: str, value: object) -> str:
    if value not in CONCLUSIONS:
        allowed = ", ".join(CONCLUSIONS)
        raise RuleError(file, name, f"'concludes' is {value!r}; allowed: {allowed}")
    return str(value)


def _strength(file: str, name: str, value: object) -> Strength:
    if value not in ("strong", "weak"):
        raise RuleError(file, name, f"'strength' is {value!r}; allowed: strong, weak")
    return "strong" if value == "strong" else "weak"


def _explain(file: str, name: str, value: object, lang: str) -> str:
    if not isinstance(value, dict):
        raise RuleError(file, name, "'explain' is required: a table with 'ru' and 'en' sentences")
    unknown = set(value) - _EXPLAIN_KEYS
    if unknown:
        raise RuleError(file, name, f"unknown key 'explain.{min(unknown)}'; allowed: ru, en")
    text = value.get(lang)
    if not isinstance(text, str) or not text.strip():
        raise RuleError(file, name, f"'explain.{lang}' is required: one sentence for a person")
    return text.strip()


def _condition(file: str, name: str, value: object) -> Condition:
    if value is None:
        raise RuleError(file, name, "'match' is required: a table of conditions")
    try:
        return compile_condition(value)
    except MatchError as exc:
        raise RuleError(file, name, str(exc)) from exc


def rule_files(folders: Sequence[Path]) -> list[Path]:
    """Return every rules file of ``folders``, in load order (used by tests and docs)."""
    return [p for folder in folders for p in sorted(folder.glob("*.toml"))]
