"""Form presets: each provider's documented payload becomes the same FormSubmission.

Payloads are written here after each provider's documented format, with
Russian and English visitors; no network, no database.
"""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime

import pytest

from watchdog.config import FormFields
from watchdog.ingest.submission import FormSubmission
from watchdog.sources.formanswers import normalise_phone
from watchdog.sources.forms import (
    MalformedPayload,
    UnsupportedContentType,
    parse_submission,
)

NOW = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)
URLENCODED = "application/x-www-form-urlencoded"
JSON = "application/json"


def parse(
    preset: str, body: bytes | str | dict[str, object], content_type: str = URLENCODED,
    mapping: FormFields | None = None,
) -> FormSubmission | None:  # fmt: skip
    if isinstance(body, dict):
        body = json.dumps(body, ensure_ascii=False) if content_type == JSON else (
            urllib.parse.urlencode(body)
        )  # fmt: skip
    data = body.encode() if isinstance(body, str) else body
    return parse_submission(preset, mapping or FormFields(), content_type, data, received_at=NOW)


def parsed(*args: object, **kwargs: object) -> FormSubmission:
    got = parse(*args, **kwargs)  # type: ignore[arg-type]
    assert got is not None
    return got


def contact(got: FormSubmission) -> tuple[str | None, str | None, str | None]:
    return got.name, got.email, got.phone


# --- Tilda ------------------------------------------------------------------------------


def test_tilda_urlencoded_in_russian() -> None:
    body = {
        "Name": "Мария Иванова",
        "Email": "Maria.Ivanova@Yandex.ru",
        "Phone": "+7 (916) 123-45-67",
        "Textarea": "Здравствуйте! А подскажите, есть ли доставка в Казань?",
        "tranid": "4012345:6789012",
        "formid": "form521938576",
        "COOKIES": "_ym_uid=1712; tildauid=1712",
        "utm_source": "yandex",
    }

    got = parsed("tilda", body)

    assert contact(got) == ("Мария Иванова", "maria.ivanova@yandex.ru", "+79161234567")
    assert got.message == "Здравствуйте! А подскажите, есть ли доставка в Казань?"
    assert got.submission_id == "4012345:6789012"
    assert got.fields["formid"] == "form521938576"  # kept for display
    assert got.provider == "tilda" and got.received_at == NOW
    assert got.raw == urllib.parse.urlencode(body).encode()


def test_tilda_json_in_english() -> None:
    body = {
        "name": "John Smith",
        "email": "john@example.com",
        "phone": "+1 415 555 2671",
        "comments": "Can I order 3 units with delivery to Boston?",
        "tranid": "981:17",
        "formid": "form17",
    }

    got = parsed("tilda", body, JSON)

    assert contact(got) == ("John Smith", "john@example.com", "+14155552671")
    assert got.message == "Can I order 3 units with delivery to Boston?"
    assert got.submission_id == "981:17"


def test_tilda_test_ping_is_none() -> None:
    assert parse("tilda", "test=test") is None


# --- Wix --------------------------------------------------------------------------------


def test_wix_automation_payload_in_english() -> None:
    body = {
        "data": {
            "formName": "Contact Us",
            "submissionId": "7c2b2a0e-6a4f-4b7f-9a53-6d1c1f6f6a11",
            "submissionTime": "2025-11-03T09:29:58.120Z",
            "contactId": "a1b2c3d4-0000-4000-8000-0000000000aa",
            "submissions": [
                {"label": "First name", "value": "Emily"},
                {"label": "Last name", "value": "Clark"},
                {"label": "Email", "value": "emily.clark@outlook.com"},
                {"label": "Message", "value": "Is the oak table still available?"},
            ],
            "contact": {
                "name": {"first": "Emily", "last": "Clark"},
                "email": "emily.clark@outlook.com",
                "phone": "+44 7700 900123",
            },
            "field:first_name_abc1": "Emily",
        }
    }

    got = parsed("wix", body, JSON)

    assert contact(got) == ("Emily Clark", "emily.clark@outlook.com", "+447700900123")
    assert got.message == "Is the oak table still available?"
    assert got.submission_id == "7c2b2a0e-6a4f-4b7f-9a53-6d1c1f6f6a11"
    assert list(got.fields) == ["First name", "Last name", "Email", "Message"]


