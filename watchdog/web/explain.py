"""Why a message was taken for what it is: the classifier's verdict in words, and corrections.

The rules that fired are stored by name (``classifications.rules``); their
sentences for a person come from the rule files (``rules/*.toml`` and the
user's folder), loaded once per app. A rule since removed or renamed is
still shown, by its name. People's corrections ("this is not a request")
are shown beside the verdict, which stays as the classifier gave it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from watchdog.classify.setup import rules_from_config
from watchdog.errors import WatchdogError
from watchdog.storage.models import Classification, Correction
from watchdog.web.context import web_context
from watchdog.web.pages import local

#: rule name -> its sentence by language ("ru", "en")
Sentences = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class RuleView:
    """One rule that fired, and what it means."""

    name: str
    sentence: str


@dataclass(frozen=True, slots=True)
class CorrectionView:
    """A person's correction of the verdict, for display."""

    verdict: str  # "not_request" | "request"
    actor: str
    reason: str
    at: str
    case_id: int | None


@dataclass(frozen=True, slots=True)
class VerdictView:
    """The classifier's verdict on one message, explained, with any corrections."""

    category: str  # "" when the message was never classified (broken)
    request: bool | None
    rules: tuple[RuleView, ...]
    corrections: tuple[CorrectionView, ...]


def rule_sentences(request: Request) -> Sentences:
    """Return every loaded rule's sentences, read from the rule files once per app.

    Rule files that no longer load give no sentences (the names still show);
    the daemon reports such files itself, loudly.
    """
    cached: Sentences | None = getattr(request.app.state, "rule_sentences", None)
    if cached is None:
        try:
            rules = rules_from_config(web_context(request).config).rules
        except WatchdogError:
            rules = ()
        cached = {r.name: {"ru": r.explanation_ru, "en": r.explanation_en} for r in rules}
        request.app.state.rule_sentences = cached
    return cached


def verdict_view(
    session: Session,
    message_id: int,
    verdict: Classification | None,
    *,
    sentences: Sentences,
    lang: str,
    zone: tzinfo,
) -> VerdictView:
    """Return the verdict on message ``message_id`` in ``lang``, with its corrections in order."""
    names = list(verdict.rules) if verdict else []
    query = (
        select(Correction)
        .where(Correction.message_id == message_id)
        .order_by(Correction.at, Correction.id)
    )
    return VerdictView(
        category=verdict.category if verdict else "",
        request=verdict.request if verdict else None,
        rules=tuple(RuleView(n, sentences.get(n, {}).get(lang, "")) for n in names),
        corrections=tuple(
            CorrectionView(c.verdict, c.actor, c.reason, local(c.at, zone), c.case_id)
            for c in session.scalars(query)
        ),
    )
