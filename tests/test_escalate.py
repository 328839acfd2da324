"""The escalation tick in the database: each (case, step, repeat) recorded once, ever.

Runs on SQLite and PostgreSQL. The world: the shop works 09:00-18:00 Moscow
time, Monday to Friday, with a 2-hour deadline and the default policy (team at
100 %, owner at 200 % and every 4 business hours after). The "orders" mailbox
is answered by Anna and Boris; the "site" form by Anna alone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from watchdog.config import Config, load_config
from watchdog.escalate import decide_escalations
from watchdog.escalate.decide import plan_escalations, record_escalations
from watchdog.notify import OutboxItem, handle_one_outbox
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Case, CaseEvent, Escalation, Message, Outbox, Source, Thread

MOSCOW = ZoneInfo("Europe/Moscow")
ANNA, BORIS, OWNER = "anna@shop.test", "boris@shop.test", "owner@shop.test"

CONFIG_TOML = """
[owner]
email = "owner@shop.test"
language = "en"

[smtp]
host = "127.0.0.1"
security = "none"
from = "Watchdog <watchdog@shop.test>"

[sla]
first_response = "2h"
timezone = "Europe/Moscow"
working_hours = "09:00-18:00"
working_days = "mon-fri"
holidays = "none"

[[mailbox]]
name = "orders"
host = "imap.shop.test"
username = "orders@shop.test"
password_env = "ORDERS_PASSWORD"
team = ["anna@shop.test", "boris@shop.test"]

[[form]]
name = "site"
token_env = "SITE_TOKEN"
team = ["anna@shop.test"]

[web]
password_env = "WEB_PASSWORD"
public_url = "https://watchdog.shop.test"
"""


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Return November ``day``, 2025 at the shop's wall-clock time, in UTC (the 5th is a Wednesday)."""
    return datetime(2025, 11, day, hour, minute, tzinfo=MOSCOW).astimezone(UTC)


class Shop:
    """The database and config of one test, and a way to open cases in it."""

    def __init__(self, engine: Engine, config: Config) -> None:
        self.engine = engine
        self.config = config
        self.sessions: sessionmaker[Session] = session_factory(engine)
        self._ids = count(1)
        with self.engine.begin() as conn:
            conn.execute(insert(Source), [
                {"id": 1, "kind": "mailbox", "name": "orders", "created_at": at(1, 9)},
                {"id": 2, "kind": "form", "name": "site", "created_at": at(1, 9)},
            ])  # fmt: skip

    def open_case(
        self,
        customer: str,
        received: datetime,
        deadline: datetime,
        *,
        source: int = 1,
        text: str = "Hello! Where is my order?",
        state: str = "open",
    ) -> int:
        """Store a request and its case; return the case id."""
        n = next(self._ids)
        with self.engine.begin() as conn:
            conn.execute(insert(Thread).values(id=n, created_at=received))
            conn.execute(insert(Message).values(
                id=n, source_id=source, folder="INBOX", uidvalidity=1, uid=n, text=text,
                subject=f"Order {n}", received_at=received, created_at=received,
            ))  # fmt: skip
            conn.execute(insert(Case).values(
                id=n, thread_id=n, source_id=source, opening_message_id=n, customer=customer,
                subject=f"Order {n}", received_at=received, deadline_at=deadline, state=state,
                created_at=received,
            ))  # fmt: skip
        return n

    def tick(self, now: datetime) -> list[tuple[int, int, int]]:
        with self.sessions() as session:
            return decide_escalations(session, self.config, now).recorded

    def escalations(self) -> list[tuple[int, int, int]]:
        with self.sessions() as session:
            query = select(Escalation.case_id, Escalation.step_index, Escalation.repeat_no)
            return sorted(tuple(row) for row in session.execute(query))  # type: ignore[misc]

    def outbox(self) -> list[Outbox]:
        with self.sessions() as session:
            return list(session.scalars(select(Outbox).order_by(Outbox.id)))


def make_config(tmp_path: Path, db_url: str, extra: str = "") -> Config:
    path = tmp_path / "watchdog.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n{CONFIG_TOML}{extra}', encoding="utf-8")
    environ = {"ORDERS_PASSWORD": "x", "SITE_TOKEN": "y", "WEB_PASSWORD": "z", "BOT": "1:abc"}
    return load_config(path, environ=environ)


@pytest.fixture
def shop(db_url: str, tmp_path: Path) -> Iterator[Shop]:
    upgrade(db_url)
    engine = make_engine(db_url)
    yield Shop(engine, make_config(tmp_path, db_url))
    engine.dispose()


class Recorder:
    """A channel that keeps what it was asked to deliver (the whole Channel interface)."""

    def __init__(self) -> None:
        self.items: list[OutboxItem] = []

    def deliver(self, item: OutboxItem) -> str:
        self.items.append(item)
        return "250 OK"


