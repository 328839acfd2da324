"""Every dashboard page on what the real pipeline stored, and every action the owner can take.

The data is the demo week (``watchdog demo``): a mailbox and a site form,
played through the real ingest, classify, track, escalate, alarm and digest
stages. It is played once per module; each test gets its own copy of the
database, so what one test changes no other sees. The app's clock is the
week's end, as ``watchdog demo`` serves it.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.test_web_auth import Browser, log_in
from watchdog.classify import load_rules
from watchdog.demo import DemoResult, run_demo
from watchdog.demo.shop import WEB_USER
from watchdog.digest import prepare_digest
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.models import (
    Alarm,
    Case,
    CaseEvent,
    Classification,
    Correction,
    Digest,
    Message,
    Source,
)
from watchdog.web.app import create_app

BERLIN = "Wholesale inquiry: candles for our shop in Berlin"  # open, overdue, in Junk
STORY = "Автоматическое сообщение из Свечная лавка"  # the form mail deleted unread, answered late
NEWSLETTER = "Тренды зимнего декора: что будут покупать в декабре"  # bulk: no case


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    folder = tmp_path_factory.mktemp("demo")
    return run_demo(folder, pace=0.0, stream=io.StringIO(), language="ru")


@dataclass
class Shop:
    """The demo's data in this test's own database copy, the app over it, and a browser."""

    demo: DemoResult
    engine: Engine
    sessions: sessionmaker[Session]
    browser: Browser

    def session(self) -> Session:
        return self.sessions()

    def case_about(self, subject: str) -> Case:
        with self.session() as session:
            return session.scalars(select(Case).where(Case.subject == subject)).one()

    def message_about(self, subject: str) -> Message:
        with self.session() as session:
            found = session.scalars(select(Message).where(Message.subject == subject)).first()
            assert found is not None, subject
            return found


@pytest.fixture
def shop(demo: DemoResult, tmp_path: Path) -> Iterator[Shop]:
    copy = tmp_path / "watchdog.db"
    shutil.copyfile(demo.out_dir / "watchdog.db", copy)
    engine = make_engine(f"sqlite:///{copy}")
    sessions = session_factory(engine)
    app = create_app(demo.config, sessions, clock=lambda: demo.end)
    browser = Browser(app)
    assert log_in(browser, user=WEB_USER, password=demo.web_password).status_code == 303
    yield Shop(demo, engine, sessions, browser)
    engine.dispose()


class Cells(HTMLParser):
    """The text of each cell of the table rows whose class contains a word, row by row."""

    def __init__(self, row_class: str) -> None:
        super().__init__()
        self.row_class = row_class
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr" and self.row_class in (dict(attrs).get("class") or "").split():
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rows(page: str, row_class: str) -> list[list[str]]:
    parser = Cells(row_class)
    parser.feed(page)
    return parser.rows


# --- every page renders what the pipeline stored -----------------------------------------


def test_every_message_case_and_digest_page_renders(shop: Shop) -> None:
    with shop.session() as session:
        messages = list(session.scalars(select(Message.id)))
        cases = list(session.scalars(select(Case.id)))
        days = list(session.scalars(select(Digest.day)))
    assert len(messages) > 30 and len(cases) > 10 and days

    paths = [f"/messages/{n}" for n in messages] + [f"/cases/{n}" for n in cases]
    paths += [f"/digests/{day.isoformat()}" for day in days]
    paths += ["/", "/messages", "/sources", "/alarms", "/digests"]
    paths += [f"/cases?state={state}" for state in
              ("open", "overdue", "answered", "handled", "dismissed", "all")]  # fmt: skip
    for path in paths:
        response = shop.browser.get(path)
        assert response.status_code == 200, path
        assert "Сторож почты" in response.text


def test_overview_counts_each_sources_open_and_overdue_cases(shop: Shop) -> None:
    page = shop.browser.get("/").text

    table = {row[0].split()[0]: row for row in rows(page, "source")}
    with shop.session() as session:
        for source in session.scalars(select(Source)):
            open_cases = select(func.count()).where(Case.source_id == source.id,
                                                    Case.state == "open")  # fmt: skip
            overdue = open_cases.where(Case.deadline_at < shop.demo.end)
            row = table[source.name]
            assert row[1] == str(session.scalar(open_cases)), source.name
            assert row[2] == str(session.scalar(overdue)), source.name
    assert table["orders"][6] == "1"  # the request sitting in Junk
    assert table["orders"][4] == "2025-11-17 10:00"  # last read: the last poll of the week


def test_overview_lists_the_next_deadlines_the_longest_overdue_first(shop: Shop) -> None:
    page = shop.browser.get("/").text

    listed = [row[1] for row in rows(page, "late")]
    with shop.session() as session:
        overdue = session.scalars(
            select(Case.id)
            .where(Case.state == "open", Case.deadline_at < shop.demo.end)
            .order_by(Case.deadline_at)
        ).all()
    assert listed == [str(n) for n in overdue]
    assert page.index(BERLIN) < page.index("Свеча коптит")


def test_cases_are_listed_most_urgent_first(shop: Shop) -> None:
    page = shop.browser.get("/cases?state=all").text

    listed = [int(row[0]) for row in rows(page, "case")]
    with shop.session() as session:
        cases = {case.id: case for case in session.scalars(select(Case))}
    still_open = [n for n in listed if cases[n].state == "open"]
    closed = [n for n in listed if cases[n].state != "open"]
    assert listed == still_open + closed
    assert [cases[n].deadline_at for n in still_open] == sorted(
        cases[n].deadline_at for n in still_open
    )
    assert [cases[n].received_at for n in closed] == sorted(
        (cases[n].received_at for n in closed), reverse=True
    )
    assert set(listed) == set(cases)


def test_cases_filter_by_source_and_by_category(shop: Shop) -> None:
    by_source = rows(shop.browser.get("/cases?state=all&source=gifts").text, "case")
    by_category = rows(shop.browser.get("/cases?state=all&category=form").text, "case")

    with shop.session() as session:
        gifts = session.scalars(
            select(Case.id).join(Source, Source.id == Case.source_id).where(Source.name == "gifts")
        ).all()
        forms = session.scalars(
            select(Case.id)
            .join(Classification, Classification.message_id == Case.opening_message_id)
            .where(Classification.category == "form")
        ).all()
    assert sorted(int(row[0]) for row in by_source) == sorted(gifts) and gifts
    assert sorted(int(row[0]) for row in by_category) == sorted(forms)
    assert len(forms) > len(gifts)  # form mail relayed to the mailbox counts too


def test_an_unknown_category_is_400_and_names_the_choices(shop: Shop) -> None:
    response = shop.browser.get("/cases?category=<i>spam</i>")

    assert response.status_code == 400
    assert "«&lt;i&gt;spam&lt;/i&gt;»" in response.text
    assert rows(response.text, "case") == []


def test_case_page_shows_its_timeline_and_why_it_is_a_request(shop: Shop) -> None:
    case = shop.case_about(STORY)
    sentences = {rule.name: rule.explanation_ru for rule in load_rules().rules}
    with shop.session() as session:
        kinds = [
            e.kind for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))
        ]
        fired = session.scalars(
            select(Classification.rules).where(Classification.message_id == case.opening_message_id)
        ).one()
        trash_copy = session.scalars(
            select(Message.id).where(Message.subject == STORY, Message.folder == "Trash")
        ).one()

    page = shop.browser.get(f"/cases/{case.id}").text

    timeline = rows(page, "event")
    assert timeline[0][1].startswith("Пришёл запрос: обращение открыто")
    assert len(timeline) == len(kinds) and "escalated" in kinds and "answered" in kinds
    assert f'href="/messages/{trash_copy}"' in page  # the copy in Trash, named by no event
    assert fired and all(sentences[name] in page for name in fired)
    assert "/handle" not in page  # answered: nothing left to do


# --- what the owner can do ---------------------------------------------------------------


def test_marking_a_case_handled_closes_it_and_the_overview_changes(shop: Shop) -> None:
    case = shop.case_about(BERLIN)
    before = shop.browser.get("/").text
    assert "Ждут ответа: <strong>4</strong>" in before

    response = shop.browser.submit(f"/cases/{case.id}", f"/cases/{case.id}/handle",
                                   reason="позвонили в Берлин")  # fmt: skip

    assert response.status_code == 303 and response.headers["location"] == f"/cases/{case.id}"
    page = shop.browser.get(f"/cases/{case.id}").text
    assert "закрыто без письма" in page and "позвонили в Берлин" in page
    after = shop.browser.get("/").text
    assert "Ждут ответа: <strong>3</strong>" in after
    assert BERLIN not in after  # neither among the deadlines nor the alarms (its alarm cleared)
    closed = shop.case_about(BERLIN)
    assert (closed.state, closed.handled_by, closed.handled_at) == (
        "handled",
        WEB_USER,
        shop.demo.end,
    )


def test_handling_needs_a_reason_and_an_open_case(shop: Shop) -> None:
    case = shop.case_about(BERLIN)

    empty = shop.browser.submit(f"/cases/{case.id}", f"/cases/{case.id}/handle", reason="  ")
    assert empty.status_code == 409 and "a reason is required" in empty.text
    assert f'href="/cases/{case.id}"' in empty.text
    shop.browser.submit(f"/cases/{case.id}", f"/cases/{case.id}/handle", reason="звонок")
    again = shop.browser.submit(f"/cases/{case.id}", f"/cases/{case.id}/handle", reason="ещё")

    assert again.status_code == 409 and "already handled" in again.text
    assert shop.case_about(BERLIN).handled_reason == "звонок"
    assert shop.browser.post("/cases/999/handle", {"csrf": shop.browser.csrf("/"),
                                                   "reason": "x"}).status_code == 409  # fmt: skip


def test_not_a_request_dismisses_the_case_and_the_digest_shows_the_correction(shop: Shop) -> None:
    case = shop.case_about(BERLIN)

    response = shop.browser.submit(f"/cases/{case.id}", f"/cases/{case.id}/not-request",
                                   reason="это спам-рассылка")  # fmt: skip

    assert response.status_code == 303
    assert shop.case_about(BERLIN).state == "dismissed"
    page = shop.browser.get(f"/cases/{case.id}").text
    assert "Отмечено: это не запрос (demo): это спам-рассылка" in page
    dismissed = rows(shop.browser.get("/cases?state=dismissed").text, "case")
    assert [int(row[0]) for row in dismissed] == [case.id]
    assert str(case.id) not in [row[0] for row in rows(shop.browser.get("/cases").text, "case")]
    with shop.session() as session:
        correction = session.scalars(select(Correction)).one()
        assert (correction.verdict, correction.case_id, correction.actor) == (
            "not_request",
            case.id,
            WEB_USER,
        )
        assert session.scalar(select(Alarm.cleared_at).where(Alarm.kind == "request_in_junk"))
        digest = _digest_of_the_day(shop, session)
    assert "ИСПРАВЛЕНИЯ КЛАССИФИКАЦИИ: 1" in digest
    assert f"• не запрос: «{BERLIN}» от Paul Meyer <paul.meyer@web.de> — orders" in digest
    assert "отметил(а) demo, 17 ноября 10:00: это спам-рассылка" in digest


def test_this_is_a_request_gives_a_message_taken_for_a_robot_its_case(shop: Shop) -> None:
    newsletter = shop.message_about(NEWSLETTER)
    page = shop.browser.get(f"/messages/{newsletter.id}").text
    assert f'action="/messages/{newsletter.id}/request"' in page

    action = f"/messages/{newsletter.id}/request"
    response = shop.browser.submit(f"/messages/{newsletter.id}", action, reason="клиент спросил")

    assert response.status_code == 303
    case = shop.case_about(NEWSLETTER)
    assert response.headers["location"] == f"/cases/{case.id}"
    assert case.state == "open" and case.received_at == newsletter.received_at
    assert case.deadline_at < shop.demo.end  # counted from its arrival: long overdue now
    case_page = shop.browser.get(f"/cases/{case.id}").text
    assert "Отмечено: это запрос (demo): клиент спросил" in case_page
    assert "рассылка" in case_page  # the classifier's verdict stays, explained
    assert "это запрос</strong> (demo)" in shop.browser.get(f"/messages/{newsletter.id}").text
    assert "Ждут ответа: <strong>5</strong>" in shop.browser.get("/").text
    with shop.session() as session:
        digest = _digest_of_the_day(shop, session)
    assert f"• всё-таки запрос: «{NEWSLETTER}»" in digest


def test_a_message_that_opened_a_case_offers_no_correction_to_request(shop: Shop) -> None:
    case = shop.case_about(BERLIN)
    page = shop.browser.get(f"/messages/{case.opening_message_id}").text
    response = shop.browser.submit("/", f"/messages/{case.opening_message_id}/request")

    assert "/request" not in page
    assert response.status_code == 409 and "already opened a case" in response.text


def test_acknowledging_an_alarm_records_who_and_takes_it_off_the_overview(shop: Shop) -> None:
    with shop.session() as session:
        alarm = session.scalars(select(Alarm).where(Alarm.cleared_at.is_(None))).one()
    assert "Тревоги, которые ещё никто не видел" in shop.browser.get("/").text

    response = shop.browser.submit("/alarms", f"/alarms/{alarm.id}/acknowledge")

    assert response.status_code == 303 and response.headers["location"] == "/alarms"
    page = shop.browser.get("/alarms").text
    assert "2025-11-17 10:00 (demo)" in page
    assert "Тревоги, которые ещё никто не видел" not in shop.browser.get("/").text
    with shop.session() as session:
        seen = session.get(Alarm, alarm.id)
        assert seen is not None and seen.cleared_at is None  # seen, not over
        assert (seen.acknowledged_by, seen.acknowledged_at) == (WEB_USER, shop.demo.end)
    assert shop.browser.submit("/alarms", "/alarms/999/acknowledge").status_code == 404


def test_sources_page_shows_folders_health_and_silence(shop: Shop) -> None:
    page = shop.browser.get("/sources").text

    for role, folder in [("входящие", "INBOX"), ("отправленные", "Sent"),
                         ("корзина", "Trash"), ("спам", "Junk")]:  # fmt: skip
        assert f"<td>{role}</td><td>{folder}" in page
    assert "orders@shop-demo.ru @ imap.shop-demo.ru:993" in page
    assert "POST /hooks/gifts (tilda)" in page
    assert "последний запрос: 2025-11-16 21:40" in page
    assert "в порядке" in page


def test_digests_archive_lists_every_day_and_shows_what_was_sent(shop: Shop) -> None:
    page = shop.browser.get("/digests").text
    with shop.session() as session:
        digests = session.scalars(select(Digest).order_by(Digest.day)).all()
        last = digests[-1]
        assert last.outbox is not None
        text, subject = last.outbox.body_text, last.outbox.subject

    for digest in digests:
        assert f'href="/digests/{digest.day.isoformat()}"' in page
    shown = shop.browser.get(f"/digests/{last.day.isoformat()}").text
    assert subject in shown
    plain = [line for line in text.splitlines() if line and '"' not in line and "'" not in line]
    assert plain and all(line.replace("<", "&lt;").replace(">", "&gt;") in shown for line in plain)
    assert shop.browser.get("/digests/2020-01-01").status_code == 404
    assert shop.browser.get("/digests/yesterday").status_code == 404


def test_the_language_switch_is_remembered(shop: Shop) -> None:
    response = shop.browser.get("/language/en?next=/cases%3Fstate%3Dall")

    assert response.status_code == 303 and response.headers["location"] == "/cases?state=all"
    assert "Waiting for an answer" in shop.browser.get("/cases").text
    assert "Overview by source" in shop.browser.get("/").text
    shop.browser.get("/language/ru")
    assert "Обзор по источникам" in shop.browser.get("/").text
    assert shop.browser.get("/language/de").status_code == 404
    assert shop.browser.get("/language/en?next=//evil.test").headers["location"] == "/"


def _digest_of_the_day(shop: Shop, session: Session) -> str:
    """Return the digest of the demo's last day (in Moscow), as built the next morning."""
    day: date = shop.demo.end.astimezone(shop.demo.config.sla.timezone).date()
    return prepare_digest(
        session, shop.demo.config, day, shop.demo.end + timedelta(days=1)
    ).rendered.text
