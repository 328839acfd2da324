"""Matchers: a rule's ``match`` table compiled once into cheap predicates.

A condition table is all-of its keys; ``any``, ``all`` and ``none`` hold
lists of nested tables (at least one / every one / not one must hold). A
list value for an address, domain or type key means "any of these". Regexes
are compiled once, case-insensitive and multi-line (``^``/``$`` per line);
write ``(?-i:...)`` to make part of one case-sensitive (slower; see Pattern).

Inside a table the leaves are ordered by cost (headers and addresses first,
the body next, re-reading a delivery report last), so most rules are
rejected after a dictionary lookup or two and the body is scanned only for
the few rules whose cheap conditions already hold.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from watchdog.classify import dsn
from watchdog.classify.gate import Needs, any_needs, best_needs, regex_needs
from watchdog.classify.model import ClassifyContext
from watchdog.ingest.message import Address, Message

_FLAGS = re.IGNORECASE | re.MULTILINE


class Facts:
    """One message as the matchers see it: each fact computed once per message.

    Many rules ask the same question (the sender's domain, the lower-cased
    subject); answering it here keeps a rule set of a hundred rules cheap.
    The cheap facts, and the lower-cased texts the gates search anyway (see
    ``watchdog.classify.gate``), are plain attributes set at once: a lazily
    computed property costs more to look up than most of them cost to make.
    Only the delivery report, which may mean parsing the mail again, waits
    until a rule asks.
    """

    __slots__ = (
        "_failed",
        "context",
        "from_domain",
        "from_email",
        "from_name",
        "full_text_lower",
        "message",
        "raw",
        "recipients",
        "subject_lower",
        "text_lower",
    )

    message: Message
    context: ClassifyContext
    raw: bytes | None
    from_email: str
    from_name: str
    from_domain: str
    subject_lower: str
    text_lower: str
    full_text_lower: str
    recipients: tuple[Address, ...]
    _failed: tuple[str, ...] | None

    def __init__(self, message: Message, context: ClassifyContext, raw: bytes | None) -> None:
        self.message = message
        self.context = context
        self.raw = raw
        sender = message.from_
        #: The From address (lower-cased), its display name and its domain; "" when none.
        self.from_email = sender.email if sender else ""
        self.from_name = sender.name if sender else ""
        self.from_domain = sender.domain if sender else ""
        #: The subject, the new text and the whole text, lower-cased once for every
        #: case-insensitive pattern (the whole text is the new one when nothing is quoted).
        self.subject_lower = message.subject.lower()
        self.text_lower = message.text.lower()
        full = message.full_text
        self.full_text_lower = self.text_lower if full == message.text else full.lower()
        #: To and Cc together.
        self.recipients = message.to + message.cc
        self._failed = None

    @property
    def failed_recipients(self) -> tuple[str, ...]:
        """Addresses a delivery report names as failed (see ``dsn``), found on first use."""
        if self._failed is None:
            self._failed = dsn.failed_recipients(self.message, self.raw)
        return self._failed


Predicate = Callable[[Facts], bool]


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled condition table: every step must hold; steps run cheapest first.

    ``needs`` is a cheap sign the table cannot hold without (see
    ``watchdog.classify.gate``), or None when there is none. ``test`` is the
    steps made one predicate (``_every``): the classifier calls it directly.
    """

    steps: tuple[Predicate, ...]
    cost: int = 0
    needs: Needs | None = None
    test: Predicate = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "test", _every(self.steps))

    def __call__(self, facts: Facts) -> bool:
        """Return True when the message satisfies this table."""
        return self.test(facts)


def _every(steps: Sequence[Predicate]) -> Predicate:
    """One predicate that holds when all ``steps`` do, tried in order; no loop for one or two."""
    if len(steps) == 1:
        return steps[0]
    if len(steps) == 2:
        first, second = steps
        return lambda f: first(f) and second(f)
    steps = tuple(steps)
    return lambda f: all(step(f) for step in steps)


def _some(steps: Sequence[Predicate]) -> Predicate:
    """One predicate that holds when any of ``steps`` does, tried in order."""
    if len(steps) == 1:
        return steps[0]
    if len(steps) == 2:
        first, second = steps
        return lambda f: first(f) or second(f)
    steps = tuple(steps)
    return lambda f: any(step(f) for step in steps)


