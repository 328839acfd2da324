"""UID FETCH answers read off the wire give exactly what imapclient's own parser gives.

Each test feeds the same server bytes to two imaplib connections: one read
the way imapclient reads (imaplib's response loop, then
``parse_fetch_response``), one by ``imapwire``; the results must be equal,
value for value, and so must what both leave in ``untagged_responses``.
"""

from __future__ import annotations

import imaplib
import io
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imapclient.response_parser import parse_fetch_response

from watchdog.sources import imapwire
from watchdog.sources.imap import ImapClientReader, uid_set

TAG = b"A7"


def connection(answer: bytes) -> imaplib.IMAP4:
    """An imaplib connection, never opened, whose socket holds ``answer`` to command A7."""
    imap = imaplib.IMAP4.__new__(imaplib.IMAP4)
    imap.file = io.BytesIO(answer)  # type: ignore[attr-defined]
    imap.debug = 0
    imap.tagged_commands = {TAG: None}  # type: ignore[attr-defined]
    imap.untagged_responses = {}
    imap.Untagged_status = re.compile(imaplib._Untagged_status, re.ASCII)  # type: ignore[attr-defined]
    imap.Literal = re.compile(imaplib._Literal, re.ASCII)  # type: ignore[attr-defined]
    imap.tagre = re.compile(rb"(?P<tag>A\d+) (?P<type>[A-Z]+) (?P<data>.*)", re.ASCII)  # type: ignore[attr-defined]
    imap._encoding = "ascii"  # type: ignore[attr-defined]
    imap._cmd_log_len, imap._cmd_log, imap._cmd_log_idx = 10, {}, 0  # type: ignore[attr-defined]
    return imap


def as_imapclient(answer: bytes) -> tuple[dict[int, dict[bytes, Any]], dict[str, Any]]:
    """What imapclient makes of ``answer``: imaplib's loop, then its parser."""
    imap = connection(answer)
    typ, _ = imap._get_tagged_response(TAG)  # type: ignore[attr-defined]
    assert typ == "OK"
    fetched = imap.untagged_responses.pop("FETCH", [None])
    return dict(parse_fetch_response(fetched, False, True)), imap.untagged_responses


def as_imapwire(answer: bytes) -> tuple[dict[int, dict[bytes, Any]], dict[str, Any]]:
    imap = connection(answer)
    return imapwire._read_answer(imap, TAG), imap.untagged_responses


# -- the shapes a server sends ---------------------------------------------------

atoms = st.sampled_from(
    [b"\\Seen", b"\\Answered", b"$Forwarded", b"\\*", b"NIL", b"0", b"007", b"42", b"Junk",
     b"a]b", b"x{y}"]
)  # fmt: skip
dates = st.sampled_from(
    [b'"03-Nov-2025 12:00:00 +0300"', b'" 3-Nov-2025 09:05:59 -0000"', b'"31-Dec-1999 23:59:59 -1130"',
     b'"30-Feb-2025 12:00:00 +0000"', b'"03-nov-2025 12:00:00 +0300"', b'"0099-Nov-03 1"', b"NIL",
     b'"03-Nov-0099 12:00:00 +0000"', b'"Mon, 3 Nov 2025 12.00.00 +0300"']
)  # fmt: skip
bodies = st.binary(max_size=40) | st.sampled_from([b"", b")\r\n* 9 FETCH (UID 9)", b'"q"'])


@st.composite
def item(draw: st.DrawFn, uid: int) -> bytes:
    """One data item of a FETCH response; a literal is written as {n} plus the bytes."""
    kind = draw(
        st.sampled_from(["size", "flags", "date", "body", "quoted", "nil", "modseq", "odd"])
    )
    if kind == "size":
        return b"RFC822.SIZE " + str(draw(st.integers(0, 10**7))).encode()
    if kind == "flags":
        return b"FLAGS (" + b" ".join(draw(st.lists(atoms, max_size=4))) + b")"
    if kind == "date":
        return b"INTERNALDATE " + draw(dates)
    if kind == "body":
        data = draw(bodies)
        return b"BODY[]<0> {" + str(len(data)).encode() + b"}\r\n" + data
    if kind == "quoted":
        return (
            b'BODY[HEADER.FIELDS (MESSAGE-ID DATE)] "'
            + draw(st.sampled_from([b"", b"a b", b'a\\"b', b"a\\\\b"]))
            + b'"'
        )
    if kind == "nil":
        return b"BODY[]<0> NIL"
    if kind == "modseq":
        return b"MODSEQ (" + str(draw(st.integers(1, 10**12))).encode() + b")"
    return draw(st.sampled_from([b"X-GM-LABELS (\\Inbox (a))", b"ENVELOPE NIL", b"BODY (\"TEXT\")"]))  # fmt: skip


@st.composite
def answer(draw: st.DrawFn) -> bytes:
    """A whole answer: FETCH responses, maybe others between them, then the tagged OK."""
    lines = []
    for seq in range(1, draw(st.integers(0, 5)) + 1):
        uid = draw(st.integers(1, 50))
        items = [draw(item(uid)) for _ in range(draw(st.integers(0, 4)))]
        if draw(st.booleans()):
            items.insert(draw(st.integers(0, len(items))), b"UID " + str(uid).encode())
        space = draw(st.sampled_from([b" ", b" ", b"  "]))
        lines.append(
            b"* " + str(seq).encode() + b" FETCH" + space + b"(" + b" ".join(items) + b")\r\n"
        )
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(
                [b"* 12 EXISTS\r\n", b"* OK [HIGHESTMODSEQ 90] ok\r\n", b"* VANISHED (EARLIER) 1:3\r\n",
                 b"* 3 EXPUNGE\r\n"]
            )))  # fmt: skip
    return b"".join(lines) + TAG + b" OK [HIGHESTMODSEQ 91] Fetch completed.\r\n"


