"""Rule gates: a cheap sign each rule needs, so most rules are skipped without running.

Trying every rule on every message cost more than parsing the message: some
sixty rules, each a little tree of Python calls, for a handful that fire. Yet
most rules need something a message rarely has: a header (List-Id,
Auto-Submitted), a sender domain (tilda.ws), a MIME type, a word in the
subject. At load time each rule's condition names such a *need* (see
``watchdog.classify.match``); a ``GateIndex`` finds, per message, the rules
whose need is met, and only those are run, in rule order. A gate is only a
necessary condition, never a decision: a rule it lets through is run in full,
and a rule it skips could not have matched. So the decisions are exactly
those of running every rule (``tests/test_classify_gate.py`` holds it to that).

Needs, cheapest first (``Need`` tuples):

- ``("header", name)``: the message has the header (``Message.headers``);
- ``("from_domain", d)``: the From domain is ``d`` or under it;
- ``("mime", type)`` / ``("attachment", type)``: a part / an attachment has the type;
- ``("has", "reply_to" | "in_reply_to" | "recipients" | "attachments")``: the field is not empty;
- ``("literal", field, text)``: the field, as the rule's regex sees it, contains ``text``
  (literals every match of the regex must contain, read from the regex itself);
- ``("regex", field, pattern)``: one regex made of every such pattern on that field matches
  (each rule's regexes are lower-cased, see ``match.Pattern``: the field is searched lower-cased).

A rule's need is a set of these; it is met when any one of them holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from watchdog.classify.match import Facts

Need = tuple[str, ...]
Needs = frozenset[Need]

#: Fields a regex leaf searches, as the leaf gives them to the regex (lower-cased or not).
FIELDS: dict[str, Callable[[Facts], str]] = {
    "subject": lambda f: f.subject_lower,
    "text": lambda f: f.text_lower,
    "full_text": lambda f: f.full_text_lower,
    "from": lambda f: f.from_email,
    "from_lower": lambda f: f.from_email.lower(),
    "from_name": lambda f: f.from_name.lower(),
    "recipients": lambda f: "\n".join(a.email for a in f.recipients),
}
_STRUCTURAL = frozenset({"header", "from_domain", "mime", "attachment", "has"})
#: Fields of a few dozen characters: one regex made of all their rules' regexes costs less
#: than looking for literals of a character or two, which nearly every value has ("@", ".").
_SHORT_FIELDS = frozenset({"subject", "from", "from_name"})
_MAX_LITERALS = 32  # more literals than this cost more to look for than the regex itself
_LITERAL_CHARS = 8  # of a literal, enough to be rare
_MAX_SET = 64  # strings a sub-pattern may stand for before it is treated as "anything"


def best_needs(options: Iterable[Needs | None]) -> Needs | None:
    """Of several needs that all hold (the parts of an all-of table), the cheapest to test."""
    return min((o for o in options if o is not None), key=_cost, default=None)


def _cost(needs: Needs) -> tuple[int, int]:
    kinds = {need[0] for need in needs}
    if kinds <= _STRUCTURAL:
        return 0, len(needs)
    if kinds <= _STRUCTURAL | {"literal"}:
        return 1, len(needs)
    return 2, len(needs)


def any_needs(options: Sequence[Needs | None]) -> Needs | None:
    """Needs of an any-of group: the union of its members' needs, if every member has some."""
    if any(o is None for o in options):
        return None
    return frozenset().union(*options)  # type: ignore[arg-type]


def regex_needs(field: str, pattern: str, folded: bool) -> Needs | None:
    """Needs of a regex leaf on ``field``: a few literals every match contains, else the regex.

    Only for a ``folded`` pattern (lower-cased, run without IGNORECASE on the
    field as ``FIELDS`` gives it); a case-sensitive one gets no gate. On
    ``recipients`` (addresses joined by newlines) only literals are sound.
    """
    if not folded:
        return None
    literals = required_literals(pattern)
    weak = literals is None or min(map(len, literals)) < 3 and field in _SHORT_FIELDS
    if literals is not None and len(literals) <= _MAX_LITERALS and not weak:
        return frozenset(("literal", field, text) for text in literals)
    if field != "recipients" and _combinable(pattern):
        return frozenset({("regex", field, pattern)})
    if literals is not None and len(literals) <= _MAX_LITERALS:
        return frozenset(("literal", field, text) for text in literals)
    return None


_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


