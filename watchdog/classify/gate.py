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

Finding them costs a few dictionary lookups and, per text field, one regex
scan for all the literals of all the rules (``LiteralFinder``); a set of
rules is a bit mask throughout.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from watchdog.classify.match import Facts
    from watchdog.ingest.message import Message

Need = tuple[str, ...]
Needs = frozenset[Need]
_Search = Callable[..., "re.Match[str] | None"]  # a compiled regex's search method

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


# --- finding literals ------------------------------------------------------------


class LiteralFinder:
    """Which of many literals occur in a text, found in one regex scan.

    Looking for each literal with ``in`` costs a scan of the text per literal;
    on a subject or an address the loop itself costs more than the looking.
    One regex made of the literals' trie (``_trie``: literals that share a
    start share a branch) lets ``re`` skip the positions where no literal can
    start and try only the one branch that fits the character at hand. Where
    several literals start at the same place they are prefixes of one
    another, and the regex takes the longest (it tries a longer branch before
    it stops); ``_implied`` adds every literal that is a prefix of it. The
    scan then moves on by one character, so overlapping occurrences are found
    as well: ``find`` gives exactly the literals ``in`` would find.

    ``re`` pays at each place for every branch it tries, so a long text is
    first asked which scripts it has: an English mail has no Cyrillic letter,
    many Russian ones no Latin letter, and a literal with a letter of a script
    the text lacks cannot occur; the scan leaves such literals out.

    Each literal carries a bit mask (of rules); ``find`` returns the union of
    the masks of the literals that occur.
    """

    def __init__(self, masks: dict[str, int]) -> None:
        if not masks or "" in masks:
            raise ValueError("a LiteralFinder needs non-empty literals")
        self.every = _union(masks.values())  # the masks of all the literals
        self._implied = {
            text: _union(mask for other, mask in masks.items() if text.startswith(other))
            for text in masks
        }
        # The Latin letters, and the characters beyond ASCII, that the literals use.
        latin = {char for text in masks for char in text if char.isascii() and char.isalpha()}
        wide = {char for text in masks for char in text if not char.isascii()}
        self._latin, self._wide = _search_any(latin), _search_any(wide)
        #: For a text with Latin letters (+1) and characters beyond ASCII (+2): a scan for
        #: the literals it may contain. [3] is every literal.
        self._scans = [
            _scan(
                t
                for t in masks
                if (has & 1 or latin.isdisjoint(t)) and (has & 2 or wide.isdisjoint(t))
            )
            for has in range(4)
        ]

    def find(self, text: str, seen: int = 0) -> int:
        """Return the union of the masks of the literals in ``text`` (and ``seen``, given)."""
        every = self.every
        if seen & every == every:
            return seen  # whatever occurs, nothing new
        search = self._scans[3]
        if len(text) > _SHORT_TEXT:
            latin = self._latin is not None and self._latin(text) is not None
            wide = self._wide is not None and not text.isascii() and self._wide(text) is not None
            search = self._scans[latin + 2 * wide]
        if search is None:
            return seen
        implied = self._implied
        found = search(text)
        while found is not None:
            seen |= implied[found.group()]
            if seen & every == every:
                break
            found = search(text, found.start() + 1)
        return seen


_SHORT_TEXT = 100  # characters; asking a shorter text for its scripts costs more than it saves


def _search_any(chars: set[str]) -> _Search | None:
    """The search method of a regex matching any of ``chars``; None when there are none."""
    return re.compile(f"[{re.escape(''.join(sorted(chars)))}]").search if chars else None


def _scan(literals: Iterable[str]) -> _Search | None:
    """The search method of the trie regex of ``literals``; None when there are none."""
    literals = list(literals)
    return re.compile(_trie(literals)).search if literals else None


def _union(masks: Iterable[int]) -> int:
    union = 0
    for mask in masks:
        union |= mask
    return union


def _trie(literals: Iterable[str]) -> str:
    """A regex matching any of ``literals``: at each place, the longest one that starts there."""
    root: dict[str, Any] = {}
    for text in literals:
        node = root
        for char in text:
            node = node.setdefault(char, {})
        node[""] = {}  # a literal ends here
    return _branches(root)


def _branches(node: dict[str, Any]) -> str:
    """The regex of one trie node; a literal ending here matches only when no longer one does."""
    alternatives = [re.escape(char) + _branches(sub) for char, sub in sorted(node.items()) if char]
    if not alternatives:
        return ""
    group = "(?:" + "|".join(alternatives) + ")"
    if "" in node:
        return group + "?"  # greedy: the longer literal first
    return alternatives[0] if len(alternatives) == 1 else group


# --- the index ----------------------------------------------------------------

#: Fields that are often one and the same text (a mail without quoted history: the new
#: text is the whole text): when they are, their literals are looked for in one scan.
_TWINS = (("text", "full_text"), ("from", "from_lower"))
#: What a ``("has", ...)`` need asks of the message.
_HAS: dict[str, Callable[[Message], object]] = {
    "reply_to": lambda m: m.reply_to,
    "in_reply_to": lambda m: m.in_reply_to,
    "recipients": lambda m: m.to or m.cc,
    "attachments": lambda m: m.attachments,
}
_MAX_ORDERS = 4096  # sets of candidates remembered with their rule positions, at most


