"""The dashboard in a real browser: headless Chromium, driven by Selenium through chromedriver.

The app is served by uvicorn on a free loopback port, in a thread of the
test. Two stories:

- the owner logs in, opens the cases, marks one handled by phone, and sees
  the overview change (a screenshot of it is saved under ``test-artefacts/``);
- the hostile mail of ``test_web_xss``: every page that shows it is opened,
  and no script of the sender's runs (no alert, no changed title, no flag
  set on ``window``), and the browser reports no Content-Security-Policy
  violation (our own pages need nothing the policy forbids).

Needs Debian's ``chromium`` and ``chromium-driver`` (``scripts/test.sh``
installs them). Without them the tests are skipped, except on CI
(``CI=true``), where that is a failure.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from tests.test_web_xss import SUBJECT, Hostile, play_hostile
from watchdog.demo import DemoResult, run_demo
from watchdog.demo.shop import WEB_USER
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.models import Case
from watchdog.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1280,1000",
)  # fmt: skip
ARTEFACTS = Path(__file__).resolve().parent.parent / "test-artefacts"
START_TIMEOUT_S = 20


def _unavailable(reason: str) -> NoReturn:
    """Skip on a laptop, fail on CI: CI must not silently lose the browser tests."""
    message = f"{reason}; install Debian's chromium and chromium-driver (scripts/test.sh does)"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def webdriver_module() -> Any:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            _unavailable(f"{path} is missing")
    try:
        from selenium import webdriver
    except ImportError:
        _unavailable("selenium is not installed (pip install -e '.[test]')")
    return webdriver


@pytest.fixture
def chrome(webdriver_module: Any, tmp_path: Path) -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver_module.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver_module.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


class Served:
    """An app served by uvicorn on a free loopback port, in a thread, until ``stop``."""

    def __init__(self, app: FastAPI) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            self.thread.join(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(START_TIMEOUT_S)


def serve(app: FastAPI) -> Iterator[Served]:
    served = Served(app)
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return run_demo(tmp_path_factory.mktemp("demo"), pace=0.0, stream=io.StringIO())


@pytest.fixture
def shop(demo: DemoResult, tmp_path: Path) -> Iterator[tuple[Served, DemoResult, Any]]:
    copy = tmp_path / "watchdog.db"
    shutil.copyfile(demo.out_dir / "watchdog.db", copy)
    engine = make_engine(f"sqlite:///{copy}")
    sessions = session_factory(engine)
    app = create_app(demo.config, sessions, clock=lambda: demo.end)
    yield from ((served, demo, sessions) for served in serve(app))
    engine.dispose()


@pytest.fixture(scope="module")
def hostile() -> Iterator[Hostile]:
    with tempfile.TemporaryDirectory(prefix="watchdog-hostile-") as folder:
        world = play_hostile(Path(folder))
        yield world
        world.engine.dispose()


def log_in(driver: Any, base: str, path: str, user: str, password: str) -> None:
    """Open ``path``, be sent to the login form, fill it in and come back to ``path``."""
    from selenium.webdriver.common.by import By

    driver.get(base + path)
    assert "/login" in driver.current_url
    driver.find_element(By.NAME, "username").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "section.login button[type=submit]").click()
    arrive(driver, base + path)


def arrive(driver: Any, url: str) -> None:
    """Wait until the browser has followed a click to ``url`` (a form's POST and its redirect)."""
    from selenium.webdriver.support.wait import WebDriverWait

    WebDriverWait(driver, 15).until(lambda d: d.current_url == url)


def csp_violations(driver: Any) -> list[str]:
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]


def test_the_owner_marks_a_case_handled_and_the_overview_changes(
    chrome: Any, shop: tuple[Served, DemoResult, Any]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    served, demo, sessions = shop
    log_in(chrome, served.url, "/cases", WEB_USER, demo.web_password)
    waiting_before = chrome.find_element(By.CSS_SELECTOR, "p.summary strong").text

    first = chrome.find_element(By.CSS_SELECTOR, "table.cases tr.case td a")
    case_id = int(first.text)
    first.click()
    arrive(chrome, f"{served.url}/cases/{case_id}")
    form = chrome.find_element(By.CSS_SELECTOR, f"form[action='/cases/{case_id}/handle']")
    form.find_element(By.NAME, "reason").send_keys("перезвонили, всё объяснили")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    WebDriverWait(chrome, 15).until(
        lambda d: "перезвонили, всё объяснили" in d.find_element(By.TAG_NAME, "main").text
    )
    assert chrome.current_url == f"{served.url}/cases/{case_id}"
    chrome.find_element(By.LINK_TEXT, "Обзор").click()
    arrive(chrome, f"{served.url}/")
    waiting_after = chrome.find_element(By.CSS_SELECTOR, "p.summary strong").text
    assert int(waiting_after) == int(waiting_before) - 1
    with sessions() as session:
        assert session.get(Case, case_id).state == "handled"
    assert csp_violations(chrome) == []
    ARTEFACTS.mkdir(exist_ok=True)
    shot = ARTEFACTS / "dashboard-overview-after-handling.png"
    assert chrome.save_screenshot(str(shot))
    print(f"screenshot: {shot}")


def test_a_wrong_password_is_refused_and_logging_out_ends_the_session(
    chrome: Any, shop: tuple[Served, DemoResult, Any]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    served, demo, _ = shop
    chrome.get(served.url + "/")
    chrome.find_element(By.NAME, "username").send_keys(WEB_USER)
    chrome.find_element(By.NAME, "password").send_keys("not-the-password")
    chrome.find_element(By.CSS_SELECTOR, "section.login button[type=submit]").click()
    alerts = WebDriverWait(chrome, 15).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "p.error[role=alert]")
    )
    assert alerts[0].text == "Неверное имя или пароль."
    assert chrome.get_cookie("watchdog_session") is None

    log_in(chrome, served.url, "/alarms", WEB_USER, demo.web_password)
    cookie = chrome.get_cookie("watchdog_session")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    chrome.find_element(By.CSS_SELECTOR, "form.logout button[type=submit]").click()
    arrive(chrome, served.url + "/login")

    assert chrome.get_cookie("watchdog_session") is None
    chrome.get(served.url + "/alarms")
    assert chrome.current_url == served.url + "/login?next=%2Falarms"


def test_no_script_of_a_sender_runs_in_the_browser(chrome: Any, hostile: Hostile) -> None:
    from selenium.webdriver.common.by import By

    app = create_app(hostile.config, hostile.sessions, clock=lambda: hostile.now)
    with hostile.sessions() as session:
        case_id = session.scalars(select(Case.id).where(Case.subject == SUBJECT)).first()
    assert case_id is not None
    for served in serve(app):
        log_in(chrome, served.url, f"/cases/{case_id}", WEB_USER, hostile.password)
        heading = chrome.find_element(By.TAG_NAME, "h1").text
        assert "<script>window.__xss='subject'</script>" in heading  # shown, as text
        for path in hostile.pages():
            chrome.get(served.url + path)
            title = chrome.title
            flag = chrome.execute_script("return typeof window.__xss")
            assert (flag, "pwned" in title) == ("undefined", False), path
        assert csp_violations(chrome) == []
        ARTEFACTS.mkdir(exist_ok=True)
        chrome.get(f"{served.url}/cases/{case_id}")
        shot = ARTEFACTS / "dashboard-hostile-case.png"
        assert chrome.save_screenshot(str(shot))
        print(f"screenshot: {shot}")
