"""The shortcuts for plain mail give exactly what the stdlib's feed parser gives.

``parse_message`` reads one-text-part mail and one-level multiparts of plain
leaves with ``read_plain``, other one-level multiparts with ``multipart_tree``;
everything else goes through the stdlib. Generated mail (well-formed and not:
folded and 8-bit headers, every transfer encoding, charsets good and hostile,
file names in RFC 2231 and RFC 2047, boundary look-alikes, LF and CRLF, a
stray CR) must parse to the same ``Message`` either way, and a multipart to
the same tree.
"""

from __future__ import annotations

import base64
import quopri
from collections.abc import Iterator
from email.message import Message as Part
from email.parser import BytesParser
from email.policy import compat32
from typing import TypeVar
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchdog.ingest import parse
from watchdog.ingest.charsets import decode_bytes, guess_cyrillic
from watchdog.ingest.parse import parse_message
from watchdog.ingest.simple import PlainMultipart, SimpleMail, multipart_tree, read_plain

FEED_PARSER = BytesParser(policy=compat32)
T = TypeVar("T")
Choices = tuple[list[str | None], list[str | None]]  # what the shortcut reads; odd values


def by_feed_parser(raw: bytes) -> object:
    """``parse_message`` with both shortcuts turned off: the stdlib reads everything."""
    with (
        patch.object(parse, "read_plain", lambda raw: None),
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
    mine, other = ours._payload, theirs._payload  # type: ignore[attr-defined]  # as stored
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
    assert_tree_is_the_feed_parsers(raw)


def assert_tree_is_the_feed_parsers(raw: bytes) -> None:
    """When the shortcut builds a tree at all, it is the one the feed parser builds."""
    tree = multipart_tree(raw)
    if tree is not None:
        assert same_tree(tree, FEED_PARSER.parsebytes(raw))


def shortcut_hits(raws: list[bytes]) -> Iterator[str]:
    for raw in raws:
        plain = read_plain(raw)
        if isinstance(plain, SimpleMail):
            yield "simple"
        elif isinstance(plain, PlainMultipart):
            yield "leaves"
        else:
            yield "tree" if multipart_tree(raw) else "stdlib"


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
    uuencoded = alternative.replace(
        b"Content-Type: text/html",
        b"Content-Transfer-Encoding: x-uuencode\nContent-Type: text/html",
    )
    unindented = b"From: a@b.c\r\nSubject: hi\r\nnot a header\r\n\r\nHello\r\n"
    mbox = b"From a@b.c Mon Nov  3 12:00:00 2025\r\n" + plain
    raws = [plain, alternative, uuencoded, nested, unindented, mbox]
    assert list(shortcut_hits(raws)) == [
        "simple", "leaves", "tree", "stdlib", "stdlib", "stdlib",
    ]  # fmt: skip
    for raw in raws:
        assert parse_message(raw, folder_role="inbox") == by_feed_parser(raw)


# -- multiparts of plain leaves, read without building a tree ---------------------------

# Each list: what the shortcut reads, then (after None) what is odd enough to send a
# mail the general way, or odd but still plain.
LEAF_TEXTS = (
    ["Здравствуйте! Пришлите счёт, пожалуйста.", "Hello,\n> quoted\n-- \nJohn", "", "  \n\t ",
     "\xa0",  # a no-break space: whitespace once decoded, not before
     "café ok"],
    ["a\r\nb\rc"],
)  # fmt: skip
LEAF_CHARSETS = [
    "utf-8", '"utf-8"', "windows-1251", "koi8-r", "iso-8859-1", "us-ascii", "x-unknown",
    "utf-16", "UTF-8", "utf-8\x00", None,
]  # fmt: skip
LEAF_TYPES: Choices = (
    ["text/plain", "text/html", "TEXT/HTML", "application/pdf", "image/png", None],
    ["text", "text/plain/x", "message/rfc822", "multipart/mixed; boundary=c"],
)
LEAF_PARAMS = [
    "", '; name="a.pdf"', "; name==?utf-8?b?0KHRh9GR0YIucGRm?=",
    "; name*=utf-8''%D0%A1%D1%87%D1%91%D1%82.pdf", "; charset*=utf-8''utf-8", "; name=",
]  # fmt: skip
DISPOSITIONS: Choices = (
    [None, None, None, "inline", "attachment", "ATTACHMENT; filename=a.txt",
     'attachment; filename="=?utf-8?b?0KHRh9GR0YIucGRm?="', "attachment; filename=",
     "inline; filename*=utf-8''%D0%90.txt",
     "attachment;\r\n filename*0*=utf-8''%D0%9F;\r\n filename*1*=.csv"],
    ['attachment; filename="Акт.doc"'],
)  # fmt: skip
ENCODINGS: Choices = (
    [None, "7bit", "8bit", "binary", "quoted-printable", "Quoted-Printable", "base64", "BASE64",
     "base64 ", "Base64"],
    ["x-uuencode", "uue", "8bit\u00e9"],
)  # fmt: skip
LEAF_HEADERS = (
    ["Content-ID: <c1@shop.test>", "X-Attachment-Id: f_1", "Content-Type: text/html",
     "Content-Transfer-Encoding: base64"],
    ["Content-Description: Счёт", "bad line"],
)  # fmt: skip


def sometimes_odd(draw: st.DrawFn, values: tuple[list[T], list[T]]) -> T:
    """Mostly a value the shortcut reads, one time in twenty an odd one."""
    return draw(st.sampled_from(values[1] if draw(st.integers(0, 19)) == 13 else values[0]))


@st.composite
def plain_leaf(draw: st.DrawFn, eol: str) -> str:
    """One part (headers, blank line, encoded body) as surrogate-escaped text."""
    text = sometimes_odd(draw, LEAF_TEXTS)
    ctype = sometimes_odd(draw, LEAF_TYPES)
    charset = draw(st.sampled_from(LEAF_CHARSETS))
    codec = (charset or "utf-8").strip('"').lower()
    codec = (
        codec if codec in ("utf-8", "windows-1251", "koi8-r", "iso-8859-1", "utf-16") else "utf-8"
    )
    data = text.encode(codec, "replace")
    if ctype in ("text/html", "TEXT/HTML"):
        data = b"<html><body><p>" + data + b"</p><table><tr><td>1</td></tr></table></body></html>"
    cte = sometimes_odd(draw, ENCODINGS)
    if cte and cte.strip().lower() == "quoted-printable":
        data = quopri.encodestring(data)
    elif cte and cte.strip().lower() == "base64":
        data = base64.encodebytes(data)
        if draw(st.booleans()):
            data = data.rstrip(b"=\n") + b"\n"  # bad padding: a defect to keep
        if draw(st.integers(0, 5)) == 0:
            data = b"!" + data  # a bad character: another defect
    headers = []
    if ctype is not None:
        params = draw(st.sampled_from(LEAF_PARAMS))
        fold = draw(st.sampled_from(["", eol + " ", eol + "\t"]))
        headers.append(
            f"Content-Type: {ctype}{params}" + (f";{fold}charset={charset}" if charset else "")
        )
    disposition = sometimes_odd(draw, DISPOSITIONS)
    if disposition is not None:
        headers.append(f"Content-Disposition: {disposition}".replace("\r\n", eol))
    if cte is not None:
        headers.append(f"Content-Transfer-Encoding: {cte}")
    if draw(st.booleans()):
        headers.append(sometimes_odd(draw, LEAF_HEADERS))
    draw(st.randoms()).shuffle(headers)
    payload = data.decode("ascii", "surrogateescape").replace("\r\n", "\n").replace("\n", eol)
    return eol.join(headers) + eol + eol + payload.rstrip(eol)


@st.composite
def plain_multipart(draw: st.DrawFn) -> bytes:
    """A multipart of leaves, mostly as the shortcut reads them, sometimes just outside it."""
    eol = draw(st.sampled_from(["\r\n", "\n"]))
    boundary = draw(st.sampled_from(["b", "=_Part_1.2", "a'b", "----=_NextPart_000_0012"]))
    kind = sometimes_odd(
        draw, (["alternative", "mixed", "related", "report", "signed"], ["digest"])
    )
    ctype = sometimes_odd(
        draw,
        (
            [f'multipart/{kind}; boundary="{boundary}"',
             f'Multipart/{kind.upper()};{eol}\tboundary="{boundary}"',
             f"multipart/{kind}; boundary*=us-ascii''{boundary}; charset=utf-8"],
            [f"multipart/{kind}", f"multipart/{kind}; boundary*=utf-8''%D0%90"],
        ),
    )  # fmt: skip
    head = [
        "From: " + draw(st.sampled_from(["ivan@mail.ru", "Иван <i@m.ru>"])),
        f"Content-Type: {ctype}",
        *(h.replace("\r\n", eol) for h in draw(st.lists(st.sampled_from(HEADER_LINES[:12])))),
    ]
    extras: Choices = (
        [None, None, "Content-Transfer-Encoding: 7bit", "Content-Disposition: inline",
         "Content-Disposition: attachment", "Content-Type: text/plain"],
        ["Content-Transfer-Encoding: 8bit ", "Content-Transfer-Encoding: base64",
         "Content-Disposition: attachment; filename=Счёт.pdf"],
    )  # fmt: skip
    extra = sometimes_odd(draw, extras)
    if extra is not None:
        head.append(extra)
    draw(st.randoms()).shuffle(head)
    separator = "--" + boundary
    chunks = [sometimes_odd(draw, (["", "", "preamble", eol + "preamble"], [separator + "x"]))]
    for _ in range(draw(st.integers(1, 4))):
        chunks.append(separator + draw(st.sampled_from(["", "", " \t", "  "])))
        chunks.append(draw(plain_leaf(eol)))
        if draw(st.integers(0, 19)) == 7:
            chunks.append(
                draw(st.sampled_from([separator + "--x", separator + "x", separator, ""]))
            )
    if draw(st.integers(0, 19)) != 7:
        chunks.append(separator + "--" + draw(st.sampled_from(["", " "])))
    chunks.append(draw(st.sampled_from(["", "epilogue", eol, f"epilogue{eol}{separator}--"])))
    raw = (eol.join(head) + eol + eol + eol.join(chunks)).encode("utf-8", "surrogateescape")
    if draw(st.integers(0, 29)) == 7:
        raw = raw.replace(b"\n", b"\r", 1)  # a stray CR: the feed parser breaks lines there too
    return raw


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plain_multipart())
def test_generated_multiparts_parse_the_same_with_and_without_the_shortcuts(raw: bytes) -> None:
    assert parse_message(raw, folder_role="inbox") == by_feed_parser(raw)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plain_multipart())
