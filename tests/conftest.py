"""The small shared world of the test suite, and the real servers it runs against.

Server fixtures live in ``tests/fixtures/``, one module per server; they are
loaded here as plugins so that every test module can ask for them by name.
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.dovecot",
    "tests.fixtures.smtp",
]


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never inherit the developer's WATCHDOG_* variables."""
    for name in list(os.environ):
        if name.startswith("WATCHDOG_"):
            monkeypatch.delenv(name, raising=False)
