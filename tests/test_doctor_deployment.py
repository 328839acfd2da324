"""The deployment kit, tested as far as a machine without a running systemd allows.

``contrib/watchdog.service`` is checked by systemd's own ``systemd-analyze``
(verify, and the offline security review), and read to prove it runs our
``run`` command as its own user with the secrets file. The guide,
``docs/deployment.md``, must use the unit's paths, and the commands it tells
the owner to type are run against the real Dovecot and aiosmtpd.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.dovecot import MailUser
from tests.fixtures.smtp import SmtpServer
from watchdog.cli import app

REPO = Path(__file__).resolve().parent.parent
UNIT = REPO / "contrib" / "watchdog.service"
ENV_EXAMPLE = REPO / "contrib" / "watchdog.env.example"
GUIDE = REPO / "docs" / "deployment.md"


def unit_settings(path: Path = UNIT) -> dict[str, list[str]]:
    """Return every ``Key=value`` of a unit file (a key may repeat, as SystemCallFilter does)."""
    settings: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def setting(key: str) -> str:
    [value] = unit_settings()[key]
    return value


def env_file(path: Path) -> dict[str, str]:
    """Read an EnvironmentFile as systemd does for the simple ``NAME=value`` lines we use."""
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value
    return pairs


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze not installed: apt-get install systemd")
        pytest.skip("systemd-analyze not installed: apt-get install systemd")
    return found


@pytest.fixture
def runnable_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart at this checkout's ``watchdog``: verify wants the file to exist."""
    installed = Path(sys.executable).parent / "watchdog"
    if not installed.exists():
        pytest.skip(f"no watchdog script beside {sys.executable}: pip install -e .")
    unit = tmp_path / "watchdog.service"
    program = shlex.split(setting("ExecStart"))[0]
    unit.write_text(UNIT.read_text(encoding="utf-8").replace(program, str(installed)))
    return unit


# --- the unit -------------------------------------------------------------------------


