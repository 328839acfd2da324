"""Where the folders that ship with the package are: ``rules/`` and ``migrations/``.

They live at the top of the repository, and setup.py maps them into the
installed package as ``watchdog.rules`` and ``watchdog.migrations``. From a
source checkout the repository's ``watchdog/`` shadows that mapping, so the
checkout's own folders are looked for first.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def bundled_dir(name: str) -> Path:
    """Return the directory of the bundled folder ``name`` ("rules" or "migrations")."""
    in_checkout = _CHECKOUT / name
    if (_CHECKOUT / "pyproject.toml").is_file() and in_checkout.is_dir():
        return in_checkout
    return Path(str(resources.files(f"watchdog.{name}")))


def rules_dir() -> Path:
    """Return the folder of the rules every installation starts with."""
    return bundled_dir("rules")


def migrations_dir() -> Path:
    """Return the Alembic script folder."""
    return bundled_dir("migrations")