def test_wix_field_keys_in_russian_without_a_submissions_list() -> None:
    body = {
        "data": {
            "formName": "Обратная связь",
            "submissionId": "wix-42",
            "field:имя": "Ольга",
            "field:телефон": "8 903 555-12-34",
            "field:сообщение": "Перезвоните, пожалуйста, по поводу заказа",
        }
    }

    got = parsed("wix", body, JSON)

    assert contact(got) == ("Ольга", None, "+79035551234")
    assert got.message == "Перезвоните, пожалуйста, по поводу заказа"


# --- Contact Form 7 ------------------------------------------------------------------------


def test_cf7_webhook_json_with_a_subject_in_russian() -> None:
    body = {
        "your-name": "Сергей",
        "your-email": "sergey@mail.ru",
        "your-phone": "89161112233",
        "your-subject": "Возврат товара",
        "your-message": "Хочу вернуть чайник, он не включается.",
        "_wpcf7": "42",
        "_wpcf7_unit_tag": "wpcf7-f42-p7-o1",
    }

    got = parsed("cf7", body, JSON)

    assert contact(got) == ("Сергей", "sergey@mail.ru", "+79161112233")
    assert got.message == "Возврат товара\n\nХочу вернуть чайник, он не включается."
    assert got.submission_id is None  # CF7 sends none: retries are found by content


def test_cf7_urlencoded_in_english() -> None:
    body = "your-name=Anna+Lee&your-email=anna%40lee.dev&your-message=Do+you+ship+to+Canada%3F"

    got = parsed("cf7", body)

    assert contact(got) == ("Anna Lee", "anna@lee.dev", None)
    assert got.message == "Do you ship to Canada?"


# --- Elementor -----------------------------------------------------------------------------


def test_elementor_advanced_data_uses_field_types() -> None:
    body = {
        "form[id]": "3f1b2c4",
        "form[name]": "Заявка",
        "fields[name][id]": "name",
        "fields[name][type]": "text",
        "fields[name][title]": "Ваше имя",
        "fields[name][value]": "Пётр",
        "fields[field_1][id]": "field_1",
        "fields[field_1][type]": "tel",
        "fields[field_1][title]": "Контакт для связи",
        "fields[field_1][value]": "+7 912 000-11-22",
        "fields[field_2][id]": "field_2",
        "fields[field_2][type]": "textarea",
        "fields[field_2][title]": "Что вас интересует",
        "fields[field_2][value]": "Сколько стоит установка кондиционера?",
        "meta[date][title]": "Date",
        "meta[date][value]": "03.11.2025",
        "meta[remote_ip][title]": "Remote IP",
        "meta[remote_ip][value]": "203.0.113.5",
    }

    got = parsed("elementor", body)

    assert contact(got) == ("Пётр", None, "+79120001122")
    assert got.message == "Сколько стоит установка кондиционера?"
    assert list(got.fields) == ["Ваше имя", "Контакт для связи", "Что вас интересует"]


def test_elementor_simple_labels_leave_out_its_metadata() -> None:
    body = {
        "Name": "Tom",
        "Email": "tom@example.org",
        "Message": "Please call me back tomorrow.",
        "Date": "November 3, 2025",
        "Time": "9:29 am",
        "Page URL": "https://shop.example/contact/",
        "User Agent": "Mozilla/5.0",
        "Remote IP": "203.0.113.9",
        "Powered by": "Elementor",
    }

    got = parsed("elementor", body)

    assert contact(got) == ("Tom", "tom@example.org", None)
    assert got.message == "Please call me back tomorrow."


def test_elementor_form_fields_shape() -> None:
    body = "form_fields[name]=Ирина&form_fields[email]=irina@ya.ru&form_fields[message]=Есть+размер+M%3F"

    got = parsed("elementor", body)

    assert contact(got) == ("Ирина", "irina@ya.ru", None)
    assert got.message == "Есть размер M?"


