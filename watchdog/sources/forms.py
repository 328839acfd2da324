"""Site-form webhooks: a provider's request body becomes one ``FormSubmission``.

``parse_submission(preset, fields, content_type, body, received_at=...)`` goes
in four steps:

1. **decode** the body (JSON, urlencoded or multipart) into a ``Body``: the
   flat (key, value) pairs and the nested tree, where PHP-style keys such as
   ``fields[email][value]`` (Elementor, Bitrix24) become nested tables;
2. **extract** with the preset: every field under a readable label, the
   fields the provider itself marks as email/phone/... (typed answers, field
   types, a contact block), the provider's submission id and which labels are
   its bookkeeping (form id, UTM tags) rather than the visitor's words;
3. **resolve** each role (email, phone, name, subject, message): the form's
   ``[form.fields]`` mapping first, then the provider's own marking, then
   heuristics over Russian and English field names; when no field reads as
   the message, every remaining text field goes into it, so nothing the
   visitor wrote is lost;
4. **normalise**: phones to E.164 with ``formanswers.normalise_phone`` (the
   form APIs use the same; region RU unless the number says otherwise, kept
   as written when unreadable), emails only when they look like one.

Presets and what they expect are documented on each ``_preset_*`` function.
A body that is nothing but a provider's test ping (Tilda's ``test=test``,
Bitrix24's ``ONAPPTEST`` event, ``{"test": true}`` from our Apps Script)
returns None: it carries no visitor's words and must store nothing.
"""

from __future__ import annotations

import codecs
import functools
import io
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from python_multipart import parse_form
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import Field, File, parse_options_header

from watchdog.config.schema import FormFields
from watchdog.errors import WatchdogError
from watchdog.ingest.submission import FormSubmission
from watchdog.sources.formanswers import normalise_phone

Role = Literal["email", "phone", "name", "subject", "message"]
#: Resolution order: a field claimed by an earlier role is not offered to a later one.
ROLES: tuple[Role, ...] = ("email", "phone", "name", "subject", "message")


class FormPayloadError(WatchdogError):
    """A webhook body cannot be read as a form submission; nothing of it is stored."""


class UnsupportedContentType(FormPayloadError):
    """The body is neither JSON, urlencoded nor multipart form data."""


class MalformedPayload(FormPayloadError):
    """The body claims a supported type but cannot be decoded as it (bad JSON, bad multipart)."""


# --- step 1: decoding ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Body:
    """A decoded request body.

    ``pairs`` are the (key, value) pairs in order: as posted for form data, the
    flattened object (``contact.email``) for JSON. ``tree`` is the JSON object,
    or the form data nested by its bracketed keys.
    """

    pairs: tuple[tuple[str, str], ...]
    tree: dict[str, Any]


def decode_body(content_type: str | None, body: bytes) -> Body:
    """Decode ``body`` by its Content-Type; raise UnsupportedContentType or MalformedPayload."""
    kind = check_content_type(content_type)
    charset = _content_type(content_type)[1].get("charset", "utf-8")
    if kind == "json":
        tree = _json_object(body)
        return Body(tuple(_flatten(tree)), tree)
    if kind == "urlencoded":
        pairs = _urlencoded(body, charset)
    else:
        pairs = _multipart(content_type or "", body, charset)
    return Body(tuple(pairs), _nest(pairs))


def check_content_type(content_type: str | None) -> Literal["json", "urlencoded", "multipart"]:
    """Return which kind of body ``content_type`` announces; raise UnsupportedContentType.

    Callers may check before reading the body, so an unsupported one is refused unread.
    """
    mime = _content_type(content_type)[0]
    if mime == "application/json" or mime.endswith("+json"):
        return "json"
    if mime == "application/x-www-form-urlencoded":
        return "urlencoded"
    if mime == "multipart/form-data":
        return "multipart"
    raise UnsupportedContentType(
        f"content type {mime or '(none)'!r} is not supported; send application/json, "
        "application/x-www-form-urlencoded or multipart/form-data"
    )


