"""THE decision procedure: how fired rules become one category. Written down here only.

Every enabled rule is tried on the message; the ones that match are the
evidence. Each rule concludes a category (customer, form, autoreply,
bounce, bulk, notification, staff) or a signal (form-source, form-content,
human, automatic), and is ``strong`` (enough on its own) or ``weak`` (needs
company). The tiers below are tried in order; the first that applies decides.

0. **Broken.** A message that could not be read is a request in doubt
   (``customer``): nobody must miss it because our parser failed.
1. **Bounce.** A strong bounce rule (a ``message/delivery-status`` part,
   flufl.bounce naming failed recipients of a mailer-daemon report, a
   standard non-delivery subject) decides ``bounce``. It comes first because
   a bounce carries the original message inside, human text and all.
2. **Form relay.** A strong ``form`` rule (a known form or marketplace
   service with its template), or a ``form-source`` signal together with a
   ``form-content`` or ``human`` signal (a service that relays, plus a
   visitor's fields, Reply-To or words), decides ``form``. This beats every
   robot header below: a form relay *is* a robot by its headers
   (noreply sender, Auto-Submitted, templated subject) and the customer is
   inside.
3. **Customer.** A strong ``customer`` rule (a shop's own "always a request"
   rule) decides ``customer``.
4. **Autoreply**, 5. **Staff**, 6. **Bulk**, 7. **Notification**: a strong
   rule of that category decides it, in this order. So an out-of-office is
   an autoreply even when it also carries Precedence: bulk; a colleague's
   mail is staff before anything automatic is considered; a human reply on a
   mailing list (List-Id) stays ``bulk``; Auto-Submitted: auto-generated
   without form evidence is a ``notification``. A strong ``automatic``
   signal counts as a notification.
8. **Lone form signal.** With no strong robot evidence, a strong
   ``form-source`` or ``form-content`` alone decides ``form``, in doubt.
9. **Weak evidence must agree.** Weak robot rules (autoreply, bounce, bulk,
   notification, staff, automatic) are counted. They decide only when there
   are at least two of them, plus one more for each ``human`` signal (a
   person's question, "Sent from my iPhone", a reply in a conversation) and
   each weak customer or form rule. The category is the one most weak rules name (ties:
   bounce, autoreply, bulk, notification, staff); only ``automatic`` votes
   make it a notification.
10. **Doubt resolves to a request.** Otherwise the message is ``customer``.
    If robot signs were seen but set aside, ``doubt`` says so.

What counts as strong and weak is decided in the rule files; the rule of
thumb: a standard header that declares intent (RFC 3834 Auto-Submitted,
RFC 2369/2919 List-*, a DSN part) is strong; a hint that ordinary people's
mail also carries (a noreply-looking address, Precedence: bulk, an ESP's
headers, a List-Unsubscribe) is weak; X-Auto-Response-Suppress and X-Mailer
are no evidence at all (Outlook and phones set them on everyone's mail).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from watchdog.classify.match import Facts
from watchdog.classify.model import Category, ClassifyContext, Decision, FiredRule
from watchdog.classify.rules import RuleSet
from watchdog.ingest.message import Message

#: Tiers 4-7: strong robot categories, in the order they win.
_STRONG_ROBOT_ORDER: tuple[Category, ...] = ("autoreply", "staff", "bulk", "notification")

#: Tier 9: ties between weak votes go to the earlier category.
_WEAK_TIE_ORDER: tuple[Category, ...] = ("bounce", "autoreply", "bulk", "notification", "staff")

#: Decisions a rule set remembers (by the rules that fired), at most; see ``RuleSet.decisions``.
_MAX_DECISIONS = 4096

_ROBOT_CONCLUSIONS = frozenset(
    {"autoreply", "bounce", "bulk", "notification", "staff", "automatic"}
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of the procedure before it is dressed as a Decision."""

    category: Category
    decisive: tuple[str, ...]
    tier: str
    doubt: str | None = None


def classify(
    message: Message, rules: RuleSet, context: ClassifyContext, *, raw: bytes | None = None
) -> Decision:
    """Return the category of ``message`` with the rules that fired and why.

    Pure: no I/O, no clock. ``raw`` (the original bytes, when the caller has
    them) lets the ``delivery_failure`` condition ask flufl.bounce whether a
    postmaster's report names failed recipients; ``dsn.failed_recipients``
    gives the addresses themselves to whoever needs them.
    """
    if message.broken is not None:
        return _dress(
            Verdict("customer", (), "broken", doubt=f"could not be read: {message.broken}"), ()
        )
    facts = Facts(message, context, raw)
    # Only the rules whose gate this message passes: the others cannot match (see gate.py).
    tests = rules.tests
    hits = tuple([i for i in rules.gates.candidates(facts) if tests[i](facts)])
    decision = rules.decisions.get(hits)
    if decision is None:
        fired = tuple(rules.rules[i].record for i in hits)
        decision = _dress(decide(fired), fired)
        if len(rules.decisions) < _MAX_DECISIONS:
            rules.decisions[hits] = decision
    return decision


