"""Simple mail without the stdlib's feed parser: the same result, far faster.

Most mail a shop receives is plain: one text part under a dozen well-formed
headers ("text/plain; charset=utf-8", 8bit or quoted-printable), or a
multipart of a few such leaves (a text and an HTML version, a PDF attached).
For such mail the stdlib's feed parser (pure Python, line by line, so 4,000
lines for a 150 kB attachment) and the accessors of its tree were most of
``parse_message``'s time. Two shortcuts, each taken only for mail the feed
parser would read without any defect or repair:

- ``read_simple``: one text/plain or text/html body that is not an
  attachment. It computes what ``watchdog.ingest.parse`` takes from the tree
  (the raw header values, the content type, the body with its transfer
  encoding undone, its charset), each step mirroring the stdlib call it
  replaces (named in the comments).
- ``multipart_tree``: a multipart whose parts are leaves (no nested multipart
  or message). It builds the very ``email.message.Message`` tree the feed
  parser builds (same headers, payloads, preamble and epilogue, no defects),
  finding the boundary lines with ``str.find``; the general path's own code
  then reads it.

Anything else (8-bit or odd MIME headers, a header line the parser would stop
at, mixed line endings, a From_ line, nesting, uuencode, a missing boundary)
returns None and goes through the feed parser. ``tests/test_ingest.py``
checks on generated mail that the shortcuts give the same tree and the same
``Message`` as the feed parser.
"""

from __future__ import annotations

import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email._encoded_words import decode_b  # type: ignore[import-not-found]  # as get_payload
from email.message import Message as Part
from email.policy import compat32
from functools import lru_cache

# What the feed parser accepts as a header name (email.feedparser.headerRE), at least one.
_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+\Z")
_TEXT_TYPES = ("text/plain", "text/html")
_UUENCODE = ("x-uuencode", "uuencode", "uue", "x-uue")


@dataclass(frozen=True, slots=True)
class SimpleMail:
    """What the parser needs of a one-text-part mail.

    ``headers``: raw values by lower-cased name, in order (as ``parse._raw_headers``);
    ``payload``: the body with its transfer encoding undone; ``defects``: what
    undoing base64 noted, by class name.
    """

    headers: dict[str, list[str]]
    content_type: str
    payload: bytes
    charset: str | None
    defects: tuple[str, ...]


def read_simple(raw: bytes) -> SimpleMail | None:
    """Return the parts of a simple one-text-part message, or None if it is not that simple."""
    head, body, eol = _split(raw)
    if head is None:
        return None
    pairs = _headers(head.decode("ascii", "surrogateescape"), eol)
    if pairs is None:
        return None
    headers: dict[str, list[str]] = {}
    for name, value in pairs:
        headers.setdefault(name.lower(), []).append(value)
    if "from" not in headers:
        return None  # the general path may repair a mangled header block
    content_type = _first(headers, "content-type")
    encoding = _first(headers, "content-transfer-encoding")
    disposition = _first(headers, "content-disposition")
    if not all(v is None or v.isascii() for v in (content_type, encoding, disposition)):
        return None  # 8-bit: the stdlib reads these through Header objects
    ctype = "text/plain" if content_type is None else _main_value(content_type)
    if ctype not in _TEXT_TYPES or (disposition and _main_value(disposition) == "attachment"):
        return None
    cte = (encoding or "").lower()  # Message.get_payload: no strip
    if cte in _UUENCODE:
        return None
    payload, defects = _decode(body, cte)
    return SimpleMail(headers, ctype, payload, content_charset(content_type), defects)