def test_systemd_finds_nothing_wrong_with_the_unit(runnable_unit: Path) -> None:
    result = subprocess.run(
        [systemd_analyze(), "verify", str(runnable_unit)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_unit_is_tightly_confined(runnable_unit: Path) -> None:
    # --threshold is in tenths: fail above an exposure of 2.0 ("OK"; 10 is "UNSAFE").
    result = subprocess.run(
        [systemd_analyze(), "security", "--offline=yes", "--threshold=20", str(runnable_unit)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_unit_runs_the_daemon_as_its_own_user_with_the_secrets_file() -> None:
    settings = unit_settings()
    program, *args = shlex.split(setting("ExecStart"))

    # The unit's arguments, as our command line parses them, reach `watchdog run`.
    help_ = CliRunner().invoke(app, [*args, "--help"])

    assert help_.exit_code == 0 and "Usage: watchdog run [OPTIONS]" in help_.stdout
    assert args == ["--config", "/etc/watchdog/watchdog.toml", "run"]
    assert Path(program).name == "watchdog" and program.startswith("/opt/inbox-watchdog/.venv/")
    assert settings["User"] == ["watchdog"] and settings["Type"] == ["simple"]
    assert settings["EnvironmentFile"] == ["/etc/watchdog/watchdog.env"]
    assert settings["Restart"] == ["on-failure"]
    assert settings["StateDirectory"] == ["watchdog"]
    assert settings["WorkingDirectory"] == settings["ReadWritePaths"] == ["/var/lib/watchdog"]
    assert settings["ProtectSystem"] == ["strict"] and settings["NoNewPrivileges"] == ["yes"]


def test_the_unit_does_not_restart_on_a_config_error() -> None:
    from watchdog.cli.exits import RET_CONFIG

    assert setting("RestartPreventExitStatus") == str(RET_CONFIG)


def test_the_env_example_names_every_variable_the_example_config_uses() -> None:
    def names(table: object) -> set[str]:
        if isinstance(table, dict):
            found = {v for k, v in table.items() if k.endswith("_env") and isinstance(v, str)}
            return found.union(*(names(value) for value in table.values()))
        if isinstance(table, list):
            return set().union(*(names(item) for item in table))
        return set()

    config = tomllib.loads((REPO / "config.example.toml").read_text(encoding="utf-8"))

    assert set(env_file(ENV_EXAMPLE)) == names(config)


# --- the guide ------------------------------------------------------------------------


def guide_blocks(language: str) -> list[str]:
    """Return the fenced code blocks of the guide in ``language`` (sh, toml, ...)."""
    text = GUIDE.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.DOTALL | re.MULTILINE)


def guide_helper() -> tuple[dict[str, str], list[str]]:
    """Return the ``wd`` helper's systemd properties and the command it runs."""
    [block] = [block for block in guide_blocks("sh") if block.startswith("wd() {")]
    words = shlex.split(
        block.replace("\\\n", " ").removeprefix("wd() {").rstrip().removesuffix("}")
    )
    properties = dict(words[i + 1].split("=", 1) for i, word in enumerate(words) if word == "-p")
    start = next(i for i, word in enumerate(words) if word.startswith("/"))
    return properties, words[start:]


def guide_commands() -> list[list[str]]:
    """Return the arguments of every ``wd ...`` command the guide tells the owner to type."""
    return [
        shlex.split(line)[1:]
        for block in guide_blocks("sh")
        for line in block.splitlines()
        if line.startswith("wd ")
    ]


def test_the_guides_helper_runs_commands_exactly_as_the_unit_does() -> None:
    properties, command = guide_helper()

    for key, value in properties.items():
        assert unit_settings()[key] == [value], key
    assert command == [*shlex.split(setting("ExecStart"))[:-1], "$@"]


@pytest.mark.dovecot
def test_the_commands_in_the_guide_work_against_real_servers(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mailbox_user: MailUser,
    smtp_server: SmtpServer,
) -> None:
    """Steps 3 and 4 of the guide: the env file, the server settings, db upgrade and doctor."""
    for name, flag in (("Sent", "\\Sent"), ("Trash", "\\Trash"), ("Junk", "\\Junk")):
        mailbox_user.create_folder(name, flag)
    state = tmp_path / "var-lib-watchdog"
    state.mkdir()
    [server_settings] = [block for block in guide_blocks("toml") if "[database]" in block]
    config = tmp_path / "watchdog.toml"
    config.write_text(
        server_settings.replace("/var/lib/watchdog", str(state))
        + OWNER_RELAY_MAILBOX.format(user=mailbox_user, relay=smtp_server),
        encoding="utf-8",
    )
    secrets = tmp_path / "watchdog.env"
    secrets.write_text(
        f"WATCHDOG_ORDERS_PASSWORD={mailbox_user.password}\nWATCHDOG_WEB_PASSWORD=web-pass\n"
    )
    for name, value in env_file(secrets).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(state)

    commands = guide_commands()
    results = [CliRunner().invoke(app, ["--config", str(config), *args]) for args in commands]

    assert commands == [
        ["db", "upgrade"],
        ["doctor"],
        ["doctor", "--send-test"],
        ["db", "upgrade"],
        ["doctor"],
    ]
    for args, result in zip(commands, results, strict=True):
        assert result.exit_code == 0, f"wd {' '.join(args)}:\n{result.stdout}{result.stderr}"
    assert (state / "watchdog.db").exists()
    [test_message] = smtp_server.messages
    assert test_message.rcpt_tos == ["owner@shop.test"]


OWNER_RELAY_MAILBOX = """
[owner]
email = "owner@shop.test"
language = "en"

[smtp]
host = "127.0.0.1"
port = {relay.port}
security = "none"
from = "Watchdog <watchdog@shop.test>"

[[mailbox]]
name = "orders"
host = "127.0.0.1"
port = {user.port}
security = "none"
username = "{user.address}"
password_env = "WATCHDOG_ORDERS_PASSWORD"
"""