# --- Bitrix24 ------------------------------------------------------------------------------


def test_bitrix24_crm_fields_urlencoded() -> None:
    body = {
        "FIELDS[TITLE]": "Заявка с сайта",
        "FIELDS[NAME]": "Алексей",
        "FIELDS[LAST_NAME]": "Смирнов",
        "FIELDS[EMAIL][0][VALUE]": "a.smirnov@bk.ru",
        "FIELDS[EMAIL][0][VALUE_TYPE]": "WORK",
        "FIELDS[PHONE][0][VALUE]": "8-800-555-35-35",
        "FIELDS[PHONE][0][VALUE_TYPE]": "WORK",
        "FIELDS[COMMENTS]": "Нужен счёт на 10 коробок",
        "FIELDS[SOURCE_ID]": "WEB",
        "FIELDS[ID]": "1187",
    }

    got = parsed("bitrix24", body)

    assert contact(got) == ("Алексей Смирнов", "a.smirnov@bk.ru", "+78005553535")
    assert got.message == "Заявка с сайта\n\nНужен счёт на 10 коробок"
    assert got.submission_id == "1187"


def test_bitrix24_json_in_english() -> None:
    body = {
        "FIELDS": {
            "NAME": "Kate",
            "EMAIL": [{"VALUE": "kate@firm.com", "VALUE_TYPE": "WORK"}],
            "COMMENTS": "Need a quote for 50 chairs",
        }
    }

    got = parsed("bitrix24", body, JSON)

    assert contact(got) == ("Kate", "kate@firm.com", None)
    assert got.message == "Need a quote for 50 chairs"


def test_bitrix24_test_event_is_a_ping() -> None:
    assert parse("bitrix24", "event=ONAPPTEST&data[FIELDS][ID]=0&ts=1730620000") is None


# --- Jotform -------------------------------------------------------------------------------


def multipart(fields: dict[str, str], boundary: str = "----jotform7a") -> tuple[bytes, str]:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_jotform_reads_raw_request_in_russian() -> None:
    raw = {
        "slug": "submit/241234567890/",
        "q3_name": {"first": "Дмитрий", "last": "Орлов"},
        "q4_email": "orlov@inbox.ru",
        "q5_phoneNumber": {"full": "8 (921) 765-43-21"},
        "q6_vopros": "Можно забрать заказ в субботу?",
        "event_id": "1730620000_123",
    }
    body, content_type = multipart(
        {
            "formID": "241234567890",
            "submissionID": "5912345678901234567",
            "formTitle": "Обратная связь",
            "pretty": "Имя:Дмитрий Орлов, E-mail:orlov@inbox.ru",
            "rawRequest": json.dumps(raw, ensure_ascii=False),
        }
    )

    got = parsed("jotform", body, content_type)

    assert contact(got) == ("Дмитрий Орлов", "orlov@inbox.ru", "+79217654321")
    assert got.message == "vopros: Можно забрать заказ в субботу?"  # unknown label: kept whole
    assert got.submission_id == "5912345678901234567"


def test_jotform_without_raw_request_reads_pretty() -> None:
    body, content_type = multipart(
        {"submissionID": "77", "pretty": "Name:Ann Ray, E-mail:ann@ray.io, Message:Hello there"}
    )

    got = parsed("jotform", body, content_type)

    assert contact(got) == ("Ann Ray", "ann@ray.io", None)
    assert got.message == "Hello there"


# --- Typeform ------------------------------------------------------------------------------


def typeform(answers: list[dict[str, object]], fields: list[dict[str, str]]) -> dict[str, object]:
    return {
        "event_id": "01JBX8Q6K9T7V2",
        "event_type": "form_response",
        "form_response": {
            "form_id": "lT4Z3j",
            "token": "a3a12ec67a1365927098a606107fac15",
            "submitted_at": "2025-11-03T09:29:58Z",
            "definition": {"id": "lT4Z3j", "title": "Contact", "fields": fields},
            "answers": answers,
        },
    }


