"""The dashboard's pages on hand-made rows: what arrived, the broken marked, everything escaped.

These pin details of each page (times, words, escaping) on a small, exact
world; ``test_web_pages`` runs every page on what the real pipeline stored.
Logging in, CSRF and the headers are ``test_web_auth``'s.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

import watchdog
from tests.test_web_auth import Browser, log_in
from tests.test_web_hooks import CONFIG, NOW, load
from watchdog.alarms import REQUEST_DELETED, REQUEST_IN_JUNK, SOURCE_SILENT, raise_alarm
from watchdog.classify import ClassifyContext, load_rules
from watchdog.ingest.message import OurIdentity
from watchdog.ingest.read import Ingestor
from watchdog.ingest.store import MailLocation, ensure_source, store_form, store_mail
from watchdog.ingest.submission import FormSubmission
from watchdog.notify.outbox import NOTIFICATION_FAILED
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import Case, CaseEvent, Message, Thread
from watchdog.track import cases as tracking
from watchdog.web.app import create_app
from watchdog.web.i18n import ALARM_KINDS, EVENT_KINDS, UI

INGESTOR = Ingestor(
    rules=load_rules(),
    context=ClassifyContext(own_domains=frozenset({"shop.test"})),
    ours=OurIdentity(domains=frozenset({"shop.test"})),
)
XSS_MAIL = (
    b"From: Mallory <mallory@evil.test>\r\nTo: orders@shop.test\r\n"
    b"Subject: <script>alert('subject')</script> order\r\n"
    b"Date: Mon, 3 Nov 2025 12:00:00 +0300\r\nMessage-ID: <x1@evil.test>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Hello <img src=x onerror=alert(1)> when does my order ship?\r\n"
)
CONFIG_WITHOUT_WEB = """
[owner]
email = "owner@shop.test"
language = "en"

