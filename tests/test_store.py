"""Storing arrivals: every mail and form submission becomes one classified row, retries none."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchdog.alarms import SOURCE_UNREACHABLE, clear_alarms, open_alarms, raise_alarm
from watchdog.classify import ClassifyContext, load_rules
from watchdog.ingest.message import OurIdentity
from watchdog.ingest.read import Ingestor, read_mail
from watchdog.ingest.store import (
    Arrival,
    MailLocation,
    ensure_source,
    insert_mails,
    store_form,
    store_mail,
)
from watchdog.ingest.submission import FormSubmission
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Classification, Message

NOW = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)
INGESTOR = Ingestor(
    rules=load_rules(),
    context=ClassifyContext(own_domains=frozenset({"shop.test"})),
    ours=OurIdentity(domains=frozenset({"shop.test"})),
)
CUSTOMER = (
    "From: =?utf-8?b?0JjQstCw0L0=?= <ivan@mail.ru>\r\nTo: orders@shop.test\r\n"
    "Subject: =?utf-8?b?0JfQsNC60LDQtw==?=\r\nDate: Mon, 3 Nov 2025 12:00:00 +0300\r\n"
    "Message-ID: <q1@mail.ru>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "Здравствуйте! Когда придёт заказ 1234?\r\n"
).encode()


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    upgrade(db_url)
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def submission(**overrides: object) -> FormSubmission:
    values: dict[str, object] = {
        "provider": "tilda",
        "received_at": NOW,
        "message": "Подскажите, есть ли доставка в Казань?",
        "name": "Мария",
        "email": "maria@yandex.ru",
        "phone": "+79161234567",
        "fields": {"Name": "Мария", "Email": "maria@yandex.ru"},
        "raw": b"Name=...",
    }
    values.update(overrides)
    return FormSubmission(**values)  # type: ignore[arg-type]


def test_a_customer_mail_is_stored_with_its_classification(session: Session) -> None:
    source = ensure_source(session, "mailbox", "orders", NOW)
    where = MailLocation(folder="INBOX", role="inbox", uidvalidity=7, uid=1)

    store_mail(session, INGESTOR, source.id, where, CUSTOMER, received_at=NOW, now=NOW)
    session.commit()

    row = session.scalars(select(Message)).one()
    assert (row.from_addr, row.from_name, row.subject) == ("ivan@mail.ru", "Иван", "Заказ")
    assert row.direction == "incoming"
    assert row.raw == CUSTOMER
    assert row.classification is not None
    assert (row.classification.category, row.classification.request) == ("customer", True)


def test_bulk_inserted_mail_is_stored_exactly_as_one_added_alone(session: Session) -> None:
    """insert_mails writes through the driver directly: every column must come out the same."""
    source = ensure_source(session, "mailbox", "orders", NOW)
    received = datetime(2025, 11, 3, 12, 1, 2, 345678, tzinfo=timezone(timedelta(hours=3)))
    flags = ("\\Seen", "$Label")
    alone = MailLocation(folder="INBOX", role="inbox", uidvalidity=7, uid=1)
    store_mail(session, INGESTOR, source.id, alone, CUSTOMER, received_at=received, now=NOW,
               flags=flags, size=9999, truncated=True)  # fmt: skip
    read = read_mail(INGESTOR, CUSTOMER, folder_role="inbox")
    batch = [
        (
            Arrival(MailLocation("INBOX", "inbox", 7, uid), CUSTOMER, received, flags, 9999, True),
            read,
        )
        for uid in (2, 3)
    ]
    ids = insert_mails(session, source.id, batch, NOW)
    session.commit()
    session.expire_all()

    rows = {row.uid: row for row in session.scalars(select(Message))}
    assert [rows[2].id, rows[3].id] == ids
    assert rows[1].received_at == received
    columns = [c.key for c in Message.__table__.columns if c.key not in ("id", "uid")]
    verdicts = {v.message_id: v for v in session.scalars(select(Classification))}
    verdict_columns = ("category", "request", "rules", "created_at")
    for uid in (2, 3):
        assert {c: getattr(rows[uid], c) for c in columns} == {
            c: getattr(rows[1], c) for c in columns
        }
        mine, reference = verdicts[rows[uid].id], verdicts[rows[1].id]
        assert [getattr(mine, c) for c in verdict_columns] == [
            getattr(reference, c) for c in verdict_columns
        ]


def test_a_bulk_insert_of_different_mails_keeps_each_row_its_own_values(session: Session) -> None:
    """Values repeated across rows are converted once: no row may get another's value."""
    source = ensure_source(session, "mailbox", "orders", NOW)
    other = CUSTOMER.replace(b"To: orders@shop.test", b"To: orders@shop.test\r\nCc: a@b.ru")
    moscow = timezone(timedelta(hours=3))
    mails = [  # (bytes, flags, received): some equal, some not, one equal instant in another zone
        (CUSTOMER, ("\\Seen",), datetime(2025, 11, 3, 12, 0, tzinfo=moscow)),
        (other, (), datetime(2025, 11, 3, 9, 0, tzinfo=UTC)),
        (b"\x00\xff garbage", ("\\Seen",), datetime(2025, 11, 3, 12, 5, tzinfo=moscow)),
        (CUSTOMER, ("\\Seen", "\\Answered"), datetime(2025, 11, 3, 10, 0, tzinfo=UTC)),
    ]
    for uid, (raw, flags, received) in enumerate(mails, 1):
        where = MailLocation("Alone", "inbox", 7, uid)
        store_mail(session, INGESTOR, source.id, where, raw, received_at=received, now=NOW,
                   flags=flags)  # fmt: skip
    batch = [
        (Arrival(MailLocation("INBOX", "inbox", 7, uid), raw, received, flags),
         read_mail(INGESTOR, raw, folder_role="inbox"))
        for uid, (raw, flags, received) in enumerate(mails, 1)
    ]  # fmt: skip
    insert_mails(session, source.id, batch, NOW)
    session.commit()
    session.expire_all()

    rows = {(r.folder, r.uid): r for r in session.scalars(select(Message))}
    columns = [c.key for c in Message.__table__.columns if c.key not in ("id", "folder")]
    for uid in range(1, len(mails) + 1):
        bulk, alone = rows[("INBOX", uid)], rows[("Alone", uid)]
        assert {c: getattr(bulk, c) for c in columns} == {c: getattr(alone, c) for c in columns}
        assert bulk.classification is not None and alone.classification is not None
        assert bulk.classification.rules == alone.classification.rules
    flags = [rows[("INBOX", uid)].flags for uid in (1, 2, 4)]
    assert flags == [["\\Seen"], [], ["\\Seen", "\\Answered"]]
    assert rows[("INBOX", 2)].cc_addrs == [{"name": "", "email": "a@b.ru"}]
    assert rows[("INBOX", 1)].received_at == rows[("INBOX", 2)].received_at  # the same instant


