"""The dashboard's front door: login, logout, wrong passwords, CSRF, cookies, headers.

Everything goes through the whole HTTP stack (httpx's ASGI transport) with a
cookie jar, as a browser would; ``Browser`` and ``log_in`` are shared with
the other dashboard tests.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from tests.test_web_hooks import CONFIG, NOW, load
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.web.app import create_app
from watchdog.web.auth import credentials_match
from watchdog.web.pages import local_path
from watchdog.web.session import SessionStore
from watchdog.web.throttle import FREE, Throttle, delay

PASSWORD = "pw"  # WEB_PASSWORD in tests.test_web_hooks.load
CSRF = re.compile(r'name="csrf" value="([^"]*)"')


class Browser:
    """A client that keeps cookies between requests, like a browser, through the ASGI app.

    ``origin`` is sent as the Origin header of every POST, as browsers do for forms.
    """

    def __init__(self, app: FastAPI, base_url: str = "http://127.0.0.1:8080") -> None:
        self.app, self.base_url = app, base_url
        self.cookies = httpx.Cookies()
        self.origin: str | None = base_url

    def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        """Send one request with the jar's cookies; keep the cookies the answer sets."""

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(
                transport=transport, base_url=self.base_url, cookies=self.cookies
            ) as client:
                response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
                self.cookies = httpx.Cookies(client.cookies)
                return response

        return asyncio.run(send())

    def get(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, data: dict[str, str], **kwargs: object) -> httpx.Response:
        headers = {"origin": self.origin} if self.origin else {}
        return self.request("POST", url, data=data, headers=headers, **kwargs)

    def csrf(self, path: str) -> str:
        """Return the CSRF token of the forms on page ``path``."""
        page = self.get(path)
        found = CSRF.search(page.text)
        assert found is not None, f"no form with a CSRF token on {path}"
        return found.group(1)

    def submit(self, page: str, action: str, **fields: str) -> httpx.Response:
        """Post ``fields`` to ``action`` with the CSRF token of ``page``, as a click would."""
        return self.post(action, {"csrf": self.csrf(page), **fields})


def log_in(browser: Browser, user: str = "owner", password: str = PASSWORD,
           next: str = "/") -> httpx.Response:  # fmt: skip
    """Fill in and send the login form; return the answer (a 303 when it worked)."""
    token = browser.csrf(f"/login?next={quote(next, safe='')}")
    return browser.post(
        "/login", {"username": user, "password": password, "csrf": token, "next": next}
    )


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'watchdog.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def app(tmp_path: Path, sessions: sessionmaker[Session]) -> FastAPI:
    return create_app(load(tmp_path), sessions, clock=lambda: NOW)


@pytest.fixture
def browser(app: FastAPI) -> Browser:
    return Browser(app)


PAGES = ["/", "/cases", "/cases/1", "/messages", "/messages/1", "/sources", "/alarms",
         "/digests", "/digests/2025-11-02"]  # fmt: skip
ACTIONS = ["/cases/1/handle", "/cases/1/not-request", "/messages/1/request",
           "/alarms/1/acknowledge", "/logout"]  # fmt: skip


# --- logging in -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_stranger_to_the_login_form_and_back(
    browser: Browser, path: str
) -> None:
    response = browser.get(path)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + path.replace("/", "%2F")
    assert "Мария" not in response.text and response.text == ""


def test_login_goes_back_to_the_page_asked_for(browser: Browser) -> None:
    response = log_in(browser, next="/cases?state=all")

    assert response.status_code == 303
    assert response.headers["location"] == "/cases?state=all"
    assert browser.get("/cases?state=all").status_code == 200


@pytest.mark.parametrize(
    "target",
    ["https://evil.test/", "//evil.test/", "/\\evil.test", "javascript:alert(1)",
     "/cases\r\nSet-Cookie: x=1", "evil"],
)  # fmt: skip
def test_login_never_redirects_off_the_site(browser: Browser, target: str) -> None:
    response = log_in(browser, next=target)

    assert response.status_code == 303
    assert response.headers["location"] == "/"


