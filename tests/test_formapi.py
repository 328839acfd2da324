"""Form-service API clients against local fakes of Jotform and Typeform.

The fakes (tests/fixtures/formservices.py) implement the documented
endpoints, auth, pagination and errors; these tests pin what the clients ask
for and how they read the answers: Russian names and messages, phones in
E.164, deleted submissions skipped, retries that never sleep, and errors
that name the form but never the key.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import httpx
import pytest

from tests.fixtures.formservices import (
    FakeJotform,
    FakeTypeform,
    jotform_item,
    typeform_item,
)
from watchdog.config.schema import FormConfig
from watchdog.config.secrets import Secret
from watchdog.errors import SourceError
from watchdog.ingest.submission import FormSubmission
from watchdog.sources.formanswers import normalise_phone
from watchdog.sources.formapi import FormApi, Retry, jotform_filter_time, open_form_api

NOW = datetime(2025, 11, 5, 12, 0, tzinfo=UTC)


def form(kind: str, fake: FakeJotform | FakeTypeform, **api: object) -> FormConfig:
    key = fake.api_key if isinstance(fake, FakeJotform) else fake.token
    return FormConfig.model_validate(
        {
            "name": "site-contact",
            "token": Secret("hook-token"),
            "api": {"kind": kind, "form_id": fake.form_id, "api_key": Secret(key), **api},
        }
    )


class Sleeps(list[float]):
    """Records the waits the retry policy asked for, instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(
    kind: str,
    fake: FakeJotform | FakeTypeform,
    sleeps: Sleeps | None = None,
    page_size: int | None = None,
    **api: object,
) -> FormApi:
    retry = Retry(sleep=sleeps if sleeps is not None else Sleeps())
    return open_form_api(
        form(kind, fake, **api), transport=fake.transport(), retry=retry, page_size=page_size
    )


def fetch(api: FormApi, cursor: datetime | None = None) -> list[FormSubmission]:
    found, _ = api.fetch_since(cursor, now=NOW)
    return found


# --- Jotform --------------------------------------------------------------------------


def test_jotform_submission_brings_the_visitors_name_contacts_and_words() -> None:
    item = jotform_item("6012345678901234567", "2025-11-03 12:00:00", phone="8 (916) 123-45-67")
    fake = FakeJotform(submissions=[item])

    (got,) = fetch(client("jotform", fake))

    assert got.provider == "jotform"
    assert got.submission_id == "6012345678901234567"
    assert (got.name, got.email, got.phone) == ("Иван Петров", "ivan@mail.ru", "+79161234567")
    assert got.message == "Здравствуйте! А подскажите, есть ли доставка в Казань?"
    assert got.fields == {
        "Имя": "Иван Петров",
        "E-mail": "ivan@mail.ru",
        "Телефон": "8 (916) 123-45-67",
        "Сообщение": "Здравствуйте! А подскажите, есть ли доставка в Казань?",
    }
    assert json.loads(got.raw) == item


def test_jotform_times_are_us_eastern_wall_times_turned_into_utc() -> None:
    fake = FakeJotform(
        submissions=[
            jotform_item("1", "2025-11-03 12:00:00"),  # EST, UTC-5
            jotform_item("2", "2025-07-01 12:00:00"),  # EDT, UTC-4
        ]
    )

    got = fetch(client("jotform", fake))

    assert [s.received_at for s in got] == [
        datetime(2025, 7, 1, 16, 0, tzinfo=UTC),
        datetime(2025, 11, 3, 17, 0, tzinfo=UTC),
    ]


def test_jotform_pages_through_every_offset_and_returns_oldest_first() -> None:
    times = [f"2025-11-03 1{n}:00:00" for n in range(5)]
    fake = FakeJotform(submissions=[jotform_item(str(n), t) for n, t in enumerate(times)])

    got = fetch(client("jotform", fake, page_size=2))

    assert [s.submission_id for s in got] == ["0", "1", "2", "3", "4"]
    offsets = [r.url.params["offset"] for r in fake.requests]
    assert offsets == ["0", "2", "4"]
    assert all(r.url.params["limit"] == "2" for r in fake.requests)
    assert all(r.url.params["orderby"] == "created_at" for r in fake.requests)


def test_jotform_skips_deleted_submissions() -> None:
    fake = FakeJotform(
        submissions=[
            jotform_item("1", "2025-11-03 10:00:00"),
            jotform_item("2", "2025-11-03 11:00:00", status="DELETED"),
        ]
    )

    assert [s.submission_id for s in fetch(client("jotform", fake))] == ["1"]


