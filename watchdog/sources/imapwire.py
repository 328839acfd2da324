"""UID FETCH answers read straight off the wire: the fast path of the IMAP reader.

imapclient parses a FETCH answer with a lexer that looks at every byte in
Python. In a first sync that was most of the polling process's time: 2.4 s
of CPU for 20,000 mails (44 MB), more than the server spent sending them.
Yet nearly every response a server sends has one plain shape::

    * 12 FETCH (UID 34 RFC822.SIZE 2107 FLAGS (\\Seen) INTERNALDATE "03-Nov-2025 12:00:00 +0300" BODY[]<0> {2107}
    <2107 bytes>
    )

``uid_fetch`` sends the command through imaplib, reads the answer with
imaplib's own line and literal reads (so timeouts, TLS and the untagged
bookkeeping work as before), and parses that shape with a few regexes. Any
response it does not recognise (a quoted string with escapes, a nested
list, BODYSTRUCTURE, odd spacing) goes to imapclient's own parser instead.
Either way the result is what imapclient's ``parse_fetch_response`` returns
for the same bytes; a property test holds the two to that.

Errors are imaplib's: ``imap.abort`` when the connection ends or sends
nonsense, ``imap.error`` when the server refuses the command. The caller
(``watchdog.sources.imap``) translates them.
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from imapclient.response_parser import (  # type: ignore[import-untyped]
    _convert_INTERNALDATE,
    parse_fetch_response,
)

#: One FETCH response as imaplib stores it: text, or (text ending "{n}", the n literal bytes).
Piece = bytes | tuple[bytes, bytes]
#: FETCH data by UID (or by sequence number for a response without UID), as imapclient gives it.
FetchData = dict[int, dict[bytes, Any]]

_FETCH_HEAD = re.compile(rb"\* (\d+) FETCH \(")
_LITERAL = re.compile(rb"\{(\d+)\}\Z")
# imapclient's lexer splits on space, ( ) % " [ and control characters; an atom is
# anything else. Brackets and braces are left out here too: such atoms go to imapclient.
_ATOM = rb'[^\x00-\x20()%"\[\]{}]+'
_PAIR = re.compile(
    rb" ?([A-Za-z][A-Za-z0-9.\-]*(?:\[[^\]]*\](?:<\d+>)?)?) "
    rb"(?:(" + _ATOM + rb")|\(((?:" + _ATOM + rb"(?: " + _ATOM + rb")*)?)\)"
    rb'|"([^"\\\r\n]*)"|\{(\d+)\}\Z)(?=[ )]|\Z)'
)
# Parsed by imapclient into richer objects: always left to it.
_STRUCTURED = frozenset({b"BODY", b"BODYSTRUCTURE", b"ENVELOPE"})
_INTERNALDATE = re.compile(
    rb"( \d|\d{1,2})-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-([1-9]\d{3}) "
    rb"(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\Z"
)
_MONTHS = {
    m: i for i, m in enumerate(b"Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)
}


def uid_fetch(
    imap: imaplib.IMAP4, uid_set: str, items: str, modifiers: str | None = None
) -> FetchData:
    """Send ``UID FETCH uid_set items [modifiers]`` and return the parsed answer.

    Every FETCH response of the answer is included, solicited or not, keyed
    like imapclient keys them; other untagged responses are stored in
    ``imap.untagged_responses`` as imaplib would store them.
    """
    return read_fetch(imap, send_fetch(imap, uid_set, items, modifiers))


def send_fetch(
    imap: imaplib.IMAP4, uid_set: str, items: str, modifiers: str | None = None
) -> bytes:
    """Send ``UID FETCH ...`` without waiting for its answer; return its tag for ``read_fetch``.

    IMAP answers commands in the order they were sent: read the answers in
    that order, and before sending any other command.
    """
    imap._check_bye()
    args = ["UID", "FETCH", uid_set, items] + ([modifiers] if modifiers else [])
    return imap._command(*args)  # type: ignore[no-any-return]


def read_fetch(imap: imaplib.IMAP4, tag: bytes) -> FetchData:
    """Read and parse the answer to the FETCH sent with ``tag`` (see ``uid_fetch``)."""
    parsed = _read_answer(imap, tag)
    imap._check_bye()
    return parsed


def _read_answer(imap: imaplib.IMAP4, tag: bytes) -> FetchData:
    """Read every response up to the tagged one, then parse the FETCH responses.

    The whole answer is read before anything is parsed, so that a response
    no parser understands leaves the connection ready for the next command.
    """
    fetched: list[list[Piece]] = []
    tagged = tag + b" "
    while True:
        line = _line(imap)
        if line.startswith(tagged):
            break
        head = _FETCH_HEAD.match(line)
        if head is not None:
            # imaplib's form: "12 (UID ... {n}", literal; then the rest of the lines.
            fetched.append(_read_pieces(imap, head.group(1) + b" (" + line[head.end() :]))
        else:
            other = _read_other(imap, line)
            if other:
                fetched.append(other)
    del imap.tagged_commands[tag]
    status, _, text = line[len(tagged) :].partition(b" ")
    _note_response_code(imap, status, text)
    if status != b"OK":
        raise imap.error(f"UID FETCH failed: {line[len(tagged) :]!r}")
    parsed: FetchData = {}
    for pieces in fetched:
        found = _parse_fast(pieces)
        if found is None:
            for key, data in parse_fetch_response(pieces, False, True).items():
                parsed.setdefault(key, {}).update(data)
        else:
            parsed.setdefault(found[0], {}).update(found[1])
    return parsed


def _line(imap: imaplib.IMAP4) -> bytes:
    """One response line without its CRLF; imap.abort when the connection ends."""
    line = imap.readline()
    if not line.endswith(b"\r\n"):
        raise imap.abort("socket error: EOF" if not line else "socket error: unterminated line")
    return line[:-2]


def _read_pieces(imap: imaplib.IMAP4, first: bytes) -> list[Piece]:
    """Read the literals and continuation lines of one response, in imaplib's form."""
    pieces: list[Piece] = []
    line = first
    while line.endswith(b"}"):
        marker = _LITERAL.search(line)
        if marker is None:
            break
        size = int(marker.group(1))
        literal = imap.read(size)
        if len(literal) != size:
            raise imap.abort("socket error: EOF inside a literal")
        pieces.append((line, literal))
        line = _line(imap)
    pieces.append(line)
    return pieces