class MatchError(ValueError):
    """A condition table is malformed; the message names the key and what is allowed."""


# --- value helpers -------------------------------------------------------


def _strings(key: str, value: object) -> tuple[str, ...]:
    """Accept a string or a list of strings; lower-case them for comparison."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise MatchError(f"{key}: expected a string or a non-empty list of strings")
    return tuple(v.strip().lower() for v in items)


@dataclass(frozen=True, slots=True)
class Pattern:
    """A rule's regex, compiled for speed.

    Python's ``re`` is about twenty times slower with IGNORECASE on long
    alternations, so a pattern is lower-cased (outside its escapes) and run
    without the flag against lower-cased text, which each ``Facts`` computes
    once. A pattern that switches case sensitivity back on (``(?-i``) keeps
    the flag and sees the original text.
    """

    compiled: re.Pattern[str]
    folded: bool

    def search(self, text: str, lowered: str | None = None) -> bool:
        """Return True when the pattern occurs in ``text`` (``lowered`` is its lower-cased copy)."""
        if self.folded:
            return self.compiled.search(text.lower() if lowered is None else lowered) is not None
        return self.compiled.search(text) is not None


def _lower_pattern(pattern: str) -> str:
    """Lower-case a regex outside its escapes: ``\\S`` and ``\\W`` keep their meaning."""
    out: list[str] = []
    escaped = False
    for ch in pattern:
        out.append(ch if escaped else ch.lower())
        escaped = not escaped and ch == "\\"
    return "".join(out)


def _regex(key: str, value: object) -> Pattern:
    if not isinstance(value, str):
        raise MatchError(f"{key}: expected a regular expression as a string")
    try:
        if "(?-i" in value:
            return Pattern(re.compile(value, _FLAGS), folded=False)
        re.compile(value, _FLAGS)  # report errors against what the author wrote
        return Pattern(re.compile(_lower_pattern(value), re.MULTILINE), folded=True)
    except re.error as exc:
        raise MatchError(f"{key}: invalid regular expression {value!r}: {exc}") from exc


def _bool(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise MatchError(f"{key}: expected true or false")
    return value


def _int(key: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MatchError(f"{key}: expected a whole number >= 0")
    return value


def _table(key: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise MatchError(f"{key}: expected a table of header names")
    return value


@functools.lru_cache(maxsize=4096)  # a few domains, asked about on every mail
def _org(domain: str) -> str:
    """Approximate the organisation's domain: the last two labels, three under co.uk-style suffixes."""
    labels = domain.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "msk", "spb"})


def _bool_leaf(test: Callable[[Facts], bool], wanted: bool) -> Predicate:
    return test if wanted else (lambda f: not test(f))


# --- leaf builders: key -> (cost, builder) ---------------------------------


def _header_present(key: str, value: object) -> Predicate:
    names = frozenset(_strings(key, value))
    return lambda f: not names.isdisjoint(f.message.headers)


def _header_equals(key: str, value: object) -> Predicate:
    wanted = {name.lower(): _strings(f"{key}.{name}", v) for name, v in _table(key, value).items()}

    def test(f: Facts) -> bool:
        for name, options in wanted.items():
            values = f.message.headers.get(name, ())
            if not any(v.strip().lower() in options for v in values):
                return False
        return True

    return test


def _header_regex(key: str, value: object) -> Predicate:
    patterns = {name.lower(): _regex(f"{key}.{name}", v) for name, v in _table(key, value).items()}
    searches = [(name, p.compiled.search, p.folded) for name, p in patterns.items()]

    def test(f: Facts) -> bool:
        for name, search, folded in searches:
            for header in f.message.headers.get(name, ()):
                if search(header.lower() if folded else header) is not None:
                    break
            else:
                return False
        return True

    return test


def _from_regex(key: str, value: object) -> Predicate:
    search = _regex(key, value).compiled.search  # on the address as it is, folded or not
    return lambda f: bool(f.from_email) and search(f.from_email) is not None


def _from_name_regex(key: str, value: object) -> Predicate:
    pattern = _regex(key, value)
    return lambda f: pattern.search(f.from_name)


def _from_domain(key: str, value: object) -> Predicate:
    exact, under = _domain_sets(_strings(key, value))
    return lambda f: (
        bool(f.from_domain) and (f.from_domain in exact or f.from_domain.endswith(under))
    )


