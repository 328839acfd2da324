"""Hostile mail through the whole pipeline: nothing a sender wrote becomes live markup.

A mail and a site-form submission carry script tags, event handlers and
``javascript:`` links in every field a sender controls: the subject, the
From display name, the plain-text and the HTML body, the form's fields. They
go in through the real doors (the demo's in-memory IMAP account and the
form webhook), are classified, tracked, escalated, alarmed about (a copy
sits in Junk) and put in the next morning's digest. Then every dashboard
page is read and parsed: only the tags and attributes of our own templates
may appear, no event handler, no link off the site; the payloads show as
text. ``test_web_browser`` opens the same pages in Chromium and checks that
nothing runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from tests.test_web_auth import Browser, log_in
from watchdog.config import Config
from watchdog.cycle import Edges, run_cycle
from watchdog.demo.clock import VirtualClock
from watchdog.demo.mailer import FolderMailer
from watchdog.demo.reader import DemoMailbox
from watchdog.demo.run import post_in_process
from watchdog.demo.shop import FORM, WEB_USER, write_shop
from watchdog.demo.week import MOSCOW, Mail, Post, Week
from watchdog.ingest.store import ingestor_for
from watchdog.notify import Channel
from watchdog.notify.channels import EmailChannel
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade_engine
from watchdog.storage.models import Alarm, Case, Digest, Message, Outbox
from watchdog.web.app import create_app

MONDAY = datetime(2025, 11, 10, tzinfo=MOSCOW).astimezone(UTC)
SUBJECT = "<script>window.__xss='subject'</script> Order <img src=x onerror=window.__xss=1>"
SENDER = "<script>window.__xss='from'</script>Mallory <img src=x onerror=alert(1)>"
TEXT_PART = (
    "Hello <script>window.__xss='text'</script> when does my order ship?\r\n"
    '<a href="javascript:window.__xss=2">track</a> <img src=x onerror="window.__xss=3">\r\n'
)
HTML_PART = (
    '<html><body><p onclick="window.__xss=4">Where is my order?</p>'
    "<script>window.__xss='html'; document.title='pwned'</script>"
    '<a href="javascript:window.__xss=5">click me</a><img src=x onerror="window.__xss=6">'
    '<iframe src="javascript:window.__xss=7"></iframe><svg onload="window.__xss=8"></svg>'
    "</body></html>"
)
FORM_FIELDS = {
    "Name": "<script>window.__xss='form name'</script>",
    "Email": "visitor@evil.test",
    "Phone": "+7 916 123-45-67",
    "Textarea": '<img src=x onerror="window.__xss=9"> <a href="javascript:window.__xss=10">x</a>'
    " Can I order 10 candles?",
    "formname": "<svg onload=window.__xss=11>",
    "tranid": "666:1",
}
#: Tags and attributes our templates write; anything else in a page came from a sender.
OUR_TAGS = frozenset(
    ("html", "head", "meta", "title", "link", "body", "header", "a", "nav", "div", "span",
     "strong", "form", "input", "button", "main", "section", "h1", "h2", "h3", "p", "table",
     "thead", "tbody", "tr", "th", "td", "dl", "dt", "dd", "ul", "li", "pre", "code", "label",
     "select", "option")
)  # fmt: skip
OUR_ATTRIBUTES = frozenset(
    ("lang", "charset", "name", "content", "rel", "href", "class", "method", "action", "type",
     "value", "hreflang", "role", "maxlength", "required", "autocomplete", "autofocus",
     "selected")
)  # fmt: skip


def _mail(message_id: str, *, html_only: bool = False) -> bytes:
    headers = (
        f'From: "{SENDER}" <mallory@evil.test>\r\nTo: orders@shop-demo.ru\r\n'
        f"Subject: {SUBJECT}\r\nDate: Mon, 10 Nov 2025 09:00:00 +0300\r\n"
        f"Message-ID: <{message_id}@evil.test>\r\nMIME-Version: 1.0\r\n"
    )
    if html_only:
        body = f"Content-Type: text/html; charset=utf-8\r\n\r\n{HTML_PART}\r\n"
        return (headers + body).encode()
    body = (
        'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{TEXT_PART}\r\n"
        f"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{HTML_PART}\r\n--b--\r\n"
    )
    return (headers + body).encode()


def hostile_week() -> Week:
    """The hostile mail in INBOX (twice: multipart and HTML only) and in Junk, and the form post."""
    at = MONDAY + timedelta(hours=9)
    return Week(
        monday=MONDAY,
        mails=(
            Mail("x1.eml", "INBOX", at, _mail("x1")),
            Mail("x2.eml", "INBOX", at + timedelta(minutes=5), _mail("x2", html_only=True)),
            Mail("x3.eml", "Junk", at + timedelta(minutes=10), _mail("x3")),
        ),
        posts=(Post("x.json", FORM, at + timedelta(minutes=20), json.dumps(FORM_FIELDS).encode()),),
        handlings=(),
    )


@dataclass
class Hostile:
    """The pipeline's database after the hostile mail, the config, and the dashboard's login."""

    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    password: str
    now: datetime

    def app_browser(self) -> Browser:
        browser = Browser(create_app(self.config, self.sessions, clock=lambda: self.now))
        assert log_in(browser, user=WEB_USER, password=self.password).status_code == 303
        return browser

    def pages(self) -> list[str]:
        """Return every dashboard page worth reading."""
        with self.sessions() as session:
            cases = session.scalars(select(Case.id)).all()
            messages = session.scalars(select(Message.id)).all()
            days = session.scalars(select(Digest.day)).all()
        return [
            "/", "/cases?state=all", "/messages", "/alarms", "/sources", "/digests",
            *(f"/cases/{n}" for n in cases), *(f"/messages/{n}" for n in messages),
            *(f"/digests/{day.isoformat()}" for day in days),
        ]  # fmt: skip


def play_hostile(folder: Path) -> Hostile:
    """Put the hostile week through the real pipeline: Monday 08:00 and 10:00, Tuesday 09:30."""
    shop = write_shop(folder, language="ru", listen="127.0.0.1:8080")
    engine = make_engine(shop.config.database.url)
    upgrade_engine(engine)
    sessions = session_factory(engine)
    week = hostile_week()
    clock = VirtualClock(MONDAY)
    mailer = FolderMailer(folder / "outbox")

    def channels(config: Config) -> dict[str, Channel]:
        return {"email": EmailChannel(mailer, config.smtp.from_)}

    edges = Edges(connect=DemoMailbox(week, clock).connect, channels=channels)
    ingestor = ingestor_for(shop.config)

    def cycle(now: datetime) -> None:
        clock.now = now
        run_cycle(sessions, shop.config, now, edges=edges, ingestor=ingestor)

    cycle(MONDAY + timedelta(hours=8))  # watching begins: what arrives later is no history
    webhook = create_app(shop.config, sessions, clock=clock)
    for post in week.posts:
        clock.now = post.at
        headers = {"Content-Type": "application/json", "X-Watchdog-Token": shop.form_token}
        assert (
            post_in_process(webhook, f"/hooks/{post.form}", post.body, headers).status_code == 200
        )
    cycle(MONDAY + timedelta(hours=10))
    cycle(MONDAY + timedelta(days=1, hours=9, minutes=30))  # escalated, and Monday's digest
    return Hostile(shop.config, engine, sessions, shop.web_password, clock.now)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    world = play_hostile(tmp_path_factory.mktemp("hostile"))
    yield world
    world.engine.dispose()


class Markup(HTMLParser):
    """Every tag and attribute of a page, as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def markup_problems(page: str) -> list[str]:
    """Return what in ``page`` is not our own markup: foreign tags, handlers, off-site links."""
    parser = Markup()
    parser.feed(page)
    problems = []
    for tag, attrs in parser.tags:
        if tag not in OUR_TAGS:
            problems.append(f"<{tag}>")
        for name, value in attrs:
            if name not in OUR_ATTRIBUTES:
                problems.append(f"<{tag} {name}=...>")
            if name in ("href", "action", "src") and not (value or "").startswith("/"):
                problems.append(f"<{tag} {name}={value!r}>")
    return problems


