"""The demo shop's configuration: a real ``watchdog.toml``, written to the demo's folder.

The demo goes through ``load_config`` like any installation, so what it shows
is what the same file would do in production. Secrets are given the way the
README asks for them, as ``*_env`` names; their values are handed to the
loader directly (never put into ``os.environ``), and the dashboard's password
is new on every run.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from watchdog.config import Config, load_config

Language = Literal["ru", "en"]

OWNER = "marina@shop-demo.ru"
TEAM = ("anna@shop-demo.ru", "oleg@shop-demo.ru")
WEB_USER = "demo"
MAILBOX = "orders"
FORM = "gifts"

_TEMPLATE = """\
# Written by `watchdog demo`: the watchdog of «Свечная лавка», a small shop.
# It is an ordinary config; only the mail comes from the bundled demo week
# instead of an IMAP server, and e-mails are written to {outbox} instead of
# being sent through [smtp].

[database]
url = {database}

[owner]
email = "{owner}"
name = "Марина"
language = "{language}"

[smtp]
host = "smtp.shop-demo.ru"
from = "Сторож почты <watchdog@shop-demo.ru>"

[sla]
first_response = "2h"
timezone = "Europe/Moscow"
working_hours = "09:00-18:00"
working_days = "mon-fri"
holidays = "RU"

[[escalation.step]]
after = "100%"
notify = "team"

[[escalation.step]]
after = "200%"
notify = "owner"
repeat = "4h"

[digest]
at = "09:00"

[classify]
staff = ["{owner}", {team}]

[[mailbox]]
name = "{mailbox}"
host = "imap.shop-demo.ru"
username = "orders@shop-demo.ru"
password_env = "WATCHDOG_DEMO_IMAP_PASSWORD"
team = [{team}]

[[form]]
name = "{form}"
preset = "tilda"
token_env = "WATCHDOG_DEMO_FORM_TOKEN"
team = ["{first}"]

[web]
listen = "{listen}"
username = "{user}"
password_env = "WATCHDOG_DEMO_WEB_PASSWORD"
"""


@dataclass(frozen=True)
class Shop:
    """The loaded config, where it was written, and the secrets the demo itself needs."""

    config: Config
    path: Path
    form_token: str
    web_password: str


def write_shop(folder: Path, *, language: Language, listen: str) -> Shop:
    """Write ``watchdog.toml`` into ``folder`` and load it; return the config and its secrets."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "watchdog.toml"
    database = "sqlite:///" + (folder / "watchdog.db").resolve().as_posix()
    team = ", ".join(f'"{member}"' for member in TEAM)
    path.write_text(
        _TEMPLATE.format(
            outbox=folder / "outbox",
            database=json.dumps(database),
            owner=OWNER,
            language=language,
            team=team,
            first=TEAM[0],
            mailbox=MAILBOX,
            form=FORM,
            listen=listen,
            user=WEB_USER,
        ),
        encoding="utf-8",
    )
    environ = {
        "WATCHDOG_DEMO_IMAP_PASSWORD": "not-used-by-the-demo",
        "WATCHDOG_DEMO_FORM_TOKEN": secrets.token_urlsafe(16),
        "WATCHDOG_DEMO_WEB_PASSWORD": secrets.token_urlsafe(9),
    }
    config = load_config(path, environ=environ)
    return Shop(
        config=config,
        path=path,
        form_token=environ["WATCHDOG_DEMO_FORM_TOKEN"],
        web_password=environ["WATCHDOG_DEMO_WEB_PASSWORD"],
    )
