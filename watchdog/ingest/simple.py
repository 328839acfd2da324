"""Simple mail without the stdlib's feed parser: the same result, far faster.

Most mail a shop receives is plain: one text part under a dozen well-formed
headers ("text/plain; charset=utf-8", 8bit or quoted-printable), or a
multipart of a few such leaves (a text and an HTML version, a PDF attached).
For such mail the stdlib's feed parser (pure Python, line by line, so 4,000
lines for a 150 kB attachment) and the accessors of its tree were most of
``parse_message``'s time. The header block is read once (``read_plain``),
then one of three shortcuts is taken, each only for mail the feed parser
would read without any defect or repair:

- ``SimpleMail``: one text/plain or text/html body that is not an
  attachment. It holds what ``watchdog.ingest.parse`` takes from the tree
  (the raw header values, the content type, the body with its transfer
  encoding undone, its charset), each step mirroring the stdlib call it
  replaces (named in the comments).
- ``PlainMultipart``: a multipart whose parts are leaves (no nested
  multipart or message) with ASCII MIME headers and no uuencode. Each
  ``Leaf`` keeps its headers and still-encoded bytes, and the functions
  below read it as the compat32 accessors would read the part
  (``stored_text`` as ``get_payload()``, ``decode_leaf`` as
  ``get_payload(decode=True)``).
- ``multipart_tree``: a one-level multipart whatever its leaves' MIME
  headers, for the general path (``PlainMultipart`` left it there). It builds the very ``email.message.Message`` tree the feed parser builds
  (same headers, payloads, preamble and epilogue, no defects); the general
  path's own code then reads it.

Both multipart forms find the boundary lines with ``bytes.find`` by the feed
parser's rules. Anything else (8-bit or odd MIME headers, a header line the
parser would stop at, mixed line endings, a From_ line, nesting, uuencode, a
missing boundary) returns None and goes through the feed parser.
``tests/test_ingest_simple.py`` checks on generated mail that the shortcuts
give the same tree and the same ``Message`` as the feed parser.
"""

from __future__ import annotations

import quopri
from collections.abc import Iterator
from dataclasses import dataclass
from email._encoded_words import decode_b  # type: ignore[import-not-found]  # as get_payload
from email.message import Message as Part
from email.policy import compat32
from functools import lru_cache

_TEXT_TYPES = ("text/plain", "text/html")
_UUENCODE = ("x-uuencode", "uuencode", "uue", "x-uue")
_PLAIN_ENCODINGS = ("7bit", "8bit", "binary")  # of a multipart: anything else is a defect
MAX_LEAVES = 100  # more parts than this is unusual: left to the general path
_FAILED = object()  # _charset_param's answer when the stdlib raises


@dataclass(slots=True)  # not frozen: that costs ~1 µs a build, and these live for one parse
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


@dataclass(slots=True)
class Leaf:
    """One part of a ``PlainMultipart``, as the feed parser would store it.

    ``content_type`` is ``get_content_type()``; ``content_type_value``,
    ``disposition`` and ``encoding`` are the first raw values of those headers
    (the parameters decide the charset and the file name); ``payload`` is the
    stored body, still transfer-encoded.
    """

    headers: list[tuple[str, str]]
    content_type: str
    content_type_value: str | None
    disposition: str | None
    encoding: str | None
    payload: bytes

    @property
    def attachment(self) -> bool:
        """``get_content_disposition() == "attachment"``."""
        return self.disposition is not None and _main_value(self.disposition) == "attachment"

    def part(self) -> Part:
        """The compat32 part the feed parser would build, for the rare accessor not mirrored here."""
        part = _tree(self.headers)
        part._payload = _text(self.payload)  # type: ignore[attr-defined]
        return part


@dataclass(slots=True)
class PlainMultipart:
    """A one-level multipart: the root's raw headers and type, its leaves in order."""

    headers: dict[str, list[str]]
    content_type: str
    attachment: bool  # the root's own Content-Disposition says attachment
    leaves: tuple[Leaf, ...]


def read_plain(raw: bytes) -> SimpleMail | PlainMultipart | None:
    """Return a simple mail's parts, or None when it needs the general path."""
    head, body, eol = _split(raw)
    if head is None:
        return None
    pairs = _headers(_text(head), eol)
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
    if content_type is not None:
        full_type = _content_type(content_type)
        if full_type.startswith("multipart/"):
            return _plain_multipart(headers, full_type, body, eol)
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