def test_typeform_answers_by_type_in_english() -> None:
    body = typeform(
        answers=[
            {"type": "text", "text": "Laura", "field": {"id": "f1", "type": "short_text", "ref": "name"}},
            {"type": "email", "email": "laura@example.com", "field": {"id": "f2", "type": "email"}},
            {"type": "phone_number", "phone_number": "+16505550123", "field": {"id": "f3", "type": "phone_number"}},
            {"type": "choice", "choice": {"label": "Returns"}, "field": {"id": "f4", "type": "multiple_choice"}},
            {"type": "text", "text": "The parcel arrived damaged.", "field": {"id": "f5", "type": "long_text"}},
        ],
        fields=[
            {"id": "f1", "title": "What is your name?", "type": "short_text"},
            {"id": "f2", "title": "Your email", "type": "email"},
            {"id": "f3", "title": "Best number to call", "type": "phone_number"},
            {"id": "f4", "title": "Topic", "type": "multiple_choice"},
            {"id": "f5", "title": "Tell us more", "type": "long_text"},
        ],
    )  # fmt: skip

    got = parsed("typeform", body, JSON)

    assert contact(got) == ("Laura", "laura@example.com", "+16505550123")
    assert got.message == "Returns\n\nThe parcel arrived damaged."
    assert got.submission_id == "a3a12ec67a1365927098a606107fac15"
    assert got.fields["Topic"] == "Returns"


def test_typeform_in_russian_with_titles_only() -> None:
    body = typeform(
        answers=[
            {"type": "text", "text": "Наталья", "field": {"id": "a", "type": "short_text"}},
            {"type": "text", "text": "Почему заказ ещё не отправлен?", "field": {"id": "b", "type": "short_text"}},
            {"type": "choices", "choices": {"labels": ["Почта", "Звонок"]}, "field": {"id": "c", "type": "multiple_choice"}},
        ],
        fields=[
            {"id": "a", "title": "Как к вам обращаться?", "type": "short_text"},
            {"id": "b", "title": "Ваш вопрос", "type": "short_text"},
            {"id": "c", "title": "Как связаться", "type": "multiple_choice"},
        ],
    )  # fmt: skip

    got = parsed("typeform", body, JSON)

    assert got.name == "Наталья"
    assert got.message == "Почему заказ ещё не отправлен?"
    assert got.fields["Как связаться"] == "Почта, Звонок"


# --- Google Forms ------------------------------------------------------------------------------


def test_google_forms_apps_script_payload() -> None:
    body = {
        "responseId": "2_ABaOnudxkq2Jz",
        "timestamp": "2025-11-03T09:29:58.000Z",
        "answers": {
            "ФИО": "Ковалёва Анна Сергеевна",
            "Электронная почта": "kovaleva@gmail.com",
            "Удобное время для звонка": ["утро", "вечер"],
            "Комментарий": "Хочу записаться на примерку",
        },
    }

    got = parsed("google_forms", body, JSON)

    assert contact(got) == ("Ковалёва Анна Сергеевна", "kovaleva@gmail.com", None)
    assert got.message == "Хочу записаться на примерку"
    assert got.fields["Удобное время для звонка"] == "утро, вечер"
    assert got.submission_id == "2_ABaOnudxkq2Jz"


def test_google_forms_test_ping_is_none() -> None:
    assert parse("google_forms", {"test": True}, JSON) is None


# --- generic mapping and heuristics ----------------------------------------------------------------


def test_generic_mapping_from_config_picks_the_fields() -> None:
    mapping = FormFields(name="Имя", email="Email", phone="Телефон", message="Комментарий")
    body = {
        "Имя": "Олег",
        "Email": "oleg@rambler.ru",
        "Телефон": "+7 495 123-45-67",
        "Комментарий": "Нужна консультация",
        "Вопрос дня": "не трогать",
    }

    got = parsed("generic", body, mapping=mapping)

    assert contact(got) == ("Олег", "oleg@rambler.ru", "+74951234567")
    assert got.message == "Нужна консультация"


