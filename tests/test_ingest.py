"""Raw bytes to ``Message``: charsets, headers, bodies, quotes, attachments, broken input.

Every test mail is built here, byte by byte, so each test shows exactly the
bytes it is about.
"""

from __future__ import annotations

import base64
import quopri
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchdog.ingest.message import Address, Message, OurIdentity
from watchdog.ingest.parse import parse_message

RU_TEXT = "Здравствуйте! Подскажите, когда будет доставка заказа 123? Ёлка, щётка."


def mail(
    body: bytes | str = b"Hello",
    *,
    subject: bytes | str = "Question",
    headers: dict[str, bytes | str] | None = None,
    content_type: str = "text/plain; charset=utf-8",
    cte: str = "8bit",
) -> bytes:
    """Return a small raw message; ``headers`` add to or replace the defaults (None drops one)."""
    fields: dict[str, bytes | str | None] = {
        "From": "Ivan Petrov <Ivan@Example.RU>",
        "To": "orders@shop-test.ru",
        "Subject": subject,
        "Date": "Thu, 23 Oct 2025 14:02:00 +0300",
        "Message-ID": "<abc.123@example.ru>",
        "MIME-Version": "1.0",
        "Content-Type": content_type,
        "Content-Transfer-Encoding": cte,
    }
    fields.update(headers or {})
    lines = [_b(name) + b": " + _b(value) for name, value in fields.items() if value is not None]
    return b"\r\n".join(lines) + b"\r\n\r\n" + _b(body)