def test_jotform_asks_only_for_submissions_after_the_cursor_in_account_time() -> None:
    fake = FakeJotform(
        submissions=[
            jotform_item("1", "2025-11-03 11:00:00"),
            jotform_item("2", "2025-11-03 12:30:00"),
        ]
    )
    cursor = datetime(2025, 11, 3, 17, 0, tzinfo=UTC)  # 12:00 in New York

    found, new_cursor = client("jotform", fake).fetch_since(cursor, now=NOW)

    assert [s.submission_id for s in found] == ["2"]
    assert new_cursor == datetime(2025, 11, 3, 17, 30, tzinfo=UTC)
    sent = json.loads(fake.requests[0].url.params["filter"])
    assert sent == {"created_at:gt": "2025-11-03 12:00:00"}


def test_jotform_filter_starts_before_the_hour_that_dst_repeats() -> None:
    in_the_repeated_hour = datetime(2025, 11, 2, 6, 30, tzinfo=UTC)  # 01:30 EST, the second time

    assert jotform_filter_time(in_the_repeated_hour) == "2025-11-02 00:30:00"
    assert jotform_filter_time(datetime(2025, 11, 2, 8, 0, tzinfo=UTC)) == "2025-11-02 03:00:00"


def test_jotform_key_travels_in_a_header_never_in_the_url() -> None:
    fake = FakeJotform(submissions=[jotform_item("1", "2025-11-03 10:00:00")])

    fetch(client("jotform", fake))

    (request,) = fake.requests
    assert request.headers["APIKEY"] == fake.api_key
    assert fake.api_key not in str(request.url)
    assert "apiKey" not in request.url.params


def test_jotform_eu_base_url_is_honoured() -> None:
    fake = FakeJotform(
        host="eu-api.jotform.com", submissions=[jotform_item("1", "2025-11-03 10:00:00")]
    )

    got = fetch(client("jotform", fake, base_url="https://eu-api.jotform.com"))

    assert [s.submission_id for s in got] == ["1"]
    assert {r.url.host for r in fake.requests} == {"eu-api.jotform.com"}


def test_jotform_refused_key_is_permanent_and_never_shows_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeJotform(api_key="the-right-key")
    wrong = form("jotform", FakeJotform(api_key="jf-WRONG-key-987"))

    with pytest.raises(SourceError) as raised:
        open_form_api(wrong, transport=fake.transport(), retry=Retry(sleep=Sleeps())).fetch_since(
            None, now=NOW
        )

    assert raised.value.permanent
    assert "Jotform form 251234567890" in str(raised.value)
    assert "401" in str(raised.value)
    assert "jf-WRONG-key-987" not in str(raised.value)
    assert "jf-WRONG-key-987" not in caplog.text
    assert len(fake.requests) == 1  # not retried


def test_jotform_unknown_form_is_permanent_and_hints_at_the_region() -> None:
    fake = FakeJotform()
    unknown = form("jotform", FakeJotform(form_id="999"))

    with pytest.raises(SourceError) as raised:
        open_form_api(unknown, transport=fake.transport(), retry=Retry(sleep=Sleeps())).fetch_since(
            None, now=NOW
        )

    assert raised.value.permanent
    assert "Jotform form 999" in str(raised.value)
    assert "404" in str(raised.value) and "base_url" in str(raised.value)


def test_rate_limit_then_success_is_retried_without_sleeping() -> None:
    sleeps = Sleeps()
    fake = FakeJotform(fail_with=[429], submissions=[jotform_item("1", "2025-11-03 10:00:00")])

    got = fetch(client("jotform", fake, sleeps=sleeps))

    assert [s.submission_id for s in got] == ["1"]
    assert sleeps == [1.0]
    assert len(fake.requests) == 2


def test_server_errors_are_retried_a_bounded_number_of_times_then_transient() -> None:
    sleeps = Sleeps()
    fake = FakeJotform(fail_with=[500, 502, 503, 504, 500])

    with pytest.raises(SourceError) as raised:
        fetch(client("jotform", fake, sleeps=sleeps))

    assert not raised.value.permanent
    assert "no answer after 4 tries: HTTP 504" in str(raised.value)
    assert sleeps == [1.0, 2.0, 4.0]
    assert len(fake.requests) == 4


def test_timeouts_and_refused_connections_are_retried() -> None:
    sleeps = Sleeps()
    fake = FakeJotform(
        fail_with=[httpx.ReadTimeout("slow"), httpx.ConnectError("refused")],
        submissions=[jotform_item("1", "2025-11-03 10:00:00")],
    )

    assert len(fetch(client("jotform", fake, sleeps=sleeps))) == 1
    assert sleeps == [1.0, 2.0]


def test_a_submission_with_an_unreadable_date_is_dated_when_first_seen() -> None:
    item = jotform_item("7", "not a date")
    item["answers"]["6"]["answer"] = {"weird": ["nested", {"deep": "text"}]}
    fake = FakeJotform(submissions=[item])

    (got,) = fetch(client("jotform", fake))

    assert got.received_at == NOW
    assert got.message == "nested, text"