def _parse_fast(pieces: list[Piece]) -> tuple[int, dict[bytes, Any]] | None:
    """Parse one plain FETCH response; None for anything imapclient should parse instead."""
    first = pieces[0]
    text = first[0] if isinstance(first, tuple) else first
    seq_end = text.index(b" (")
    seq = _number(text[:seq_end])
    if seq is None:
        return None
    data: dict[bytes, Any] = {b"SEQ": seq}
    key = seq
    pos = seq_end + 2
    last = len(pieces) - 1
    for index, piece in enumerate(pieces):
        if index:
            text, pos = (piece[0] if isinstance(piece, tuple) else piece), 0
        literal = piece[1] if isinstance(piece, tuple) else None
        while True:
            pair = _PAIR.match(text, pos)
            if pair is None:
                break
            name, atom, listed, quoted, size = pair.groups()
            word = name.upper()
            if word in _STRUCTURED:
                return None
            pos = pair.end()
            if size is not None:
                if literal is None or int(size) != len(literal):
                    return None
                value: Any = literal
            elif atom is not None:
                value = _atom(atom)
            elif listed is not None:
                value = tuple(_atom(a) for a in listed.split(b" ")) if listed else ()
            else:
                value = quoted
            if word == b"UID":
                if not isinstance(value, int):
                    return None
                key = value
            elif word == b"INTERNALDATE":
                data[word] = _internal_date(value)
            else:
                data[word] = value
        ends_here = pos == len(text) if index < last else text[pos:] == b")"
        if not ends_here:
            return None
    return key, data


def _number(token: bytes) -> int | None:
    return int(token) if token.isdigit() else None


def _atom(token: bytes) -> Any:
    """An atom as imapclient reads it: NIL is None, a number without a leading 0 an int."""
    if token == b"NIL":
        return None
    if token.isdigit() and (token[:1] != b"0" or len(token) == 1):
        return int(token)
    return token


def _internal_date(value: Any) -> datetime | None:
    """INTERNALDATE as an aware datetime; the RFC 3501 form is read here, others by imapclient."""
    match = _INTERNALDATE.match(value) if isinstance(value, bytes) else None
    if match is None:
        return _convert_INTERNALDATE(value, False)  # type: ignore[no-any-return]
    day, month, year, hour, minute, second, sign, zh, zm = match.groups()
    offset = timedelta(hours=int(zh), minutes=int(zm))
    zone = timezone(-offset if sign == b"-" else offset)
    try:
        return datetime(
            int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=zone
        )
    except ValueError:
        return _convert_INTERNALDATE(value, False)  # type: ignore[no-any-return]


def _read_other(imap: imaplib.IMAP4, line: bytes) -> list[Piece]:
    """Read a response that is not a plain FETCH; return it if it is a FETCH after all.

    Others (EXISTS, VANISHED, OK [...]) are kept in ``imap.untagged_responses``
    as imaplib keeps them, and [] is returned. A FETCH with unusual spacing
    comes back in imaplib's form, for imapclient to parse.
    """
    match = imaplib.Untagged_response.match(line)  # type: ignore[attr-defined]
    extra = None
    if match is None:
        match = imap.Untagged_status.match(line)
        if match is None:
            raise imap.abort(f"unexpected response: {line[:200]!r}")
        extra = match.group("data2")
    kind = match.group("type").decode("ascii")
    data: bytes = match.group("data") or b""
    if extra:
        data = data + b" " + extra
    pieces = _read_pieces(imap, data)
    if kind == "FETCH":
        return pieces
    store: Callable[[str, Any], None] = imap._append_untagged
    for piece in pieces:
        store(kind, piece)
    if isinstance(pieces[-1], bytes):
        _note_response_code(imap, kind.encode(), pieces[-1])
    return []


def _note_response_code(imap: imaplib.IMAP4, status: bytes, text: bytes) -> None:
    """Store a bracketed response code ("OK [HIGHESTMODSEQ 7]") as imaplib does."""
    if status in (b"OK", b"NO", b"BAD"):
        code = imaplib.Response_code.match(text)  # type: ignore[attr-defined]
        if code is not None:
            imap._append_untagged(code.group("type").decode("ascii"), code.group("data"))
