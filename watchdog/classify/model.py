"""The plain data the classifier takes and returns: context in, decision out.

Kept apart from the rule engine so that later stages (tracking, the
dashboard, the CLI) can import a ``Decision`` without pulling in regexes or
TOML loading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

Category = Literal["customer", "form", "autoreply", "bounce", "bulk", "notification", "staff"]

#: The seven categories, exactly as the design names them.
CATEGORIES: Final[tuple[Category, ...]] = (
    "customer",
    "form",
    "autoreply",
    "bounce",
    "bulk",
    "notification",
    "staff",
)

#: Categories that need a human answer.
REQUEST_CATEGORIES: Final[frozenset[str]] = frozenset({"customer", "form"})

#: Conclusions that are not categories but evidence the decision weighs:
#: ``form-source`` (a form or marketplace service sent it), ``form-content``
#: (the body or Reply-To carries a visitor's own data), ``human`` (the text
#: reads like a person writing: counter-evidence against weak robot signs) and
#: ``automatic`` (a machine sent it, without saying which kind of machine).
SIGNALS: Final[tuple[str, ...]] = ("form-source", "form-content", "human", "automatic")

#: Everything a rule may conclude.
CONCLUSIONS: Final[tuple[str, ...]] = CATEGORIES + SIGNALS

Strength = Literal["strong", "weak"]


@dataclass(frozen=True, slots=True)
class ClassifyContext:
    """Who "we" are, as far as classification cares; lower-cased throughout.

    ``own_domains`` are the shop's mail domains; ``staff`` the addresses of its
    people (which may sit on a public provider such as gmail.com, where a
    domain says nothing).
    """

    own_domains: frozenset[str] = frozenset()
    staff: frozenset[str] = frozenset()
    #: ".d" for each own domain d: a subdomain ends with one (asked once per rule and mail).
    _under: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_under", tuple("." + d for d in self.own_domains))

    def is_own(self, email: str) -> bool:
        """Return True when ``email`` is a staff address or on one of our domains."""
        return email in self.staff or self.owns_domain(email.rpartition("@")[2])

    def owns_domain(self, domain: str) -> bool:
        """Return True when ``domain`` is one of our domains or a subdomain of one."""
        return domain in self.own_domains or domain.endswith(self._under)


@dataclass(frozen=True, slots=True)
class FiredRule:
    """One rule that matched, with the sentence that tells a person why it matters."""

    name: str
    concludes: str
    strength: Strength
    explanation_ru: str
    explanation_en: str
    file: str

    def explanation(self, lang: str) -> str:
        """Return the explanation in ``lang`` ("ru" or "en"; anything else gives English)."""
        return self.explanation_ru if lang == "ru" else self.explanation_en


@dataclass(frozen=True, slots=True)
class Decision:
    """What the classifier concluded about one message, and why.

    ``fired`` lists every rule that matched, in rule order, including those
    the decision overruled: the explanation shows the whole picture.
    ``decisive`` names the rules the conclusion rests on. ``doubt`` is None
    when the evidence decided; otherwise it says why the message was treated
    as a request anyway (broken, or robot signs too weak to trust).
    ``summary_en``/``summary_ru`` state the conclusion in one sentence.
    """

    category: Category
    fired: tuple[FiredRule, ...] = ()
    decisive: tuple[str, ...] = ()
    doubt: str | None = None
    summary_en: str = ""
    summary_ru: str = ""

    @property
    def request(self) -> bool:
        """True when a human must answer: the category is customer or form."""
        return self.category in REQUEST_CATEGORIES

    @property
    def rule_names(self) -> tuple[str, ...]:
        """Names of every fired rule, in order."""
        return tuple(rule.name for rule in self.fired)

    def summary(self, lang: str) -> str:
        """Return the one-sentence conclusion in ``lang`` ("ru" or "en")."""
        return self.summary_ru if lang == "ru" else self.summary_en
