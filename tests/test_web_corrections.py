"""Corrections of the classifier, as the dashboard makes them: the cases follow, the digest tells.

Mail is stored by the real ingest (parse, classify) and tracked by the real
tracker, on SQLite and PostgreSQL; then ``track.corrections`` is called as
the dashboard's actions call it. The digest's part is checked on its pure
functions (``assemble``) and on the rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.test_web_hooks import CONFIG, load
from watchdog.alarms import REQUEST_IN_JUNK, raise_alarm
from watchdog.config import Config
from watchdog.config.schema import SlaConfig
from watchdog.digest import prepare_digest
from watchdog.digest.report import CaseFacts, CorrectionLine, assemble
from watchdog.escalate.decide import decide_escalations
from watchdog.ingest.store import MailLocation, ensure_source, ingestor_for, store_mail
from watchdog.sla import calendar_for
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Alarm, Case, CaseEvent, Correction, Escalation, Message
from watchdog.track.cases import CaseError
from watchdog.track.corrections import correct_not_request, correct_to_request, request_refusal
from watchdog.track.setup import policy_for
from watchdog.track.tracker import track_new

MOSCOW = ZoneInfo("Europe/Moscow")
MONDAY_10 = datetime(2025, 11, 10, 7, 0, tzinfo=UTC)  # 10:00 in Moscow, a working day
H = timedelta(hours=1)
#: Without the RU calendar, with one escalation step at the deadline.
SHOP = (
    CONFIG + '\n[sla]\nholidays = "none"\n\n[[escalation.step]]\nafter = "100%"\nnotify = "owner"\n'
)


def mail(sender: str, subject: str, body: str, *, message_id: str, extra: str = "",
         to: str = "orders@shop.test") -> bytes:  # fmt: skip
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: Mon, 10 Nov 2025 10:00:00 +0300\r\nMessage-ID: <{message_id}>\r\n{extra}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


QUESTION = mail("Иван <ivan@mail.test>", "Где мой заказ?", "Здравствуйте! Когда привезут заказ?",
                message_id="q1@mail.test")  # fmt: skip
ROBOT = mail(
    "Служба доставки <noreply@delivery.test>", "Ваш заказ в пути",
    "Здравствуйте! Можно ли перенести доставку на завтра? Это письмо отправлено автоматически.",
    message_id="n1@delivery.test", extra="Auto-Submitted: auto-generated\r\n",
)  # fmt: skip


@dataclass
class Shop:
    """A shop with one mailbox, its config, and a session; ``put`` stores and tracks mail."""

    config: Config
    session: Session
    uid: int = 0

    def put(self, raw: bytes, at: datetime, folder: str = "INBOX") -> Message:
        self.uid += 1
        source = ensure_source(self.session, "mailbox", "orders", MONDAY_10 - 24 * H)
        role = "sent" if folder == "Sent" else "inbox"
        message = store_mail(self.session, ingestor_for(self.config), source.id,
                             MailLocation(folder, role, 1, self.uid), raw,
                             received_at=at, now=at)  # fmt: skip
        self.session.commit()
        track_new(self.session, policy_for(self.config, self.session), at)
        return message

    def case_of(self, message: Message) -> Case | None:
        return self.session.scalar(select(Case).where(Case.opening_message_id == message.id))

    def request(self, message: Message, at: datetime, reason: str = "") -> Case:
        policy = policy_for(self.config, self.session)
        case = correct_to_request(self.session, policy, message.id, by="owner", reason=reason,
                                  now=at)  # fmt: skip
        self.session.commit()
        return case


@pytest.fixture
def shop(tmp_path: Path, db_url: str) -> Iterator[Shop]:
    upgrade(db_url)
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        yield Shop(load(tmp_path, SHOP), session)
    engine.dispose()


# --- "this is not a request" ------------------------------------------------------------------


def test_not_a_request_dismisses_the_case_records_why_and_clears_its_alarms(shop: Shop) -> None:
    question = shop.put(QUESTION, MONDAY_10)
    case = shop.case_of(question)
    assert case is not None and case.state == "open"
    raise_alarm(shop.session, kind=REQUEST_IN_JUNK, key="x", now=MONDAY_10, message_id=question.id)

    correct_not_request(shop.session, case.id, by="owner", reason=" рассылка ", now=MONDAY_10 + H)
    shop.session.commit()

    shop.session.refresh(case)
    assert (case.state, case.dismissed_at) == ("dismissed", MONDAY_10 + H)
    correction = shop.session.scalars(select(Correction)).one()
    assert (correction.verdict, correction.message_id, correction.case_id) == (
        "not_request", question.id, case.id
    )  # fmt: skip
    assert (correction.actor, correction.reason) == ("owner", "рассылка")
    event = shop.session.scalars(select(CaseEvent).where(CaseEvent.kind == "dismissed")).one()
    assert (event.actor, event.detail) == ("owner", {"reason": "рассылка"})
    assert shop.session.scalar(select(Alarm.cleared_at)) == MONDAY_10 + H


def test_a_dismissed_case_is_never_escalated(shop: Shop) -> None:
    case = shop.case_of(shop.put(QUESTION, MONDAY_10))
    assert case is not None
    correct_not_request(shop.session, case.id, by="owner", reason="", now=MONDAY_10 + H)
    shop.session.commit()

    decide_escalations(shop.session, shop.config, MONDAY_10 + 48 * H)

    assert shop.session.scalars(select(Escalation)).all() == []


def test_only_an_open_case_can_be_dismissed(shop: Shop) -> None:
    case = shop.case_of(shop.put(QUESTION, MONDAY_10))
    assert case is not None
    correct_not_request(shop.session, case.id, by="owner", reason="", now=MONDAY_10 + H)
    shop.session.commit()

    with pytest.raises(CaseError, match="already dismissed"):
        correct_not_request(shop.session, case.id, by="owner", reason="", now=MONDAY_10 + 2 * H)
    with pytest.raises(CaseError, match="there is no case 999"):
        correct_not_request(shop.session, 999, by="owner", reason="", now=MONDAY_10)


def test_a_new_message_in_a_dismissed_conversation_opens_a_new_case(shop: Shop) -> None:
    first = shop.put(QUESTION, MONDAY_10)
    case = shop.case_of(first)
    assert case is not None
    correct_not_request(shop.session, case.id, by="owner", reason="", now=MONDAY_10 + H)
    shop.session.commit()

    again = shop.put(mail("Иван <ivan@mail.test>", "Re: Где мой заказ?", "Ну что там?",
                          message_id="q2@mail.test", extra="In-Reply-To: <q1@mail.test>\r\n"),
                     MONDAY_10 + 2 * H)  # fmt: skip

    reopened = shop.case_of(again)
    assert reopened is not None and reopened.state == "open" and reopened.id != case.id


# --- "this is a request" ----------------------------------------------------------------------


def test_this_is_a_request_opens_a_case_due_from_the_messages_arrival(shop: Shop) -> None:
    robot = shop.put(ROBOT, MONDAY_10)
    assert robot.classification is not None and not robot.classification.request
    assert shop.case_of(robot) is None

    case = shop.request(robot, MONDAY_10 + 3 * H, reason="клиент спрашивает про перенос")

    assert case.opening_message_id == robot.id and case.state == "open"
    assert case.received_at == MONDAY_10
    assert case.deadline_at == MONDAY_10 + 2 * H  # first_response 2h from arrival, not from now
    assert case.customer == "Служба доставки <noreply@delivery.test>"
    kinds = [e.kind for e in shop.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))]  # fmt: skip
    assert kinds == ["opened", "corrected_request"]
    correction = shop.session.scalars(select(Correction)).one()
    assert (correction.verdict, correction.case_id) == ("request", case.id)
    shop.session.refresh(robot)
    assert robot.classification is not None and not robot.classification.request  # kept as said
    decide_escalations(shop.session, shop.config, MONDAY_10 + 3 * H)
    assert len(shop.session.scalars(select(Escalation)).all()) == 1  # overdue: the owner is told


def test_a_correction_finds_a_reply_already_sent_and_the_case_is_answered(shop: Shop) -> None:
    robot = shop.put(ROBOT, MONDAY_10)
    shop.put(mail("Анна <anna@shop.test>", "Re: Ваш заказ в пути", "Да, перенесли на завтра.",
                  message_id="r1@shop.test", to="noreply@delivery.test",
                  extra="In-Reply-To: <n1@delivery.test>\r\n"),
             MONDAY_10 + H, folder="Sent")  # fmt: skip

    case = shop.request(robot, MONDAY_10 + 3 * H)

    assert case.state == "answered" and case.answered_at == MONDAY_10 + H


def test_this_is_a_request_in_an_open_conversation_is_a_follow_up(shop: Shop) -> None:
    question = shop.put(QUESTION, MONDAY_10)
    case = shop.case_of(question)
    assert case is not None
    away = mail("Иван <ivan@mail.test>", "Re: Где мой заказ?", "Я в отпуске до понедельника.",
                message_id="a1@mail.test",
                extra="Auto-Submitted: auto-replied\r\nIn-Reply-To: <q1@mail.test>\r\n")  # fmt: skip
    auto = shop.put(away, MONDAY_10 + H)
    assert shop.case_of(auto) is None

    joined = shop.request(auto, MONDAY_10 + 2 * H)

    assert joined.id == case.id
    kinds = [e.kind for e in shop.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))]  # fmt: skip
    assert kinds[-2:] == ["follow_up", "corrected_request"]


def test_this_is_a_request_again_reopens_a_dismissed_case(shop: Shop) -> None:
    question = shop.put(QUESTION, MONDAY_10)
    case = shop.case_of(question)
    assert case is not None
    correct_not_request(shop.session, case.id, by="owner", reason="", now=MONDAY_10 + H)
    shop.session.commit()

    again = shop.request(question, MONDAY_10 + 2 * H, reason="ошибся")

    assert again.id == case.id
    assert (again.state, again.dismissed_at, again.next_escalation_at) == ("open", None, None)
    verdicts = shop.session.scalars(select(Correction.verdict).order_by(Correction.id)).all()
    assert verdicts == ["not_request", "request"]


def test_our_own_mail_and_a_message_with_a_live_case_cannot_be_called_requests(shop: Shop) -> None:
    question = shop.put(QUESTION, MONDAY_10)
    reply = shop.put(mail("Анна <anna@shop.test>", "Re: Где мой заказ?", "Завтра.",
                          message_id="r2@shop.test", to="ivan@mail.test",
                          extra="In-Reply-To: <q1@mail.test>\r\n"),
                     MONDAY_10 + H, folder="Sent")  # fmt: skip

    with pytest.raises(CaseError, match="our own mail"):
        shop.request(reply, MONDAY_10 + 2 * H)
    with pytest.raises(CaseError, match="already opened a case, which is answered"):
        shop.request(question, MONDAY_10 + 2 * H)
    with pytest.raises(CaseError, match="there is no message 999"):
        correct_to_request(shop.session, policy_for(shop.config, shop.session), 999,
                           by="owner", reason="", now=MONDAY_10)  # fmt: skip


def test_request_refusal_is_a_plain_decision() -> None:
    assert request_refusal(1, "incoming", None) is None
    assert request_refusal(1, "unknown", "dismissed") is None
    assert request_refusal(1, "outgoing", None) == "message 1 is our own mail, not a customer's"
    for state in ("open", "answered", "handled"):
        assert request_refusal(1, "incoming", state) is not None


def test_the_database_refuses_an_unknown_case_state(shop: Shop) -> None:
    case = shop.case_of(shop.put(QUESTION, MONDAY_10))
    assert case is not None
    case.state = "forgotten"  # type: ignore[assignment]

    with pytest.raises(IntegrityError):
        shop.session.commit()
    shop.session.rollback()


# --- the digest -------------------------------------------------------------------------------


def test_the_digest_of_the_day_lists_the_corrections(shop: Shop) -> None:
    case = shop.case_of(shop.put(QUESTION, MONDAY_10))
    robot = shop.put(ROBOT, MONDAY_10 + H)
    assert case is not None
    correct_not_request(shop.session, case.id, by="owner", reason="спам", now=MONDAY_10 + 2 * H)
    shop.request(robot, MONDAY_10 + 3 * H)

    text = prepare_digest(shop.session, shop.config, date(2025, 11, 10),
                          MONDAY_10 + 23 * H).rendered.text  # fmt: skip

    assert "ИСПРАВЛЕНИЯ КЛАССИФИКАЦИИ: 2" in text
    assert "• не запрос: «Где мой заказ?» от Иван <ivan@mail.test> — orders" in text
    assert "отметил(а) owner, 10 ноября 12:00: спам" in text
    assert (
        "• всё-таки запрос: «Ваш заказ в пути» от Служба доставки <noreply@delivery.test>" in text
    )


def test_a_dismissed_case_is_nobody_waiting_from_the_moment_it_was_dismissed() -> None:
    calendar = calendar_for(SlaConfig(holidays="none"))  # type: ignore[arg-type]
    case = CaseFacts(1, "orders", "Иван", "Где мой заказ?", MONDAY_10, MONDAY_10 + 2 * H,
                     dismissed_at=MONDAY_10 + 30 * H)  # fmt: skip
    day = date(2025, 11, 10)

    before = assemble(day, MONDAY_10 + 24 * H, MOSCOW, [case], [], ["orders"], lambda _: calendar)
    after = assemble(day, MONDAY_10 + 31 * H, MOSCOW, [case], [], ["orders"], lambda _: calendar)

    assert [m.id for m in before.missed] == [1] and before.sources[0].received == 1
    assert after.missed == () and after.waiting == 0 and after.sources[0].received == 0
    assert after.late == ()


def test_only_the_days_corrections_are_in_its_digest() -> None:
    calendar = calendar_for(SlaConfig())
    lines = [CorrectionLine("request", MONDAY_10 + n * 12 * H, "owner", "", 1) for n in (-1, 0, 1)]

    report = assemble(date(2025, 11, 10), MONDAY_10 + 36 * H, MOSCOW, [], [], ["orders"],
                      lambda _: calendar, lines)  # fmt: skip

    assert [line.at for line in report.corrections] == [MONDAY_10, MONDAY_10 + 12 * H]
    assert not report.empty