def test_an_unreadable_response_is_still_returned_with_its_raw_data() -> None:
    item = typeform_item("tok9", "2025-11-03T09:00:00Z")
    item["answers"].append(
        {
            "field": {"id": "x", "type": "multiple_choice"},
            "type": "choices",
            "choices": {"labels": 5},
        }
    )
    fake = FakeTypeform(responses=[item])

    (got,) = fetch(client("typeform", fake))

    assert got.submission_id == "tok9"
    assert "could not read this submission" in got.message
    assert json.loads(got.raw)["token"] == "tok9"


# --- Typeform -------------------------------------------------------------------------


def test_typeform_response_is_labelled_by_the_forms_questions() -> None:
    fake = FakeTypeform(responses=[typeform_item("tok1", "2025-11-03T09:00:00Z")])

    (got,) = fetch(client("typeform", fake))

    assert got.provider == "typeform"
    assert got.submission_id == "tok1"
    assert got.received_at == datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
    assert (got.name, got.email, got.phone) == ("Мария", "maria@yandex.ru", "+79161234567")
    assert got.message == "Добрый день! Когда придёт заказ 1234?"
    assert got.fields["Как вас зовут?"] == "Мария"
    assert got.fields["Тема"] == "Доставка"
    assert fake.requests[0].url.path == "/forms/u6nXL7"  # the definition, once
    assert fake.requests[0].headers["Authorization"] == f"Bearer {fake.token}"


def test_typeform_without_a_long_text_keeps_every_other_answer_in_the_message() -> None:
    fake = FakeTypeform(responses=[typeform_item("tok1", "2025-11-03T09:00:00Z", message=None)])

    (got,) = fetch(client("typeform", fake))

    assert got.message == "Тема: Доставка"


def test_typeform_without_the_definition_labels_answers_by_ref() -> None:
    fake = FakeTypeform(
        definition_status=403, responses=[typeform_item("tok1", "2025-11-03T09:00:00Z")]
    )

    (got,) = fetch(client("typeform", fake))

    assert got.name == "Мария"
    assert set(got.fields) == {"name", "email", "phone", "topic", "message"}


def test_typeform_pages_with_after_tokens_oldest_first_since_the_cursor() -> None:
    fake = FakeTypeform(
        responses=[typeform_item(f"t{n}", f"2025-11-03T0{n}:00:00Z") for n in range(6)]
    )
    cursor = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)

    got = fetch(client("typeform", fake, page_size=2), cursor)

    assert [s.submission_id for s in got] == ["t1", "t2", "t3", "t4", "t5"]
    pages = [r.url.params for r in fake.requests if r.url.path.endswith("/responses")]
    assert [p.get("after") for p in pages] == [None, "t2", "t4"]
    assert all(p["since"] == "2025-11-03T01:00:00" for p in pages)
    assert all(p["completed"] == "true" and p["sort"] == "submitted_at,asc" for p in pages)


def test_typeform_rate_limit_obeys_retry_after() -> None:
    sleeps = Sleeps()
    fake = FakeTypeform(fail_with=[429], responses=[typeform_item("t", "2025-11-03T09:00:00Z")])

    assert len(fetch(client("typeform", fake, sleeps=sleeps))) == 1
    assert sleeps == [7.0]


def test_typeform_refused_token_is_permanent_and_never_shows_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeTypeform(token="tfp_right")
    wrong = form("typeform", FakeTypeform(token="tfp_WRONG_secret"))

    with pytest.raises(SourceError) as raised:
        open_form_api(wrong, transport=fake.transport(), retry=Retry(sleep=Sleeps())).fetch_since(
            None, now=NOW
        )

    assert raised.value.permanent
    assert "Typeform form u6nXL7" in str(raised.value)
    assert "tfp_WRONG_secret" not in str(raised.value) + caplog.text


def test_typeform_eu_base_url_is_honoured() -> None:
    fake = FakeTypeform(
        host="api.eu.typeform.com", responses=[typeform_item("t", "2025-11-03T09:00:00Z")]
    )

    got = fetch(client("typeform", fake, base_url="https://api.eu.typeform.com"))

    assert len(got) == 1
    assert {r.url.host for r in fake.requests} == {"api.eu.typeform.com"}


# --- phone numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("+7 916 123-45-67", "+79161234567"),
        ("8 (916) 123-45-67", "+79161234567"),
        ("9161234567", "+79161234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("позвоните вечером", "позвоните вечером"),
        ("12", "12"),
        ("  ", None),
    ],
)
def test_phones_are_e164_when_readable_else_kept_as_written(
    written: str, expected: str | None
) -> None:
    assert normalise_phone(written) == expected


def test_a_form_without_an_api_has_no_client() -> None:
    plain = FormConfig.model_validate({"name": "site", "token": Secret("t")})

    with pytest.raises(ValueError, match="no \\[form.api\\]"):
        open_form_api(plain)