def _first(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _main_value(value: str) -> str:
    """email.message._splitparam(value)[0].lower(): the value before any parameters."""
    return value.partition(";")[0].strip().lower()


def _decode(body: bytes, cte: str) -> tuple[bytes, tuple[str, ...]]:
    """Undo the transfer encoding as compat32's ``get_payload(decode=True)`` does."""
    if cte == "quoted-printable":
        return quopri.decodestring(body), ()
    if cte == "base64":
        value, defects = decode_b(b"".join(body.splitlines()))
        return value, tuple(dict.fromkeys(type(d).__name__ for d in defects))
    return body, ()


@lru_cache(maxsize=512)
def content_charset(content_type: str | None) -> str | None:
    """``get_content_charset()`` of a part with this Content-Type, None if it raises.

    Asked of the stdlib itself, once per distinct header value: parameter
    parsing (quotes, RFC 2231) is slow and mailers send few distinct values.
    """
    if content_type is None:
        return None
    part = Part(policy=compat32)
    part._headers = [("Content-Type", content_type)]  # type: ignore[attr-defined]
    try:
        return part.get_content_charset()
    except Exception:
        return None


def _split(raw: bytes) -> tuple[bytes | None, bytes, str]:
    """Cut at the first blank line; the header block must use one line ending throughout."""
    crlf, lf = raw.find(b"\r\n\r\n"), raw.find(b"\n\n")
    if lf != -1 and (crlf == -1 or lf < crlf):
        head = raw[: lf + 1]
        return (None if b"\r" in head else head), raw[lf + 2 :], "\n"
    if crlf == -1:
        return None, b"", ""
    head = raw[: crlf + 2]
    lines = head.count(b"\r\n")
    if head.count(b"\r") != lines or head.count(b"\n") != lines:
        return None, b"", ""
    return head, raw[crlf + 4 :], "\r\n"


def _headers(head: str, eol: str) -> list[tuple[str, str]] | None:
    """(name, value) pairs exactly as the feed parser stores them, or None for any odd line.

    The value keeps folded lines' breaks and drops the spaces after the
    colon (compat32's ``header_source_parse``).
    """
    headers: list[tuple[str, str]] = []
    name = value = ""
    for line in head.split(eol)[:-1]:
        if line[:1] in (" ", "\t"):
            if not name:
                return None  # a continuation first: the feed parser notes a defect
            value += eol + line
            continue
        if name:
            headers.append((name, value))
        colon = line.find(":")
        if colon < 1 or not _NAME.match(line, 0, colon):
            return None  # not a header line: the feed parser would end the headers here
        name, value = line[:colon], line[colon + 1 :].lstrip(" \t")
    if name:
        headers.append((name, value))
    return headers


def multipart_tree(raw: bytes) -> Part | None:
    """Return the compat32 tree of a one-level multipart, or None if it is not that plain.

    The feed parser's rules (``email.feedparser.FeedParser._parsegen``): a
    boundary line is ``--boundary``, maybe ``--``, maybe spaces or tabs; the
    line break before it belongs to it; lines before the first one are the
    preamble (its last line break dropped), what follows the closing one the
    epilogue.
    """
    head, body, eol = _split(raw)
    if head is None:
        return None
    pairs = _headers(head.decode("ascii", "surrogateescape"), eol)
    if pairs is None or not any(name.lower() == "from" for name, _ in pairs):
        return None
    content_type = _first_of(pairs, "content-type")
    encoding = _first_of(pairs, "content-transfer-encoding")
    if content_type is None or not content_type.isascii():
        return None
    ctype = _content_type(content_type)
    if not ctype.startswith("multipart/") or ctype == "multipart/digest":
        return None  # a digest's parts default to message/rfc822: left to the feed parser
    if encoding is not None and str(encoding).lower() not in ("7bit", "8bit", "binary"):
        return None  # the feed parser notes a defect
    boundary = _boundary(content_type)
    text = body.decode("ascii", "surrogateescape")
    if not boundary or not _one_line_ending(text, eol):
        return None
    root = _tree(pairs)
    if not _read_parts(root, text, "--" + boundary, eol):
        return None
    return root


def _first_of(pairs: list[tuple[str, str]], name: str) -> str | None:
    """``Message.get(name)``: the first value of the header, any case."""
    return next((value for key, value in pairs if key.lower() == name), None)


def _content_type(value: str) -> str:
    """``Message.get_content_type()`` for a Content-Type value in ASCII."""
    ctype = _main_value(value)
    return ctype if ctype.count("/") == 1 else "text/plain"


@lru_cache(maxsize=512)
def _boundary(content_type: str) -> str | None:
    """``get_boundary()`` of a part with this Content-Type, asked of the stdlib once per value."""
    part = _tree([("Content-Type", content_type)])
    try:
        return part.get_boundary()
    except Exception:
        return None


def _one_line_ending(text: str, eol: str) -> bool:
    """True when ``text`` breaks lines only with ``eol`` (the feed parser also breaks on a lone CR)."""
    if eol == "\n":
        return "\r" not in text
    breaks = text.count("\r\n")
    return text.count("\r") == breaks and text.count("\n") == breaks


def _tree(headers: list[tuple[str, str]]) -> Part:
    part = Part(policy=compat32)
    part._headers = headers  # type: ignore[attr-defined]
    return part


def _read_parts(root: Part, text: str, separator: str, eol: str) -> bool:
    """Attach ``root``'s parts read from its body ``text``; False when any is not plain."""
    lines = _boundary_lines(text, separator, eol)
    first = next(lines, None)
    if first is None or first[2]:
        return False  # no opening boundary: a defect
    start, end, _ = first
    if start:
        root.preamble = text[: start - len(eol)]
    parts: list[Part] = []
    for next_start, next_end, closing in lines:
        if next_start == end:
            return False  # two boundary lines in a row: the feed parser skips, oddly
        part = _leaf(text[end:next_start], eol)
        if part is None:
            return False
        parts.append(part)
        start, end = next_start, next_end
        if closing:
            root._payload = parts  # type: ignore[attr-defined]
            root.epilogue = text[end:]
            return True
    return False  # no closing boundary: a defect


def _boundary_lines(text: str, separator: str, eol: str) -> Iterator[tuple[int, int, bool]]:
    """Yield (start, end after its line break, closing?) of each boundary line, in order."""
    position = 0 if text.startswith(separator) else text.find(eol + separator)
    while position != -1:
        start = position if position == 0 and text.startswith(separator) else position + len(eol)
        line_end = text.find(eol, start)
        stop = len(text) if line_end == -1 else line_end
        rest = text[start + len(separator) : stop]
        closing = rest.startswith("--")
        if not (rest[2:] if closing else rest).strip(" \t"):
            yield start, stop if line_end == -1 else stop + len(eol), closing
        if line_end == -1:
            return
        position = text.find(eol + separator, line_end)


def _leaf(chunk: str, eol: str) -> Part | None:
    """One part between two boundary lines (ending with the line break that belongs to them)."""
    if chunk.startswith(eol):
        headers: list[tuple[str, str]] | None = []
        payload = chunk[len(eol) :]
    else:
        blank = chunk.find(eol + eol)
        if blank == -1:
            return None  # headers without a blank line after them
        headers = _headers(chunk[: blank + len(eol)], eol)
        payload = chunk[blank + 2 * len(eol) :]
    if headers is None:
        return None
    content_type = _first_of(headers, "content-type")
    if content_type is not None and not content_type.isascii():
        return None
    ctype = "text/plain" if content_type is None else _content_type(content_type)
    if ctype.startswith(("multipart/", "message/")):
        return None  # nesting: the feed parser recurses
    part = _tree(headers)
    part._payload = payload.removesuffix(eol)  # type: ignore[attr-defined]
    return part