def test_a_plain_answer_is_read_into_uids_sizes_flags_dates_and_bodies() -> None:
    wire = (
        b'* 1 FETCH (UID 7 RFC822.SIZE 5 FLAGS (\\Seen) INTERNALDATE "03-Nov-2025 12:00:00 +0300"'
        b" BODY[]<0> {5}\r\nHello)\r\n"
        + TAG + b" OK done\r\n"
    )  # fmt: skip
    parsed, _ = as_imapwire(wire)
    assert parsed == as_imapclient(wire)[0]
    assert parsed[7][b"BODY[]<0>"] == b"Hello"
    assert parsed[7][b"FLAGS"] == (b"\\Seen",)
    assert parsed[7][b"INTERNALDATE"].utcoffset().total_seconds() == 3 * 3600


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(answer())
def test_any_answer_reads_as_imapclient_reads_it(wire: bytes) -> None:
    try:
        expected = as_imapclient(wire)
    except Exception as exc:  # noqa: BLE001 - then the fast reader must refuse it too
        with pytest.raises(type(exc)):
            as_imapwire(wire)
        return
    assert as_imapwire(wire) == expected


def test_a_refused_fetch_raises_after_reading_the_whole_answer() -> None:
    imap = connection(
        b"* 1 FETCH (UID 1 FLAGS ())\r\n" + TAG + b" NO [SERVERBUG] oops\r\n* 2 EXISTS\r\n"
    )
    with pytest.raises(imaplib.IMAP4.error, match="SERVERBUG"):
        imapwire._read_answer(imap, TAG)
    assert imap.readline() == b"* 2 EXISTS\r\n"  # the connection is at the next response


def test_a_connection_lost_inside_a_literal_is_a_network_error() -> None:
    imap = connection(b"* 1 FETCH (UID 1 BODY[]<0> {100}\r\nonly part of it")
    with pytest.raises(imaplib.IMAP4.abort):
        imapwire._read_answer(imap, TAG)


def test_uid_sets_write_runs_as_ranges() -> None:
    assert uid_set([1, 2, 3, 5, 7, 8, 10]) == "1:3,5,7:8,10"
    assert uid_set([4]) == "4"


class _Client:
    """Just enough of an IMAPClient for ImapClientReader: capabilities and the connection."""

    def __init__(self, imap: imaplib.IMAP4) -> None:
        self._imap = imap

    def capabilities(self) -> tuple[bytes, ...]:
        return (b"IMAP4REV1",)


def pipelined_reader(answers: bytes) -> tuple[ImapClientReader, list[bytes]]:
    """A reader whose server sends ``answers`` (to tags T1, T2, ...) and records what it is sent."""
    imap = connection(answers)
    sent: list[bytes] = []
    imap.tagged_commands = {}  # type: ignore[attr-defined]
    imap.state, imap.tagpre, imap.tagnum = "SELECTED", b"T", 1  # type: ignore[attr-defined]
    imap.literal, imap.is_readonly = None, True  # type: ignore[attr-defined]
    imap.send = sent.append  # type: ignore[method-assign]
    return ImapClientReader(_Client(imap), "test"), sent


def mail_response(seq: int, uid: int) -> bytes:
    return (
        b"* %d FETCH (UID %d RFC822.SIZE 2 FLAGS () "
        b'INTERNALDATE "03-Nov-2025 12:00:00 +0300" BODY[]<0> {2}\r\nhi)\r\n' % (seq, uid)
    )


def test_a_later_fetchs_mail_inside_an_earlier_answer_is_kept_for_the_later_fetch() -> None:
    """Dovecot runs pipelined FETCHes together: 3 and 4 came inside the answer to 1 and 2."""
    answers = (
        mail_response(1, 1) + mail_response(2, 2) + mail_response(3, 3) + mail_response(4, 4)
        + b"T1 OK Fetch completed.\r\nT2 OK Fetch completed.\r\n"
    )  # fmt: skip
    reader, sent = pipelined_reader(answers)
    reader.prefetch_mail([1, 2], 1000)
    reader.prefetch_mail([3, 4], 1000)

    assert sorted(reader.fetch_mail([1, 2], 1000)) == [1, 2]
    assert sorted(reader.fetch_mail([3, 4], 1000)) == [3, 4]  # not taken for expunged
    assert [line.split(b" ")[:3] for line in sent] == [
        [b"T1", b"UID", b"FETCH"], [b"T2", b"UID", b"FETCH"],
    ]  # fmt: skip


def test_another_command_first_reads_the_answers_sent_ahead() -> None:
    answers = (
        mail_response(1, 1) + b"T1 OK done\r\n"
        + b"* 5 FETCH (UID 9 FLAGS (\\Seen))\r\nT2 OK done\r\n"
    )  # fmt: skip
    reader, _ = pipelined_reader(answers)
    reader.prefetch_mail([1], 1000)

    assert reader.fetch_flags(9, 9) == {9: ("\\Seen",)}
    assert sorted(reader.fetch_mail([1], 1000)) == [1]