def test_a_mail_that_cannot_be_parsed_is_stored_as_a_broken_request(session: Session) -> None:
    source = ensure_source(session, "mailbox", "orders", NOW)
    where = MailLocation(folder="INBOX", role="inbox", uidvalidity=7, uid=2)

    store_mail(session, INGESTOR, source.id, where, b"\x00\xff garbage", received_at=NOW, now=NOW)
    session.commit()

    row = session.scalars(select(Message)).one()
    assert row.parse_error
    assert row.classification is not None and row.classification.request


def test_a_form_submission_becomes_a_form_request_with_the_visitors_contacts(
    session: Session,
) -> None:
    source = ensure_source(session, "form", "site", NOW)

    row = store_form(session, source.id, submission(), NOW)
    session.commit()

    assert row is not None
    assert (row.from_addr, row.phone) == ("maria@yandex.ru", "+79161234567")
    assert row.classification is not None
    assert (row.classification.category, row.classification.request) == ("form", True)


def test_a_retried_delivery_with_the_same_submission_id_is_stored_once(session: Session) -> None:
    source = ensure_source(session, "form", "site", NOW)
    store_form(session, source.id, submission(submission_id="t-1"), NOW)
    session.commit()

    again = store_form(session, source.id, submission(submission_id="t-1", message="x"), NOW)

    assert again is None


def test_the_same_content_without_an_id_is_a_retry_only_within_a_day(session: Session) -> None:
    source = ensure_source(session, "form", "site", NOW)
    store_form(session, source.id, submission(), NOW)
    session.commit()

    assert store_form(session, source.id, submission(), NOW + timedelta(hours=23)) is None
    assert store_form(session, source.id, submission(), NOW + timedelta(hours=25)) is not None
    session.commit()
    assert session.scalar(select(func.count()).select_from(Message)) == 2


def test_a_retry_in_the_same_uncommitted_batch_is_stored_once(session: Session) -> None:
    source = ensure_source(session, "form", "site", NOW)

    first = store_form(session, source.id, submission(submission_id="t-1"), NOW)
    by_id = store_form(session, source.id, submission(submission_id="t-1", message="x"), NOW)
    by_content = store_form(session, source.id, submission(), NOW)
    session.commit()

    assert first is not None and (by_id, by_content) == (None, None)
    assert session.scalar(select(func.count()).select_from(Message)) == 1


def test_an_occurrence_raises_one_alarm_however_often_it_is_seen(session: Session) -> None:
    source = ensure_source(session, "mailbox", "orders", NOW)
    first = raise_alarm(
        session, kind=SOURCE_UNREACHABLE, key="orders@1", now=NOW, source_id=source.id
    )
    again = raise_alarm(
        session, kind=SOURCE_UNREACHABLE, key="orders@1", now=NOW, source_id=source.id
    )
    session.commit()

    assert first is not None and again is None
    assert [a.key for a in open_alarms(session)] == ["orders@1"]


def test_a_cleared_outage_leaves_room_for_the_next_one(session: Session) -> None:
    source = ensure_source(session, "mailbox", "orders", NOW)
    raise_alarm(session, kind=SOURCE_UNREACHABLE, key="orders@1", now=NOW, source_id=source.id)

    assert clear_alarms(session, kind=SOURCE_UNREACHABLE, source_id=source.id, now=NOW) == 1
    later = raise_alarm(
        session, kind=SOURCE_UNREACHABLE, key="orders@2", now=NOW, source_id=source.id
    )
    session.commit()

    assert later is not None
    assert [a.key for a in open_alarms(session)] == ["orders@2"]