def test_each_step_is_recorded_once_across_ticks(shop: Shop) -> None:
    case = shop.open_case("Eve <eve@example.com>", at(5, 10), at(5, 12))

    assert shop.tick(at(5, 11)) == []
    assert shop.tick(at(5, 12, 1)) == [(case, 0, 0)]
    assert shop.tick(at(5, 12, 2)) == []
    assert shop.tick(at(5, 14)) == [(case, 1, 0)]
    assert shop.tick(at(5, 14)) == []
    assert shop.tick(at(5, 18)) == [(case, 1, 1)]
    assert shop.escalations() == [(case, 0, 0), (case, 1, 0), (case, 1, 1)]


def test_two_cases_at_the_team_step_make_one_email_per_team_member(shop: Shop) -> None:
    first = shop.open_case("Eve <eve@example.com>", at(5, 10), at(5, 12))
    second = shop.open_case("Mallory <mallory@example.com>", at(5, 10, 30), at(5, 12, 30))

    assert shop.tick(at(5, 12, 45)) == [(first, 0, 0), (second, 0, 0)]

    rows = shop.outbox()
    assert [row.recipient for row in rows] == [ANNA, BORIS]
    for row in rows:
        assert (row.kind, row.channel, row.status) == ("escalation", "email", "pending")
        assert row.subject == "2 customers are waiting for an answer, the longest for 2 h 45 min"
        assert "Eve" in row.body_text and "Mallory" in row.body_text
        assert f"https://watchdog.shop.test/cases/{first}" in (row.body_html or "")
    with shop.sessions() as session:
        links = set(session.scalars(select(Escalation.outbox_id)))
    assert links == {rows[0].id}  # each decision points at its notification


def test_the_owner_step_is_a_separate_email(shop: Shop) -> None:
    case = shop.open_case("Eve <eve@example.com>", at(5, 10), at(5, 12))

    assert shop.tick(at(5, 14, 5)) == [(case, 0, 0), (case, 1, 0)]  # both reached at once

    by_recipient = {row.recipient: row for row in shop.outbox()}
    assert sorted(by_recipient) == [ANNA, BORIS, OWNER]
    assert "still had no answer" in by_recipient[OWNER].body_text
    assert "Please answer" in by_recipient[ANNA].body_text
    with shop.sessions() as session:
        links = dict(session.execute(select(Escalation.step_index, Escalation.outbox_id)).all())
    assert links[1] == by_recipient[OWNER].id


def test_each_door_reminds_its_own_team(shop: Shop) -> None:
    shop.open_case("Eve <eve@example.com>", at(5, 10), at(5, 12), source=1)
    shop.open_case("Trent <trent@example.com>", at(5, 10), at(5, 12), source=2)

    shop.tick(at(5, 12, 5))

    rows = {row.recipient: row for row in shop.outbox()}
    assert "Eve" in rows[ANNA].body_text and "Trent" in rows[ANNA].body_text
    assert "Eve" in rows[BORIS].body_text and "Trent" not in rows[BORIS].body_text


def test_closed_cases_are_not_escalated(shop: Shop) -> None:
    shop.open_case("Eve <eve@example.com>", at(5, 10), at(5, 12), state="answered")
    shop.open_case("Mallory <m@example.com>", at(5, 10), at(5, 12), state="handled")

    assert shop.tick(at(6, 12)) == []
    assert shop.outbox() == []


def test_a_decision_is_logged_in_the_case_history(shop: Shop) -> None:
    case = shop.open_case("Eve <eve@example.com>", at(5, 10), at(5, 12))
    shop.tick(at(5, 12, 1))
    with shop.sessions() as session:
        event = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case)).one()
    assert (event.kind, event.detail and event.detail["notify"]) == ("escalated", "team")


def test_two_deciders_planning_the_same_step_record_it_once(shop: Shop) -> None:
    case = shop.open_case("Eve <eve@example.com>", at(5, 10), at(5, 12))
    now = at(5, 12, 1)

    with shop.sessions() as first, shop.sessions() as second:
        first_plan = plan_escalations(first, shop.config, now)
        second_plan = plan_escalations(second, shop.config, now)
        assert first_plan == second_plan != []  # both saw the step as due

        won = record_escalations(first, shop.config, first_plan, now)
        first.commit()
        lost = record_escalations(second, shop.config, second_plan, now)
        second.commit()

    assert (won.recorded, won.lost) == ([(case, 0, 0)], [])
    assert (lost.recorded, lost.lost, lost.outbox_ids) == ([], [(case, 0, 0)], [])
    assert shop.escalations() == [(case, 0, 0)]
    assert len(shop.outbox()) == 2  # Anna and Boris, once each