def _content_type(value: str | None) -> tuple[str, dict[str, str]]:
    mime, params = parse_options_header(value or "")
    decoded = {key.decode("latin-1").lower(): val.decode("latin-1") for key, val in params.items()}
    return mime.decode("latin-1").lower(), decoded


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        tree = json.loads(body)  # bytes: UTF-8/16/32 are detected
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedPayload(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(tree, dict):
        raise MalformedPayload("the JSON body is not an object")
    return tree


def _urlencoded(body: bytes, charset: str) -> list[tuple[str, str]]:
    text = _decode_text(body, charset)
    return urllib.parse.parse_qsl(
        text, keep_blank_values=True, encoding=_codec(charset), errors="replace"
    )


def _multipart(content_type: str, body: bytes, charset: str) -> list[tuple[str, str]]:
    """Return the parts as pairs; an uploaded file is listed by its file name."""
    pairs: list[tuple[str, str]] = []

    def on_field(part: Field) -> None:
        name, value = part.field_name or b"", part.value or b""
        pairs.append((_decode_text(name, charset), _decode_text(value, charset)))

    def on_file(part: File) -> None:
        name = _decode_text(part.field_name or b"", charset)
        pairs.append((name, _decode_text(part.file_name or b"", charset)))
        part.close()

    headers = {"Content-Type": content_type.encode("latin-1", "replace")}
    try:
        parse_form(headers, io.BytesIO(body), on_field, on_file)
    except (FormParserError, ValueError) as exc:
        raise MalformedPayload(f"the multipart body cannot be read: {exc}") from exc
    return pairs


def _codec(charset: str) -> str:
    """Return Python's name for ``charset``; an unknown one is read as UTF-8."""
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return "utf-8"


def _decode_text(data: bytes, charset: str) -> str:
    return data.decode(_codec(charset), errors="replace")


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Yield (dotted key, text) for every scalar in a JSON value; lists of scalars join."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        for index, item in enumerate(value):
            yield from _flatten(item, f"{prefix}.{index}")
    else:
        yield prefix, text_of(value)


_BRACKETED = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])+)$")


