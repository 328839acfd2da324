"""The shortcuts for plain mail give exactly what the stdlib's feed parser gives.

``parse_message`` reads one-text-part mail with ``read_simple`` and one-level
multiparts with ``multipart_tree``; everything else goes through the stdlib.
Generated mail (well-formed and not: folded and 8-bit headers, every transfer
encoding, boundary look-alikes, LF and CRLF, a stray CR) must parse to the
same ``Message`` either way, and a multipart to the same tree.
"""

from __future__ import annotations

import base64
import quopri
from collections.abc import Iterator
from email.message import Message as Part
from email.parser import BytesParser
from email.policy import compat32
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchdog.ingest import parse
from watchdog.ingest.parse import parse_message
from watchdog.ingest.simple import multipart_tree, read_simple

FEED_PARSER = BytesParser(policy=compat32)


def by_feed_parser(raw: bytes) -> object:
    """``parse_message`` with both shortcuts turned off: the stdlib reads everything."""
    with (
        patch.object(parse, "read_simple", lambda raw: None),
        patch.object(parse, "multipart_tree", lambda raw: None),
    ):
        return parse_message(raw, folder_role="inbox")


def stored(part: Part) -> tuple[object, ...]:
    """What the parser stores on one node, apart from its children."""
    return (
        part._headers,  # type: ignore[attr-defined]
        part._unixfrom,  # type: ignore[attr-defined]
        part.preamble,
        part.epilogue,
        [type(defect) for defect in part.defects],
    )


def same_tree(ours: Part, theirs: Part) -> bool:
    """Headers, payloads, preamble, epilogue, defects: everything the parser stores."""
    if stored(ours) != stored(theirs):
        return False
    mine, other = ours.get_payload(), theirs.get_payload()
    if isinstance(mine, list) and isinstance(other, list):
        return len(mine) == len(other) and all(map(same_tree, mine, other))
    return bool(mine == other)


# -- mail, plain and odd ----------------------------------------------------------

TEXTS = [
    "Здравствуйте! Когда будет доставка?",
    "Hello,\n> quoted\n-- \nJohn",
    "café ok",
    "",
    "a\r\nb",
]
CHARSETS = ["utf-8", '"utf-8"', "windows-1251", "koi8-r", "us-ascii", "x-unknown", "UTF-8"]
HEADER_LINES = [
    "To: orders@shop.test", "To: =?utf-8?b?0JDQvdC90LA=?= <anna@shop.test>, b@c.d",
    "Subject: =?windows-1251?B?wuDr5fDo?=", "Subject: Folded\r\n line", "Subject: Заказ",
    "Date: Mon, 3 Nov 2025 12:00:00 +0300", "Date: 3 Nov 25 12:00 GMT", "Date: Tue, 31 Feb 2025 12:00:00 +0000",
    "Message-ID: <a@b>", "Reply-To: x@y.z", "X-Mailer: test", "List-Id: <l.shop.test>",
    "Content-Disposition: inline", "Content-Disposition: attachment; filename=a.txt",
    " continuation first", "From x@y", "bad line", ":empty name", "Content-Type: text/plain; charset=\u00e9",
]  # fmt: skip


@st.composite
def body_part(draw: st.DrawFn) -> tuple[list[str], bytes]:
    """Content headers and encoded body bytes of one text (or other) part."""
    text = draw(st.sampled_from(TEXTS))
    ctype = draw(
        st.sampled_from(["text/plain", "text/html", "TEXT/PLAIN", "text", "application/pdf", None])
    )
    charset = draw(st.sampled_from(CHARSETS))
    codec = charset.strip('"').lower()
    data = text.encode(
        codec if codec in ("utf-8", "windows-1251", "koi8-r") else "utf-8", "replace"
    )
    if ctype == "text/html":
        data = b"<html><body><p>" + data + b"</p><table><tr><td>1</td></tr></table></body></html>"
    cte = draw(
        st.sampled_from(
            [None, "8bit", "7bit", "quoted-printable", "base64", "BASE64", "8bit ", "x-uue"]
        )
    )
    if cte and cte.strip().lower() == "quoted-printable":
        data = quopri.encodestring(data)
    elif cte and cte.strip().lower() == "base64":
        data = base64.encodebytes(data)
        if draw(st.booleans()):
            data = data.rstrip(b"=\n") + b"\n"  # bad padding: a defect to keep
    headers = []
    if ctype is not None:
        headers.append(f"Content-Type: {ctype}; charset={charset}")
    if cte is not None:
        headers.append(f"Content-Transfer-Encoding: {cte}")
    return headers, data


