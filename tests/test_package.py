"""The installed package is ours, and the command line answers under both names."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import watchdog

REPO = Path(__file__).resolve().parent.parent


def test_import_name_watchdog_is_this_project_not_the_file_events_library() -> None:
    assert Path(watchdog.__file__).resolve() == REPO / "watchdog" / "__init__.py"
    assert metadata.version("inbox-watchdog") == watchdog.__version__


def test_pypi_package_named_watchdog_is_not_installed_beside_us() -> None:
    names = {dist.metadata["Name"].lower() for dist in metadata.distributions()}
    assert "watchdog" not in names, "the file-events 'watchdog' would shadow our import package"


def test_python_dash_m_watchdog_prints_the_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "watchdog", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"inbox-watchdog {watchdog.__version__}"