def _domain_sets(domains: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """``domains`` as a set (the domain is one) and suffixes (a subdomain ends with one)."""
    return frozenset(domains), tuple("." + d for d in domains)


def _reply_to_present(key: str, value: object) -> Predicate:
    return _bool_leaf(lambda f: bool(f.message.reply_to), _bool(key, value))


def _reply_to_domain(key: str, value: object) -> Predicate:
    exact, under = _domain_sets(_strings(key, value))

    def test(f: Facts) -> bool:
        for address in f.message.reply_to:
            domain = address.domain
            if domain and (domain in exact or domain.endswith(under)):
                return True
        return False

    return test


def _reply_to_other_domain(key: str, value: object) -> Predicate:
    def test(f: Facts) -> bool:
        return any(a.domain and a.domain != f.from_domain for a in f.message.reply_to)

    return _bool_leaf(test, _bool(key, value))


def _to_regex(key: str, value: object) -> Predicate:
    search = _regex(key, value).compiled.search  # on each address as it is, folded or not
    return lambda f: any(search(a.email) is not None for a in f.recipients)


def _recipients_min(key: str, value: object) -> Predicate:
    least = _int(key, value)
    return lambda f: len(f.recipients) >= least


def _recipients_max(key: str, value: object) -> Predicate:
    most = _int(key, value)
    return lambda f: len(f.recipients) <= most


def _to_is_from(key: str, value: object) -> Predicate:
    def test(f: Facts) -> bool:
        if not f.from_email or not f.recipients:
            return False
        for address in f.recipients:
            if address.email != f.from_email:
                return False
        return True

    return _bool_leaf(test, _bool(key, value))


def _subject_regex(key: str, value: object) -> Predicate:
    pattern = _regex(key, value)
    search = pattern.compiled.search
    if pattern.folded:
        return lambda f: search(f.subject_lower) is not None
    return lambda f: search(f.message.subject) is not None


def _body_regex(key: str, value: object) -> Predicate:
    pattern = _regex(key, value)
    search = pattern.compiled.search
    if pattern.folded:
        return lambda f: search(f.text_lower) is not None
    return lambda f: search(f.message.text) is not None


def _full_body_regex(key: str, value: object) -> Predicate:
    pattern = _regex(key, value)
    search = pattern.compiled.search
    if pattern.folded:
        return lambda f: search(f.full_text_lower) is not None
    return lambda f: search(f.message.full_text) is not None


def _content_type(key: str, value: object) -> Predicate:
    types = _strings(key, value)
    return lambda f: f.message.content_type.lower() in types


def _mime_type(key: str, value: object) -> Predicate:
    types = _strings(key, value)
    return lambda f: any(t.lower() in types for t in f.message.mime_types)


def _attachment_type(key: str, value: object) -> Predicate:
    types = _strings(key, value)
    return lambda f: any(a.content_type.lower() in types for a in f.message.attachments)


def _attachment_name_regex(key: str, value: object) -> Predicate:
    pattern = _regex(key, value)
    return lambda f: any(a.filename and pattern.search(a.filename) for a in f.message.attachments)


def _html_only(key: str, value: object) -> Predicate:
    return _bool_leaf(lambda f: f.message.html_only, _bool(key, value))


def _in_reply_to_present(key: str, value: object) -> Predicate:
    return _bool_leaf(lambda f: bool(f.message.in_reply_to), _bool(key, value))


def _direction(key: str, value: object) -> Predicate:
    allowed = _strings(key, value)
    bad = [d for d in allowed if d not in ("incoming", "outgoing", "unknown")]
    if bad:
        raise MatchError(f"{key}: {bad[0]!r} is not one of incoming, outgoing, unknown")
    return lambda f: f.message.direction in allowed


def _from_is_own_domain(key: str, value: object) -> Predicate:
    def test(f: Facts) -> bool:
        return bool(f.from_domain) and f.context.owns_domain(f.from_domain)

    return _bool_leaf(test, _bool(key, value))


def _from_is_staff(key: str, value: object) -> Predicate:
    return _bool_leaf(lambda f: f.from_email in f.context.staff, _bool(key, value))


def _from_is_own(key: str, value: object) -> Predicate:
    return _bool_leaf(
        lambda f: bool(f.from_email) and f.context.is_own(f.from_email), _bool(key, value)
    )


def _recipients_all_own(key: str, value: object) -> Predicate:
    def test(f: Facts) -> bool:
        if not f.recipients:
            return False
        is_own = f.context.is_own
        for address in f.recipients:
            if not is_own(address.email):
                return False
        return True

    return _bool_leaf(test, _bool(key, value))


def _from_same_org_as_recipients(key: str, value: object) -> Predicate:
    def test(f: Facts) -> bool:
        if not f.from_domain or not f.recipients:
            return False
        org = _org(f.from_domain)
        for address in f.recipients:
            domain = address.domain
            if not domain or _org(domain) != org:
                return False
        return True

    return _bool_leaf(test, _bool(key, value))


def _list_is_own(key: str, value: object) -> Predicate:
    def test(f: Facts) -> bool:
        for name in ("list-id", "list-post"):
            for raw in f.message.headers.get(name, ()):
                domain = _LIST_DOMAIN.search(raw)
                own = domain.group(1).lower().rstrip(".") if domain else ""
                if own and f.context.owns_domain(own):
                    return True
        return False

    return _bool_leaf(test, _bool(key, value))


# List-Id: "Name <list.example.org>"; List-Post: "<mailto:list@example.org>".
_LIST_DOMAIN = re.compile(r"[<@.]([a-z0-9-]+(?:\.[a-z0-9-]+)+)>", re.IGNORECASE)


def _subject_tag_is_recipient(key: str, value: object) -> Predicate:
    def test(f: Facts) -> bool:
        tag = _SUBJECT_TAG.match(f.message.subject)
        if not tag:
            return False
        name = tag.group(1).lower()
        return any(a.email.partition("@")[0] == name for a in f.recipients)

    return _bool_leaf(test, _bool(key, value))


# "[notmuch] ...", "Re: [ports-jp 8947] ...": the list's name, then an optional counter.
_SUBJECT_TAG = re.compile(r"^\s*(?:(?:re|fwd?|aw)\s*:\s*)*\[([\w.-]+)(?:[ :]\d+)?\]", re.IGNORECASE)


def _delivery_failure(key: str, value: object) -> Predicate:
    return _bool_leaf(lambda f: bool(f.failed_recipients), _bool(key, value))


_Builder = Callable[[str, object], Predicate]

#: Every leaf key with its relative cost and builder. Documented in rules/README.md.
LEAVES: dict[str, tuple[int, _Builder]] = {
    "header_present": (0, _header_present),
    "header_equals": (0, _header_equals),
    "header_regex": (1, _header_regex),
    "from_regex": (1, _from_regex),
    "from_name_regex": (1, _from_name_regex),
    "from_domain": (0, _from_domain),
    "reply_to_present": (0, _reply_to_present),
    "reply_to_domain": (0, _reply_to_domain),
    "reply_to_other_domain": (0, _reply_to_other_domain),
    "to_regex": (1, _to_regex),
    "recipients_min": (0, _recipients_min),
    "recipients_max": (0, _recipients_max),
    "to_is_from": (0, _to_is_from),
    "subject_regex": (1, _subject_regex),
    "body_regex": (2, _body_regex),
    "full_body_regex": (3, _full_body_regex),
    "content_type": (0, _content_type),
    "mime_type": (0, _mime_type),
    "attachment_type": (0, _attachment_type),
    "attachment_name_regex": (1, _attachment_name_regex),
    "html_only": (0, _html_only),
    "in_reply_to_present": (0, _in_reply_to_present),
    "direction": (0, _direction),
    "from_is_own_domain": (0, _from_is_own_domain),
    "from_is_staff": (0, _from_is_staff),
    "from_is_own": (0, _from_is_own),
    "recipients_all_own": (0, _recipients_all_own),
    "from_same_org_as_recipients": (0, _from_same_org_as_recipients),
    "list_is_own": (0, _list_is_own),
    "subject_tag_is_recipient": (1, _subject_tag_is_recipient),
    "delivery_failure": (5, _delivery_failure),
}

_GROUPS = ("all", "any", "none")


def compile_condition(table: object, where: str = "match") -> Condition:
    """Compile one condition table; raise MatchError naming the offending key path."""
    if not isinstance(table, dict) or not table:
        raise MatchError(f"{where}: expected a non-empty table of conditions")
    steps: list[tuple[int, Predicate]] = []
    needs: list[Needs | None] = []
    for key, value in table.items():
        path = f"{where}.{key}"
        if key in _GROUPS:
            cost, predicate, group_needs = _group(key, value, path)
            steps.append((cost, predicate))
            needs.append(group_needs)
        elif key in LEAVES:
            cost, build = LEAVES[key]
            steps.append((cost, build(path, value)))
            needs.append(_leaf_needs(key, path, value))
        else:
            allowed = ", ".join(sorted([*LEAVES, *_GROUPS]))
            raise MatchError(f"{path}: unknown condition {key!r}; allowed: {allowed}")
    steps.sort(key=lambda item: item[0])
    return Condition(
        steps=tuple(p for _, p in steps), cost=max(c for c, _ in steps), needs=best_needs(needs)
    )


def _group(kind: str, value: object, path: str) -> tuple[int, Predicate, Needs | None]:
    """Compile an ``all``/``any``/``none`` list into one step costing its dearest member."""
    if not isinstance(value, list) or not value:
        raise MatchError(f"{path}: expected a non-empty list of condition tables")
    subs = sorted(
        (compile_condition(v, f"{path}[{i}]") for i, v in enumerate(value)), key=lambda c: c.cost
    )
    cost = max(c.cost for c in subs)
    if kind == "all":
        return cost, _all_of(subs), best_needs(c.needs for c in subs)
    if kind == "any":
        return cost, _any_of(subs), any_needs([c.needs for c in subs])
    return cost, _none_of(subs), None


def _all_of(subs: list[Condition]) -> Predicate:
    return _every([sub.test for sub in subs])


def _any_of(subs: list[Condition]) -> Predicate:
    return _some([sub.test for sub in subs])


def _none_of(subs: list[Condition]) -> Predicate:
    any_of = _any_of(subs)
    return lambda f: not any_of(f)


# --- needs: what a leaf cannot hold without (see watchdog.classify.gate) -------

#: Regex leaves and the field each searches, as ``gate.FIELDS`` names it.
_REGEX_FIELDS = {
    "subject_regex": "subject",
    "body_regex": "text",
    "full_body_regex": "full_text",
    "from_regex": "from",
    "from_name_regex": "from_name",
    "to_regex": "recipients",
}
#: Leaves that hold only when ``true`` and a field is not empty.
_HAS_WHEN_TRUE = {
    "reply_to_present": "reply_to",
    "reply_to_other_domain": "reply_to",
    "in_reply_to_present": "in_reply_to",
    "to_is_from": "recipients",
    "recipients_all_own": "recipients",
    "from_same_org_as_recipients": "recipients",
}
_DSN_NEEDS: Needs = frozenset(
    {("mime", "multipart/report")}
    | {("mime", t) for t in dsn.DSN_TYPES}
    | {("literal", "from_lower", f"{name}@") for name in dsn.DAEMON_NAMES}
)


def _leaf_needs(key: str, path: str, value: object) -> Needs | None:
    """Return what the (already validated) leaf ``key = value`` needs, or None."""
    if key in _REGEX_FIELDS:
        pattern = _regex(path, value)
        return regex_needs(_REGEX_FIELDS[key], pattern.compiled.pattern, pattern.folded)
    if key == "header_present":
        return frozenset(("header", name) for name in _strings(path, value))
    if key in ("header_equals", "header_regex"):
        return frozenset({("header", str(next(iter(_table(path, value)))).lower())})
    if key == "from_domain":
        domains = _strings(path, value)
        if not all(d and not d.startswith(".") for d in domains):
            return None
        return frozenset(("from_domain", d) for d in domains)
    if key in ("mime_type", "content_type"):
        return frozenset(("mime", t) for t in _strings(path, value))
    if key == "attachment_type":
        return frozenset(("attachment", t) for t in _strings(path, value))
    if key == "attachment_name_regex":
        return frozenset({("has", "attachments")})
    if key == "reply_to_domain":
        return frozenset({("has", "reply_to")})
    if key == "recipients_min" and value:
        return frozenset({("has", "recipients")})
    if key == "subject_tag_is_recipient" and value is True:
        return frozenset({("literal", "subject", "[")})
    if key == "delivery_failure" and value is True:
        return _DSN_NEEDS
    if key in _HAS_WHEN_TRUE and value is True:
        return frozenset({("has", _HAS_WHEN_TRUE[key])})
    return None