def _combinable(pattern: str) -> bool:
    """False for a pattern that cannot be one branch of a bigger one (back-references, flags)."""
    if _BACKREFERENCE.search(pattern):
        return False
    try:
        return not re.compile(pattern).flags & ~(re.UNICODE | re.MULTILINE)
    except re.error:
        return False


# --- literals every match must contain ---------------------------------------

try:  # the stdlib's regex parser; private, so any surprise just means "no literals"
    from re import _constants as _sre_c  # type: ignore[attr-defined]
    from re import _parser as _sre_p  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on the Python version
    _sre_p = _sre_c = None


@dataclass(frozen=True, slots=True)
class _Lits:
    """What a sub-pattern can match: every string (``exact``) or one it must contain."""

    exact: frozenset[str] | None  # all the strings it matches, when few
    required: frozenset[str] | None  # non-empty strings, one of which is in every match


def required_literals(pattern: str) -> frozenset[str] | None:
    """Return non-empty strings one of which occurs in every match of ``pattern``, or None.

    Read from the parsed pattern (case-sensitive, as compiled without
    IGNORECASE): a run of literal characters is such a string, so is each
    alternative's run in an alternation; a repeat that may match nothing
    needs nothing. None when the pattern offers nothing certain.
    """
    if _sre_p is None:
        return None
    try:
        tree = _sre_p.parse(pattern, re.MULTILINE)
        if tree.state.flags & (re.IGNORECASE | re.VERBOSE):
            return None
        return _best(_sequence(list(tree)))
    except Exception:  # noqa: BLE001 - an unknown construct just means "no literals"
        return None


def _best(info: _Lits) -> frozenset[str] | None:
    candidates = [info.required]
    if info.exact is not None and "" not in info.exact:
        candidates.append(info.exact)
    return _pick(candidates)


def _pick(candidates: Iterable[frozenset[str] | None]) -> frozenset[str] | None:
    """The most useful literal set: few literals first, then long ones.

    Each literal is cut to its first ``_LITERAL_CHARS`` characters and a
    literal containing another is dropped (where it occurs, so does the
    other): the set says the same with fewer, cheaper searches.
    """
    usable = [_shortest(c) for c in candidates if c]
    if not usable:
        return None
    return max(usable, key=lambda c: (len(c) <= _MAX_LITERALS, min(min(map(len, c)), 4), -len(c)))


def _shortest(literals: frozenset[str]) -> frozenset[str]:
    cut = sorted({text[:_LITERAL_CHARS] for text in literals}, key=len)
    kept: list[str] = []
    for text in cut:
        if not any(other in text for other in kept):
            kept.append(text)
    return frozenset(kept)


def _sequence(items: list[tuple[Any, Any]]) -> _Lits:
    candidates: list[frozenset[str] | None] = []
    run: frozenset[str] | None = frozenset({""})
    exact = True
    for op, arg in items:
        node = _node(op, arg)
        candidates.append(node.required)
        if node.exact is not None and "" not in node.exact:
            candidates.append(node.exact)
        if node.exact is not None and run is not None and len(run) * len(node.exact) <= _MAX_SET:
            run = frozenset(a + b for a in run for b in node.exact)
            continue
        exact = False
        if run is not None and "" not in run:
            candidates.append(run)
        run = node.exact if node.exact is not None else frozenset({""})
    if run is not None and "" not in run:
        candidates.append(run)
    return _Lits(run if exact else None, _pick(candidates))


def _node(op: Any, arg: Any) -> _Lits:
    c = _sre_c
    if op is c.LITERAL:
        return _Lits(frozenset({chr(arg)}), None)
    if op is c.AT or op in (c.ASSERT, c.ASSERT_NOT):
        return _Lits(frozenset({""}), None)
    if op is c.SUBPATTERN:
        _group, add_flags, del_flags, sub = arg
        if add_flags & re.IGNORECASE or del_flags:
            return _Lits(None, None)
        return _sequence(list(sub))
    if op is c.BRANCH:
        return _branch([_sequence(list(alt)) for alt in arg[1]])
    if op is c.IN:
        return _Lits(_class(arg), None)
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
        low, high, sub = arg
        inner = _sequence(list(sub))
        if low == 0:
            if high == 1 and inner.exact is not None:
                return _Lits(inner.exact | {""}, None)
            return _Lits(None, None)
        return _Lits(inner.exact if low == high == 1 else None, _best(inner))
    if op is getattr(c, "ATOMIC_GROUP", None):
        return _sequence(list(arg))
    return _Lits(None, None)


