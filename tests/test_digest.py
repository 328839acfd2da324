"""The owner's daily digest: what it says, when it is due, and that it is queued once.

The shop works 09:00-18:00 Moscow time, Monday to Friday, with Russian public
holidays; the first response is due in two business hours. Cases and alarms
are written as rows (the tracker's own tests prove how they come about), into
real SQLite and, where marked, PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parseaddr
from itertools import count
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from watchdog.cli.digest import digest_command
from watchdog.config import Config, load_config
from watchdog.config.schema import SlaConfig
from watchdog.digest import (
    build_report,
    digest_due,
    latest_complete_day,
    prepare_digest,
    queue_digest,
    render_digest,
)
from watchdog.digest.report import MAX_LISTED, CaseFacts, assemble, day_window, median
from watchdog.digest.schedule import record_digest
from watchdog.digest.words import duration, one_line, plural_form
from watchdog.sla import calendar_for, deadline
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Alarm, Case, Digest, Message, Outbox, Source, Thread

MOSCOW = ZoneInfo("Europe/Moscow")
WEDNESDAY = date(2025, 11, 12)
THURSDAY_9AM = datetime(2025, 11, 13, 6, 0, tzinfo=UTC)  # 09:00 in Moscow: Wednesday's digest
FRIDAY = date(2025, 11, 14)
MONDAY = date(2025, 11, 17)

CONFIG = """
[database]
url = "{url}"

[owner]
email = "owner@shop.test"
language = "{language}"

[smtp]
host = "127.0.0.1"
from = "watchdog@shop.test"

[sla]
first_response = "2h"
timezone = "{timezone}"
working_hours = "09:00-18:00"
working_days = "mon-fri"
holidays = "RU"

[digest]
at = "09:00"
skip_empty = {skip_empty}

[[mailbox]]
name = "orders"
host = "127.0.0.1"
username = "orders@shop.test"
password_env = "WATCHDOG_ORDERS_PASSWORD"

[[form]]
name = "site"
token_env = "WATCHDOG_SITE_TOKEN"
"""

_uid = count(1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Return an instant given as Moscow wall time, in UTC."""
    return datetime.combine(day, time(hour, minute), MOSCOW).astimezone(UTC)


def write_config(
    folder: Path,
    url: str,
    *,
    language: str = "ru",
    skip_empty: bool = False,
    timezone: str = "Europe/Moscow",
) -> Path:
    path = folder / "watchdog.toml"
    text = CONFIG.format(
        url=url, language=language, skip_empty=str(skip_empty).lower(), timezone=timezone
    )
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Shop:
    """A configured shop with an empty database, and a session on it."""

    folder: Path
    config: Config
    session: Session

    def source_id(self, name: str) -> int:
        found = self.session.scalar(select(Source.id).where(Source.name == name))
        if found is not None:
            return found
        kind = "form" if name == "site" else "mailbox"
        source = Source(kind=kind, name=name, created_at=at(WEDNESDAY, 0) - timedelta(days=30))
        self.session.add(source)
        self.session.flush()
        return source.id

    def case(
        self,
        received: datetime,
        *,
        source: str = "orders",
        customer: str = "Иван Петров <ivan@mail.ru>",
        subject: str = "Где мой заказ 1234?",
        answered: datetime | None = None,
        handled: datetime | None = None,
    ) -> Case:
        """Add a case as the tracker would leave it, with the deadline of the source's calendar."""
        source_id = self.source_id(source)
        thread = Thread(subject_norm=subject.lower(), created_at=received)
        self.session.add(thread)
        self.session.flush()
        message = Message(
            source_id=source_id,
            folder="INBOX",
            uidvalidity=1,
            uid=next(_uid),
            from_name=parseaddr(customer)[0] or None,
            from_addr=parseaddr(customer)[1] or None,
            subject=subject,
            received_at=received,
            direction="incoming",
            thread_id=thread.id,
            created_at=received,
        )
        self.session.add(message)
        self.session.flush()
        state = "answered" if answered else "handled" if handled else "open"
        case = Case(
            thread_id=thread.id,
            source_id=source_id,
            opening_message_id=message.id,
            customer=customer,
            subject=subject,
            received_at=received,
            deadline_at=deadline(received, self.config.sla_for(source)),
            state=state,
            answered_at=answered,
            handled_at=handled,
            handled_by="anna" if handled else None,
            handled_reason="позвонила" if handled else None,
            created_at=received,
        )
        self.session.add(case)
        self.session.commit()
        return case

    def alarm(
        self, kind: str, raised: datetime, *, cleared: datetime | None = None, **kw: object
    ) -> None:
        self.session.add(
            Alarm(kind=kind, key=f"{kind}-{next(_uid)}", raised_at=raised, cleared_at=cleared, **kw)
        )
        self.session.commit()

    def text(self, day: date, now: datetime) -> str:
        return prepare_digest(self.session, self.config, day, now).rendered.text


