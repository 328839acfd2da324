"""Who answered: cases open on requests and close only on a human reply from one of us.

The messages go through the real storing path (parse, classify, store) into
SQLite and PostgreSQL; only the IMAP transport is left out (see the
end-to-end tests for that).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from watchdog.classify import ClassifyContext, load_rules
from watchdog.ingest.message import OurIdentity
from watchdog.ingest.read import Ingestor
from watchdog.ingest.store import MailLocation, ensure_source, store_form, store_mail
from watchdog.ingest.submission import FormSubmission
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Case
from watchdog.track.cases import CaseError, handle_case
from watchdog.track.tracker import TrackPolicy, track_new

T0 = datetime(2025, 11, 5, 7, 0, tzinfo=UTC)  # Wednesday 10:00 in Moscow
OURS = OurIdentity(domains=frozenset({"shop.test"}))
INGESTOR = Ingestor(
    rules=load_rules(), context=ClassifyContext(own_domains=frozenset({"shop.test"})), ours=OURS
)
POLICY = TrackPolicy(ours=OURS, deadline_for=lambda source_id, at: at + timedelta(hours=2))
_uid = count(1)


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    upgrade(db_url)
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        for name in ("orders", "hello"):
            ensure_source(session, "mailbox", name, T0 - timedelta(days=1))
        ensure_source(session, "form", "site", T0 - timedelta(days=1))
        session.commit()
        yield session
    engine.dispose()


def mail(
    sender: str,
    to: str,
    subject: str,
    body: str,
    *,
    msgid: str,
    reply_to_id: str | None = None,
    headers: str = "",
) -> bytes:
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        "Date: Wed, 5 Nov 2025 10:00:00 +0300",
        f"Message-ID: <{msgid}>",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if reply_to_id:
        lines += [f"In-Reply-To: <{reply_to_id}>", f"References: <{reply_to_id}>"]
    lines += [h for h in headers.split("\n") if h]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def deliver(
    session: Session,
    raw: bytes,
    *,
    at: datetime,
    mailbox: str = "orders",
    folder: str = "INBOX",
    flags: tuple[str, ...] = (),
) -> None:
    source = ensure_source(session, "mailbox", mailbox, T0)
    role = {"INBOX": "inbox", "Sent": "sent"}[folder]
    where = MailLocation(folder=folder, role=role, uidvalidity=1, uid=next(_uid))
    store_mail(session, INGESTOR, source.id, where, raw, received_at=at, now=at, flags=flags)
    session.commit()


def question(msgid: str = "q1@mail.ru", subject: str = "Заказ 1234") -> bytes:
    return mail(
        "Иван <ivan@mail.ru>",
        "orders@shop.test",
        subject,
        "Здравствуйте! Когда отправите заказ 1234?",
        msgid=msgid,
    )


def reply(
    to_id: str | None = "q1@mail.ru", msgid: str = "r1@shop.test", subject: str = "Re: Заказ 1234"
) -> bytes:
    return mail(
        "Анна <anna@shop.test>",
        "ivan@mail.ru",
        subject,
        "Иван, добрый день! Отправили сегодня, трек пришлём вечером.",
        msgid=msgid,
        reply_to_id=to_id,
    )


def the_cases(session: Session) -> list[Case]:
    return list(session.scalars(select(Case).order_by(Case.id)))


def test_a_staff_reply_from_another_mailbox_answers_the_case(session: Session) -> None:
    deliver(session, question(), at=T0)
    deliver(session, reply(), at=T0 + timedelta(minutes=40), mailbox="hello", folder="Sent")

    track_new(session, POLICY, T0 + timedelta(hours=1))

    [case] = the_cases(session)
    assert case.state == "answered"
    assert case.answered_at == T0 + timedelta(minutes=40)
    assert [e.kind for e in case.events] == ["opened", "answered"]


def test_our_autoreply_does_not_answer_the_case(session: Session) -> None:
    deliver(session, question(), at=T0)
    auto = mail(
        "Магазин <orders@shop.test>",
        "ivan@mail.ru",
        "Автоответ: Заказ 1234",
        "Спасибо за письмо! Мы ответим в течение рабочего дня.",
        msgid="auto1@shop.test",
        reply_to_id="q1@mail.ru",
        headers="Auto-Submitted: auto-replied",
    )
    deliver(session, auto, at=T0 + timedelta(seconds=5), folder="Sent")

    track_new(session, POLICY, T0 + timedelta(hours=1))

    [case] = the_cases(session)
    assert case.state == "open"
    assert [e.kind for e in case.events] == ["opened", "auto_ack"]


def test_a_forward_to_a_colleague_does_not_answer_the_case(session: Session) -> None:
    deliver(session, question(), at=T0)
    forward = mail(
        "Анна <anna@shop.test>",
        "boris@shop.test",
        "Fwd: Заказ 1234",
        "Борис, посмотри, пожалуйста.\n\n---------- Forwarded message ---------\n...",
        msgid="f1@shop.test",
        reply_to_id="q1@mail.ru",
    )
    deliver(session, forward, at=T0 + timedelta(minutes=3), folder="Sent")

    track_new(session, POLICY, T0 + timedelta(hours=1))

    [case] = the_cases(session)
    assert case.state == "open"


def test_a_reply_without_in_reply_to_threads_by_address_and_subject(session: Session) -> None:
    deliver(session, question(), at=T0)
    deliver(session, reply(to_id=None), at=T0 + timedelta(minutes=30), folder="Sent")

    track_new(session, POLICY, T0 + timedelta(hours=1))

    [case] = the_cases(session)
    assert case.state == "answered"


def test_a_reply_on_another_subject_without_headers_does_not_answer(session: Session) -> None:
    deliver(session, question(), at=T0)
    other = reply(to_id=None, subject="Счёт на оплату")
    deliver(session, other, at=T0 + timedelta(minutes=30), folder="Sent")

    track_new(session, POLICY, T0 + timedelta(hours=1))

    assert [c.state for c in the_cases(session)] == ["open"]


def test_a_follow_up_keeps_the_first_deadline(session: Session) -> None:
    deliver(session, question(), at=T0)
    track_new(session, POLICY, T0 + timedelta(minutes=1))
    again = mail(
        "Иван <ivan@mail.ru>",
        "orders@shop.test",
        "Re: Заказ 1234",
        "Ау! Есть кто-нибудь?",
        msgid="q2@mail.ru",
        reply_to_id="q1@mail.ru",
    )
    deliver(session, again, at=T0 + timedelta(hours=3))

    track_new(session, POLICY, T0 + timedelta(hours=3, minutes=1))

    [case] = the_cases(session)
    assert case.state == "open"
    assert case.deadline_at == T0 + timedelta(hours=2)
    assert [e.kind for e in case.events] == ["opened", "follow_up"]


def test_a_form_request_is_answered_by_a_reply_to_the_visitors_address(session: Session) -> None:
    form = ensure_source(session, "form", "site", T0)
    visitor = FormSubmission(
        provider="tilda",
        received_at=T0,
        message="Есть ли доставка в Казань?",
        name="Мария",
        email="maria@yandex.ru",
    )
    store_form(session, form.id, visitor, T0)
    session.commit()
    answer = mail(
        "Анна <anna@shop.test>",
        "maria@yandex.ru",
        "Доставка в Казань",
        "Мария, здравствуйте! Да, доставляем СДЭКом.",
        msgid="r9@shop.test",
    )
    deliver(session, answer, at=T0 + timedelta(minutes=20), folder="Sent")

    track_new(session, POLICY, T0 + timedelta(hours=1))

    [case] = the_cases(session)
    assert case.customer == "Мария <maria@yandex.ru>"
    assert case.state == "answered"


def test_a_reply_stored_before_its_request_still_answers_it(session: Session) -> None:
    deliver(session, reply(), at=T0 + timedelta(minutes=40), mailbox="hello", folder="Sent")
    track_new(session, POLICY, T0 + timedelta(minutes=41))
    deliver(session, question(), at=T0)

    track_new(session, POLICY, T0 + timedelta(hours=1))

    [case] = the_cases(session)
    assert case.state == "answered"


def test_one_mail_in_two_mailboxes_opens_one_case(session: Session) -> None:
    deliver(session, question(), at=T0, mailbox="orders")
    deliver(session, question(), at=T0 + timedelta(seconds=2), mailbox="hello")

    track_new(session, POLICY, T0 + timedelta(minutes=5))

    assert len(the_cases(session)) == 1


def test_a_new_request_after_an_answer_opens_a_new_case(session: Session) -> None:
    deliver(session, question(), at=T0)
    deliver(session, reply(), at=T0 + timedelta(minutes=40), folder="Sent")
    track_new(session, POLICY, T0 + timedelta(hours=1))
    later = mail(
        "Иван <ivan@mail.ru>",
        "orders@shop.test",
        "Re: Заказ 1234",
        "Спасибо! А можно поменять адрес доставки?",
        msgid="q3@mail.ru",
        reply_to_id="r1@shop.test",
    )
    deliver(session, later, at=T0 + timedelta(hours=5))

    track_new(session, POLICY, T0 + timedelta(hours=5, minutes=1))

    assert [c.state for c in the_cases(session)] == ["answered", "open"]


def test_a_newsletter_opens_no_case(session: Session) -> None:
    news = mail(
        "Shop News <news@esp.example>",
        "orders@shop.test",
        "Скидки недели",
        "Только до воскресенья!",
        msgid="n1@esp.example",
        headers="List-Unsubscribe: <mailto:u@esp.example>\nPrecedence: bulk\nList-Id: <deals.esp.example>",
    )
    deliver(session, news, at=T0)

    report = track_new(session, POLICY, T0 + timedelta(minutes=1))

    assert report.tracked == 1
    assert the_cases(session) == []


def test_the_answered_flag_alone_is_shown_but_does_not_close_the_case(session: Session) -> None:
    deliver(session, question(), at=T0, flags=("\\Answered",))

    track_new(session, POLICY, T0 + timedelta(minutes=1))

    [case] = the_cases(session)
    assert (case.state, case.marked_answered_no_reply) == ("open", True)


def test_a_mailbox_that_trusts_the_answered_flag_closes_the_case(session: Session) -> None:
    deliver(session, question(), at=T0, flags=("\\Answered",))
    orders = ensure_source(session, "mailbox", "orders", T0)
    trusting = TrackPolicy(
        ours=OURS, deadline_for=POLICY.deadline_for, trusted_flag_sources=frozenset({orders.id})
    )

    track_new(session, trusting, T0 + timedelta(minutes=1))

    [case] = the_cases(session)
    assert case.state == "answered"


def test_a_request_from_long_before_the_first_sync_opens_no_case(session: Session) -> None:
    deliver(session, question(), at=T0 - timedelta(days=400))

    track_new(session, POLICY, T0)

    assert the_cases(session) == []


def test_a_case_handled_by_phone_records_who_and_why(session: Session) -> None:
    deliver(session, question(), at=T0)
    track_new(session, POLICY, T0 + timedelta(minutes=1))
    [case] = the_cases(session)

    handle_case(session, case.id, by="anna", reason="Позвонила, договорились", now=T0)
    session.commit()

    assert (case.state, case.handled_by, case.handled_reason) == (
        "handled",
        "anna",
        "Позвонила, договорились",
    )
    with pytest.raises(CaseError, match="already handled"):
        handle_case(session, case.id, by="anna", reason="again", now=T0)
    with pytest.raises(CaseError, match="no case 999"):
        handle_case(session, 999, by="anna", reason="x", now=T0)


def test_handling_a_case_another_process_just_answered_keeps_the_answer(
    session: Session,
) -> None:
    deliver(session, question(), at=T0)
    track_new(session, POLICY, T0 + timedelta(minutes=1))
    [case] = the_cases(session)  # the dashboard has the case loaded, still open
    bind = session.get_bind()
    with Session(bind) as daemon:  # meanwhile the daemon sees the reply and commits
        deliver(daemon, reply(), at=T0 + timedelta(minutes=5), folder="Sent")
        track_new(daemon, POLICY, T0 + timedelta(minutes=6))
        daemon.commit()

    with pytest.raises(CaseError, match="already answered"):
        handle_case(session, case.id, by="anna", reason="Позвонила", now=T0 + timedelta(minutes=7))
    session.commit()

    session.expire_all()
    assert (case.state, case.handled_by) == ("answered", None)


def test_a_site_form_mailing_from_our_own_domain_is_a_request(session: Session) -> None:
    """The story: «Автоматическое сообщение из ...» from noreply@<our domain>, read as ours."""
    relay = mail(
        "Магазин <noreply@shop.test>",
        "orders@shop.test",
        "Автоматическое сообщение из Магазин",
        "Сообщение отправлено с формы обратной связи на сайте.\n\n"
        "Имя: Ольга\nE-mail: olga@mail.ru\nТелефон: +7 916 000-11-22\n"
        "Сообщение: Здравствуйте! А подскажите, можно ли заказать свечи с гравировкой?",
        msgid="form-1@shop.test",
        headers="Auto-Submitted: auto-generated\nReply-To: Ольга <olga@mail.ru>",
    )
    deliver(session, relay, at=T0)

    track_new(session, POLICY, T0 + timedelta(minutes=1))

    [case] = the_cases(session)
    assert case.state == "open"
    assert "olga@mail.ru" in case.customer


def test_an_answer_ends_the_alarm_about_the_deleted_request(session: Session) -> None:
    from watchdog.alarms import REQUEST_DELETED, open_alarms, raise_alarm
    from watchdog.storage.models import Message

    deliver(session, question(), at=T0)
    request = session.scalars(select(Message)).one()
    raise_alarm(session, kind=REQUEST_DELETED, key=str(request.id), now=T0, message_id=request.id)
    session.commit()
    deliver(session, reply(), at=T0 + timedelta(hours=5), folder="Sent")

    track_new(session, POLICY, T0 + timedelta(hours=5, minutes=1))

    assert [c.state for c in the_cases(session)] == ["answered"]
    assert open_alarms(session) == []
