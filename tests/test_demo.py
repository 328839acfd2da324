"""``watchdog demo``: what a newcomer must see, and the demo mailbox's IMAP contract.

The week is played once per module (through the command, with ``--fast``, so
nothing sleeps) and the tests read what it left behind: the commentary, the
database and the .eml files in ``outbox/``.
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from itertools import pairwise
from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from watchdog.cli.demo import demo_command, free_port
from watchdog.config.schema import MailboxConfig
from watchdog.config.secrets import Secret
from watchdog.demo.clock import Pacer, timeline
from watchdog.demo.narrate import WORDS
from watchdog.demo.reader import DemoMailbox
from watchdog.demo.week import MOSCOW, Mail, Week, load_week
from watchdog.storage.models import Alarm, Case, CaseEvent, Classification, Escalation, Message

STORY_SUBJECT = "Автоматическое сообщение из Свечная лавка"


@dataclass
class Played:
    """What one run of ``watchdog demo --no-serve --fast`` left behind."""

    output: str
    folder: Path
    engine: Engine

    def session(self) -> Session:
        return Session(self.engine)

    def emails(self, kind: str) -> list[EmailMessage]:
        paths = sorted((self.folder / "outbox").glob(f"*-{kind}-*.eml"))
        return [_read_eml(path) for path in paths]


def _read_eml(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    folder = tmp_path_factory.mktemp("demo")
    app = typer.Typer(add_completion=False)
    app.command("demo")(demo_command)
    app.callback()(lambda: None)
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--fast", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    engine = create_engine(f"sqlite:///{folder / 'watchdog.db'}")
    yield Played(result.output, folder, engine)
    engine.dispose()


def _story_case(session: Session) -> tuple[Case, Message]:
    row = session.execute(
        select(Case, Message)
        .join(Message, Message.id == Case.opening_message_id)
        .where(Message.subject == STORY_SUBJECT)
    ).one()
    return row[0], row[1]


# --- the story ------------------------------------------------------------------------


def test_demo_finds_the_automatic_message_of_the_site_form_as_a_form_request(
    played: Played,
) -> None:
    with played.session() as session:
        case, message = _story_case(session)
        verdict = session.scalar(
            select(Classification).where(Classification.message_id == message.id)
        )
        assert verdict is not None and (verdict.category, verdict.request) == ("form", True)
        assert message.folder == "INBOX" and message.direction == "incoming"
        assert case.customer == "olga.petrova@mail.ru"  # from Reply-To, not the form's robot
    assert f"+ запрос [form] olga.petrova@mail.ru: «{STORY_SUBJECT}»" in played.output


def test_demo_raises_an_alarm_when_the_form_request_is_deleted_unread(played: Played) -> None:
    with played.session() as session:
        _, message = _story_case(session)
        kinds = set(session.scalars(select(Alarm.kind).where(Alarm.message_id == message.id)))
    assert kinds == {"request_deleted"}


def test_the_overdue_form_request_is_escalated_to_the_team_then_the_owner(played: Played) -> None:
    with played.session() as session:
        case, _ = _story_case(session)
        steps = session.execute(
            select(Escalation.step_index, Escalation.repeat_no)
            .where(Escalation.case_id == case.id)
            .order_by(Escalation.decided_at)
        ).all()
        assert case.state == "answered" and case.answered_at is not None
        assert (
            case.answered_at > case.deadline_at
        )  # answered the next morning, after the owner heard
    assert [tuple(step) for step in steps] == [(0, 0), (1, 0), (1, 1)]
    recipients = {str(mail["To"]) for mail in played.emails("escalation")}
    assert {"anna@shop-demo.ru", "oleg@shop-demo.ru", "marina@shop-demo.ru"} <= recipients


def test_escalation_emails_name_the_waiting_customer(played: Played) -> None:
    texts = [_text(mail) for mail in played.emails("escalation")]
    assert any("olga.petrova@mail.ru" in text for text in texts)
    assert all(mail["Auto-Submitted"] == "auto-generated" for mail in played.emails("escalation"))


def test_a_staff_reply_from_sent_closes_the_case(played: Played) -> None:
    with played.session() as session:
        case = session.scalars(select(Case).where(Case.subject == "Где мой заказ №1038?")).one()
        reply = session.get(Message, case.answered_message_id)
        assert case.state == "answered"
        assert reply is not None and reply.folder == "Sent"
        assert case.answered_at is not None and case.answered_at <= case.deadline_at


def test_our_autoreply_does_not_close_the_case(played: Played) -> None:
    with played.session() as session:
        case = session.scalars(select(Case).where(Case.subject == "Do you ship to Finland?")).one()
        kinds = list(session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)))
        reply = session.get(Message, case.answered_message_id)
    assert "auto_ack" in kinds and "internal" in kinds  # the autoreply and the forward to Oleg
    assert reply is not None and reply.subject == "Re: Do you ship to Finland?"
    assert case.answered_at is not None and case.answered_at > case.deadline_at


def test_the_request_in_junk_is_alarmed_and_left_missed(played: Played) -> None:
    with played.session() as session:
        case = session.scalars(select(Case).where(Case.customer.contains("paul.meyer"))).one()
        assert case.state == "open"
        kinds = set(session.scalars(select(Alarm.kind).where(Alarm.message_id.is_not(None))))
    assert "request_in_junk" in kinds


def test_the_digest_is_written_and_names_the_missed_customer(played: Played) -> None:
    digests = played.emails("digest")
    assert len(digests) == 7  # Monday to Sunday, each the next morning at 09:00
    assert all(str(mail["To"]) == "marina@shop-demo.ru" for mail in digests)
    last = _text(digests[-1])
    assert "Paul Meyer <paul.meyer@web.de>" in last
    assert "Paul Meyer <paul.meyer@web.de>" in played.output  # shown at the end, too


def test_nothing_is_escalated_twice(played: Played) -> None:
    with played.session() as session:
        decisions = session.execute(
            select(Escalation.case_id, Escalation.step_index, Escalation.repeat_no)
        ).all()
        sent = session.scalar(select(func.count()).select_from(Escalation))
    assert len(set(decisions)) == len(decisions) == sent
    ids = Counter(str(mail["Message-ID"]) for mail in played.emails("escalation"))
    assert ids and max(ids.values()) == 1


def test_robots_are_not_taken_for_requests(played: Played) -> None:
    with played.session() as session:
        verdicts = dict(
            session.execute(
                select(Message.subject, Classification.category).join(
                    Classification, Classification.message_id == Message.id
                )
            ).all()
        )
    assert verdicts["Платёж по заказу №1042 на 3 480,00 ₽ прошёл"] == "notification"
    assert verdicts["Undelivered Mail Returned to Sender"] == "bounce"
    assert verdicts["Тренды зимнего декора: что будут покупать в декабре"] == "bulk"


def test_the_commentary_ends_with_the_weeks_numbers(played: Played) -> None:
    assert "Итог недели" in played.output
    assert "найдено запросов клиентов: 16 (из них через формы и маркетплейсы: 7)" in played.output
    assert str(played.folder / "outbox") in played.output


def test_every_commentary_line_exists_in_both_languages() -> None:
    assert WORDS["ru"].keys() == WORDS["en"].keys()


# --- the bundled week -------------------------------------------------------------------


def test_every_bundled_mail_is_dated_just_before_it_arrives() -> None:
    for mail in load_week().mails:
        parsed = email.message_from_bytes(mail.raw, policy=email.policy.default)
        sent = parsedate_to_datetime(str(parsed["Date"]))
        assert timedelta(0) <= mail.at - sent <= timedelta(minutes=5), mail.file


def test_the_bundled_week_is_an_ordinary_week_of_november_2025() -> None:
    week = load_week()
    assert week.monday.astimezone(MOSCOW).date().isoformat() == "2025-11-10"
    assert len(week.mails) >= 25 and len(week.posts) >= 2


# --- the demo mailbox keeps the MailboxReader contract ---------------------------------

MONDAY = datetime(2025, 11, 10, 5, 0, tzinfo=UTC)  # 08:00 in Moscow
MAILBOX = MailboxConfig.model_validate(
    {"name": "m", "host": "h", "username": "u@shop-demo.ru", "password": Secret("p")}
)


def _mail(name: str, folder: str, at: datetime, trash: datetime | None = None) -> Mail:
    raw = f"Message-ID: <{name}@x>\r\nDate: Mon, 10 Nov 2025 08:00:00 +0300\r\n\r\nhi\r\n"
    return Mail(f"{name}.eml", folder, at, raw.encode(), ("\\Seen",), trash)


@dataclass
class Clock:
    now: datetime = MONDAY

    def __call__(self) -> datetime:
        return self.now


def _mailbox(*mails: Mail) -> tuple[DemoMailbox, Clock]:
    clock = Clock()
    return DemoMailbox(Week(MONDAY, mails, (), ()), clock), clock


def test_demo_mailbox_shows_mail_only_once_the_clock_passes_its_arrival() -> None:
    later = MONDAY + timedelta(hours=1)
    mailbox, clock = _mailbox(_mail("a", "INBOX", MONDAY), _mail("b", "INBOX", later))
    reader = mailbox.connect(MAILBOX)
    status = reader.examine("INBOX")
    assert (status.exists, status.uidnext) == (1, 2)
    assert set(reader.list_new(1)) == {1}
    clock.now = later
    reader = mailbox.connect(MAILBOX)
    reader.examine("INBOX")
    fetched = reader.fetch_mail([2], 10_000)[2]
    assert (fetched.internal_date, fetched.flags) == (later, ("\\Seen",))
    assert fetched.raw.startswith(b"Message-ID: <b@x>")


def test_demo_mailbox_is_idle_while_nothing_arrives() -> None:
    mailbox, clock = _mailbox(_mail("a", "INBOX", MONDAY), _mail("b", "Sent", MONDAY))
    before = mailbox.connect(MAILBOX).status("INBOX")
    clock.now = MONDAY + timedelta(hours=5)
    after = mailbox.connect(MAILBOX).status("INBOX")
    assert before == after  # same UIDVALIDITY and HIGHESTMODSEQ: the sync stays idle


def test_demo_mailbox_moves_a_message_to_trash_as_imap_move_would() -> None:
    moved = MONDAY + timedelta(minutes=20)
    mailbox, clock = _mailbox(_mail("a", "INBOX", MONDAY, trash=moved))
    reader = mailbox.connect(MAILBOX)
    modseq = reader.examine("INBOX").highestmodseq
    assert modseq is not None
    clock.now = moved
    reader = mailbox.connect(MAILBOX)
    reader.examine("INBOX")
    assert reader.changes_since(modseq, 1).vanished == frozenset({1})
    assert reader.all_uids() == frozenset()
    reader.examine("Trash")
    copy = reader.fetch_mail([1], 10_000)[1]
    assert copy.internal_date == MONDAY  # a move keeps INTERNALDATE


def test_demo_mailbox_lists_its_folders_with_special_use_flags() -> None:
    mailbox, _ = _mailbox()
    folders = {folder.wire: folder.flags for folder in mailbox.connect(MAILBOX).list_folders()}
    assert "\\Sent" in folders["Sent"] and "\\Junk" in folders["Junk"]
    assert "\\Trash" in folders["Trash"] and set(folders) == {"INBOX", "Sent", "Junk", "Trash"}


# --- pacing and the command's port ------------------------------------------------------


def test_timeline_steps_every_half_hour_by_day_and_every_two_hours_at_night() -> None:
    moments = timeline(MONDAY, MONDAY + timedelta(days=1), MOSCOW)
    gaps = Counter(b - a for a, b in pairwise(moments))
    assert set(gaps) <= {timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2)}
    assert MONDAY + timedelta(days=1) in moments  # Tuesday 08:00 is not jumped over


def test_pacer_sleeps_out_the_rest_of_each_step_and_zero_never_sleeps() -> None:
    slept: list[float] = []
    ticks = iter([0.0, 0.25, 0.25, 0.25])
    pacer = Pacer(1.0, sleep=slept.append, monotonic=lambda: next(ticks))
    pacer.wait()
    assert slept == [0.75]
    Pacer(0.0, sleep=slept.append).wait()
    assert slept == [0.75]


def test_free_port_picks_another_port_when_the_wanted_one_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert free_port("127.0.0.1", port) != port