def _b(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def multipart(subtype: str, *parts: bytes, boundary: str = "BOUNDARY", **kw: object) -> bytes:
    """Return a multipart message whose parts are given as raw part bytes (headers + body)."""
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    body += b"--" + boundary.encode() + b"--\r\n"
    return mail(
        body,
        content_type=f'multipart/{subtype}; boundary="{boundary}"',
        cte="7bit",
        **kw,  # type: ignore[arg-type]
    )


def part(body: bytes | str, content_type: str, *extra: str, cte: str = "8bit") -> bytes:
    head = [f"Content-Type: {content_type}", f"Content-Transfer-Encoding: {cte}", *extra]
    return "\r\n".join(head).encode() + b"\r\n\r\n" + _b(body)


# --- charsets -------------------------------------------------------------------


def test_utf8_8bit_body_is_decoded() -> None:
    msg = parse_message(mail(RU_TEXT))
    assert msg.text == RU_TEXT
    assert msg.broken is None


def test_windows_1251_body_is_decoded() -> None:
    raw = mail(RU_TEXT.encode("cp1251"), content_type="text/plain; charset=windows-1251")
    assert parse_message(raw).text == RU_TEXT


def test_koi8_r_body_is_decoded() -> None:
    raw = mail(RU_TEXT.encode("koi8_r"), content_type='text/plain; charset="KOI8-R"')
    assert parse_message(raw).text == RU_TEXT


def test_quoted_printable_body_is_decoded() -> None:
    body = quopri.encodestring(RU_TEXT.encode("utf-8"))
    raw = mail(body, cte="quoted-printable")
    assert parse_message(raw).text == RU_TEXT


def test_base64_cp1251_body_is_decoded() -> None:
    body = base64.encodebytes(RU_TEXT.encode("cp1251"))
    raw = mail(body, content_type="text/plain; charset=cp1251", cte="base64")
    assert parse_message(raw).text == RU_TEXT


def test_body_with_wrong_declared_charset_falls_back_to_what_decodes() -> None:
    raw = mail(RU_TEXT.encode("cp1251"), content_type="text/plain; charset=utf-8")
    assert parse_message(raw).text == RU_TEXT


def test_body_with_undeclared_8bit_koi8_r_is_guessed() -> None:
    raw = mail(RU_TEXT.encode("koi8_r"), content_type="text/plain; charset=us-ascii")
    assert parse_message(raw).text == RU_TEXT


def test_body_with_unknown_charset_name_is_still_decoded() -> None:
    raw = mail(RU_TEXT.encode("utf-8"), content_type="text/plain; charset=x-unknown")
    assert parse_message(raw).text == RU_TEXT


# --- headers --------------------------------------------------------------------


def test_rfc2047_base64_utf8_subject_is_decoded() -> None:
    encoded = base64.b64encode("Заказ №5".encode()).decode()
    assert parse_message(mail(subject=f"=?UTF-8?B?{encoded}?=")).subject == "Заказ №5"


def test_rfc2047_quoted_printable_cp1251_subject_is_decoded() -> None:
    word = "".join(f"={b:02X}" for b in "Счёт".encode("cp1251"))
    raw = mail(subject=f"Re: =?windows-1251?Q?{word}_=EE=F2?= today")
    assert parse_message(raw).subject == "Re: Счёт от today"


def test_rfc2047_subject_split_mid_character_across_folded_words_is_joined() -> None:
    data = "Привет".encode()
    first, second = base64.b64encode(data[:5]).decode(), base64.b64encode(data[5:]).decode()
    raw = mail(subject=f"=?utf-8?B?{first}?=\r\n =?utf-8?B?{second}?=")
    assert parse_message(raw).subject == "Привет"


def test_rfc2047_words_in_different_charsets_are_each_decoded() -> None:
    koi = base64.b64encode("мир".encode("koi8_r")).decode()
    raw = mail(subject=f"=?utf-8?Q?=D0=BF=D1=80=D0=B8=D0=B2=D0=B5=D1=82_?= =?koi8-r?B?{koi}?=")
    assert parse_message(raw).subject == "привет мир"


def test_undeclared_8bit_cp1251_subject_is_decoded_without_mojibake() -> None:
    raw = mail(subject="Вопрос по заказу".encode("cp1251"))
    assert parse_message(raw).subject == "Вопрос по заказу"


def test_undeclared_8bit_utf8_subject_is_decoded() -> None:
    assert parse_message(mail(subject="Вопрос по заказу")).subject == "Вопрос по заказу"


def test_undeclared_8bit_koi8_r_subject_is_decoded() -> None:
    raw = mail(subject="Вопрос по заказу".encode("koi8_r"))
    assert parse_message(raw).subject == "Вопрос по заказу"


def test_broken_encoded_word_is_kept_as_written() -> None:
    raw = mail(subject="=?utf-8?B?!!!notbase64?= ok")
    assert parse_message(raw).subject == "=?utf-8?B?!!!notbase64?= ok"


def test_headers_are_lower_cased_unfolded_and_keep_every_value() -> None:
    raw = mail(headers={"X-Note": "first\r\n  line", "Received": "from a", "received": "from b"})
    msg = parse_message(raw)
    assert msg.headers["x-note"] == ("first  line",)
    assert msg.headers["received"] == ("from a", "from b")
    assert msg.header("X-NOTE") == "first  line"


def test_addresses_have_decoded_names_and_lower_case_emails() -> None:
    name = base64.b64encode("Петров, Иван".encode()).decode()
    raw = mail(
        headers={
            "From": f"=?utf-8?B?{name}?= <Ivan@Example.RU>",
            "To": "Shop <Orders@Shop-Test.ru>, anna@shop-test.ru",
            "Cc": "undisclosed-recipients:;",
            "Reply-To": '"Ivan P." <reply@example.ru>',
            "Sender": "robot@example.ru",
        }
    )
    msg = parse_message(raw)
    assert msg.from_ == Address("Петров, Иван", "ivan@example.ru")
    assert msg.to == (Address("Shop", "orders@shop-test.ru"), Address("", "anna@shop-test.ru"))
    assert msg.cc == ()
    assert msg.reply_to == (Address("Ivan P.", "reply@example.ru"),)
    assert msg.sender == Address("", "robot@example.ru")


def test_8bit_display_name_is_decoded() -> None:
    raw = mail(headers={"From": "Иван Петров <ivan@example.ru>".encode("cp1251")})
    assert parse_message(raw).from_ == Address("Иван Петров", "ivan@example.ru")


def test_message_ids_are_kept_without_angle_brackets_and_case_preserved() -> None:
    raw = mail(
        headers={
            "Message-ID": "<CAF=Abc.1@Mail.Example.com>",
            "In-Reply-To": "<Prev.2@shop-test.ru> (Ivan's message)",
            "References": "<root.1@shop-test.ru>\r\n <Prev.2@shop-test.ru>",
        }
    )
    msg = parse_message(raw)
    assert msg.message_id == "CAF=Abc.1@Mail.Example.com"
    assert msg.in_reply_to == "Prev.2@shop-test.ru"
    assert msg.references == ("root.1@shop-test.ru", "Prev.2@shop-test.ru")


def test_message_id_without_angle_brackets_is_still_read() -> None:
    assert parse_message(mail(headers={"Message-ID": "bare.1@host"})).message_id == "bare.1@host"


def test_date_is_converted_to_aware_utc() -> None:
    msg = parse_message(mail())
    assert msg.date == datetime(2025, 10, 23, 11, 2, tzinfo=UTC)


def test_date_without_zone_is_taken_as_utc() -> None:
    msg = parse_message(mail(headers={"Date": "Thu, 23 Oct 2025 14:02:00 -0000"}))
    assert msg.date == datetime(2025, 10, 23, 14, 2, tzinfo=UTC)


def test_unreadable_date_becomes_none_not_an_error() -> None:
    msg = parse_message(mail(headers={"Date": "yesterday-ish, 99:99"}))
    assert msg.date is None
    assert msg.broken is None


# --- direction ------------------------------------------------------------------

OURS = OurIdentity(domains=frozenset({"shop-test.ru"}), addresses=frozenset({"me@gmail.com"}))


def test_mail_from_our_domain_is_outgoing() -> None:
    raw = mail(headers={"From": "Anna <Anna@Shop-Test.ru>"})
    assert parse_message(raw, ours=OURS).direction == "outgoing"


def test_mail_from_one_of_our_addresses_is_outgoing() -> None:
    raw = mail(headers={"From": "me@gmail.com"})
    assert parse_message(raw, ours=OURS).direction == "outgoing"


def test_mail_from_a_customer_is_incoming_when_we_know_who_we_are() -> None:
    assert parse_message(mail(), ours=OURS).direction == "incoming"


def test_mail_in_the_sent_folder_is_outgoing_whoever_sent_it() -> None:
    assert parse_message(mail(), folder_role="sent").direction == "outgoing"


def test_mail_in_the_inbox_without_identity_is_incoming() -> None:
    assert parse_message(mail(), folder_role="inbox").direction == "incoming"


def test_direction_is_unknown_without_identity_or_folder() -> None:
    assert parse_message(mail()).direction == "unknown"


# --- bodies and MIME ------------------------------------------------------------


def test_html_only_body_is_turned_into_text() -> None:
    html = (
        "<html><body><p>Здравствуйте!</p><p>Нужен <b>счёт</b></p><script>x()</script></body></html>"
    )
    msg = parse_message(mail(html, content_type="text/html; charset=utf-8"))
    assert msg.html_only is True
    assert "Здравствуйте!" in msg.text
    assert "Нужен счёт" in msg.text
    assert "<" not in msg.full_text and "x()" not in msg.full_text


def test_alternative_prefers_the_plain_version() -> None:
    raw = multipart(
        "alternative",
        part("Plain version", "text/plain; charset=utf-8"),
        part("<p>HTML version</p>", "text/html; charset=utf-8"),
    )
    msg = parse_message(raw)
    assert msg.full_text == "Plain version"
    assert msg.html_only is False
    assert msg.mime_types == ("multipart/alternative", "text/plain", "text/html")
    assert msg.attachments == ()


def test_alternative_with_empty_plain_uses_html() -> None:
    raw = multipart(
        "alternative",
        part("  ", "text/plain; charset=utf-8"),
        part("<p>Real text</p>", "text/html; charset=utf-8"),
    )
    msg = parse_message(raw)
    assert msg.full_text == "Real text"
    assert msg.html_only is True


def test_attachments_are_metadata_with_rfc2231_and_rfc2047_names() -> None:
    pdf = base64.encodebytes(b"%PDF-1.4 " + b"x" * 991).decode()
    raw = multipart(
        "mixed",
        part(RU_TEXT, "text/plain; charset=utf-8"),
        part(
            pdf,
            "application/pdf",
            "Content-Disposition: attachment; filename*=UTF-8''%D0%A1%D1%87%D1%91%D1%82.pdf",
            cte="base64",
        ),
        part(
            "a,b\r\n",
            "text/csv",
            "Content-Disposition: attachment;\r\n filename*0*=UTF-8''%D0%9F%D1%80%D0%B0;\r\n"
            " filename*1*=%D0%B9%D1%81.csv",
        ),
        part("img", 'image/png; name="=?utf-8?B?0KTQvtGC0L4ucG5n?="', cte="7bit"),
        part(
            "x", "application/octet-stream", 'Content-Disposition: attachment; filename="Акт.doc"'
        ),
    )
    msg = parse_message(raw)
    assert msg.text == RU_TEXT
    assert [(a.content_type, a.filename, a.size) for a in msg.attachments] == [
        ("application/pdf", "Счёт.pdf", 1000),
        ("text/csv", "Прайс.csv", 5),
        ("image/png", "Фото.png", 3),
        ("application/octet-stream", "Акт.doc", 1),
    ]


def test_attached_message_and_delivery_status_are_recorded_as_parts() -> None:
    inner = b"From: a@b.c\r\nSubject: original\r\n\r\nOriginal text"
    raw = multipart(
        'report; report-type="delivery-status"',
        part("Delivery to the following recipient failed.", "text/plain"),
        part(
            b"Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; x@y\r\nAction: failed",
            "message/delivery-status",
            cte="7bit",
        ),
        part(inner, "message/rfc822", cte="7bit"),
    )
    msg = parse_message(raw)
    assert msg.content_type == "multipart/report"
    assert msg.mime_types == (
        "multipart/report",
        "text/plain",
        "message/delivery-status",
        "message/rfc822",
        "text/plain",
    )
    assert [a.content_type for a in msg.attachments] == [
        "message/delivery-status",
        "message/rfc822",
    ]
    assert msg.full_text == "Delivery to the following recipient failed."


# --- quoted history -------------------------------------------------------------


def test_russian_apple_style_reply_keeps_only_the_new_part() -> None:
    body = (
        "Спасибо, получил.\n\n"
        "23 октября 2025 г., в 14:02, Иван Петров <ivan@mail.ru> написал(а):\n\n"
        "> Когда доставка?\n> Иван\n"
    )
    msg = parse_message(mail(body))
    assert msg.text == "Спасибо, получил."
    assert "Когда доставка?" in msg.full_text


def test_english_reply_with_wrapped_intro_keeps_only_the_new_part() -> None:
    body = (
        "Thanks, that works.\n\n"
        "On Thu, Oct 23, 2025 at 2:02 PM Ivan Petrov <ivan@example.com>\nwrote:\n\n"
        "> When will it ship?\n"
    )
    assert parse_message(mail(body)).text == "Thanks, that works."


def test_yandex_style_reply_without_verb_keeps_only_the_new_part() -> None:
    body = 'Да, подходит.\n\n23.10.2025, 14:02, "Иван Петров" <ivan@yandex.ru>:\n> Вопрос\n'
    assert parse_message(mail(body)).text == "Да, подходит."


def test_interleaved_quote_keeps_the_answers() -> None:
    body = "Ivan wrote:\n> Do you have it in red?\nYes, we do.\n> And in blue?\nNo.\n"
    assert parse_message(mail(body)).text == "Yes, we do.\nNo."


def test_outlook_russian_reply_block_is_cut() -> None:
    body = (
        "Добрый день, счёт во вложении.\n\n"
        "От: Иван Петров [mailto:ivan@example.ru]\n"
        "Отправлено: 23 октября 2025 г. 14:02\n"
        "Кому: orders@shop-test.ru\nТема: Счёт\n\nПришлите счёт.\n"
    )
    assert parse_message(mail(body)).text == "Добрый день, счёт во вложении."


def test_outlook_original_message_separator_is_cut() -> None:
    body = "See below.\n\n-----Original Message-----\nFrom: Ivan\nSent: Thursday\n\nOld text\n"
    assert parse_message(mail(body)).text == "See below."


def test_russian_outlook_separator_is_cut() -> None:
    body = "Смотрите ниже.\n\n-----Исходное сообщение-----\nОт: Иван\n\nСтарый текст\n"
    assert parse_message(mail(body)).text == "Смотрите ниже."


def test_forwarded_block_is_cut_after_the_comment() -> None:
    body = (
        "Коллеги, посмотрите заказ клиента.\n\n"
        "-------- Пересылаемое сообщение --------\n"
        '23.10.2025, 14:02, "Иван" <ivan@mail.ru>:\nТема: заказ\n\nХочу купить\n'
    )
    assert parse_message(mail(body)).text == "Коллеги, посмотрите заказ клиента."


def test_forward_without_comment_keeps_the_forwarded_text() -> None:
    body = "---------- Forwarded message ---------\nFrom: Ivan <i@x.ru>\n\nI want to buy\n"
    assert "I want to buy" in parse_message(mail(body)).text


def test_signature_after_delimiter_is_dropped_from_text_only() -> None:
    msg = parse_message(mail("Need a quote.\n\n-- \nIvan Petrov\n+7 900 000-00-00\n"))
    assert msg.text == "Need a quote."
    assert "+7 900" in msg.full_text


def test_reply_in_html_only_mail_is_cut_too() -> None:
    html = (
        "<div>Спасибо!</div><div class=gmail_quote>"
        "<div>чт, 23 окт. 2025 г. в 14:02, Иван &lt;ivan@mail.ru&gt;:</div>"
        "<blockquote>Когда доставка?</blockquote></div>"
    )
    msg = parse_message(mail(html, content_type="text/html; charset=utf-8"))
    assert msg.text == "Спасибо!"


# --- broken input ---------------------------------------------------------------


def test_empty_bytes_become_a_broken_message() -> None:
    msg = parse_message(b"")
    assert msg.broken == "empty message"
    assert msg.raw_size == 0


def test_binary_garbage_is_broken_not_an_exception() -> None:
    raw = bytes(range(256)) * 4
    msg = parse_message(raw)
    assert msg.broken is not None
    assert msg.raw_size == 1024


def test_truncated_multipart_keeps_its_text_and_notes_the_defect() -> None:
    raw = multipart("mixed", part("Начало письма", "text/plain; charset=utf-8"))
    raw = raw[: raw.rindex(b"--BOUNDARY--")]
    msg = parse_message(raw)
    assert msg.broken is None
    assert msg.text == "Начало письма"
    assert "CloseBoundaryNotFoundDefect" in msg.defects


def test_multipart_without_boundary_is_a_defect_not_broken() -> None:
    raw = mail("just text", content_type="multipart/mixed")
    msg = parse_message(raw)
    assert msg.broken is None
    assert "NoBoundaryInMultipartDefect" in msg.defects


def test_header_only_message_parses_with_empty_text() -> None:
    raw = b"From: a@b.ru\r\nSubject: only headers\r\n"
    msg = parse_message(raw)
    assert msg.broken is None
    assert msg.subject == "only headers"
    assert msg.text == ""


def test_text_without_any_header_is_broken() -> None:
    msg = parse_message("Просто текст, не письмо.\nВторая строка.".encode())
    assert msg.broken is not None


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    msg = parse_message(raw)
    assert isinstance(msg, Message)
    assert msg.raw_size == len(raw)
    _assert_no_surrogates(msg)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(max_size=2000),
    st.sampled_from(["utf-8", "cp1251", "koi8_r", "utf-16", "latin-1"]),
)
def test_arbitrary_text_in_any_encoding_never_raises(text: str, encoding: str) -> None:
    raw = text.encode(encoding, errors="replace")
    msg = parse_message(raw)
    assert msg.raw_size == len(raw)
    _assert_no_surrogates(msg)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Subject", "From", "To", "Date", "Content-Type", "Message-ID"]),
            st.binary(max_size=80),
        ),
        max_size=6,
    ),
    st.binary(max_size=500),
)
def test_mail_shaped_garbage_never_raises(fields: list[tuple[str, bytes]], body: bytes) -> None:
    head = b"".join(
        name.encode() + b": " + value.replace(b"\n", b" ") + b"\r\n" for name, value in fields
    )
    raw = head + b"\r\n" + body
    msg = parse_message(raw)
    assert msg.raw_size == len(raw)
    _assert_no_surrogates(msg)