[smtp]
host = "smtp.shop.test"
from = "watchdog@shop.test"
"""


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'watchdog.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


def owner_of(app: FastAPI) -> Browser:
    """Return a browser logged in to ``app`` as its owner."""
    browser = Browser(app)
    assert log_in(browser).status_code == 303
    return browser


@pytest.fixture
def client(tmp_path: Path, sessions: sessionmaker[Session]) -> Browser:
    return owner_of(create_app(load(tmp_path), sessions, clock=lambda: NOW))


@pytest.fixture
def stored(sessions: sessionmaker[Session]) -> dict[str, int]:
    """A form request, a broken mail and a mail with HTML in it; returns their ids."""
    with sessions() as session:
        form = ensure_source(session, "form", "contact", NOW)
        mailbox = ensure_source(session, "mailbox", "orders", NOW)
        submission = FormSubmission(
            provider="tilda", received_at=NOW, name="Мария", email="maria@yandex.ru",
            phone="+79161234567", message="Есть ли доставка в Казань?", raw=b"Name=...",
        )  # fmt: skip
        request = store_form(session, form.id, submission, NOW)
        broken = store_mail(
            session, INGESTOR, mailbox.id, MailLocation("INBOX", "inbox", 7, 1),
            b"\x00\xff garbage", received_at=NOW, now=NOW,
        )  # fmt: skip
        xss = store_mail(
            session, INGESTOR, mailbox.id, MailLocation("INBOX", "inbox", 7, 2),
            XSS_MAIL, received_at=NOW, now=NOW,
        )  # fmt: skip
        assert request is not None
        session.commit()
        return {"request": request.id, "broken": broken.id, "xss": xss.id}


def test_message_list_shows_messages_and_marks_the_broken(
    client: Browser, stored: dict[str, int]
) -> None:
    response = client.get("/messages")

    assert response.status_code == 200
    page = response.text
    assert "Мария &lt;maria@yandex.ru&gt;" in page
    assert "Есть ли доставка в Казань?" in page
    assert f'href="/messages/{stored["broken"]}"' in page
    assert "НЕ РАЗОБРАНО" in page  # owner.language defaults to ru
    assert page.count("НЕ РАЗОБРАНО") == 1
    assert "2025-11-03 12:30" in page  # shown in Europe/Moscow
    assert response.headers["cache-control"] == "no-store"


def test_subjects_and_texts_are_escaped(client: Browser, stored: dict[str, int]) -> None:
    front = client.get("/messages").text
    detail = client.get(f"/messages/{stored['xss']}").text

    for page in (front, detail):
        assert "<script>" not in page
        assert "<img" not in page
    assert "&lt;script&gt;alert(&#39;subject&#39;)&lt;/script&gt; order" in detail
    assert "&lt;img src=x onerror=alert(1)&gt;" in detail  # the text, shown as written
    assert "Hello when does my order ship?" in front  # the snippet, reduced to words


def test_message_page_shows_headers_classification_and_raw_size(
    client: Browser, stored: dict[str, int]
) -> None:
    page = client.get(f"/messages/{stored['request']}").text

    assert "+79161234567" in page
    assert "form:tilda" in page
    assert "8 байт" in page  # the raw size, never the raw bytes


def test_broken_message_page_shows_the_parse_error(client: Browser, stored: dict[str, int]) -> None:
    page = client.get(f"/messages/{stored['broken']}").text

    assert "НЕ РАЗОБРАНО" in page


def test_unknown_message_is_404(client: Browser, stored: dict[str, int]) -> None:
    assert client.get("/messages/999").status_code == 404


def test_open_alarms_are_at_the_top(
    client: Browser, sessions: sessionmaker[Session], stored: dict[str, int]
) -> None:
    with sessions() as session:
        raise_alarm(session, kind=REQUEST_DELETED, key="1", now=NOW, detail="Trash: Заказ 1234",
                    message_id=stored["request"])  # fmt: skip
        session.commit()

    page = client.get("/").text

    assert page.index("Запрос удалён без ответа") < page.index("Обзор по источникам")
    assert "Trash: Заказ 1234" in page
    assert f'href="/messages/{stored["request"]}"' in page


def test_english_dashboard(
    tmp_path: Path, sessions: sessionmaker[Session], stored: dict[str, int]
) -> None:
    config = load(tmp_path, CONFIG_WITHOUT_WEB + '\n[web]\npassword_env = "WEB_PASSWORD"\n')
    page = owner_of(create_app(config, sessions)).get("/messages").text

    assert "Recent messages" in page and "BROKEN" in page


# --- cases ------------------------------------------------------------------------------------

#: Without the RU calendar: 2025-11-03, the day of NOW, is a public holiday there.
CASES_CONFIG = CONFIG + '\n[sla]\nholidays = "none"\n'
H = timedelta(hours=1)


@pytest.fixture
def cases_client(tmp_path: Path, sessions: sessionmaker[Session]) -> Browser:
    return owner_of(create_app(load(tmp_path, CASES_CONFIG), sessions, clock=lambda: NOW))


def _open(session: Session, message: Message, customer: str, deadline: timedelta) -> int:
    thread = Thread(subject_norm=message.subject, created_at=message.received_at)
    session.add(thread)
    session.flush()
    case = tracking.open_case(session, thread, message, customer=customer,
                              deadline=message.received_at + deadline, now=message.received_at)  # fmt: skip
    return case.id


def _form(session: Session, source_id: int, text: str, at: timedelta) -> Message:
    submission = FormSubmission(provider="tilda", received_at=NOW - at, name="Мария",
                                email="maria@yandex.ru", message=text, raw=b"Name=...")  # fmt: skip
    message = store_form(session, source_id, submission, NOW - at)
    assert message is not None
    return message


@pytest.fixture
def cases(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Three cases at NOW (Monday 12:30 in Moscow); returns their ids.

    - overdue: a mail with a <script> subject, Friday 16:00, deadline Friday 18:00, escalated;
    - fresh: a form request at 11:45 today, due 13:45, flagged answered without a reply;
    - handled: a form request at 10:00, a follow-up, then closed after a phone call.
    """
    with sessions() as session:
        form = ensure_source(session, "form", "contact", NOW)
        mailbox = ensure_source(session, "mailbox", "orders", NOW)
        friday = NOW - 68 * H - 30 * timedelta(minutes=1)  # 2025-10-31 16:00 MSK
        xss = store_mail(session, INGESTOR, mailbox.id, MailLocation("INBOX", "inbox", 7, 2),
                         XSS_MAIL, received_at=friday, now=friday)  # fmt: skip
        overdue = _open(session, xss, "Mallory <mallory@evil.test>", 2 * H)
        session.add(CaseEvent(case_id=overdue, at=friday + 3 * H, kind="escalated",
                              detail={"step": 1, "repeat": 0, "notify": "owner"}))  # fmt: skip

        fresh_message = _form(
            session, form.id, "Есть ли доставка в Казань?", 45 * timedelta(minutes=1)
        )
        fresh = _open(session, fresh_message, "Мария <maria@yandex.ru>", 2 * H)
        case = session.get(Case, fresh)
        assert case is not None
        tracking.mark_answered_flag(session, case, fresh_message, trusted=False, now=NOW)

        first = _form(session, form.id, "Перезвоните мне", 150 * timedelta(minutes=1))
        handled = _open(session, first, "Мария <maria@yandex.ru>", 2 * H)
        again = _form(session, form.id, "Ну что там?", 2 * H)
        case = session.get(Case, handled)
        assert case is not None
        tracking.follow_up(session, case, again, NOW - 2 * H)
        tracking.handle_case(session, handled, by="anna", reason="перезвонили <b>по телефону</b>",
                             now=NOW - 90 * timedelta(minutes=1))  # fmt: skip
        session.commit()
        return {"overdue": overdue, "fresh": fresh, "handled": handled, "xss_message": xss.id,
                "first_message": first.id, "again_message": again.id}  # fmt: skip


