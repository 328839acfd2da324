"""Attachment metadata: type, decoded file name and size, never the bytes."""

from __future__ import annotations

from functools import lru_cache

from watchdog.ingest.headers import decode_words, raw_to_text
from watchdog.ingest.message import Attachment
from watchdog.ingest.mime import (
    BODY_TYPES,
    ContentTypes,
    Part,
    decoded_payload,
    is_attachment_disposition,
    leaf_payload,
    walk,
)
from watchdog.ingest.simple import Leaf


def attachments(parts: list[Part], body: list[Part], types: ContentTypes) -> tuple[Attachment, ...]:
    """Return metadata of every part that is neither body nor container.

    Attached messages (message/*) count as one attachment each; the parts
    inside them appear in ``mime_types`` but not here. An unchosen text
    alternative without a name (the HTML twin of a plain body) is not one.
    """
    body_ids = {id(p) for p in body}
    inside_message: set[int] = set()
    result: list[Attachment] = []
    for part in parts:
        if id(part) in inside_message:
            _mark_children(part, inside_message)
            continue
        ctype = types(part)
        if ctype.startswith("message/"):
            _mark_children(part, inside_message)
            result.append(Attachment(ctype, _filename(part), _approx_size(part, types)))
            continue
        if part.is_multipart() or id(part) in body_ids:
            continue
        name = _filename(part)
        if ctype in BODY_TYPES and name is None and not is_attachment_disposition(part):
            continue
        result.append(Attachment(ctype, name, _payload_size(part)))
    return tuple(result)


def leaf_attachments(leaves: tuple[Leaf, ...], body: list[Leaf]) -> tuple[Attachment, ...]:
    """``attachments`` of a one-level multipart's leaves (``watchdog.ingest.simple``).

    The same choices as for the general tree; the file name is worked out
    once per distinct pair of naming headers, the size from the leaf's part.
    """
    body_ids = {id(leaf) for leaf in body}
    result: list[Attachment] = []
    for leaf in leaves:
        if id(leaf) in body_ids:
            continue
        name = _naming_filename(leaf.disposition, leaf.content_type_value)
        if leaf.content_type in BODY_TYPES and name is None and not leaf.attachment:
            continue
        result.append(Attachment(leaf.content_type, name, _payload_size(leaf.part())))
    return tuple(result)


@lru_cache(maxsize=512)
def _naming_filename(disposition: str | None, content_type: str | None) -> str | None:
    """``_filename`` of a part with these first Content-Disposition and Content-Type values.

    Nothing else of a part decides its file name, and the HTML twin of every
    notification asks the same question ("text/html; charset=utf-8").
    """
    part = Part()
    part._headers = [  # type: ignore[attr-defined]
        (name, value)
        for name, value in (("Content-Disposition", disposition), ("Content-Type", content_type))
        if value is not None
    ]
    return _filename(part)


def _mark_children(part: Part, marked: set[int]) -> None:
    payload = part.get_payload() if part.is_multipart() else None
    if isinstance(payload, list):
        marked.update(id(child) for child in payload)


def _filename(part: Part) -> str | None:
    """Return the part's decoded file name (RFC 2231, RFC 2047 or raw 8-bit), or None."""
    try:
        shadow = _shadow_if_8bit(part)
        name = (shadow or part).get_filename()
    except Exception:
        return None
    if not name:
        return None
    name = decode_words(name).strip()
    return name or None


def _shadow_if_8bit(part: Part) -> Part | None:
    """Return a copy of the naming headers with raw 8-bit bytes decoded, or None if none.

    compat32 turns raw 8-bit parameter values into U+FFFD; decoding the raw
    bytes ourselves keeps "Счёт.pdf" readable.
    """
    raw = {name.lower(): value for name, value in reversed(list(part.raw_items()))}
    naming = {h: raw[h] for h in ("content-disposition", "content-type") if h in raw}
    if all(isinstance(v, str) and v.isascii() for v in naming.values()):
        return None
    shadow = Part()
    for header, value in naming.items():
        shadow[header] = raw_to_text(str(value))
    return shadow


def _payload_size(part: Part) -> int:
    """Return the decoded size of a leaf's payload.

    For base64 it is computed from the encoded length without decoding
    (exact for well-formed base64), so a large attachment costs nothing.
    """
    payload = leaf_payload(part)
    cte = str(part.get("content-transfer-encoding", "")).strip().lower()
    if cte == "base64":
        chars = len(payload) - sum(payload.count(c) for c in "\r\n\t ")
        padding = len(payload.rstrip()) - len(payload.rstrip().rstrip("="))
        return max(chars * 3 // 4 - padding, 0)
    return len(decoded_payload(part))


def _approx_size(part: Part, types: ContentTypes) -> int:
    """Return an attached message's size: its headers plus its leaves' encoded payloads."""
    total = 0
    for sub in walk(part, types):
        total += sum(len(n) + len(str(v)) + 4 for n, v in sub.raw_items())
        total += len(leaf_payload(sub))
    return total