class GateIndex:
    """Which rules a message may satisfy, found from their needs in a few lookups.

    Built once per rule set from each rule's needs (None: always tried).
    ``candidates`` returns the positions of the rules worth running, ascending.
    Inside, a set of rules is a bit mask (bit ``i``: the rule at position ``i``),
    so that adding the rules of a header or a literal is one ``|``.
    """

    def __init__(self, needs: Sequence[Needs | None]) -> None:
        self._always = 0
        by_key: dict[tuple[str, str], int] = {}
        literals: dict[str, dict[str, int]] = {}
        regexes: dict[str, dict[str, int]] = {}
        for position, rule_needs in enumerate(needs):
            bit = 1 << position
            if rule_needs is None:
                self._always |= bit
                continue
            for need in rule_needs:
                if need[0] == "literal" and not need[2]:
                    self._always |= bit  # every text contains the empty string
                elif need[0] == "literal":
                    by_text = literals.setdefault(need[1], {})
                    by_text[need[2]] = by_text.get(need[2], 0) | bit
                elif need[0] == "regex":
                    by_pattern = regexes.setdefault(need[1], {})
                    by_pattern[need[2]] = by_pattern.get(need[2], 0) | bit
                else:
                    by_key[(need[0], need[1])] = by_key.get((need[0], need[1]), 0) | bit
        kinds: dict[str, dict[str, int]] = {}
        for (kind, name), mask in by_key.items():
            kinds.setdefault(kind, {})[name] = mask
        self._headers = kinds.get("header", {})
        self._header_names = frozenset(self._headers)
        self._domains = kinds.get("from_domain", {})
        self._mimes = kinds.get("mime", {})
        self._attachments = kinds.get("attachment", {})
        self._has = tuple((_HAS[name], mask) for name, mask in kinds.get("has", {}).items())
        self._twins, self._single = _literal_finders(literals)
        self._regexes: list[tuple[str, re.Pattern[str], int]] = []
        for field, by_pattern in regexes.items():
            mask = _union(by_pattern.values())
            combined = _combine(list(by_pattern))
            if combined is None:
                self._always |= mask
            else:
                self._regexes.append((field, combined, mask))
        self._orders: dict[int, tuple[int, ...]] = {}

    def candidates(self, facts: Facts) -> tuple[int, ...]:
        """Positions of the rules whose need this message meets (every rule may, else skipped)."""
        hit = self._always | self._structural(facts.message, facts.from_domain)
        hit = self._literals_in(facts, hit)
        for field, combined, mask in self._regexes:
            if hit & mask != mask and combined.search(FIELDS[field](facts)):
                hit |= mask
        order = self._orders.get(hit)
        if order is None:
            order = _positions(hit)
            if len(self._orders) < _MAX_ORDERS:
                self._orders[hit] = order
        return order

    def _structural(self, message: Message, from_domain: str) -> int:
        """Rules whose header, sender domain, MIME type or non-empty field the message has."""
        hit = 0
        if not self._header_names.isdisjoint(message.headers):
            for name in self._header_names.intersection(message.headers):
                hit |= self._headers[name]
        domains, domain = self._domains, from_domain
        while domain:
            hit |= domains.get(domain, 0)
            domain = domain.partition(".")[2]
        mimes = self._mimes
        hit |= mimes.get(message.content_type.lower(), 0)
        for mime in message.mime_types:
            hit |= mimes.get(mime.lower(), 0)
        for attachment in message.attachments:
            hit |= self._attachments.get(attachment.content_type.lower(), 0)
        for present, mask in self._has:
            if present(message):
                hit |= mask
        return hit

    def _literals_in(self, facts: Facts, hit: int) -> int:
        """Add the rules one of whose literals the message's fields contain."""
        for first, second, both, apart in self._twins:
            text, other = FIELDS[first](facts), FIELDS[second](facts)
            if text == other:
                hit = both.find(text, hit)
            else:
                hit = apart[1].find(other, apart[0].find(text, hit))
        for field, finder in self._single:
            hit = finder.find(FIELDS[field](facts), hit)
        return hit


_Twin = tuple[str, str, LiteralFinder, tuple[LiteralFinder, LiteralFinder]]


def _literal_finders(
    literals: dict[str, dict[str, int]],
) -> tuple[list[_Twin], list[tuple[str, LiteralFinder]]]:
    """One finder per field, and one more per pair of ``_TWINS`` for when they are equal."""
    finders = {field: LiteralFinder(masks) for field, masks in literals.items()}
    twins: list[_Twin] = []
    for first, second in _TWINS:
        if first in finders and second in finders:
            both = dict(literals[first])
            for text, mask in literals[second].items():
                both[text] = both.get(text, 0) | mask
            apart = (finders.pop(first), finders.pop(second))
            twins.append((first, second, LiteralFinder(both), apart))
    return twins, list(finders.items())


def _positions(mask: int) -> tuple[int, ...]:
    """The positions of the bits set in ``mask``, ascending."""
    positions = []
    while mask:
        low = mask & -mask
        positions.append(low.bit_length() - 1)
        mask ^= low
    return tuple(positions)


def _combine(patterns: list[str]) -> re.Pattern[str] | None:
    """One regex matching wherever any of the (lower-cased, multi-line) ``patterns`` does."""
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.MULTILINE)
    except re.error:  # duplicate group names: keep them apart
        return None