def test_concurrent_deciders_never_notify_twice(shop: Shop) -> None:
    cases = [shop.open_case(f"C{i} <c{i}@example.com>", at(5, 10), at(5, 12)) for i in range(5)]
    now = at(5, 14, 1)  # team and owner steps both due
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def decide() -> None:
        try:
            start.wait()
            with shop.sessions() as session:
                decide_escalations(session, shop.config, now)
        except Exception as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=decide) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert shop.escalations() == sorted([(c, s, 0) for c in cases for s in (0, 1)])
    rows = shop.outbox()
    assert sorted(row.recipient for row in rows) == [ANNA, BORIS, OWNER]
    with shop.sessions() as session:
        assert session.scalar(select(func.count()).where(Escalation.outbox_id.is_(None))) == 0


def test_a_team_step_noticed_at_night_is_delivered_at_the_opening(shop: Shop) -> None:
    # Due at 18:00 Wednesday, noticed by a replay at 03:00 Thursday: decided at 03:00,
    # delivered at 09:00. The owner's step (any_time) is not due until 11:00 Thursday.
    case = shop.open_case("Eve <eve@example.com>", at(5, 16), at(5, 18))
    channel = Recorder()

    assert shop.tick(at(6, 3)) == [(case, 0, 0)]
    assert {row.next_attempt_at for row in shop.outbox()} == {at(6, 9)}
    assert handle_one_outbox(shop.sessions, {"email": channel}, at(6, 3)) is False
    assert channel.items == []

    while handle_one_outbox(shop.sessions, {"email": channel}, at(6, 9)):
        pass
    assert sorted(item.recipient for item in channel.items) == [ANNA, BORIS]


def test_an_owner_step_noticed_at_night_is_sent_at_once(shop: Shop) -> None:
    case = shop.open_case("Eve <eve@example.com>", at(5, 14), at(5, 16))  # owner due 18:00

    assert shop.tick(at(6, 3)) == [(case, 0, 0), (case, 1, 0)]
    owner = next(row for row in shop.outbox() if row.recipient == OWNER)
    assert owner.next_attempt_at == at(6, 3)


def test_young_cases_are_not_even_loaded(shop: Shop) -> None:
    from watchdog.escalate.decide import candidate_condition

    old = shop.open_case("Eve <eve@example.com>", at(5, 10), at(5, 12))
    shop.open_case("Mallory <m@example.com>", at(5, 12), at(5, 14))
    with shop.sessions() as session:
        ids = session.scalars(select(Case.id).where(candidate_condition(shop.config, at(5, 13))))
        assert list(ids) == [old]


def test_a_checked_case_is_not_loaded_again_until_its_next_step_can_be_due(shop: Shop) -> None:
    from watchdog.escalate.decide import candidate_condition, reset_schedule

    case = shop.open_case("Eve <eve@example.com>", at(5, 10), at(5, 12))
    shop.tick(at(5, 12, 30))  # the team step fired; the owner step is due at 14:00

    def candidates(now: datetime) -> list[int]:
        with shop.sessions() as session:
            return list(
                session.scalars(select(Case.id).where(candidate_condition(shop.config, now)))
            )

    assert candidates(at(5, 13)) == []
    assert candidates(at(5, 14)) == [case]
    with shop.sessions() as session:
        reset_schedule(session)  # a restart: the config may have changed
    assert candidates(at(5, 13)) == [case]


TELEGRAM_POLICY = """
[[escalation.step]]
after = "100%"
notify = "telegram"

[[escalation.step]]
after = "150%"
notify = "team"
deliver = "any_time"

[[notify.telegram]]
bot_token_env = "BOT"
chat_id = "-100123"
"""


def test_a_telegram_step_queues_a_chat_message_by_chat_name(
    shop: Shop, tmp_path: Path, db_url: str
) -> None:
    shop.config = make_config(tmp_path, db_url, TELEGRAM_POLICY)
    case = shop.open_case("Eve <eve@example.com>", at(5, 10), at(5, 12))

    assert shop.tick(at(5, 12)) == [(case, 0, 0)]

    [row] = shop.outbox()
    assert (row.channel, row.recipient, row.body_html) == ("telegram", "telegram", None)
    assert row.body_text.startswith("A customer has waited 2 h for an answer")
    assert "1:abc" not in row.body_text  # the row names the chat; the token stays in the config


def test_a_team_step_of_a_door_without_a_team_goes_to_the_owner(
    shop: Shop, tmp_path: Path, db_url: str
) -> None:
    shop.config = make_config(tmp_path, db_url).model_copy(
        update={"forms": (make_config(tmp_path, db_url).forms[0].model_copy(update={"team": ()}),)}
    )
    shop.open_case("Trent <trent@example.com>", at(5, 10), at(5, 12), source=2)

    shop.tick(at(5, 12, 1))

    [row] = shop.outbox()
    assert row.recipient == OWNER
    assert "Please answer" in row.body_text
