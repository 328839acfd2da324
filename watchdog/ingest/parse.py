"""Raw email bytes to one ``Message``: the only place that ever looks at MIME.

Built on the stdlib parser with the ``compat32`` policy rather than on
mail-parser or ``policy.default``: compat32 never raises on malformed headers
and is several times faster (numbers in ``bench/parse_corpus.py``); the
charset, RFC 2047 and RFC 2231 work it leaves undone is done in
``watchdog.ingest.headers`` and ``watchdog.ingest.charsets``.

``parse_message`` never raises: a message that cannot be read becomes a
``Message`` with ``broken`` set to the reason and whatever could be salvaged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import compat32
from typing import Any, TypeVar

from watchdog.ingest.attachments import attachments, leaf_attachments
from watchdog.ingest.charsets import decode_bytes, decode_prefix
from watchdog.ingest.headers import (
    decode_value,
    first_address,
    parse_addresses,
    parse_date,
    parse_ids,
    raw_to_text,
)
from watchdog.ingest.message import Address, Direction, Message, OurIdentity
from watchdog.ingest.mime import (
    BODY_TYPES,
    MAX_DEPTH,
    MAX_PARTS,
    ContentTypes,
    Part,
    decoded_payload,
    is_attachment_disposition,
    leaf_payload,
    walk,
)
from watchdog.ingest.simple import (
    Leaf,
    PlainMultipart,
    SimpleMail,
    content_charset,
    decode_leaf,
    multipart_tree,
    read_plain,
    stored_text,
)
from watchdog.ingest.text import MAX_TEXT_CHARS, html_to_text, new_part

_PARSER = BytesParser(policy=compat32)
# A text part's bytes decoded at most (utf-8 Cyrillic takes 2 bytes a character).
_MAX_BODY_BYTES = MAX_TEXT_CHARS * 2
_TRAILING_SPACE = re.compile(r"[ \t\xa0]+\n")
_BLANK_RUN = re.compile(r"\n{3,}")
# What the stdlib accepts as a header line: a name and a colon, a continuation,
# or an mbox "From " line (email.feedparser.headerRE).
_HEADER_LINE = re.compile(rb"From |[\x21-\x39\x3b-\x7e]+:|[ \t]")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_REPAIRED = "MalformedHeaderLineRepaired"
_IDENTIFYING = ("from", "date", "subject", "message-id")
_Choice = TypeVar("_Choice")


def parse_message(
    raw: bytes, *, ours: OurIdentity | None = None, folder_role: str | None = None
) -> Message:
    """Return the normalised ``Message`` for raw RFC 5322 bytes. Never raises.

    ``ours`` and ``folder_role`` ("inbox", "sent", ...) decide the direction:
    outgoing when the folder is Sent or the sender is ours; incoming when
    either is known and says otherwise; unknown when neither is given. A
    broken message gets its direction from the folder alone.
    """
    try:
        raw = bytes(raw)
        return _parse(raw, ours, folder_role)
    except Exception as exc:  # the contract: one bad message never stops the mailbox
        return Message(
            raw_size=len(raw),
            headers=_salvage_headers(raw) if isinstance(raw, bytes) else {},
            direction=_direction(None, ours, folder_role),
            broken=f"parser failed: {type(exc).__name__}: {exc}"[:500],
        )


def _parse(raw: bytes, ours: OurIdentity | None, folder_role: str | None) -> Message:
    if not raw.strip():
        return Message(
            raw_size=len(raw),
            direction=_direction(None, ours, folder_role),
            broken="empty message",
        )
    plain = read_plain(raw)  # most mail: the same result without the stdlib's MIME parser
    if isinstance(plain, SimpleMail):
        return _simple_message(raw, plain, ours, folder_role)
    if isinstance(plain, PlainMultipart):
        return _multipart_message(raw, plain, ours, folder_role)
    msg, repaired = _parse_mime(raw)
    raw_headers = _raw_headers(msg)
    headers = _decoded(raw_headers)
    if not any(name in headers for name in _IDENTIFYING):
        return Message(
            raw_size=len(raw),
            headers=headers,
            defects=_defects(msg),
            direction=_direction(None, ours, folder_role),
            broken="not an email: no From, Date, Subject or Message-ID header",
        )
    types = ContentTypes()
    parts = walk(msg, types)
    body = _body_parts(msg, 0, types)
    full_text, html_only = _body_text([(types(p), _part_text(p)) for p in body])
    return Message(
        **_header_fields(raw_headers, headers, ours, folder_role),
        raw_size=len(raw),
        content_type=types(msg),
        mime_types=tuple(types(part) for part in parts),
        attachments=attachments(parts, body, types),
        text=new_part(full_text),
        full_text=full_text,
        html_only=html_only,
        defects=_defects(msg, parts) + ((_REPAIRED,) if repaired else ()),
    )


def _simple_message(
    raw: bytes, simple: SimpleMail, ours: OurIdentity | None, folder_role: str | None
) -> Message:
    """The Message of a one-text-part mail (see ``watchdog.ingest.simple``)."""
    ctype = simple.content_type
    full_text, html_only = _body_text([(ctype, _text(simple.payload, simple.charset))])
    return Message(
        **_header_fields(simple.headers, _decoded(simple.headers), ours, folder_role),
        raw_size=len(raw),
        content_type=ctype,
        mime_types=(ctype,),
        text=new_part(full_text),
        full_text=full_text,
        html_only=html_only,
        defects=simple.defects,
    )


def _multipart_message(
    raw: bytes, mail: PlainMultipart, ours: OurIdentity | None, folder_role: str | None
) -> Message:
    """The Message of a one-level multipart of plain leaves (see ``watchdog.ingest.simple``).

    The general path's choices made on the leaves directly: the body as
    ``_body_parts`` picks it, the defects that decoding the body notes (the
    only ones such a mail can have), the attachments as ``attachments``.
    """
    body = _leaf_body(mail)
    texts: list[tuple[str, str]] = []
    defects: dict[str, None] = {}
    for leaf in body:
        data, noted = decode_leaf(leaf)
        defects.update(dict.fromkeys(noted))
        texts.append((leaf.content_type, _text(data, content_charset(leaf.content_type_value))))
    full_text, html_only = _body_text(texts)
    return Message(
        **_header_fields(mail.headers, _decoded(mail.headers), ours, folder_role),
        raw_size=len(raw),
        content_type=mail.content_type,
        mime_types=(mail.content_type, *(leaf.content_type for leaf in mail.leaves)),
        attachments=leaf_attachments(mail.leaves, body),
        text=new_part(full_text),
        full_text=full_text,
        html_only=html_only,
        defects=tuple(defects),
    )


def _leaf_body(mail: PlainMultipart) -> list[Leaf]:
    """``_body_parts`` of a one-level multipart: its leaves that make up the readable body."""
    if mail.attachment:
        return []
    choices = [
        [leaf] if leaf.content_type in BODY_TYPES and not leaf.attachment else []
        for leaf in mail.leaves
    ]
    if mail.content_type == "multipart/alternative":
        return _pick_alternative(choices, _leaf_has_plain_text)
    if mail.content_type == "multipart/related":
        return choices[0] if choices else []
    return [leaf for choice in choices for leaf in choice]


def _leaf_has_plain_text(leaf: Leaf) -> bool:
    return leaf.content_type == "text/plain" and bool(stored_text(leaf).strip())


def _decoded(raw_headers: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {name: tuple(map(decode_value, values)) for name, values in raw_headers.items()}


def _header_fields(
    raw_headers: dict[str, list[str]],
    headers: dict[str, tuple[str, ...]],
    ours: OurIdentity | None,
    folder_role: str | None,
) -> dict[str, Any]:
    """The Message fields that come from the headers (ids, addresses, subject, date, direction)."""
    from_ = first_address(raw_headers.get("from", []))
    return {
        "message_id": _first_id(headers.get("message-id")),
        "in_reply_to": _first_id(headers.get("in-reply-to")),
        "references": tuple(i for v in headers.get("references", ()) for i in parse_ids(v)),
        "from_": from_,
        "sender": first_address(raw_headers.get("sender", [])),
        "reply_to": parse_addresses(raw_headers.get("reply-to", [])),
        "to": parse_addresses(raw_headers.get("to", [])),
        "cc": parse_addresses(raw_headers.get("cc", [])),
        "subject": headers.get("subject", ("",))[0],
        "date": parse_date(headers.get("date", ("",))[0]),
        "headers": headers,
        "direction": _direction(from_, ours, folder_role),
    }


def _parse_mime(raw: bytes) -> tuple[Part, bool]:
    """Parse ``raw``; return the tree and whether a mangled header line had to be repaired.

    The stdlib ends the header block at the first line that is neither a
    header nor a continuation (8-bit junk in a trace header, a Subject folded
    without indentation), so everything after it, From and Subject included,
    becomes body. When that leaves no From header, such lines are re-read as
    continuations of the header before them, and the repair is kept if it
    finds a From. A message whose From came before the bad line is left
    alone: there the "bad line" is more likely a body missing its blank
    separator line.
    """
    plain = multipart_tree(raw)  # a multipart of plain leaves: the same tree, built faster
    if plain is not None:
        return plain, False
    msg = _PARSER.parsebytes(raw)
    if "from" in _raw_headers(msg):
        return msg, False
    fixed = _fold_bad_header_lines(raw)
    if fixed is None:
        return msg, False
    repaired = _PARSER.parsebytes(fixed)
    return (repaired, True) if "from" in _raw_headers(repaired) else (msg, False)


def _fold_bad_header_lines(raw: bytes) -> bytes | None:
    """Return ``raw`` with non-header lines of its header block indented, or None if none."""
    end = _BLANK_LINE.search(raw)
    head, rest = (raw[: end.start()], raw[end.start() :]) if end else (raw, b"")
    lines = head.split(b"\n")
    bad = [i for i, line in enumerate(lines) if not _HEADER_LINE.match(line)]
    if not bad or len(bad) == len(lines):
        return None
    for i in bad:
        lines[i] = b" " + lines[i]
    return b"\n".join(lines) + rest


def _raw_headers(part: Part) -> dict[str, list[str]]:
    """Return raw header values by lower-cased name, in order of appearance."""
    result: dict[str, list[str]] = {}
    for name, value in part.raw_items():
        key = raw_to_text(name).strip().lower()
        result.setdefault(key, []).append(value if isinstance(value, str) else str(value))
    return result


def _first_id(values: tuple[str, ...] | None) -> str | None:
    ids = parse_ids(values[0]) if values else ()
    return ids[0] if ids else None


def _direction(
    from_: Address | None, ours: OurIdentity | None, folder_role: str | None
) -> Direction:
    if (folder_role or "").lower() == "sent" or (ours is not None and ours.owns(from_)):
        return "outgoing"
    if ours is not None or folder_role is not None:
        return "incoming"
    return "unknown"


def _body_parts(part: Part, depth: int, types: ContentTypes) -> list[Part]:
    """Return the text/plain or text/html leaves that make up the readable body.

    multipart/alternative contributes its plain version when it has a
    non-empty one, else its last (richest) version; multipart/related its
    root; other multiparts (mixed, report, signed) all their inline text.
    Attached messages (message/rfc822) are attachments, not body.
    """
    ctype = types(part)
    if depth > MAX_DEPTH or is_attachment_disposition(part):
        return []
    if ctype in BODY_TYPES:
        return [part]
    if part.get_content_maintype() != "multipart" or not part.is_multipart():
        return []
    payload = part.get_payload()
    if not isinstance(payload, list):
        return []
    children = [child for child in payload[:MAX_PARTS] if isinstance(child, Part)]
    if ctype == "multipart/alternative":
        choices = [_body_parts(child, depth + 1, types) for child in children]
        return _pick_alternative(choices, lambda p: types(p) == "text/plain" and _has_content(p))
    if ctype == "multipart/related":
        return _body_parts(children[0], depth + 1, types) if children else []
    return [leaf for child in children for leaf in _body_parts(child, depth + 1, types)]


def _pick_alternative(
    choices: list[list[_Choice]], plain_text: Callable[[_Choice], bool]
) -> list[_Choice]:
    """The first choice with a non-empty text/plain part, else the last non-empty one."""
    for choice in choices:
        if any(plain_text(part) for part in choice):
            return choice
    non_empty = [choice for choice in choices if choice]
    return non_empty[-1] if non_empty else []


def _has_content(part: Part) -> bool:
    return bool(leaf_payload(part).strip())


def _body_text(body: list[tuple[str, str]]) -> tuple[str, bool]:
    """Return (the body's text, True when it came from HTML only) of (type, text) parts."""
    texts: list[str] = []
    for ctype, text in body:
        if ctype == "text/html":
            text = html_to_text(text)
        text = _normalise_newlines(text).strip()
        if text:
            texts.append(text)
    html_only = bool(body) and all(ctype == "text/html" for ctype, _ in body)
    return "\n\n".join(texts)[:MAX_TEXT_CHARS], html_only


def _part_text(part: Part) -> str:
    """Decode a text part's payload (transfer encoding, then charset, with fallbacks)."""
    data = decoded_payload(part)
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return _text(data, charset)


def _text(data: bytes, charset: str | None) -> str:
    """Decode a text part's bytes in its charset, with fallbacks; only the first part of a huge one."""
    if len(data) > _MAX_BODY_BYTES:
        return decode_prefix(data[:_MAX_BODY_BYTES], charset)
    return decode_bytes(data, charset)


def _normalise_newlines(text: str) -> str:
    """Return text with "\n" line ends, no trailing spaces and at most one blank line in a row.

    HTML renderings especially come with runs of blank and space-only lines
    that make rules and the dashboard harder to read.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if " \n" in text or "\t\n" in text or "\xa0\n" in text:  # what _TRAILING_SPACE needs
        text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_RUN.sub("\n\n", text) if "\n\n\n" in text else text


def _defects(msg: Part, parts: list[Part] | None = None) -> tuple[str, ...]:
    """Return the distinct defect names the parser noted, in the order found."""
    seen: dict[str, None] = {}
    for part in parts if parts is not None else [msg]:
        for defect in getattr(part, "defects", ()):
            seen.setdefault(type(defect).__name__, None)
    return tuple(seen)


def _salvage_headers(raw: bytes) -> dict[str, tuple[str, ...]]:
    """Best effort: the header block alone, for a message whose full parse failed."""
    try:
        head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
        msg = _PARSER.parsebytes(head, headersonly=True)
        return {name: tuple(decode_value(v) for v in vs) for name, vs in _raw_headers(msg).items()}
    except Exception:
        return {}