def test_config_mapping_applies_on_top_of_a_preset() -> None:
    body = {"Name": "Vera", "Email": "vera@site.com", "Textarea": "hi", "Details": "Need 2 lamps"}

    got = parsed("tilda", body, mapping=FormFields(message="details"))

    assert got.message == "Need 2 lamps"


def test_heuristics_read_russian_and_english_names() -> None:
    ru = parsed("generic", {"Ваше имя": "Юрий", "Эл. почта": "yuri@ya.ru", "Номер телефона": "9161234567",
                            "Ваш вопрос": "Когда откроетесь?"})  # fmt: skip
    en = parsed("generic", {"full_name": "Ben Hall", "e-mail": "ben@hall.uk", "tel": "07700 900461",
                            "question": "Open on Sunday?"}, JSON)  # fmt: skip

    assert contact(ru) == ("Юрий", "yuri@ya.ru", "+79161234567")
    assert ru.message == "Когда откроетесь?"
    assert contact(en) == ("Ben Hall", "ben@hall.uk", "07700 900461")  # a UK number, no +44: kept
    assert en.message == "Open on Sunday?"


def test_a_company_name_is_not_taken_for_the_visitors_name() -> None:
    got = parsed("generic", {"Company name": "ACME", "Name": "Lee", "Message": "hello"})

    assert got.name == "Lee"


def test_without_a_message_field_every_remaining_field_becomes_the_message() -> None:
    body = {"Имя": "Галина", "Телефон": "89031234567", "Город": "Казань", "Товар": "Диван «Уют»",
            "formid": "form1", "utm_source": "vk"}  # fmt: skip

    got = parsed("generic", body)

    assert got.message == "Город: Казань\nТовар: Диван «Уют»"
    assert got.usable


def test_an_address_in_an_unnamed_field_is_found_by_its_value() -> None:
    got = parsed("generic", {"Контакт": "li@mail.ru", "Вопрос": "Есть скидки?"})

    assert got.email == "li@mail.ru"


def test_an_email_field_without_an_address_gives_no_email() -> None:
    got = parsed("generic", {"Email": "нет почты", "Phone": "+79161234567"})

    assert got.email is None
    assert got.fields["Email"] == "нет почты"


def test_nothing_usable_is_reported_by_the_submission() -> None:
    assert not parsed("generic", {"Name": "Иван"}).usable


def test_nested_generic_json_is_flattened_for_display() -> None:
    got = parsed(
        "generic", {"contact": {"email": "x@y.ru"}, "text": "hi", "submission_id": "s-1"}, JSON
    )

    assert got.fields == {"contact.email": "x@y.ru", "text": "hi", "submission_id": "s-1"}
    assert got.email == "x@y.ru" and got.submission_id == "s-1"


def test_a_windows_1251_urlencoded_body_is_decoded_by_its_charset() -> None:
    body = urllib.parse.urlencode({"Сообщение": "Привет"}, encoding="cp1251").encode()

    got = parsed("generic", body, f"{URLENCODED}; charset=windows-1251")

    assert got.message == "Привет"


# --- phones ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("8 (916) 123-45-67", "+79161234567"),
        ("+7 916 123 45 67", "+79161234567"),
        ("9161234567", "+79161234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+375 29 123-45-67", "+375291234567"),
        ("позвоните вечером", "позвоните вечером"),
        (" 123 ", "123"),
    ],
)
def test_phones_are_normalised_to_e164_or_kept_as_written(written: str, expected: str) -> None:
    assert normalise_phone(written) == expected


# --- bodies that cannot be read ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body", "error"),
    [
        ("text/plain", b"hello", UnsupportedContentType),
        ("", b"a=1", UnsupportedContentType),
        (JSON, b"{broken", MalformedPayload),
        (JSON, b"[1, 2]", MalformedPayload),
        ("multipart/form-data", b"--x\r\n", MalformedPayload),
    ],
)
def test_unreadable_bodies_raise(content_type: str, body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_submission("generic", FormFields(), content_type, body, received_at=NOW)