@st.composite
def mail(draw: st.DrawFn) -> bytes:
    eol = draw(st.sampled_from(["\r\n", "\n"]))
    head = [
        "From: "
        + draw(
            st.sampled_from(["ivan@mail.ru", "=?utf-8?b?0JjQstCw0L0=?= <i@m.ru>", "Иван <i@m.ru>"])
        )
    ]
    head += draw(st.lists(st.sampled_from(HEADER_LINES), max_size=5))
    if draw(st.booleans()):
        content, body = draw(body_part())
        head += content
    else:
        boundary = draw(st.sampled_from(["b", "=_part 1", "x"]))
        kind = draw(st.sampled_from(["alternative", "mixed", "related", "digest"]))
        head.append(f'Content-Type: multipart/{kind}; boundary="{boundary}"')
        chunks = [draw(st.sampled_from(["", "preamble", f"--{boundary}x"]))]
        for _ in range(draw(st.integers(0, 3))):
            content, data = draw(body_part())
            chunks.append(
                draw(st.sampled_from([f"--{boundary}", f"--{boundary} \t", f"--{boundary}"]))
            )
            chunks.append(eol.join(content) + eol + eol + data.decode("latin-1").rstrip("\n"))
            if draw(st.integers(0, 9)) == 0:
                chunks.append(
                    draw(st.sampled_from([f"--{boundary}--x", "Content-Type: message/rfc822", ""]))
                )
        if draw(st.integers(0, 9)):
            chunks.append(f"--{boundary}--")
        chunks.append(draw(st.sampled_from(["", "epilogue", eol])))
        body = eol.join(chunks).encode("latin-1")
    draw(st.randoms()).shuffle(head)
    raw = (eol.join(head) + eol + eol).encode("utf-8") + body
    if draw(st.integers(0, 14)) == 0:
        raw = raw.replace(b"\n", b"\r", 1)  # a stray CR: the feed parser breaks lines there too
    return raw


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mail())
def test_generated_mail_parses_the_same_with_and_without_the_shortcuts(raw: bytes) -> None:
    assert parse_message(raw, folder_role="inbox") == by_feed_parser(raw)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mail())
def test_a_multipart_tree_is_the_feed_parsers_tree(raw: bytes) -> None:
    tree = multipart_tree(raw)
    if tree is not None:
        assert same_tree(tree, FEED_PARSER.parsebytes(raw))


def shortcut_hits(raws: list[bytes]) -> Iterator[str]:
    for raw in raws:
        yield "simple" if read_simple(raw) else "multipart" if multipart_tree(raw) else "stdlib"


def test_plain_mail_takes_a_shortcut_and_odd_mail_does_not() -> None:
    plain = (
        b"From: a@b.c\r\nSubject: hi\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n"
    )
    alternative = (
        b'From: a@b.c\nContent-Type: multipart/alternative; boundary="b"\n\n--b\n'
        b"Content-Type: text/plain\n\nHi\n--b\nContent-Type: text/html\n\n<p>Hi</p>\n--b--\n"
    )
    nested = alternative.replace(
        b"Content-Type: text/html", b"Content-Type: multipart/mixed; boundary=c"
    )
    unindented = b"From: a@b.c\r\nSubject: hi\r\nnot a header\r\n\r\nHello\r\n"
    mbox = b"From a@b.c Mon Nov  3 12:00:00 2025\r\n" + plain
    assert list(shortcut_hits([plain, alternative, nested, unindented, mbox])) == [
        "simple", "multipart", "stdlib", "stdlib", "stdlib",
    ]  # fmt: skip
    for raw in (plain, alternative, nested, unindented, mbox):
        assert parse_message(raw, folder_role="inbox") == by_feed_parser(raw)