def open_shop(
    folder: Path,
    url: str,
    *,
    language: str = "ru",
    skip_empty: bool = False,
    timezone: str = "Europe/Moscow",
) -> Iterator[Shop]:
    path = write_config(folder, url, language=language, skip_empty=skip_empty, timezone=timezone)
    config = load_config(path, need_secrets=False)
    upgrade(url)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        yield Shop(folder, config, session)
    engine.dispose()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    """The shop on SQLite, Russian-speaking owner."""
    yield from open_shop(tmp_path, f"sqlite:///{tmp_path / 'w.db'}")


@pytest.fixture
def any_shop(tmp_path: Path, db_url: str) -> Iterator[Shop]:
    """The shop on SQLite and on PostgreSQL."""
    yield from open_shop(tmp_path, db_url)


def count_rows(session: Session, model: type[Digest | Outbox]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- what the digest says ---------------------------------------------------------------


def test_digest_leads_with_the_missed_customers_and_lists_each(any_shop: Shop) -> None:
    any_shop.case(at(WEDNESDAY, 10), subject="Где мой заказ 1234?")
    any_shop.case(at(WEDNESDAY, 11), customer="Мария <maria@mail.ru>", subject="Доставка")
    any_shop.case(at(WEDNESDAY, 12), customer="Олег <oleg@ya.ru>", answered=at(WEDNESDAY, 12, 30))

    text = any_shop.text(WEDNESDAY, THURSDAY_9AM)

    assert "Без ответа остаются 2 клиента — срок ответа уже прошёл." in text
    assert "• Иван Петров <ivan@mail.ru> — orders" in text
    # 10:00-18:00 on Wednesday; Thursday 09:00 has not added any business time yet.
    assert "получено 12 ноября 10:00, ждёт 8 ч рабочего времени" in text
    assert "«Где мой заказ 1234?»" in text
    assert "«Доставка»" in text
    assert "Олег" not in text


def test_a_missed_case_from_an_earlier_day_is_listed_until_answered(shop: Shop) -> None:
    shop.case(at(WEDNESDAY - timedelta(days=2), 10))  # Monday

    text = shop.text(WEDNESDAY, THURSDAY_9AM)

    assert "Без ответа остаётся 1 клиент" in text
    assert "ждёт 26 ч рабочего времени" in text  # Mon 8 h + Tue 9 h + Wed 9 h


def test_answered_late_shows_how_late_in_business_time_across_a_weekend(shop: Shop) -> None:
    # Friday 17:00 + 2 business hours = Monday 10:00; answered Monday 10:30.
    shop.case(at(FRIDAY, 17), customer="Мария <maria@mail.ru>", answered=at(MONDAY, 10, 30))

    text = shop.text(MONDAY, at(MONDAY + timedelta(days=1), 9))

    assert "ОТВЕТИЛИ С ОПОЗДАНИЕМ: 1" in text
    assert (
        "ответили на 30 мин позже срока: получено 14 ноября 17:00, "
        "ответ через 2 ч 30 мин рабочего времени"
    ) in text
    assert "Пропущенных нет, но 1 клиенту ответили с опозданием." in text


def test_a_case_handled_by_phone_after_the_deadline_counts_as_late(shop: Shop) -> None:
    shop.case(at(WEDNESDAY, 10), handled=at(WEDNESDAY, 15))

    text = shop.text(WEDNESDAY, THURSDAY_9AM)

    assert "закрыт без письма на 3 ч позже срока" in text


def test_per_source_counts_and_median_first_response_in_business_hours(shop: Shop) -> None:
    monday_9am = at(MONDAY, 9)
    # Friday: answered after 30 min, and across the weekend (Fri 17:00 -> Mon 10:30 is
    # 2 h 30 min of business time, not 65 h 30 min); the third is still open.
    shop.case(at(FRIDAY, 10), answered=at(FRIDAY, 10, 30))
    shop.case(at(FRIDAY, 17), answered=at(MONDAY, 10, 30))
    shop.case(at(FRIDAY, 17, 30))
    shop.case(at(FRIDAY, 11), source="site", answered=at(FRIDAY, 12))

    report = build_report(shop.session, shop.config, FRIDAY, monday_9am + timedelta(hours=2))

    orders, site = report.sources
    assert (orders.name, orders.received, orders.answered) == ("orders", 3, 2)
    assert orders.median_response == timedelta(hours=1, minutes=30)  # of 30 min and 2 h 30 min
    assert (site.name, site.received, site.answered) == ("site", 1, 1)
    assert site.median_response == timedelta(hours=1)
    text = render_digest(report, "ru").text
    assert "• orders: 3 запроса, ответили на 2, медиана первого ответа 1 ч 30 мин" in text
    assert "• site: 1 запрос, ответили на 1, медиана первого ответа 1 ч" in text


def test_a_source_without_requests_says_so_and_a_median_without_answers_is_a_dash(
    shop: Shop,
) -> None:
    shop.case(at(WEDNESDAY, 17, 50))  # not answered yet, and not yet late

    text = shop.text(WEDNESDAY, THURSDAY_9AM)

    assert "• orders: 1 запрос, ответили на 0, медиана первого ответа —" in text
    assert "• site: запросов не было" in text
    assert "Ещё 1 запрос ждёт ответа, срок пока не прошёл." in text


def test_open_alarms_are_listed_in_plain_words_and_cleared_ones_are_not(shop: Shop) -> None:
    case = shop.case(at(WEDNESDAY, 10), answered=at(WEDNESDAY, 10, 20))
    shop.alarm(
        "request_deleted",
        at(WEDNESDAY, 14),
        source_id=shop.source_id("orders"),
        message_id=case.opening_message_id,
        detail='request from ivan@mail.ru "Где мой заказ 1234?" was moved to Trash',
    )
    shop.alarm(
        "source_unreachable",
        at(WEDNESDAY, 15),
        source_id=shop.source_id("site"),
        detail="connection refused",
    )
    shop.alarm("source_silent", at(WEDNESDAY, 8), cleared=at(WEDNESDAY, 9))

    text = shop.text(WEDNESDAY, THURSDAY_9AM)

    assert "Пропущенных нет, но 2 тревоги требуют внимания." in text
    assert "• Запрос клиента удалён без ответа — orders, с 12 ноября 14:00" in text
    assert "  Иван Петров <ivan@mail.ru>: «Где мой заказ 1234?»" in text
    assert "• Не удаётся проверить источник — site, с 12 ноября 15:00\n  connection refused" in text
    assert "молчит" not in text


def test_the_english_digest_says_the_same(tmp_path: Path) -> None:
    for shop in open_shop(tmp_path, f"sqlite:///{tmp_path / 'w.db'}", language="en"):
        shop.case(at(WEDNESDAY, 10))
        shop.case(at(WEDNESDAY, 9), customer="Ann <ann@x.test>", answered=at(WEDNESDAY, 12, 20))
        shop.alarm("notification_failed", at(WEDNESDAY, 16), detail="relay said 550")

        content = prepare_digest(shop.session, shop.config, WEDNESDAY, THURSDAY_9AM)

    assert content.rendered.subject == "Digest for 12 November: 1 customer without an answer"
    text = content.rendered.text
    assert "1 customer is still without an answer past the deadline." in text
    assert "received 12 November 10:00, waiting 8 h of business time" in text
    assert "answered 1 h 20 min past the deadline" in text
    assert "• A notification could not be delivered, since 12 November 16:00" in text
    assert "• orders: 2 requests, 1 answered, median first response 3 h 20 min" in text


def test_html_escapes_a_script_in_a_subject(shop: Shop) -> None:
    shop.case(at(WEDNESDAY, 10), subject="<script>alert('hi')</script> заказ")

    html = prepare_digest(shop.session, shop.config, WEDNESDAY, THURSDAY_9AM).rendered.html

    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt; заказ" in html
    assert "Иван Петров &lt;ivan@mail.ru&gt;" in html


def test_control_characters_in_customer_text_do_not_break_the_text_digest(shop: Shop) -> None:
    shop.case(at(WEDNESDAY, 10), subject="Заказ\r\n\x1b[31mкрасный\t текст")

    text = shop.text(WEDNESDAY, THURSDAY_9AM)

    assert "«Заказ [31mкрасный текст»" in text
    assert "\x1b" not in text


def test_an_empty_day_is_one_line(shop: Shop) -> None:
    content = prepare_digest(shop.session, shop.config, WEDNESDAY, THURSDAY_9AM)

    assert content.report.empty
    assert content.rendered.text == (
        "12 ноября: новых запросов не было, никто не ждёт ответа, тревог нет.\n"
    )
    assert content.rendered.subject == "Сводка за 12 ноября: всё спокойно"
    english = render_digest(content.report, "en").text
    assert english == "12 November: no new requests, nobody waiting for an answer, no alarms.\n"


def test_a_replay_counts_a_case_answered_later_as_open_then(shop: Shop) -> None:
    shop.case(at(WEDNESDAY, 10), answered=at(WEDNESDAY + timedelta(days=1), 11))

    report = build_report(shop.session, shop.config, WEDNESDAY, THURSDAY_9AM)

    assert [case.id for case in report.missed] == [1]
    assert report.sources[0].answered == 0


# --- queueing it exactly once -------------------------------------------------------------


def test_queue_digest_writes_the_digest_and_its_outbox_row(any_shop: Shop) -> None:
    any_shop.case(at(WEDNESDAY, 10))

    digest = queue_digest(any_shop.session, any_shop.config, THURSDAY_9AM)

    assert digest is not None and digest.day == WEDNESDAY and digest.status == "queued"
    outbox = any_shop.session.scalars(select(Outbox)).one()
    assert digest.outbox_id == outbox.id
    assert (outbox.kind, outbox.channel, outbox.status) == ("digest", "email", "pending")
    assert outbox.recipient == "owner@shop.test"
    assert outbox.message_id_header == "<digest-2025-11-12@watchdog.shop.test>"
    assert outbox.next_attempt_at == THURSDAY_9AM
    assert outbox.subject == "Сводка за 12 ноября: 1 клиент без ответа"
    assert "Иван Петров" in outbox.body_text
    assert outbox.body_html is not None and "Иван Петров" in outbox.body_html


def test_queue_digest_twice_for_a_day_queues_it_once(any_shop: Shop) -> None:
    first = queue_digest(any_shop.session, any_shop.config, THURSDAY_9AM)
    again = queue_digest(any_shop.session, any_shop.config, THURSDAY_9AM + timedelta(hours=3))

    assert first is not None and again is None
    assert count_rows(any_shop.session, Digest) == 1
    assert count_rows(any_shop.session, Outbox) == 1


def test_two_processes_racing_for_a_day_queue_one_digest(any_shop: Shop) -> None:
    any_shop.case(at(WEDNESDAY, 10))
    other = Session(any_shop.session.get_bind(), expire_on_commit=False)
    # Both have looked, found no digest for Wednesday and built one...
    mine = prepare_digest(any_shop.session, any_shop.config, WEDNESDAY, THURSDAY_9AM)
    theirs = prepare_digest(other, any_shop.config, WEDNESDAY, THURSDAY_9AM)

    # ...and both try to record it: the unique day lets exactly one through.
    won = record_digest(any_shop.session, any_shop.config, mine, THURSDAY_9AM)
    lost = record_digest(other, any_shop.config, theirs, THURSDAY_9AM)
    other.close()

    assert won is not None and lost is None
    assert count_rows(any_shop.session, Digest) == 1
    assert count_rows(any_shop.session, Outbox) == 1


def test_two_threads_queueing_at_once_queue_one_digest(any_shop: Shop) -> None:
    any_shop.case(at(WEDNESDAY, 10))
    engine = any_shop.session.get_bind()
    start = threading.Barrier(2)
    results: list[Digest | None] = []

    def queue() -> None:
        with Session(engine, expire_on_commit=False) as session:
            start.wait()
            results.append(queue_digest(session, any_shop.config, THURSDAY_9AM))

    threads = [threading.Thread(target=queue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(result is None for result in results) == [False, True]
    assert count_rows(any_shop.session, Digest) == 1
    assert count_rows(any_shop.session, Outbox) == 1


def test_skip_empty_records_a_skipped_digest_and_queues_nothing(tmp_path: Path) -> None:
    for shop in open_shop(tmp_path, f"sqlite:///{tmp_path / 'w.db'}", skip_empty=True):
        digest = queue_digest(shop.session, shop.config, THURSDAY_9AM)

        assert digest is not None and digest.status == "skipped" and digest.outbox_id is None
        assert count_rows(shop.session, Outbox) == 0
        assert queue_digest(shop.session, shop.config, THURSDAY_9AM) is None


def test_skip_empty_still_sends_a_day_with_something_to_say(tmp_path: Path) -> None:
    for shop in open_shop(tmp_path, f"sqlite:///{tmp_path / 'w.db'}", skip_empty=True):
        shop.case(at(WEDNESDAY, 10), answered=at(WEDNESDAY, 10, 5))

        digest = queue_digest(shop.session, shop.config, THURSDAY_9AM)

        assert digest is not None and digest.status == "queued"
        assert count_rows(shop.session, Outbox) == 1


# --- when it is due -----------------------------------------------------------------------


def test_digest_due_waits_for_digest_at_in_the_shops_timezone(shop: Shop) -> None:
    # 09:00 in Moscow is 06:00 UTC.
    assert digest_due(datetime(2025, 11, 13, 5, 59, tzinfo=UTC), shop.config) is None
    assert digest_due(datetime(2025, 11, 13, 6, 0, tzinfo=UTC), shop.config) == WEDNESDAY
    assert digest_due(datetime(2025, 11, 13, 20, 59, tzinfo=UTC), shop.config) == WEDNESDAY
    # 21:00 UTC is already Friday in Moscow, before 09:00: Thursday's digest is not due yet.
    assert digest_due(datetime(2025, 11, 13, 21, 0, tzinfo=UTC), shop.config) is None


def test_digest_due_keeps_nine_oclock_local_across_dst_in_berlin(tmp_path: Path) -> None:
    for shop in open_shop(tmp_path, f"sqlite:///{tmp_path / 'w.db'}", timezone="Europe/Berlin"):
        # Summer (CEST, UTC+2): 09:00 is 07:00 UTC.
        assert digest_due(datetime(2025, 7, 2, 6, 59, tzinfo=UTC), shop.config) is None
        assert digest_due(datetime(2025, 7, 2, 7, 0, tzinfo=UTC), shop.config) == date(2025, 7, 1)
        # The Monday after clocks go back (26 Oct 2025): CET, UTC+1, so 08:00 UTC.
        assert digest_due(datetime(2025, 10, 27, 7, 0, tzinfo=UTC), shop.config) is None
        assert digest_due(datetime(2025, 10, 27, 8, 0, tzinfo=UTC), shop.config) == date(
            2025, 10, 26
        )
        # The day clocks go forward (30 Mar 2025) is 23 hours long, and is reported whole.
        start, end = day_window(date(2025, 3, 30), ZoneInfo("Europe/Berlin"))
        assert end - start == timedelta(hours=23)


def test_digest_due_is_none_when_the_digest_is_disabled(shop: Shop) -> None:
    config = shop.config.model_copy(
        update={"digest": shop.config.digest.model_copy(update={"enabled": False})}
    )

    assert digest_due(THURSDAY_9AM, config) is None
    assert queue_digest(shop.session, config, THURSDAY_9AM) is None
    assert latest_complete_day(THURSDAY_9AM, MOSCOW) == WEDNESDAY


# --- the command line ---------------------------------------------------------------------


def digest_app() -> typer.Typer:
    """The digest command on an app of its own, with the root's --config option."""
    app = typer.Typer()

    @app.callback()
    def root(ctx: typer.Context, config: str | None = typer.Option(None, "--config")) -> None:
        ctx.obj = {"config": config}

    app.command("digest")(digest_command)
    return app


def test_cli_print_writes_the_digest_due_at_now_and_records_nothing(shop: Shop) -> None:
    shop.case(at(WEDNESDAY, 10))
    config = str(shop.folder / "watchdog.toml")

    result = CliRunner().invoke(
        digest_app(), ["--config", config, "digest", "--print", "--now", "2025-11-13T09:00+03:00"]
    )

    assert result.exit_code == 0, result.output
    assert "Сводка сторожа почты: среда, 12 ноября 2025." in result.stdout
    assert "Без ответа остаётся 1 клиент" in result.stdout
    assert count_rows(shop.session, Digest) == 0


def test_cli_print_of_an_empty_day_is_one_line(shop: Shop) -> None:
    config = str(shop.folder / "watchdog.toml")

    result = CliRunner().invoke(
        digest_app(), ["--config", config, "digest", "--print", "--now", "2025-11-13T08:00+03:00"]
    )

    assert result.exit_code == 0, result.output
    assert result.stdout == "12 ноября: новых запросов не было, никто не ждёт ответа, тревог нет.\n"


def test_cli_queues_the_digest_once(shop: Shop) -> None:
    config = str(shop.folder / "watchdog.toml")
    args = ["--config", config, "digest", "--now", "2025-11-13T09:30+03:00"]

    first = CliRunner().invoke(digest_app(), args)
    second = CliRunner().invoke(digest_app(), args)

    assert first.exit_code == 0, first.output
    assert first.stdout == "queued digest for 2025-11-12\n"
    assert second.stdout == "digest for 2025-11-12 was already queued\n"
    assert count_rows(shop.session, Outbox) == 1


# --- words --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "word"),
    [(1, "клиент"), (2, "клиента"), (4, "клиента"), (5, "клиентов"), (11, "клиентов"),
     (12, "клиентов"), (21, "клиент"), (22, "клиента"), (111, "клиентов"), (0, "клиентов")],
)  # fmt: skip
def test_russian_counts_take_the_right_plural_form(count: int, word: str) -> None:
    assert plural_form("ru", count, "клиент", "клиента", "клиентов") == word


def test_durations_read_as_hours_and_minutes_in_both_languages() -> None:
    assert duration("ru", timedelta(hours=5, minutes=20, seconds=59)) == "5 ч 20 мин"
    assert duration("en", timedelta(hours=5, minutes=20)) == "5 h 20 min"
    assert duration("ru", timedelta(hours=27)) == "27 ч"
    assert duration("en", timedelta(minutes=45)) == "45 min"
    assert duration("ru", timedelta(seconds=40)) == "меньше минуты"


def test_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    assert median([timedelta(hours=3), timedelta(hours=1)]) == timedelta(hours=2)
    assert median([]) is None


def test_a_long_list_of_missed_cases_is_cut_and_the_rest_counted() -> None:
    calendar = calendar_for(SlaConfig())
    cases = [
        CaseFacts(n, "orders", f"c{n}", "s", at(WEDNESDAY, 10), at(WEDNESDAY, 12))
        for n in range(MAX_LISTED + 3)
    ]

    report = assemble(WEDNESDAY, THURSDAY_9AM, MOSCOW, cases, [], ["orders"], lambda _: calendar)

    assert len(report.missed) == MAX_LISTED and report.missed_more == 3
    assert report.missed_total == MAX_LISTED + 3
    assert "…и ещё 3: полный список — в панели сторожа." in render_digest(report, "ru").text


def test_one_line_cuts_long_customer_text() -> None:
    assert one_line("x" * 500, limit=10) == "xxxxxxxxx…"


def test_no_digest_for_a_day_that_ended_before_watching_began(tmp_path: Path) -> None:
    for shop in open_shop(tmp_path, f"sqlite:///{tmp_path / 'w.db'}"):
        shop.session.add(
            Source(kind="mailbox", name="new", created_at=THURSDAY_9AM - timedelta(hours=1))
        )
        shop.session.commit()

        assert queue_digest(shop.session, shop.config, THURSDAY_9AM) is None
        assert count_rows(shop.session, Digest) == 0
