"""What the classifier and the parser need to know about "us", taken from the config.

The classifier itself never sees the config (it is pure: a message, rules and
a context in, a decision out); this module is the one place that turns the
config into those inputs, so that the CLI, the sources and the daemon agree.
"""

from __future__ import annotations

from watchdog.classify.model import ClassifyContext
from watchdog.classify.rules import RuleSet, load_rules
from watchdog.config import Config
from watchdog.ingest.message import OurIdentity


def our_addresses(config: Config) -> frozenset[str]:
    """Every address that is one of us: staff, teams, the owner and the mailboxes themselves."""
    addresses = {config.owner.email, *config.classify.staff}
    for source in config.sources:
        addresses.update(source.team)
    addresses.update(box.username for box in config.mailboxes if "@" in box.username)
    return frozenset(a.lower() for a in addresses)


def context_from_config(config: Config) -> ClassifyContext:
    """Return the classification context: our domains and our people."""
    return ClassifyContext(
        own_domains=frozenset(config.classify.own_domains), staff=our_addresses(config)
    )


def identity_from_config(config: Config) -> OurIdentity:
    """Return who we are for the parser, which uses it to tell incoming from outgoing."""
    return OurIdentity(
        domains=frozenset(config.classify.own_domains), addresses=our_addresses(config)
    )


def rules_from_config(config: Config) -> RuleSet:
    """Load the bundled rules plus the user's folder, if the config names one.

    Raises RuleError naming the file and the rule when a rule file is wrong.
    """
    extra = [config.classify.rules_dir] if config.classify.rules_dir else []
    return load_rules(extra)
