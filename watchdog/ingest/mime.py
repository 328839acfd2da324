"""Safe access to the stdlib's compat32 MIME tree, shared by body and attachment code.

compat32 is forgiving when parsing but some accessors are not: ``get_payload()``
raises on a hostile charset name, ``get_content_type()`` re-parses its header
on every call. These helpers are the only way ingest reads a part.
"""

from __future__ import annotations

import email.message

Part = email.message.Message
BODY_TYPES = ("text/plain", "text/html")
MAX_DEPTH = 40  # MIME nesting beyond this is hostile: not walked
MAX_PARTS = 1_000


class ContentTypes:
    """Each part's content type, computed once per parse.

    compat32's ``get_content_type`` re-parses the header on every call, and
    the walk, the body choice and the attachment list each ask for it.
    """

    def __init__(self) -> None:
        self._cache: dict[int, str] = {}

    def __call__(self, part: Part) -> str:
        key = id(part)
        ctype = self._cache.get(key)
        if ctype is None:
            ctype = self._cache[key] = part.get_content_type()
        return ctype


def walk(root: Part, types: ContentTypes) -> list[Part]:
    """Return every part depth-first, not descending into delivery-status blocks.

    compat32 parses message/delivery-status as a list of header blocks that
    look like text/plain parts; they are status fields, not parts.
    """
    result: list[Part] = []
    stack: list[tuple[Part, int]] = [(root, 0)]
    while stack and len(result) < MAX_PARTS:
        part, depth = stack.pop()
        result.append(part)
        if depth >= MAX_DEPTH or types(part) == "message/delivery-status":
            continue
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend(
                (child, depth + 1) for child in reversed(payload) if isinstance(child, Part)
            )
    return result


def is_attachment_disposition(part: Part) -> bool:
    try:
        return part.get_content_disposition() == "attachment"
    except Exception:
        return False


def leaf_payload(part: Part) -> str:
    """Return a leaf's stored payload (still transfer-encoded), or "" for a container.

    compat32's ``get_payload()`` decodes 8-bit text with the declared charset
    name and raises on a hostile one (a NUL in it, an RFC 2231 tuple), so a
    failure falls back to the stored value.
    """
    if part.is_multipart():
        return ""
    try:
        payload = part.get_payload()
    except Exception:
        payload = getattr(part, "_payload", "")
    return payload if isinstance(payload, str) else ""


def decoded_payload(part: Part) -> bytes:
    """Return a leaf's payload with its transfer encoding undone; b"" for a container.

    The stdlib notes bad base64 or quoted-printable as a defect and returns
    what it could; should it raise anyway, the stored bytes are used as-is.
    """
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = leaf_payload(part).encode("utf-8", "surrogateescape")
    return data if isinstance(data, bytes) else b""