@pytest.mark.parametrize(
    ("user", "password"),
    [("owner", "wrong"), ("admin", PASSWORD), ("", ""), ("owner", PASSWORD + " ")],
)
def test_a_wrong_login_is_refused_and_starts_no_session(
    browser: Browser, user: str, password: str
) -> None:
    response = log_in(browser, user=user, password=password)

    assert response.status_code == 401
    assert "Неверное имя или пароль." in response.text
    assert "watchdog_session" not in browser.cookies
    assert browser.get("/").status_code == 303  # still a stranger


def test_the_login_form_keeps_the_name_but_never_the_password(browser: Browser) -> None:
    page = log_in(browser, user="owner", password="s3cret-guess").text

    assert 'value="owner"' in page
    assert "s3cret-guess" not in page


def test_logout_ends_the_session_on_the_server_too(browser: Browser) -> None:
    log_in(browser)
    stolen = browser.cookies["watchdog_session"]

    response = browser.submit("/", "/logout")

    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "watchdog_session" not in browser.cookies
    thief = Browser(browser.app)
    thief.cookies.set("watchdog_session", stolen, domain="127.0.0.1")
    assert thief.get("/").status_code == 303  # the copied cookie is worth nothing now


def test_a_made_up_session_cookie_is_no_login(browser: Browser) -> None:
    browser.cookies.set("watchdog_session", "x" * 43, domain="127.0.0.1")

    assert browser.get("/").status_code == 303