# --- the pipeline stored the payloads as they came --------------------------------------------


def test_the_hostile_mail_went_all_the_way_through_the_pipeline(hostile: Hostile) -> None:
    with hostile.sessions() as session:
        subjects = set(session.scalars(select(Message.subject)))
        names = set(session.scalars(select(Message.from_name)))
        cases = session.scalars(select(Case)).all()
        alarms = session.scalars(select(Alarm.kind)).all()
        digest = session.scalars(select(Outbox.body_text).where(Outbox.kind == "digest")).one()

    assert SUBJECT in subjects
    assert FORM_FIELDS["Name"] in names and any(SENDER in (name or "") for name in names)
    assert len(cases) >= 2  # the mail and the form submission are requests waiting
    assert "request_in_junk" in alarms
    assert "<script>" in digest  # the digest's text names the customer as written


# --- every page shows them as text ------------------------------------------------------------


def test_no_page_carries_a_senders_markup(hostile: Hostile) -> None:
    browser = hostile.app_browser()

    for path in hostile.pages():
        response = browser.get(path)
        assert response.status_code == 200, path
        assert markup_problems(response.text) == [], path


def test_the_markup_check_sees_a_senders_markup() -> None:
    assert markup_problems('<p><a href="/cases">ok</a></p>') == []
    assert sorted(markup_problems('<img src=x onerror="alert(1)">')) == [
        "<img onerror=...>",
        "<img src='x'>",
        "<img src=...>",
        "<img>",
    ]
    assert markup_problems('<a href=" javascript:alert(1)">x</a>') == [
        "<a href=' javascript:alert(1)'>"
    ]


def test_the_payloads_are_shown_as_the_sender_wrote_them(hostile: Hostile) -> None:
    browser = hostile.app_browser()
    with hostile.sessions() as session:
        case = session.scalars(select(Case).where(Case.subject == SUBJECT)).first()
        assert case is not None
        mail = session.get_one(Message, case.opening_message_id)
        form = session.scalars(
            select(Message).where(Message.from_name == FORM_FIELDS["Name"])
        ).one()

    message_page = browser.get(f"/messages/{mail.id}").text
    case_page = browser.get(f"/cases/{case.id}").text
    form_page = browser.get(f"/messages/{form.id}").text

    escaped_subject = "&lt;script&gt;window.__xss=&#39;subject&#39;&lt;/script&gt; Order"
    assert escaped_subject in message_page and escaped_subject in case_page
    assert "&lt;script&gt;window.__xss=&#39;from&#39;&lt;/script&gt;Mallory" in message_page
    assert "&lt;a href=&#34;javascript:window.__xss=2&#34;&gt;track&lt;/a&gt;" in message_page
    assert "&lt;script&gt;window.__xss=&#39;form name&#39;&lt;/script&gt;" in form_page
    assert "when does my order ship?" in case_page  # the snippet, reduced to words


def test_a_snippet_of_html_mail_keeps_only_its_words(hostile: Hostile) -> None:
    page = hostile.app_browser().get("/messages").text

    assert "Where is my order? click me" in page
    assert "__xss=4" not in page and "__xss=5" not in page  # the handler and the link went