def decide(fired: Sequence[FiredRule]) -> Verdict:
    """Apply tiers 1-10 of the module docstring to the fired rules."""
    strong: dict[str, list[str]] = {}
    weak: dict[str, list[str]] = {}
    for rule in fired:
        (strong if rule.strength == "strong" else weak).setdefault(rule.concludes, []).append(
            rule.name
        )

    if strong.get("bounce"):
        return Verdict("bounce", tuple(strong["bounce"]), "bounce")
    form = _form_relay(strong, weak)
    if form is not None:
        return form
    if strong.get("customer"):
        return Verdict("customer", tuple(strong["customer"]), "customer")
    for category in _STRONG_ROBOT_ORDER:
        names = strong.get(category, []) + (
            strong.get("automatic", []) if category == "notification" else []
        )
        if names:
            return Verdict(category, tuple(names), category)
    lone = _names(strong, "form-source", "form-content")
    if lone:
        doubt = "looks like a form relay, though not every sign is there"
        return Verdict("form", tuple(lone), "lone-form", doubt=doubt)
    human = _names(strong, "human") + _names(weak, "human", "customer", "form")
    return _weigh(weak, human)


def _names(table: dict[str, list[str]], *keys: str) -> list[str]:
    """Names of the rules in ``table`` concluding any of ``keys``."""
    return [name for key in keys for name in table.get(key, [])]


def _form_relay(strong: dict[str, list[str]], weak: dict[str, list[str]]) -> Verdict | None:
    """Tier 2: a strong form rule, or a relaying service plus a visitor's content or words."""
    if strong.get("form"):
        return Verdict("form", tuple(strong["form"]), "form")
    sources = _names(strong, "form-source") + _names(weak, "form-source")
    contents = _names(strong, "form-content", "human") + _names(weak, "form-content", "human")
    if sources and contents:
        return Verdict("form", tuple(sources + contents), "form")
    return None


def _weigh(weak: dict[str, list[str]], human: list[str]) -> Verdict:
    """Tiers 9-10: weak robot votes decide only when enough of them agree."""
    votes = [(c, n) for c in _ROBOT_CONCLUSIONS for n in weak.get(c, [])]
    if not votes:
        return Verdict("customer", tuple(human), "customer-default")
    needed = 2 + len(human)
    if len(votes) < needed:
        seen = ", ".join(sorted(n for _, n in votes))
        doubt = f"some signs of automatic mail ({seen}), too weak to be sure"
        return Verdict("customer", tuple(human), "customer-doubt", doubt=doubt)
    counts = Counter(c for c, _ in votes if c != "automatic")
    category: Category = "notification"
    if counts:
        top = max(counts.values())
        category = next(c for c in _WEAK_TIE_ORDER if counts.get(c) == top)
    return Verdict(category, tuple(sorted(n for _, n in votes)), "weak")


_SUMMARY: dict[str, tuple[str, str]] = {
    "broken": (
        "Could not be read; treated as a request so that nobody misses it.",
        "Письмо не удалось прочитать; считаем его обращением, чтобы его никто не пропустил.",
    ),
    "bounce": (
        "A delivery failure report: a message did not reach its recipient.",
        "Отчёт о недоставке: письмо не дошло до адресата.",
    ),
    "form": (
        "A customer's request relayed by a site form or a marketplace: it needs an answer.",
        "Обращение клиента, пересланное формой сайта или маркетплейсом: на него нужно ответить.",
    ),
    "lone-form": (
        "Looks like a customer's request relayed by a form: treated as a request.",
        "Похоже на обращение клиента через форму: считаем его обращением.",
    ),
    "customer": (
        "A customer's request: it needs an answer.",
        "Обращение клиента: на него нужно ответить.",
    ),
    "customer-default": (
        "No sign of automatic mail: a person wrote this and expects an answer.",
        "Признаков автоматического письма нет: это написал человек и ждёт ответа.",
    ),
    "customer-doubt": (
        "Some signs of automatic mail, but too weak to be sure: treated as a request, just in case.",
        "Есть слабые признаки автоматического письма, но уверенности нет: на всякий случай считаем его обращением.",
    ),
    "autoreply": (
        'An automatic reply (out of office, "we got your message"): no answer needed.',
        "Автоответ (сотрудник отсутствует, «письмо получено»): отвечать не нужно.",
    ),
    "staff": (
        "Our own people writing to each other: not a customer's request.",
        "Переписка своих сотрудников: это не обращение клиента.",
    ),
    "bulk": (
        "A newsletter, mailing-list post or advertising: no answer needed.",
        "Рассылка, письмо из списка рассылки или реклама: отвечать не нужно.",
    ),
    "notification": (
        "A machine-generated notification: no answer needed.",
        "Автоматическое уведомление системы: отвечать не нужно.",
    ),
    "weak": (
        "Several weak signs of automatic mail agree: no answer needed.",
        "Несколько слабых признаков автоматического письма совпали: отвечать не нужно.",
    ),
}


def _dress(verdict: Verdict, fired: tuple[FiredRule, ...]) -> Decision:
    en, ru = _SUMMARY[verdict.tier]
    return Decision(
        category=verdict.category,
        fired=fired,
        decisive=verdict.decisive,
        doubt=verdict.doubt,
        summary_en=en,
        summary_ru=ru,
    )