def test_cases_page_lists_open_cases_with_overdue_highlighted(
    cases_client: Browser, cases: dict[str, int]
) -> None:
    response = cases_client.get("/cases")

    assert response.status_code == 200
    page = response.text
    assert f'href="/cases/{cases["overdue"]}"' in page
    assert f'href="/cases/{cases["fresh"]}"' in page
    assert f'href="/cases/{cases["handled"]}"' not in page  # open is the default filter
    assert page.count('class="badge overdue">ПРОСРОЧЕНО<') == 1
    assert "2025-10-31 16:00" in page and "2025-10-31 18:00" in page  # received, deadline in MSK
    assert "5 ч 30 мин" in page  # Fri 16:00-18:00 and Mon 09:00-12:30, business time
    assert "0 ч 45 мин" in page
    assert "Mallory &lt;mallory@evil.test&gt;" in page and "orders" in page
    assert "отмечено как отвеченное, но ответа не нашли" in page
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


@pytest.mark.parametrize(
    ("state", "shown"),
    [("overdue", {"overdue"}), ("handled", {"handled"}), ("answered", set()),
     ("all", {"overdue", "fresh", "handled"})],
)  # fmt: skip
def test_cases_filter_by_state(
    cases_client: Browser, cases: dict[str, int], state: str, shown: set[str]
) -> None:
    page = cases_client.get(f"/cases?state={state}").text

    listed = {
        name for name in ("overdue", "fresh", "handled") if f'href="/cases/{cases[name]}"' in page
    }
    assert listed == shown


def test_unknown_cases_filter_is_400_and_names_the_choices(
    cases_client: Browser, cases: dict[str, int]
) -> None:
    response = cases_client.get("/cases?state=<b>late</b>")

    assert response.status_code == 400
    assert "«&lt;b&gt;late&lt;/b&gt;»" in response.text
    assert 'href="/cases?state=overdue"' in response.text
    assert f'href="/cases/{cases["overdue"]}"' not in response.text


def test_sla_summary_is_on_the_front_page_and_the_cases_page(
    cases_client: Browser, cases: dict[str, int]
) -> None:
    for path in ("/", "/cases?state=handled"):
        page = cases_client.get(path).text
        assert "Ждут ответа: <strong>2</strong>" in page
        assert "просрочено: 1" in page
        assert "самое старое — с 2025-10-31 18:00" in page


def test_case_page_shows_the_history_in_order_with_the_handled_reason(
    cases_client: Browser, cases: dict[str, int]
) -> None:
    response = cases_client.get(f"/cases/{cases['handled']}")

    assert response.status_code == 200
    page = response.text
    opened = page.index(EVENT_KINDS["ru"]["opened"])
    again = page.index(EVENT_KINDS["ru"]["follow_up"])
    handled = page.index(
        EVENT_KINDS["ru"]["handled"] + " (anna): перезвонили &lt;b&gt;по телефону&lt;/b&gt;"
    )
    assert opened < again < handled
    assert page.index(f'href="/messages/{cases["first_message"]}"') < page.index(
        f'href="/messages/{cases["again_message"]}"'
    )
    assert "закрыто без письма" in page
    assert "/handle" not in page and "/not-request" not in page  # already closed


def test_open_case_page_offers_to_close_it_without_email(
    cases_client: Browser, cases: dict[str, int]
) -> None:
    page = cases_client.get(f"/cases/{cases['overdue']}").text

    assert f'action="/cases/{cases["overdue"]}/handle"' in page
    assert f'action="/cases/{cases["overdue"]}/not-request"' in page
    assert "Эскалация: написали владельцу" in page
    assert "5 ч 30 мин" in page


