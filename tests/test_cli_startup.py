"""Starting the ``watchdog`` command stays cheap.

The daemon's ingest workers come from a fork server that preloads the
``watchdog`` script, so whatever ``import watchdog.cli`` pulls in is paid for
inside the first mailbox sync, and by every command before it does anything.
Each check runs a fresh interpreter: this test process has long since imported
everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Libraries and watchdog parts that only some commands need, each costly to import.
HEAVY = (
    "sqlalchemy",
    "pydantic",
    "fastapi",
    "uvicorn",
    "alembic",
    "apscheduler",
    "watchdog.config",
    "watchdog.storage",
    "watchdog.daemon",
    "watchdog.cycle",
    "watchdog.demo",
    "watchdog.doctor",
    "watchdog.classify",
    "watchdog.ingest",
    "watchdog.web",
)

COMMANDS = ("db", "run", "doctor", "classify", "cases", "handle", "digest", "demo")


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("WATCHDOG_CONFIG", None)
    command = [sys.executable, *args]
    return subprocess.run(
        command, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )


def test_importing_the_cli_loads_none_of_the_heavy_modules() -> None:
    probe = (
        "import json, sys, watchdog.cli; "
        f"print(json.dumps(sorted(m for m in {list(HEAVY)!r} if m in sys.modules)))"
    )
    result = _python("-c", probe)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_help_still_lists_every_command() -> None:
    result = _python("-m", "watchdog", "--help")
    assert result.returncode == 0, result.stderr
    listed = {line.strip(" │").split(" ", 1)[0] for line in result.stdout.splitlines()}
    assert set(COMMANDS) <= listed, result.stdout


def test_every_command_still_shows_its_options() -> None:
    """Each command's annotations resolve without the modules it imports only when it runs."""
    for command, option in [
        ("run", "--once"),
        ("doctor", "--send-test"),
        ("classify", "--rules-dir"),
        ("cases", "--state"),
        ("handle", "--reason"),
        ("digest", "--print"),
        ("demo", "--no-serve"),
    ]:
        result = _python("-m", "watchdog", command, "--help")
        assert result.returncode == 0, result.stderr
        assert option in result.stdout, result.stdout
    result = _python("-m", "watchdog", "db", "--help")
    assert result.returncode == 0, result.stderr
    assert "upgrade" in result.stdout