def _branch(alternatives: list[_Lits]) -> _Lits:
    exact: frozenset[str] | None = None
    if all(a.exact is not None for a in alternatives):
        union = frozenset(text for a in alternatives for text in a.exact or ())
        exact = union if len(union) <= _MAX_SET else None
    required = [_best(a) for a in alternatives]
    if any(r is None for r in required):
        return _Lits(exact, None)
    union_required = frozenset(text for r in required for text in r or ())
    return _Lits(exact, union_required if len(union_required) <= _MAX_SET else None)


def _class(items: list[tuple[Any, Any]]) -> frozenset[str] | None:
    """The characters of a small character class without negation or categories."""
    chars: set[str] = set()
    for op, arg in items:
        if op is _sre_c.LITERAL:
            chars.add(chr(arg))
        elif op is _sre_c.RANGE and arg[1] - arg[0] < 8:
            chars.update(chr(code) for code in range(arg[0], arg[1] + 1))
        else:
            return None
    return frozenset(chars) if 0 < len(chars) <= 8 else None


# --- the index ----------------------------------------------------------------


class GateIndex:
    """Which rules a message may satisfy, found from their needs in a few lookups.

    Built once per rule set from each rule's needs (None: always tried).
    ``candidates`` returns the positions of the rules worth running, ascending.
    """

    def __init__(self, needs: Sequence[Needs | None]) -> None:
        self._always: list[int] = []
        self._by_key: dict[tuple[str, str], list[int]] = {}
        self._literals: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        self._regexes: dict[str, tuple[re.Pattern[str], list[int]]] = {}
        regex_rules: dict[str, dict[str, list[int]]] = {}
        for position, rule_needs in enumerate(needs):
            if rule_needs is None:
                self._always.append(position)
                continue
            literals: dict[str, list[str]] = {}
            for need in rule_needs:
                if need[0] == "literal":
                    literals.setdefault(need[1], []).append(need[2])
                elif need[0] == "regex":
                    regex_rules.setdefault(need[1], {}).setdefault(need[2], []).append(position)
                else:
                    self._by_key.setdefault((need[0], need[1]), []).append(position)
            for field, texts in literals.items():
                self._literals.setdefault(field, []).append(
                    (position, tuple(sorted(texts, key=len)))
                )
        for field, by_pattern in regex_rules.items():
            positions = sorted({p for found in by_pattern.values() for p in found})
            combined = _combine(list(by_pattern))
            if combined is None:
                self._always.extend(positions)
            else:
                self._regexes[field] = (combined, positions)
        self._always = sorted(set(self._always))

    def candidates(self, facts: Facts) -> list[int]:
        """Positions of the rules whose need this message meets (every rule may, else skipped)."""
        hit = set(self._always)
        by_key = self._by_key
        message = facts.message
        for name in message.headers:
            found = by_key.get(("header", name))
            if found:
                hit.update(found)
        domain = facts.from_domain
        while domain:
            found = by_key.get(("from_domain", domain))
            if found:
                hit.update(found)
            domain = domain.partition(".")[2]
        for mime in message.mime_types:
            found = by_key.get(("mime", mime.lower()))
            if found:
                hit.update(found)
        found = by_key.get(("mime", message.content_type.lower()))
        if found:
            hit.update(found)
        for attachment in message.attachments:
            found = by_key.get(("attachment", attachment.content_type.lower()))
            if found:
                hit.update(found)
        for name, present in (
            ("reply_to", message.reply_to),
            ("in_reply_to", message.in_reply_to),
            ("recipients", message.to or message.cc),
            ("attachments", message.attachments),
        ):
            if present:
                hit.update(by_key.get(("has", name), ()))
        for field, rules in self._literals.items():
            text = None
            for position, literals in rules:
                if position in hit:
                    continue
                if text is None:
                    text = FIELDS[field](facts)
                for literal in literals:
                    if literal in text:
                        hit.add(position)
                        break
        for field, (combined, positions) in self._regexes.items():
            if not hit.issuperset(positions) and combined.search(FIELDS[field](facts)):
                hit.update(positions)
        return sorted(hit)


def _combine(patterns: list[str]) -> re.Pattern[str] | None:
    """One regex matching wherever any of the (lower-cased, multi-line) ``patterns`` does."""
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.MULTILINE)
    except re.error:  # duplicate group names: keep them apart
        return None
