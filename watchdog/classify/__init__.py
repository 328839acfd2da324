"""Classify: tell a customer's request from automatic mail, and say why.

Rules are data (``rules/*.toml``, loaded and validated by ``rules``), the
matchers live in ``match``, and the one decision procedure in ``decide``
(its module docstring is where it is written down). ``classify`` is pure:
a ``Message``, a ``RuleSet`` and a ``ClassifyContext`` in, a ``Decision`` out.
"""

from __future__ import annotations

from watchdog.classify.decide import classify
from watchdog.classify.dsn import failed_recipients
from watchdog.classify.model import (
    CATEGORIES,
    REQUEST_CATEGORIES,
    Category,
    ClassifyContext,
    Decision,
    FiredRule,
)
from watchdog.classify.rules import Rule, RuleSet, load_rules

__all__ = [
    "CATEGORIES",
    "REQUEST_CATEGORIES",
    "Category",
    "ClassifyContext",
    "Decision",
    "FiredRule",
    "Rule",
    "RuleSet",
    "classify",
    "failed_recipients",
    "load_rules",
]