def _nest(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest ``a[b][c]=v`` pairs the way PHP does (``a[]`` appends); other keys stay flat."""
    tree: dict[str, Any] = {}
    for key, value in pairs:
        match = _BRACKETED.match(key)
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))] if match else [key]
        _put(tree, path, value)
    return tree


def _put(tree: dict[str, Any], path: list[str], value: str) -> None:
    """Set ``value`` at ``path``; the first value wins where a scalar and a table collide."""
    node = tree
    for key in path[:-1]:
        child = node.setdefault(key or str(len(node)), {})
        if not isinstance(child, dict):
            return
        node = child
    node.setdefault(path[-1] or str(len(node)), value)


def text_of(value: Any) -> str:
    """Return a field's value as display text: lists join with ", ", tables with spaces."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(text for text in map(text_of, value) if text)
    if isinstance(value, dict):
        return " ".join(text for text in map(text_of, value.values()) if text)
    return str(value).strip()


# --- step 2: presets ----------------------------------------------------------------


@dataclass
class Extracted:
    """What a preset read from a body, before roles are resolved.

    ``roles`` lists, per role, the labels of fields the provider marks as that
    role; ``values`` holds role values the provider gives outside the fields
    (Wix's contact block). ``meta`` are labels of the provider's bookkeeping,
    shown but never taken for the visitor's words.
    """

    fields: dict[str, str] = field(default_factory=dict)
    roles: dict[Role, list[str]] = field(default_factory=dict)
    values: dict[Role, str] = field(default_factory=dict)
    meta: set[str] = field(default_factory=set)
    submission_id: str | None = None
    ping: bool = False

    def add(self, label: str, value: Any, role: Role | None = None, *, meta: bool = False) -> str:
        """Add a field under a unique label (a repeated label gets " (2)"); return the label."""
        label = label.strip() or "field"
        unique, number = label, 1
        while unique in self.fields:
            number += 1
            unique = f"{label} ({number})"
        self.fields[unique] = text_of(value)
        if role is not None:
            self.roles.setdefault(role, []).append(unique)
        if meta:
            self.meta.add(unique)
        return unique


_COMMON_META = frozenset(
    {
        "formid", "form_id", "formname", "form_name", "tranid", "cookies", "token",
        "g-recaptcha-response", "h-captcha-response", "referer", "referrer",
        "submission_id", "submissionid", "page_url", "pageurl",
    }
)  # fmt: skip


def _is_common_meta(key: str) -> bool:
    lower = key.lower()
    return lower in _COMMON_META or lower.startswith(("utm_", "_"))


def _is_tilda_like_ping(body: Body) -> bool:
    """Tilda checks a new webhook with a bare ``test=test``; any preset may get one."""
    return body.pairs == (("test", "test"),)


def _flat_fields(body: Body, meta: Callable[[str], bool] = _is_common_meta) -> Extracted:
    out = Extracted(ping=_is_tilda_like_ping(body))
    for key, value in body.pairs:
        out.add(key, value, meta=meta(key))
    return out


def _table(tree: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    """Return ``tree[key]`` when it is a table (a JSON object), else None."""
    value = tree.get(key)
    return value if isinstance(value, dict) else None


def _first_value(tree: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = text_of(tree.get(key))
        if value:
            return value
    return None


def _preset_generic(body: Body) -> Extracted:
    """Any form post or flat JSON; an id in ``submission_id``/``submissionId`` dedupes retries.

    Nested JSON is shown under dotted labels (``contact.email``).
    """
    out = _flat_fields(body)
    out.submission_id = _first_value(dict(body.pairs), "submission_id", "submissionId")
    return out


def _preset_tilda(body: Body) -> Extracted:
    """Tilda: urlencoded or JSON with fields named as on the form (Name, Email, Phone, Textarea).

    ``tranid`` is Tilda's submission id, ``formid`` the form; ``test=test`` is
    the check Tilda sends when the webhook is added.
    """
    out = _flat_fields(body)
    out.submission_id = _first_value(dict(body.pairs), "tranid")
    return out


def _preset_cf7(body: Body) -> Extracted:
    """Contact Form 7 through a webhook add-on (CF7 to Webhook, CF7 Apps).

    JSON or urlencoded, keyed by the form's field names (your-name,
    your-email, your-phone, your-subject, your-message); hidden ``_wpcf7*``
    fields are bookkeeping. CF7 sends no submission id: retries are found by content.
    """
    return _flat_fields(body)


_ELEMENTOR_META = frozenset(
    {"date", "time", "page url", "user agent", "remote ip", "powered by", "form_id", "form_name"}
)
_ELEMENTOR_TYPES: dict[str, Role] = {"email": "email", "tel": "phone", "textarea": "message"}


def _preset_elementor(body: Body) -> Extracted:
    """Elementor Pro Forms, "Webhook" action, urlencoded; three documented shapes.

    - "Advanced data" on: ``fields[<id>][title|type|value]`` plus ``form[...]``
      and ``meta[...]``; the field type says which is email (``email``), phone
      (``tel``) and message (``textarea``).
    - The raw form post: ``form_fields[<id>]=value``.
    - Advanced data off: one pair per field, keyed by its label, followed by
      Date, Time, Page URL, User Agent, Remote IP, Powered by.
    """
    advanced = body.tree.get("fields")
    if isinstance(advanced, dict) and all(isinstance(v, dict) for v in advanced.values()):
        out = Extracted()
        for key, spec in advanced.items():
            role = _ELEMENTOR_TYPES.get(text_of(spec.get("type")))
            out.add(text_of(spec.get("title")) or key, spec.get("value"), role)
        return out
    raw = body.tree.get("form_fields")
    if isinstance(raw, dict):
        out = Extracted()
        for key, value in raw.items():
            out.add(key, value)
        return out
    return _flat_fields(body, lambda key: key.lower() in _ELEMENTOR_META or _is_common_meta(key))


_BITRIX_NAME_PARTS = ("NAME", "SECOND_NAME", "LAST_NAME")
_BITRIX_ROLES: dict[str, Role] = {
    "EMAIL": "email", "PHONE": "phone", "COMMENTS": "message", "TITLE": "subject",
}  # fmt: skip


def _preset_bitrix24(body: Body) -> Extracted:
    """Bitrix24: CRM fields in the crm.lead.add shape, urlencoded or JSON.

    ``FIELDS[NAME]``, ``FIELDS[LAST_NAME]``, ``FIELDS[EMAIL][0][VALUE]``,
    ``FIELDS[PHONE][0][VALUE]``, ``FIELDS[COMMENTS]``, ``FIELDS[TITLE]``,
    custom ``UF_CRM_*``; also under ``data[FIELDS]`` as outgoing webhooks nest
    them. ``ID`` is the submission id; ``event=ONAPPTEST`` is Bitrix24's test
    event. An outgoing event that carries only an id has nothing to answer.
    """
    tree = body.tree
    data = _table(tree, "data") or tree
    fields = _table(data, "FIELDS") or _table(data, "fields") or {}
    out = Extracted(ping=text_of(tree.get("event")).upper() == "ONAPPTEST")
    for key, value in fields.items():
        _bitrix_field(out, str(key), value)
    out.submission_id = _first_value(fields, "ID")
    return out


def _bitrix_field(out: Extracted, key: str, value: Any) -> None:
    upper = key.upper()
    if upper in _BITRIX_NAME_PARTS:
        out.add(key, value, "name")
    elif upper in ("EMAIL", "PHONE"):
        out.add(key, _bitrix_multi(value), _BITRIX_ROLES[upper])
    else:
        is_meta = (
            upper == "ID" or upper.endswith("_ID") or upper in ("OPENED", "SOURCE_DESCRIPTION")
        )
        out.add(key, value, _BITRIX_ROLES.get(upper), meta=is_meta)


def _bitrix_multi(value: Any) -> str:
    """Return the first VALUE of a multi-field (``[{"VALUE": ..., "VALUE_TYPE": "WORK"}]``)."""
    items = value.values() if isinstance(value, dict) and "VALUE" not in value else value
    if isinstance(value, dict) and "VALUE" in value:
        return text_of(value["VALUE"])
    if isinstance(items, Iterable) and not isinstance(items, str):
        for item in items:
            text = text_of(item.get("VALUE")) if isinstance(item, dict) else text_of(item)
            if text:
                return text
        return ""
    return text_of(value)


_JOTFORM_QUESTION = re.compile(r"^q\d+_(.+)$")


def _preset_jotform(body: Body) -> Extracted:
    """Jotform webhook: multipart with ``formID``, ``submissionID``, ``pretty`` and ``rawRequest``.

    ``rawRequest`` is a JSON object whose questions are keyed ``q<N>_<name>``
    (``q3_name: {"first", "last"}``, ``q4_email``, ``q5_phoneNumber: {"full"}``);
    the label is ``<name>``. Without it, ``pretty`` ("Label:value, ...") is read.
    """
    flat = dict(body.pairs)
    out = Extracted(ping=_is_tilda_like_ping(body), submission_id=flat.get("submissionID") or None)
    try:
        raw = json.loads(flat.get("rawRequest", ""))
    except json.JSONDecodeError:
        raw = None
    if isinstance(raw, dict):
        for key, value in raw.items():
            match = _JOTFORM_QUESTION.match(key)
            if match:
                out.add(match.group(1), value)
    elif flat.get("pretty"):
        for item in flat["pretty"].split(", "):
            label, _, value = item.partition(":")
            out.add(label, value)
    return out


_TYPEFORM_ROLES: dict[str, Role] = {"email": "email", "phone_number": "phone"}


def _preset_typeform(body: Body) -> Extracted:
    """Typeform webhook JSON: ``event_id`` and ``form_response``.

    Each of ``form_response.answers`` has a ``type`` (text, email,
    phone_number, choice, choices, number, date, boolean, url, file_url) with
    the value under that key, and a ``field`` whose title is in
    ``definition.fields``. The submission id is the response ``token`` (the id
    Typeform's API uses too, so webhook and API agree), else ``event_id``.
    """
    response = _table(body.tree, "form_response")
    out = Extracted(submission_id=_first_value(body.tree, "event_id"))
    if response is None:
        return out
    out.submission_id = _first_value(response, "token") or out.submission_id
    titles = _typeform_titles(response.get("definition"))
    for answer in response.get("answers") or []:
        if isinstance(answer, dict):
            _typeform_answer(out, answer, titles)
    return out


def _typeform_titles(definition: Any) -> dict[str, str]:
    fields = definition.get("fields") if isinstance(definition, dict) else None
    return {
        text_of(item.get("id")): text_of(item.get("title"))
        for item in fields or []
        if isinstance(item, dict)
    }


def _typeform_answer(out: Extracted, answer: dict[str, Any], titles: dict[str, str]) -> None:
    kind = text_of(answer.get("type"))
    spec = _table(answer, "field") or {}
    label = titles.get(text_of(spec.get("id"))) or text_of(spec.get("ref")) or kind
    value = answer.get(kind)
    if kind == "choice" and isinstance(value, dict):
        value = value.get("label") or value.get("other")
    elif kind == "choices" and isinstance(value, dict):
        value = [*(value.get("labels") or []), value.get("other")]
    role = _TYPEFORM_ROLES.get(kind) or ("message" if spec.get("type") == "long_text" else None)
    out.add(label, value, role)


def _preset_wix(body: Body) -> Extracted:
    """Wix Automations "Send via webhook" for "Wix Forms: form submitted" (all keys and values).

    The payload's ``data`` holds ``submissions`` ([{"label", "value"}]),
    ``submissionId``, ``formName`` and a ``contact`` block (``name.first``,
    ``name.last``, ``email``, ``phone``); older payloads carry
    ``submissionData`` ([{"fieldName", "fieldValue"}]) or ``field:<key>`` pairs.
    """
    data = _table(body.tree, "data") or body.tree
    out = Extracted(submission_id=_first_value(data, "submissionId", "submission_id"))
    for label, value in _wix_fields(data):
        out.add(label, value)
    contact = data.get("contact")
    if isinstance(contact, dict):
        for role, value in _wix_contact(contact).items():
            if value:
                out.values[role] = value
    return out


def _wix_fields(data: dict[str, Any]) -> list[tuple[str, Any]]:
    for key, label_key, value_key in (
        ("submissions", "label", "value"),
        ("submissionData", "fieldName", "fieldValue"),
    ):
        items = data.get(key)
        if isinstance(items, list) and items:
            return [
                (text_of(item.get(label_key)), item.get(value_key))
                for item in items
                if isinstance(item, dict)
            ]
    return [(key[6:], value) for key, value in data.items() if key.startswith("field:")]


def _wix_contact(contact: dict[str, Any]) -> dict[Role, str]:
    name = contact.get("name")
    emails, phones = contact.get("emails") or [None], contact.get("phones") or [None]
    return {
        "name": text_of(name) if isinstance(name, dict | str) else "",
        "email": text_of(contact.get("email") or _wix_item(emails[0], "email")),
        "phone": text_of(contact.get("phone") or _wix_item(phones[0], "phone")),
    }


def _wix_item(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else item


def _preset_google_forms(body: Body) -> Extracted:
    """Google Forms through the Apps Script below: ``{"responseId", "timestamp", "answers"}``.

    ``answers`` maps each question's title to its answer (a list for
    checkboxes). ``{"test": true}`` is a ping. The script, bound to the form
    (Extensions → Apps Script), with an "On form submit" trigger::

        const URL = "https://watchdog.example.com/hooks/site-contact?token=...";
        function onFormSubmit(e) {
          const answers = {};
          e.response.getItemResponses().forEach(r => {
            answers[r.getItem().getTitle()] = r.getResponse();
          });
          const email = e.response.getRespondentEmail();
          if (email) answers["Email"] = email;
          UrlFetchApp.fetch(URL, {
            method: "post", contentType: "application/json",
            payload: JSON.stringify({
              responseId: e.response.getId(),
              timestamp: e.response.getTimestamp().toISOString(),
              answers: answers,
            }),
          });
        }
    """
    tree = body.tree
    out = Extracted(ping=tree.get("test") is True, submission_id=_first_value(tree, "responseId"))
    answers = tree.get("answers")
    if isinstance(answers, dict):
        for title, value in answers.items():
            out.add(title, value)
    return out


Preset = Callable[[Body], Extracted]
PRESETS: dict[str, Preset] = {
    "generic": _preset_generic,
    "tilda": _preset_tilda,
    "wix": _preset_wix,
    "cf7": _preset_cf7,
    "elementor": _preset_elementor,
    "bitrix24": _preset_bitrix24,
    "jotform": _preset_jotform,
    "typeform": _preset_typeform,
    "google_forms": _preset_google_forms,
}


# --- step 3: resolving roles ----------------------------------------------------------------

_WORDS: dict[Role, frozenset[str]] = {
    "email": frozenset({"email", "mail", "почта", "почты", "емейл", "имейл", "емэйл"}),
    "phone": frozenset(
        {"phone", "phonenumber", "tel", "telephone", "mobile", "whatsapp",
         "телефон", "телефона", "тел", "мобильный", "сотовый"}
    ),
    "name": frozenset(
        {"name", "fullname", "firstname", "lastname", "surname", "fio",
         "имя", "имени", "фио", "фамилия", "отчество", "обращаться"}
    ),
    "subject": frozenset({"subject", "topic", "тема"}),
    "message": frozenset(
        {"message", "comment", "comments", "question", "questions", "text", "textarea",
         "description", "details", "enquiry", "inquiry", "msg",
         "сообщение", "комментарий", "комментарии", "вопрос", "вопросы", "текст",
         "описание", "запрос", "пожелания", "обращение"}
    ),
}  # fmt: skip
#: A label with one of these is about something else ("Company name", "Название товара").
_NOT_A_PERSON = frozenset(
    {"company", "organization", "organisation", "form", "file", "user", "username", "product",
     "компания", "компании", "организация", "организации", "название", "товар", "товара"}
)  # fmt: skip
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


_CAMEL_CASE = re.compile(r"([a-z])([A-Z])")
_WORD = re.compile(r"[a-zа-я0-9]+")


@functools.lru_cache(maxsize=1024)  # a form's labels repeat with every submission
def _tokens(label: str) -> frozenset[str]:
    """Return a label's words, lower-cased; camelCase splits and the squashed form is added."""
    spaced = _CAMEL_CASE.sub(r"\1 \2", label).lower().replace("ё", "е")
    words = _WORD.findall(spaced)
    return frozenset({*words, "".join(words)})


def _looks_like(role: Role, label: str) -> bool:
    tokens = _tokens(label)
    if not tokens & _WORDS[role]:
        return False
    return role != "name" or not tokens & _NOT_A_PERSON


@dataclass
class _Resolver:
    """Resolves roles over one Extracted, remembering which labels are taken."""

    found: Extracted
    mapping: FormFields
    claimed: set[str] = field(default_factory=set)

    def labels_for(self, role: Role) -> list[str]:
        """Return the labels holding ``role``: configured, else provider-marked, else by name."""
        configured = getattr(self.mapping, role, None)
        if configured:
            exact = [label for label in self.found.fields if label.lower() == configured.lower()]
            if exact:
                return exact
        marked = [label for label in self.found.roles.get(role, []) if label not in self.claimed]
        if marked:
            return marked
        return [label for label in self.free() if _looks_like(role, label)]

    def free(self) -> list[str]:
        """Return the labels not yet claimed and not provider bookkeeping, in order."""
        return [
            label
            for label in self.found.fields
            if label not in self.claimed and label not in self.found.meta
        ]

    def take(self, role: Role) -> str:
        """Return the value of ``role`` ("" if none) and claim its fields."""
        labels = self.labels_for(role)
        self.claimed.update(labels)
        values = [self.found.fields[label] for label in labels if self.found.fields[label]]
        if role == "email":
            values = [value for value in values if _EMAIL.match(value)]
        if not values:
            return self.found.values.get(role, "")
        separator = {"name": " ", "message": "\n\n", "subject": " "}.get(role)
        return separator.join(values) if separator else values[0]

    def email_by_value(self) -> str:
        """Return the first free field whose whole value is an address ("Контакт: a@b.ru")."""
        for label in self.free():
            if _EMAIL.match(self.found.fields[label]):
                self.claimed.add(label)
                return self.found.fields[label]
        return ""

    def leftovers(self) -> str:
        """Return every unclaimed text field as "label: value" lines: nothing written is lost."""
        lines = [f"{label}: {self.found.fields[label]}" for label in self.free()]
        return "\n".join(line for line in lines if not line.endswith(": "))


def resolve(found: Extracted, mapping: FormFields) -> dict[Role, str]:
    """Return the value of each role; the message falls back to all remaining fields."""
    resolver = _Resolver(found, mapping)
    values = {role: resolver.take(role) for role in ROLES}
    values["email"] = values["email"] or resolver.email_by_value()
    message = values["message"] or resolver.leftovers()
    subject = values["subject"]
    if subject and subject not in message:
        message = f"{subject}\n\n{message}" if message else subject
    values["message"] = message
    return values


# --- step 4: the whole ----------------------------------------------------------------------------


def parse_submission(
    preset: str,
    mapping: FormFields,
    content_type: str | None,
    body: bytes,
    *,
    received_at: datetime,
) -> FormSubmission | None:
    """Turn one webhook body into a FormSubmission; return None for a provider's test ping.

    ``mapping`` is the form's ``[form.fields]``, applied on top of the preset.
    Raises UnsupportedContentType or MalformedPayload. The result may not be
    ``usable`` (no text, no contact): that decision is the caller's.
    """
    found = PRESETS[preset](decode_body(content_type, body))
    if found.ping:
        return None
    values = resolve(found, mapping)
    phone = values["phone"]
    return FormSubmission(
        provider=preset,
        received_at=received_at,
        message=values["message"],
        name=values["name"] or None,
        email=values["email"].lower() or None,
        phone=normalise_phone(phone),
        submission_id=found.submission_id,
        fields=found.fields,
        raw=body,
    )