def _text(data: bytes) -> str:
    """The str the bytes parser works on: ASCII, other bytes as surrogates."""
    return data.decode("ascii", "surrogateescape")


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


def decode_leaf(leaf: Leaf) -> tuple[bytes, tuple[str, ...]]:
    """``get_payload(decode=True)`` of the leaf, and the defects it notes on the part."""
    return _decode(leaf.payload, (leaf.encoding or "").lower())


def stored_text(leaf: Leaf) -> str:
    """``watchdog.ingest.mime.leaf_payload`` of the leaf: compat32's ``get_payload()``.

    8-bit bytes are decoded with the charset parameter, "replace"; an unknown
    charset falls back to ASCII, any other failure to the stored text.
    """
    if leaf.payload.isascii():
        return _text(leaf.payload)
    charset = _charset_param(leaf.content_type_value)
    try:
        if charset is _FAILED:
            raise ValueError
        try:
            return leaf.payload.decode(charset, "replace")  # type: ignore[arg-type]
        except LookupError:
            return leaf.payload.decode("ascii", "replace")
    except Exception:
        return _text(leaf.payload)


@lru_cache(maxsize=512)
def _charset_param(content_type: str | None) -> object:
    """``get_param("charset", "ascii")`` of a part with this Content-Type (_FAILED if it raises)."""
    part = _tree([] if content_type is None else [("Content-Type", content_type)])
    try:
        return part.get_param("charset", "ascii")
    except Exception:
        return _FAILED


@lru_cache(maxsize=512)
def content_charset(content_type: str | None) -> str | None:
    """``get_content_charset()`` of a part with this Content-Type, None if it raises.

    Asked of the stdlib itself, once per distinct header value: parameter
    parsing (quotes, RFC 2231) is slow and mailers send few distinct values.
    """
    if content_type is None:
        return None
    part = _tree([("Content-Type", content_type)])
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
        name, colon, value = line.partition(":")
        # A header name as email.feedparser.headerRE reads it: "!" to "~" but ":", at least one.
        if not (colon and name and name.isascii() and name.isprintable()) or " " in name:
            return None  # not a header line: the feed parser would end the headers here
        value = value.lstrip(" \t")
    if name:
        headers.append((name, value))
    return headers


def _plain_multipart(
    headers: dict[str, list[str]], ctype: str, body: bytes, eol: str
) -> PlainMultipart | None:
    """The ``PlainMultipart`` of a multipart's body, or None when any part is not plain."""
    content_type = _first(headers, "content-type") or ""
    encoding = _first(headers, "content-transfer-encoding")
    disposition = _first(headers, "content-disposition")
    parts = _multipart_parts(ctype, content_type, encoding, body, eol)
    if parts is None or len(parts[1]) > MAX_LEAVES or not all(map(_readable, parts[1])):
        return None
    root_attachment = disposition is not None and _main_value(disposition) == "attachment"
    return PlainMultipart(headers, ctype, root_attachment, tuple(parts[1]))


def _readable(leaf: Leaf) -> bool:
    """True when the leaf functions here read it as compat32 would: ASCII values, no uuencode."""
    encoding, disposition = leaf.encoding, leaf.disposition
    if disposition is not None and not disposition.isascii():
        return False  # 8-bit: the stdlib reads it through a Header object
    return encoding is None or (encoding.isascii() and encoding.lower() not in _UUENCODE)


def multipart_tree(raw: bytes) -> Part | None:
    """Return the compat32 tree of a one-level multipart, or None if it is not that plain."""
    head, body, eol = _split(raw)
    if head is None:
        return None
    pairs = _headers(_text(head), eol)
    if pairs is None or not any(name.lower() == "from" for name, _ in pairs):
        return None
    content_type = _first_of(pairs, "content-type")
    if content_type is None or not content_type.isascii():
        return None
    encoding = _first_of(pairs, "content-transfer-encoding")
    parts = _multipart_parts(_content_type(content_type), content_type, encoding, body, eol)
    if parts is None:
        return None
    preamble, leaves, epilogue = parts
    root = _tree(pairs)
    if preamble is not None:
        root.preamble = _text(preamble)
    root._payload = [leaf.part() for leaf in leaves]  # type: ignore[attr-defined]
    root.epilogue = _text(epilogue)
    return root