def test_case_subject_is_escaped(cases_client: Browser, cases: dict[str, int]) -> None:
    for path in ("/cases", f"/cases/{cases['overdue']}"):
        page = cases_client.get(path).text
        assert "<script>" not in page
        assert "&lt;script&gt;alert(&#39;subject&#39;)&lt;/script&gt; order" in page


def test_unknown_case_is_404(cases_client: Browser, cases: dict[str, int]) -> None:
    response = cases_client.get("/cases/999")

    assert response.status_code == 404
    assert "Такого обращения нет." in response.text


def test_english_cases_page(
    tmp_path: Path, sessions: sessionmaker[Session], cases: dict[str, int]
) -> None:
    config = load(tmp_path, CASES_CONFIG.replace("[owner]\n", '[owner]\nlanguage = "en"\n'))
    client = owner_of(create_app(config, sessions, clock=lambda: NOW))

    page = client.get("/cases").text
    detail = client.get(f"/cases/{cases['overdue']}").text

    assert "OVERDUE" in page and "5 h 30 min" in page and "marked answered, no reply found" in page
    assert "Escalated: the owner was told" in detail


# --- words ------------------------------------------------------------------------------------


def test_every_table_of_words_has_the_same_keys_in_both_languages() -> None:
    for table in (UI, ALARM_KINDS, EVENT_KINDS):
        assert table["ru"].keys() == table["en"].keys()


def test_every_alarm_kind_raised_in_the_code_has_words() -> None:
    kinds = alarm_kinds_raised()

    seen = {REQUEST_DELETED, REQUEST_IN_JUNK, SOURCE_SILENT, NOTIFICATION_FAILED}
    assert seen <= kinds  # the scan finds the kinds we know of
    for lang in ("ru", "en"):
        missing = kinds - ALARM_KINDS[lang].keys()
        assert not missing, f"alarm kinds without {lang} words: {sorted(missing)}"


def test_every_case_event_kind_written_by_the_code_has_words() -> None:
    written = {"opened", "follow_up", "answered", "auto_ack", "internal", "marked_answered_no_reply",
               "answered_flag_trusted", "handled", "escalated", "dismissed", "reopened",
               "corrected_request"}  # fmt: skip
    assert EVENT_KINDS["ru"].keys() == EVENT_KINDS["en"].keys() == written


def alarm_kinds_raised() -> set[str]:
    """Return every ``kind`` passed to ``raise_alarm`` anywhere in the package.

    A kind is a string literal, a module-level constant, or a parameter of the
    calling function, followed to that function's own callers. Anything else
    fails the scan, so a new way of passing a kind cannot hide one.
    """
    trees = [ast.parse(path.read_text(encoding="utf-8"))
             for path in Path(watchdog.__file__).parent.rglob("*.py")]  # fmt: skip
    constants = {
        target.id: node.value.value
        for tree in trees
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }  # fmt: skip
    functions = [node for tree in trees for node in ast.walk(tree)
                 if isinstance(node, ast.FunctionDef)]  # fmt: skip

    outer = {id(call): func for func in functions for call in ast.walk(func)
             if isinstance(call, ast.Call)}  # fmt: skip

    def calls_to(name: str) -> list[tuple[ast.Call, ast.FunctionDef | None]]:
        found = []
        for tree in trees:
            for call in ast.walk(tree):
                if isinstance(call, ast.Call) and _called(call) == name:
                    found.append((call, outer.get(id(call))))
        return found

    def resolve(value: ast.expr, where: ast.FunctionDef | None, depth: int = 0) -> set[str]:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return {value.value}
        assert isinstance(value, ast.Name) and depth < 3, ast.unparse(value)
        if value.id in constants:
            return {constants[value.id]}
        assert where is not None, f"cannot resolve {value.id}"
        params = [arg.arg for arg in where.args.posonlyargs + where.args.args]
        kinds: set[str] = set()
        for call, caller in calls_to(where.name):
            given = {kw.arg: kw.value for kw in call.keywords}
            if value.id in given:
                kinds |= resolve(given[value.id], caller, depth + 1)
            else:
                kinds |= resolve(call.args[params.index(value.id)], caller, depth + 1)
        return kinds

    kinds: set[str] = set()
    for call, where in calls_to("raise_alarm"):
        given = {kw.arg: kw.value for kw in call.keywords}
        kinds |= resolve(given["kind"], where)
    return kinds


def _called(call: ast.Call) -> str:
    func = call.func
    return (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else ""
    )