def _assert_no_surrogates(msg: Message) -> None:
    texts = [msg.subject, msg.text, msg.full_text, *(v for vs in msg.headers.values() for v in vs)]
    texts += [a.name for a in (msg.from_, *msg.to) if a is not None]
    for text in texts:
        text.encode("utf-8")  # raises on a lone surrogate


def test_cp1251_body_mislabelled_koi8_r_is_read_as_cp1251() -> None:
    raw = mail(RU_TEXT.encode("cp1251"), content_type="text/plain; charset=koi8-r")
    assert parse_message(raw).text == RU_TEXT


def test_hostile_address_list_is_capped_not_slow() -> None:
    raw = mail(headers={"To": "a@b.ru, " * 50_000})
    msg = parse_message(raw)
    assert 0 < len(msg.to) < 10_000


def test_deeply_nested_html_keeps_its_words() -> None:
    html = "<div>" * 5000 + "Помогите с заказом" + "</div>" * 5000
    msg = parse_message(mail(html, content_type="text/html; charset=utf-8"))
    assert "Помогите с заказом" in msg.text


def test_deeply_nested_mime_is_broken_with_a_reason_not_an_exception() -> None:
    raw = mail(b"", content_type="multipart/mixed; boundary=b0")
    raw += b"".join(
        b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1)
        for i in range(1500)
    )
    msg = parse_message(raw)
    assert msg.raw_size == len(raw)
    assert msg.broken is None or "Recursion" in msg.broken