def test_a_generated_multipart_tree_is_the_feed_parsers_tree(raw: bytes) -> None:
    assert_tree_is_the_feed_parsers(raw)


def notification(kind: str, plain: bytes, charset: str = "utf-8", *more: bytes) -> bytes:
    """A shop notification: a plain and an HTML version, maybe more parts after them."""
    parts = [
        b"Content-Type: text/plain; charset=" + charset.encode() + b"\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + plain,
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>\xd0\x97\xd0\xb0\xd0\xba\xd0\xb0\xd0\xb7</p>",
        *more,
    ]
    return (
        b"From: noreply@shop-cms.test\r\nTo: orders@shop.test\r\n"
        b"Subject: =?utf-8?b?0JfQsNC60LDQtw==?=\r\nContent-Type: multipart/" + kind.encode()
        + b'; boundary="a"\r\n\r\n'
        + b"".join(b"--a\r\n" + part + b"\r\n" for part in parts)
        + b"--a--\r\n"
    )  # fmt: skip


PDF = (
    b"Content-Type: application/pdf; name=\"=?utf-8?b?0KHRh9GR0YIucGRm?=\"\r\n"
    b"Content-Disposition: attachment; filename*=utf-8''%D0%A1%D1%87%D1%91%D1%82.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(b"%PDF-1.4 " * 50).replace(b"\n", b"\r\n")
)  # fmt: skip