def _multipart_parts(
    ctype: str, content_type: str, encoding: str | None, body: bytes, eol: str
) -> tuple[bytes | None, list[Leaf], bytes] | None:
    """(preamble, leaves, epilogue) of a multipart body, or None.

    None when the feed parser would read it differently: a digest, a
    transfer encoding on the multipart, no boundary, mixed line endings,
    nesting, a missing opening or closing boundary line.
    """
    if not ctype.startswith("multipart/") or ctype == "multipart/digest":
        return None  # a digest's parts default to message/rfc822: left to the feed parser
    if encoding is not None and str(encoding).lower() not in _PLAIN_ENCODINGS:
        return None  # the feed parser notes a defect
    boundary = _boundary(content_type)
    if not boundary or not boundary.isascii() or not _one_line_ending(body, eol):
        return None  # the feed parser never finds a non-ASCII boundary in the bytes
    return _read_parts(body, b"--" + boundary.encode("ascii"), eol.encode("ascii"))


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


def _one_line_ending(body: bytes, eol: str) -> bool:
    """True when ``body`` breaks lines only with ``eol`` (the feed parser also breaks on a lone CR)."""
    if eol == "\n":
        return b"\r" not in body
    breaks = body.count(b"\r\n")
    return body.count(b"\r") == breaks and body.count(b"\n") == breaks


def _tree(headers: list[tuple[str, str]]) -> Part:
    part = Part(policy=compat32)
    part._headers = headers  # type: ignore[attr-defined]
    return part


def _read_parts(
    body: bytes, separator: bytes, eol: bytes
) -> tuple[bytes | None, list[Leaf], bytes] | None:
    """Cut a multipart body at its boundary lines; None when any part is not a plain leaf.

    The feed parser's rules (``email.feedparser.FeedParser._parsegen``): a
    boundary line is ``--boundary``, maybe ``--``, maybe spaces or tabs; the
    line break before it belongs to it; lines before the first one are the
    preamble (its last line break dropped, None when there are none), what
    follows the closing one the epilogue.
    """
    lines = _boundary_lines(body, separator, eol)
    first = next(lines, None)
    if first is None or first[2]:
        return None  # no opening boundary: a defect
    start, end, _ = first
    preamble = body[: start - len(eol)] if start else None
    leaves: list[Leaf] = []
    for next_start, next_end, closing in lines:
        if next_start == end:
            return None  # two boundary lines in a row: the feed parser skips, oddly
        leaf = _leaf(body[end:next_start], eol)
        if leaf is None:
            return None
        leaves.append(leaf)
        start, end = next_start, next_end
        if closing:
            return preamble, leaves, body[end:]
    return None  # no closing boundary: a defect


def _boundary_lines(body: bytes, separator: bytes, eol: bytes) -> Iterator[tuple[int, int, bool]]:
    """Yield (start, end after its line break, closing?) of each boundary line, in order."""
    position = 0 if body.startswith(separator) else body.find(eol + separator)
    while position != -1:
        start = position if position == 0 and body.startswith(separator) else position + len(eol)
        line_end = body.find(eol, start)
        stop = len(body) if line_end == -1 else line_end
        rest = body[start + len(separator) : stop]
        closing = rest.startswith(b"--")
        if not (rest[2:] if closing else rest).strip(b" \t"):
            yield start, stop if line_end == -1 else stop + len(eol), closing
        if line_end == -1:
            return
        position = body.find(eol + separator, line_end)


def _leaf(chunk: bytes, eol: bytes) -> Leaf | None:
    """One part between two boundary lines (ending with the line break that belongs to them)."""
    if chunk.startswith(eol):
        headers: list[tuple[str, str]] | None = []
        payload = chunk[len(eol) :]
    else:
        blank = chunk.find(eol + eol)
        if blank == -1:
            return None  # headers without a blank line after them
        headers = _headers(_text(chunk[: blank + len(eol)]), eol.decode("ascii"))
        payload = chunk[blank + 2 * len(eol) :]
    if headers is None:
        return None
    content_type = encoding = disposition = None  # the first of each: Message.get
    for name, value in headers:
        key = name.lower()
        if key == "content-type":
            content_type = value if content_type is None else content_type
        elif key == "content-transfer-encoding":
            encoding = value if encoding is None else encoding
        elif key == "content-disposition":
            disposition = value if disposition is None else disposition
    if content_type is not None and not content_type.isascii():
        return None
    ctype = "text/plain" if content_type is None else _content_type(content_type)
    if ctype.startswith(("multipart/", "message/")):
        return None  # nesting: the feed parser recurses
    return Leaf(headers, ctype, content_type, disposition, encoding, payload.removesuffix(eol))
