"""Reading one mail: parse it and classify it, into the values a ``messages`` row takes.

Pure (no database, no configuration): the polling process calls it for a few
mails, and worker processes (``watchdog.sources.ingestpool``) for a big sync,
where importing the storage layer and the config loader would cost each
daemon a second of CPU before the first batch could be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from watchdog.classify import ClassifyContext, RuleSet, classify
from watchdog.ingest.message import Address, OurIdentity
from watchdog.ingest.message import Message as Parsed
from watchdog.ingest.parse import parse_message

#: RFC 5322 caps a header line at 998 characters; PostgreSQL cannot index much longer values.
MAX_ID = 998


@dataclass(frozen=True)
class Ingestor:
    """What turning bytes into a classified message needs: the rules and who we are.

    ``rule_dirs`` are the extra folders ``rules`` was loaded from (bundled
    rules first, as ``load_rules(rule_dirs)`` does), or None when the rules
    came from elsewhere. Compiled rules cannot be pickled; with ``rule_dirs``
    a worker process can load the same rules itself (see
    ``watchdog.sources.ingestpool``), without them mail is read in-process.
    """

    rules: RuleSet
    context: ClassifyContext
    ours: OurIdentity
    rule_dirs: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ReadMail:
    """One mail parsed and classified, as the values to store: plain, picklable data.

    ``columns`` are the ``messages`` columns that come from the mail itself
    (ids, addresses, subject, text, direction, ``parse_error``); where it
    sits, its flags and its bytes are the caller's to add. A worker process
    computes these (``read_mail``) so that the process holding the database
    session only has to insert them.
    """

    columns: dict[str, Any]
    category: str
    request: bool
    rules: tuple[str, ...]


def read_mail(ingestor: Ingestor, raw: bytes, *, folder_role: str | None) -> ReadMail:
    """Parse and classify one mail; never raises (a broken mail reads as broken)."""
    parsed = parse_message(raw, ours=ingestor.ours, folder_role=folder_role)
    decision = classify(parsed, ingestor.rules, ingestor.context, raw=raw)
    columns = _mail_columns(parsed)
    if decision.category == "form" and folder_role != "sent":
        # A site form often mails from the shop's own domain (noreply@shop.ru), which
        # makes the parser call it ours, outgoing. A form relay is a visitor's request
        # coming in, whoever's address the form's robot writes from: the story this
        # service exists for.
        columns["direction"] = "incoming"
    return ReadMail(
        columns=columns,
        category=decision.category,
        request=decision.request,
        rules=tuple(decision.rule_names),
    )


def _mail_columns(parsed: Parsed) -> dict[str, Any]:
    """The ``messages`` columns that come from the parsed mail (see ReadMail)."""
    return {
        "message_id_header": _cap(parsed.message_id),
        "in_reply_to": _cap(parsed.in_reply_to),
        "references_": " ".join(f"<{ref}>" for ref in parsed.references) or None,
        "from_addr": parsed.from_.email if parsed.from_ else None,
        "from_name": parsed.from_.name if parsed.from_ else None,
        "reply_to": _addresses(parsed.reply_to),
        "to_addrs": _addresses(parsed.to),
        "cc_addrs": _addresses(parsed.cc),
        "subject": parsed.subject,
        "sent_at": parsed.date,
        "direction": parsed.direction,
        "text": parsed.text,
        "parse_error": parsed.broken,
    }


def _addresses(addresses: tuple[Address, ...]) -> list[dict[str, str]]:
    return [{"name": a.name, "email": a.email} for a in addresses]


def _cap(value: str | None) -> str | None:
    return value[:MAX_ID] if value else value