def test_notifications_take_the_leaf_shortcut_and_read_as_the_feed_parser_reads_them() -> None:
    ru = "Оформлен заказ №12".encode()
    cases = {
        "plain version chosen": notification("alternative", ru),
        "blank plain version: the HTML": notification("alternative", b" \r\n\t"),
        # 0xA0 is a no-break space in latin-1: blank only once decoded as the stdlib decodes it
        "no-break space plain: the HTML": notification("alternative", b"\xa0", "iso-8859-1"),
        "hostile charset name": notification("alternative", ru, "utf-8\x00"),
        "both versions and a PDF": notification("mixed", ru, "utf-8", PDF),
        "the PDF as the related root": notification("related", ru, "utf-8", PDF),
    }
    for case, raw in cases.items():
        assert list(shortcut_hits([raw])) == ["leaves"], case
        assert parse_message(raw, folder_role="inbox") == by_feed_parser(raw), case
    chosen = {case: parse_message(raw).full_text for case, raw in cases.items()}
    assert chosen["plain version chosen"] == "Оформлен заказ №12"
    assert chosen["blank plain version: the HTML"] == "Заказ"
    assert chosen["no-break space plain: the HTML"] == "Заказ"
    attached = parse_message(cases["both versions and a PDF"]).attachments
    assert [(a.content_type, a.filename, a.size) for a in attached] == [
        ("application/pdf", "Счёт.pdf", 450)
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=60),
        st.text(alphabet="оеаинтсрвлОЕАИНТСРВЛхъЁё !", max_size=40).map(
            lambda text: text.encode("cp1251")
        ),
        st.text(alphabet="оеаинтсрвлОЕАИНТСРВЛхъЁё !", max_size=40).map(
            lambda text: text.encode("koi8-r")
        ),
    )
)
def test_cyrillic_guess_counted_in_bytes_is_the_guess_counted_in_decoded_text(data: bytes) -> None:
    """The cp1251/koi8-r guess scores bytes; it must choose as scoring both decodings would."""

    def score(text: str) -> int:
        return sum(text.count(letter) for letter in "оеаинтсрвл")

    cp1251, koi8 = data.decode("cp1251", "replace"), data.decode("koi8-r", "replace")
    assert guess_cyrillic(data) == (cp1251 if score(cp1251) >= score(koi8) else koi8)
    for declared, text, other in (("windows-1251", cp1251, koi8), ("koi8-r", koi8, cp1251)):
        if data.isascii() or (declared == "windows-1251" and "\ufffd" in cp1251):
            continue  # ASCII is read as such; undecodable cp1251 goes another way
        expected = other if score(other) > 2 * score(text) + 2 else text
        assert decode_bytes(data, declared) == expected
