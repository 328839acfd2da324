"""Form services' JSON (Jotform, Typeform) turned into one ``FormSubmission``.

Pure functions: a provider's item in, a FormSubmission out; no network, no
clock, no database. ``watchdog.sources.formapi`` fetches the items and calls
these; keeping them apart lets the tests read like the providers' documents.

How answers are read, whatever the service:

- every answered field becomes one ``Answer`` (its label, a kind, its value
  as text), and all of them go to ``fields``, so the dashboard shows what the
  visitor filled in even when we guessed nothing else right;
- the name, e-mail and phone come from fields of that type (Jotform's
  control_fullname, Typeform's email), else from a text field whose label says
  so ("Name", "Имя", "Телефон");
- the message is the long-text answers; a form without one gets every other
  answer as "Title: value" lines, so a request made through choices and short
  answers still reads as a request;
- an item that cannot be read at all is still returned, as a submission whose
  message says so and whose ``raw`` keeps the JSON: never lose a request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import phonenumbers

from watchdog.config.schema import FormFields
from watchdog.ingest.submission import FormSubmission

#: Numbers written without a country code ("8 916 123-45-67") are read as Russian.
DEFAULT_PHONE_REGION = "RU"
#: Jotform reports times in the account's time zone, which is US Eastern unless changed.
JOTFORM_TIMEZONE = ZoneInfo("America/New_York")

#: A form without ``[form.fields]``: every role is found by type and label.
NOTHING_CHOSEN = FormFields()

Kind = Literal["name", "email", "phone", "long_text", "text"]

_NAME_LABEL = re.compile(
    r"\b(name|full\s*name|first\s*name|last\s*name|surname"
    r"|имя|фио|ф\.и\.о|фамилия|зовут|обращаться)\b",
    re.IGNORECASE,
)
_NOT_A_PERSON = re.compile(r"company|organi[sz]ation|компани|организац|user\s*name", re.IGNORECASE)
_EMAIL_LABEL = re.compile(r"e-?mail|почта", re.IGNORECASE)
_PHONE_LABEL = re.compile(r"phone|mobile|whats\s*app|телефон|\bтел\b", re.IGNORECASE)
_EMAIL_VALUE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_JOTFORM_KINDS: dict[str, Kind] = {
    "control_fullname": "name",
    "control_email": "email",
    "control_phone": "phone",
    "control_textarea": "long_text",
}
_TYPEFORM_KINDS: dict[str, Kind] = {"email": "email", "phone_number": "phone"}


@dataclass(frozen=True, slots=True)
class Answer:
    """One answered field: its label as the form shows it, what it holds, its value as text."""

    title: str
    kind: Kind
    value: str
    key: str = ""  # the field's own name: Jotform's "name", Typeform's "ref"


# --- phone numbers ------------------------------------------------------------------


def normalise_phone(written: str, region: str = DEFAULT_PHONE_REGION) -> str | None:
    """Return the number in E.164 ("+79161234567") when it can be read, else as written.

    Returns None for an empty value. A number that phonenumbers cannot parse
    or that has an impossible length stays as the visitor wrote it: a
    slightly odd number is still a way to call them back.
    """
    text = written.strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_possible_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- Jotform --------------------------------------------------------------------------


def jotform_submission(
    item: Mapping[str, Any],
    *,
    timezone: ZoneInfo,
    fallback_time: datetime,
    chosen: FormFields = NOTHING_CHOSEN,
) -> FormSubmission | None:
    """Return the submission of one Jotform ``content[]`` item; None if it was deleted.

    ``created_at`` is wall time in the account's ``timezone``; an unreadable
    one becomes ``fallback_time`` (when we first saw it). ``chosen`` is the
    form's ``[form.fields]``: a field named there (by label or by Jotform's
    field name) wins over every guess.
    """
    if item.get("status") == "DELETED":
        return None
    raw = _raw(item)
    try:
        answers = _jotform_answers(item.get("answers"))
        received_at = jotform_time(item.get("created_at"), timezone) or fallback_time
        submission_id = _text_id(item.get("id"))
        return _assemble("jotform", submission_id, received_at, answers, raw, chosen)
    except (TypeError, ValueError, AttributeError) as exc:
        return unreadable("jotform", item, exc, fallback_time)


def jotform_time(value: object, timezone: ZoneInfo) -> datetime | None:
    """Return Jotform's "YYYY-MM-DD HH:MM:SS" (account wall time) as aware UTC, or None.

    In the hour repeated when DST ends, the earlier (summer-time) reading is
    taken; the submission id, not the time, is what identifies a submission.
    """
    if not isinstance(value, str):
        return None
    try:
        wall = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return wall.replace(tzinfo=timezone).astimezone(UTC)


def _jotform_answers(answers: object) -> list[Answer]:
    """Return the answered fields in the form's order; layout elements have no "answer"."""
    if not isinstance(answers, Mapping):
        return []
    entries = [entry for entry in answers.values() if isinstance(entry, Mapping)]
    entries.sort(key=lambda entry: _order(entry.get("order")))
    found = []
    for entry in entries:
        kind = _JOTFORM_KINDS.get(str(entry.get("type")), "text")
        value = _jotform_value(entry, kind)
        if value:
            title = str(entry.get("text") or entry.get("name") or "").strip() or "?"
            found.append(Answer(title, kind, value, str(entry.get("name") or "")))
    return found