def test_form_fields_that_look_like_an_outlook_header_are_not_cut() -> None:
    body = (
        "Новая заявка с сайта\n\nОт: Иван Петров\nДата: 23.10.2025\n"
        "Телефон: +7 900 000-00-00\nВопрос: есть ли размер M?\n"
    )
    msg = parse_message(mail(body))
    assert "есть ли размер M?" in msg.text


def test_html_rendering_has_no_runs_of_blank_lines() -> None:
    html = "<p>Один</p><br><br><br><br><p>Два</p>   <div>  </div><p>Три</p>"
    text = parse_message(mail(html, content_type="text/html; charset=utf-8")).full_text
    assert "\n\n\n" not in text and " \n" not in text
    assert text.split() == ["Один", "Два", "Три"]


def test_null_sender_keeps_its_name_with_an_empty_email() -> None:
    msg = parse_message(mail(headers={"From": "MAILER-DAEMON <>"}), ours=OURS)
    assert msg.from_ == Address("MAILER-DAEMON", "")
    assert msg.direction == "incoming"


def test_broken_message_in_the_inbox_is_still_incoming() -> None:
    msg = parse_message(b"\x00\x01 garbage", folder_role="inbox")
    assert msg.broken is not None
    assert msg.direction == "incoming"


def test_mangled_header_line_does_not_hide_the_headers_after_it() -> None:
    raw = b"Return-Path: <x@y.ru>\r\nRece\xfb\xebived from mx\r\n" + mail(RU_TEXT)
    msg = parse_message(raw)
    assert msg.broken is None
    assert msg.subject == "Question"
    assert msg.text == RU_TEXT
    assert "MalformedHeaderLineRepaired" in msg.defects


def test_subject_folded_without_indentation_keeps_from_and_body() -> None:
    """The bad line comes before From, so it is read as the Subject's continuation."""
    raw = b"Subject: a very long subject\r\nthat a broken mailer folded badly\r\n" + mail(
        RU_TEXT, headers={"Subject": None}
    )
    msg = parse_message(raw)
    assert msg.subject == "a very long subject that a broken mailer folded badly"
    assert msg.from_ == Address("Ivan Petrov", "ivan@example.ru")
    assert msg.text == RU_TEXT


def test_body_missing_its_blank_line_after_from_stays_body() -> None:
    msg = parse_message(b"From: a@b.ru\r\nSubject: x\r\nHello there\r\nName: Ivan\r\n")
    assert msg.subject == "x"
    assert "Hello there" in msg.full_text and "Name: Ivan" in msg.full_text