def test_the_session_cookie_is_httponly_and_samesite(browser: Browser) -> None:
    response = log_in(browser)

    cookie = response.headers["set-cookie"]
    assert cookie.startswith("watchdog_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http on loopback: a Secure cookie would never come back


def test_the_session_cookie_is_secure_when_served_over_https(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    behind_tls = CONFIG.replace(
        '[web]\npassword_env = "WEB_PASSWORD"\n',
        '[web]\npassword_env = "WEB_PASSWORD"\npublic_url = "https://watchdog.shop.test"\n',
    )
    config = load(tmp_path, behind_tls)
    browser = Browser(create_app(config, sessions), base_url="https://watchdog.shop.test")

    response = log_in(browser)

    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]
    assert browser.get("/").status_code == 200


def test_without_a_configured_password_the_dashboard_refuses_to_serve(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    config = load(tmp_path, CONFIG.replace('[web]\npassword_env = "WEB_PASSWORD"\n', ""))
    browser = Browser(create_app(config, sessions))

    for path in ("/", "/login", "/cases"):
        response = browser.get(path)
        assert response.status_code == 503
        assert "password_env" in response.text


# --- CSRF -------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
def test_a_post_without_the_token_is_refused(browser: Browser, action: str) -> None:
    log_in(browser)

    response = browser.post(action, {"reason": "звонок"})

    assert response.status_code == 403
    assert "Обновите страницу" in response.text
    assert browser.get("/").status_code == 200  # still logged in: nothing was done


@pytest.mark.parametrize("action", ACTIONS)
def test_a_post_with_another_sessions_token_is_refused(app: FastAPI, action: str) -> None:
    mine, theirs = Browser(app), Browser(app)
    log_in(mine)
    log_in(theirs)

    response = mine.post(action, {"csrf": theirs.csrf("/"), "reason": "звонок"})

    assert response.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [{"origin": "https://evil.test"}, {"origin": "null"},
     {"sec-fetch-site": "cross-site"}, {"sec-fetch-site": "same-site"}],
)  # fmt: skip
def test_a_post_from_another_site_is_refused_even_with_the_token(
    browser: Browser, headers: dict[str, str]
) -> None:
    log_in(browser)
    token = browser.csrf("/")
    browser.origin = None

    response = browser.request("POST", "/logout", data={"csrf": token}, headers=headers)

    assert response.status_code == 403
    assert "с другого сайта" in response.text
    assert browser.get("/").status_code == 200  # the logout did not happen


def test_a_post_without_origin_headers_relies_on_the_token(browser: Browser) -> None:
    log_in(browser)
    token = browser.csrf("/")
    browser.origin = None

    assert browser.post("/logout", {"csrf": token}).status_code == 303


def test_the_login_form_itself_needs_its_token(browser: Browser) -> None:
    response = browser.post("/login", {"username": "owner", "password": PASSWORD})

    assert response.status_code == 403
    assert "watchdog_session" not in browser.cookies


def test_a_post_without_a_login_is_401(browser: Browser) -> None:
    assert browser.post("/cases/1/handle", {"reason": "x"}).status_code == 401


# --- throttle ---------------------------------------------------------------------------------


def test_repeated_wrong_passwords_make_the_client_wait(app: FastAPI) -> None:
    clock = FakeClock()
    app.state.security.throttle.clock = clock
    browser = Browser(app)
    for _ in range(FREE):
        assert log_in(browser, password="guess").status_code == 401

    refused = log_in(browser)  # even the right password: it is not looked at

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert "watchdog_session" not in browser.cookies
    clock.now += 1.0
    assert log_in(browser).status_code == 303  # waited long enough


def test_a_right_password_forgets_the_wrong_ones() -> None:
    throttle = Throttle(clock=FakeClock())
    for _ in range(FREE + 2):
        throttle.failed("10.0.0.1")
    assert throttle.wait("10.0.0.1") == delay(FREE + 2) == 4.0

    throttle.succeeded("10.0.0.1")

    assert throttle.wait("10.0.0.1") == 0.0
    assert throttle.wait("10.0.0.2") == 0.0  # another client was never slowed


def test_the_wait_doubles_up_to_a_cap() -> None:
    waits = [delay(n) for n in range(FREE - 1, FREE + 4)]

    assert waits == [0.0, 1.0, 2.0, 4.0, 8.0]
    assert delay(10_000) == 900.0


# --- pieces -----------------------------------------------------------------------------------


def test_credentials_must_match_in_both_halves() -> None:
    assert credentials_match("owner", "pw", "owner", "pw")
    assert not credentials_match("owner", "pw2", "owner", "pw")
    assert not credentials_match("owner2", "pw", "owner", "pw")
    assert not credentials_match("", "", "owner", "pw")


def test_a_session_ends_after_idle_time_and_after_its_lifetime() -> None:
    clock = FakeClock()
    store = SessionStore(idle=10, lifetime=25, clock=clock)
    token = store.create("owner")

    clock.now += 9
    assert store.user(token) == "owner"
    clock.now += 9
    assert store.user(token) == "owner"  # each request restarts the idle time
    clock.now += 9
    assert store.user(token) is None  # 27 s: past the lifetime
    idle = store.create("owner")
    clock.now += 11
    assert store.user(idle) is None


def test_the_oldest_sessions_go_first_when_too_many() -> None:
    store = SessionStore(limit=2, clock=FakeClock())
    first, second, third = (store.create("owner") for _ in range(3))

    assert store.user(first) is None
    assert store.user(second) == store.user(third) == "owner"
    assert len(store) == 2


@pytest.mark.parametrize(
    ("value", "kept"),
    [("/cases?state=all", True), ("/", True), ("//evil.test", False), ("/\\evil", False),
     ("http://evil.test/", False), ("cases", False), ("", False), ("/a\nb", False)],
)  # fmt: skip
def test_only_local_paths_are_followed(value: str, kept: bool) -> None:
    assert local_path(value) == (value if kept else "/")


# --- headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/", "/static/dashboard.css"])
def test_every_dashboard_response_forbids_scripts_frames_and_sniffing(
    browser: Browser, path: str
) -> None:
    log_in(browser)

    headers = browser.get(path).headers

    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy  # no script source at all: default-src 'none' applies
    assert "'unsafe-inline'" not in policy
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cache-control"] == "no-store"


def test_no_secret_is_ever_in_a_page(browser: Browser) -> None:
    log_in(browser)

    for path in ["/login", *PAGES]:
        page = browser.get(path).text
        assert "form-token-7f3a" not in page  # the form's token
        assert 'value="pw"' not in page and ">pw<" not in page


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