def _jotform_value(entry: Mapping[str, Any], kind: Kind) -> str:
    """Return a Jotform answer as text: the phone's "full" form, else the answer or prettyFormat."""
    answer = entry.get("answer")
    if kind == "phone" and isinstance(answer, Mapping) and isinstance(answer.get("full"), str):
        return str(answer["full"]).strip()
    if isinstance(answer, str):
        return answer.strip()
    pretty = entry.get("prettyFormat")
    if isinstance(pretty, str) and pretty.strip():
        return pretty.strip()
    return flatten(answer)


def _order(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 1_000_000


# --- Typeform -------------------------------------------------------------------------


def typeform_submission(
    item: Mapping[str, Any],
    *,
    titles: Mapping[str, str],
    fallback_time: datetime,
    chosen: FormFields = NOTHING_CHOSEN,
) -> FormSubmission:
    """Return the submission of one Typeform ``items[]`` response.

    ``titles`` maps field ids to the questions' titles (from the form's
    definition); without it a field is labelled by its ``ref``. ``chosen``
    is ``[form.fields]``, matched against titles and refs. The id is the
    response's ``token``: a Typeform webhook carries only the token, and in
    the Responses API ``response_id`` is the same value, so a submission seen
    both ways is stored once.
    """
    raw = _raw(item)
    try:
        answers = _typeform_answers(item.get("answers"), titles)
        received_at = typeform_time(item.get("submitted_at")) or fallback_time
        submission_id = _text_id(item.get("token")) or _text_id(item.get("response_id"))
        return _assemble("typeform", submission_id, received_at, answers, raw, chosen)
    except (TypeError, ValueError, AttributeError) as exc:
        return unreadable("typeform", item, exc, fallback_time)


def typeform_time(value: object) -> datetime | None:
    """Return Typeform's ISO 8601 time ("2025-11-03T09:00:00Z") as aware UTC, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def typeform_titles(definition: object) -> dict[str, str]:
    """Return {field id: title} from a form definition (``GET /forms/{id}``), groups included."""
    titles: dict[str, str] = {}
    fields = definition.get("fields") if isinstance(definition, Mapping) else None
    for field in fields if isinstance(fields, list) else []:
        if not isinstance(field, Mapping):
            continue
        if isinstance(field.get("id"), str) and isinstance(field.get("title"), str):
            titles[field["id"]] = field["title"]
        titles.update(typeform_titles(field.get("properties")))  # a group's own fields
    return titles


def _typeform_answers(answers: object, titles: Mapping[str, str]) -> list[Answer]:
    found = []
    for answer in answers if isinstance(answers, list) else []:
        if not isinstance(answer, Mapping):
            continue
        field = answer.get("field")
        field = field if isinstance(field, Mapping) else {}
        value = _typeform_value(answer)
        if value:
            title = titles.get(str(field.get("id"))) or field.get("ref") or field.get("id") or "?"
            kind = _typeform_kind(answer, field)
            found.append(Answer(str(title), kind, value, str(field.get("ref") or "")))
    return found


def _typeform_kind(answer: Mapping[str, Any], field: Mapping[str, Any]) -> Kind:
    if field.get("type") == "long_text":
        return "long_text"
    return _TYPEFORM_KINDS.get(str(answer.get("type")), "text")


def _typeform_value(answer: Mapping[str, Any]) -> str:
    """Return a Typeform answer as text: the value sits under the key named by its ``type``."""
    kind = answer.get("type")
    value = answer.get(kind) if isinstance(kind, str) else None
    if kind == "choice" and isinstance(value, Mapping):
        return str(value.get("label") or value.get("other") or "").strip()
    if kind == "choices" and isinstance(value, Mapping):
        labels = [*value.get("labels", []), *([value["other"]] if value.get("other") else [])]
        return ", ".join(str(label) for label in labels)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return flatten(value)


# --- shared ---------------------------------------------------------------------------


def flatten(value: object) -> str:
    """Return any JSON value as one line of text: objects' values joined, lists by commas."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return " ".join(part for part in (flatten(v) for v in value.values()) if part)
    if isinstance(value, list):
        return ", ".join(part for part in (flatten(v) for v in value) if part)
    return str(value).strip()


def unreadable(
    provider: str, item: Mapping[str, Any], exc: Exception, fallback_time: datetime
) -> FormSubmission:
    """Return a stand-in for an item we could not read, so it is still seen and answered."""
    return FormSubmission(
        provider=provider,
        received_at=fallback_time,
        message=f"[The watchdog could not read this submission ({type(exc).__name__}); "
        "see its raw data.]",
        submission_id=_text_id(item.get("id")) or _text_id(item.get("token")),
        raw=_raw(item),
    )


def _assemble(
    provider: str,
    submission_id: str | None,
    received_at: datetime,
    answers: list[Answer],
    raw: bytes,
    chosen: FormFields,
) -> FormSubmission:
    """Pick the contacts and the message out of the answers; keep every answer in ``fields``.

    The form's own ``[form.fields]`` come first, then the field types, then the labels.
    """
    name = _chosen(answers, chosen.name) or _pick(answers, "name", _is_name)
    email = _chosen(answers, chosen.email) or _pick(answers, "email", _is_email)
    phone = _chosen(answers, chosen.phone) or _pick(answers, "phone", _is_phone)
    message = _chosen(answers, chosen.message)
    contacts = {id(a) for a in (*name, *email, *phone)}
    return FormSubmission(
        provider=provider,
        received_at=received_at,
        message=message[0].value if message else _message(answers, contacts),
        name=" ".join(a.value for a in name) or None,
        email=email[0].value if email else None,
        phone=normalise_phone(phone[0].value) if phone else None,
        submission_id=submission_id,
        fields=_fields(answers),
        raw=raw,
    )


def _pick(answers: list[Answer], kind: Kind, labelled: Callable[[Answer], bool]) -> list[Answer]:
    """Return the answers of ``kind``, else the text answers whose label fits.

    Names may be split ("First name", "Last name"), so all fitting answers
    are returned; for e-mail and phone the caller takes the first.
    """
    typed = [a for a in answers if a.kind == kind]
    return typed[:1] if typed else [a for a in answers if a.kind == "text" and labelled(a)]


def _chosen(answers: list[Answer], label: str | None) -> list[Answer]:
    """Return the answer ``[form.fields]`` names (by label or field name), if any."""
    if not label:
        return []
    wanted = label.strip().casefold()
    return [a for a in answers if wanted in (a.title.casefold(), a.key.casefold())][:1]


def _is_name(answer: Answer) -> bool:
    return _labelled(answer, _NAME_LABEL) and not _NOT_A_PERSON.search(answer.title)


def _is_phone(answer: Answer) -> bool:
    return _labelled(answer, _PHONE_LABEL)


def _is_email(answer: Answer) -> bool:
    return _labelled(answer, _EMAIL_LABEL) and bool(_EMAIL_VALUE.match(answer.value))


def _labelled(answer: Answer, pattern: re.Pattern[str]) -> bool:
    """Return True when the label or the field's own name ("name", "phone") fits ``pattern``."""
    return bool(pattern.search(answer.title) or pattern.search(answer.key))


def _message(answers: list[Answer], contacts: set[int]) -> str:
    """Return the long-text answers, else every other answer as "Title: value" lines."""
    long_texts = [a.value for a in answers if a.kind == "long_text"]
    if long_texts:
        return "\n\n".join(long_texts)
    rest = [a for a in answers if id(a) not in contacts]
    return "\n".join(f"{a.title}: {a.value}" for a in rest)


def _fields(answers: Iterable[Answer]) -> dict[str, str]:
    """Return {title: value}; a repeated title gets " (2)", " (3)" so no answer is dropped."""
    fields: dict[str, str] = {}
    for answer in answers:
        title, n = answer.title, 1
        while title in fields:
            n += 1
            title = f"{answer.title} ({n})"
        fields[title] = answer.value
    return fields


def _text_id(value: object) -> str | None:
    """Return a provider id as text (Jotform sends strings, but be lenient about numbers)."""
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return None


def _raw(item: Mapping[str, Any]) -> bytes:
    """Return the item as JSON bytes, kept like a mail's raw bytes (UTF-8, readable Cyrillic)."""
    return json.dumps(item, ensure_ascii=False).encode("utf-8")
