"""The config file as a user meets it: what loads, and what each mistake looks like.

Every test writes a small ``watchdog.toml`` into a temporary folder that is
also the working directory, so error lines start with "watchdog.toml:" just
as they do for a user running ``watchdog`` next to their file.
"""

from __future__ import annotations

import os
import re
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from watchdog.config import (
    Config,
    HolidayRegion,
    Listen,
    Secret,
    Shift,
    load_config,
    resolve_config_path,
)
from watchdog.config.problems import all_models, allowed_keys
from watchdog.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent

OWNER_AND_SMTP = """
[owner]
email = "owner@example.com"

[smtp]
host = "smtp.example.com"
from = "Watchdog <watchdog@example.com>"
"""

ORDERS = """
[[mailbox]]
name = "orders"
host = "imap.example.com"
username = "orders@shop.example"
password_env = "WATCHDOG_ORDERS_PASSWORD"
"""


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each test in its own folder, with the orders password set."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WATCHDOG_ORDERS_PASSWORD", "orders-secret-value")


def load(text: str) -> Config:
    """Write ``text`` to ./watchdog.toml and load it."""
    Path("watchdog.toml").write_text(text, encoding="utf-8")
    return load_config(Path("watchdog.toml"))


def problems(text: str) -> list[str]:
    """Write ``text`` to ./watchdog.toml and return the problem lines loading it raises."""
    with pytest.raises(ConfigError) as caught:
        load(text)
    return caught.value.problems


# --- the example file ------------------------------------------------------------


def _example_text() -> str:
    return (REPO / "config.example.toml").read_text(encoding="utf-8")


def test_example_config_loads_with_its_variables_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in set(re.findall(r'_env = "(\w+)"', _example_text())):
        monkeypatch.setenv(name, f"dummy-{name}")

    config = load_config(REPO / "config.example.toml")

    assert [box.name for box in config.mailboxes] == ["orders"]
    assert [form.name for form in config.forms] == ["site-contact", "quote-request"]
    assert config.forms[1].api is not None
    assert config.forms[1].api.api_key.reveal() == "dummy-WATCHDOG_JOTFORM_API_KEY"
    assert config.warnings == ()


def test_example_config_mentions_every_key() -> None:
    text = _example_text()
    missing = [
        f"{model.__name__}.{key}"
        for model in all_models(Config)
        for key in allowed_keys(model)
        # A secret is shown as X_env only: X and X_file are explained once, at the top.
        if not key.endswith("_file")
        and f"{key}_env" not in allowed_keys(model)
        and not re.search(rf"^\s*#?\s*{key}\s*=", text, re.MULTILINE)
        and not re.search(rf"^\[+[\w.]*\b{key}\b[\w.]*\]+", text, re.MULTILINE)
    ]
    assert missing == []


def test_example_config_writes_no_secret_in_the_file() -> None:
    text = _example_text()
    assert not re.search(r"^\s*(password|token|bot_token|api_key)\s*=", text, re.MULTILINE)


# --- defaults ----------------------------------------------------------------------


def test_minimal_config_gets_the_documented_defaults() -> None:
    config = load(OWNER_AND_SMTP + ORDERS)

    assert config.database.url == "sqlite:///watchdog.db"
    assert config.owner.language == "ru"
    assert (config.smtp.port, config.smtp.security) == (587, "starttls")
    assert config.smtp.timeout == timedelta(seconds=30)
    assert config.sla.first_response == timedelta(hours=2)
    assert config.sla.timezone.key == "Europe/Moscow"
    assert config.sla.working_hours == (Shift(time(9), time(18)),)
    assert config.sla.working_days == frozenset({0, 1, 2, 3, 4})
    assert config.sla.holidays == HolidayRegion("RU")
    assert config.digest.at == time(9) and config.digest.enabled and not config.digest.skip_empty
    assert config.alarms.unreachable_after == timedelta(minutes=30)
    assert config.alarms.silence_factor == 3.0
    box = config.mailboxes[0]
    assert (box.port, box.security, box.poll_every) == (993, "tls", timedelta(minutes=2))
    assert box.max_fetch_bytes == 1_000_000 and not box.trust_answered_flag
    assert config.web is None


def test_default_escalation_policy_is_team_at_deadline_then_owner_every_four_hours() -> None:
    steps = load(OWNER_AND_SMTP + ORDERS).escalation.steps

    assert [(s.after, s.notify, s.repeat, s.deliver) for s in steps] == [
        (1.0, "team", None, "business_hours"),
        (2.0, "owner", timedelta(hours=4), "any_time"),
    ]


def test_ports_default_by_security() -> None:
    config = load(
        OWNER_AND_SMTP.replace('host = "smtp', 'security = "tls"\nhost = "smtp')
        + ORDERS.replace("[[mailbox]]", '[[mailbox]]\nsecurity = "starttls"')
    )

    assert config.smtp.port == 465
    assert config.mailboxes[0].port == 143


def test_own_domains_default_to_the_owner_and_mailbox_domains() -> None:
    config = load(OWNER_AND_SMTP + ORDERS)

    assert config.classify.own_domains == ("example.com", "shop.example")


def test_config_with_no_source_loads_with_a_warning() -> None:
    config = load(OWNER_AND_SMTP)

    assert config.warnings == (
        "watchdog.toml: no [[mailbox]] or [[form]] is configured, so nothing is watched",
    )


def test_config_is_frozen() -> None:
    config = load(OWNER_AND_SMTP + ORDERS)

    with pytest.raises(ValidationError):
        config.owner.email = "someone@example.com"


# --- values --------------------------------------------------------------------------


def test_split_shifts_are_sorted_and_may_end_at_midnight() -> None:
    config = load(OWNER_AND_SMTP + '[sla]\nworking_hours = "14:00-24:00, 09:00-13:00"\n')

    assert config.sla.working_hours == (Shift(time(9), time(13)), Shift(time(14), time.max))


def test_overlapping_shifts_are_rejected() -> None:
    assert problems(OWNER_AND_SMTP + '[sla]\nworking_hours = "09:00-14:00,13:00-18:00"\n') == [
        (
            "watchdog.toml: sla.working_hours: expected working hours whose shifts do not overlap,"
            ' got "09:00-14:00,13:00-18:00"'
        )
    ]


def test_working_days_take_ranges_and_lists() -> None:
    config = load(
        OWNER_AND_SMTP
        + '[sla]\nworking_days = "mon,wed,sat"\n'
        + ORDERS
        + '[mailbox.sla]\nworking_days = "sat-sun"\n'
    )

    assert config.sla.working_days == frozenset({0, 2, 5})
    assert config.sla_for("orders").working_days == frozenset({5, 6})


def test_days_off_accept_toml_dates_and_strings() -> None:
    config = load(OWNER_AND_SMTP + '[sla]\nextra_days_off = [2025-12-31, "2026-01-09"]\n')

    assert config.sla.extra_days_off == (date(2025, 12, 31), date(2026, 1, 9))


def test_holidays_take_a_subdivision_or_none() -> None:
    config = load(
        OWNER_AND_SMTP + ORDERS + '[mailbox.sla]\nholidays = "none"\n[sla]\nholidays = "us-ca"\n'
    )

    assert config.sla.holidays == HolidayRegion("US", "CA")
    assert config.sla_for("orders").holidays is None


def test_after_is_a_share_of_the_deadline_or_a_duration() -> None:
    config = load(
        OWNER_AND_SMTP
        + '[[escalation.step]]\nafter = "150%"\nnotify = "team"\n'
        + '[[escalation.step]]\nafter = "1h30m"\nnotify = "owner"\n'
    )

    assert [step.after for step in config.escalation.steps] == [1.5, timedelta(minutes=90)]


def test_addresses_are_lower_cased_and_sender_keeps_its_name() -> None:
    config = load(
        OWNER_AND_SMTP.replace("owner@example.com", "Owner@Example.COM")
        + ORDERS
        + 'team = ["Anna@Example.com"]\n'
    )

    assert config.owner.email == "owner@example.com"
    assert config.mailboxes[0].team == ("anna@example.com",)
    assert str(config.smtp.from_) == "Watchdog <watchdog@example.com>"
    assert config.smtp.from_.email == "watchdog@example.com"


def test_bad_address_in_a_team_is_numbered_from_one() -> None:
    assert problems(
        OWNER_AND_SMTP + ORDERS + 'team = ["anna@example.com", "boris at example"]\n'
    ) == [
        (
            'watchdog.toml: mailbox[1].team[2]: expected an e-mail address like "anna@example.com",'
            ' got "boris at example"'
        )
    ]


def test_source_sla_override_merges_with_sla() -> None:
    config = load(
        OWNER_AND_SMTP
        + '[sla]\nfirst_response = "4h"\ntimezone = "Europe/Berlin"\n'
        + ORDERS
        + '[mailbox.sla]\nfirst_response = "1h"\nextra_days_off = [2025-06-02]\n'
        + '[[form]]\nname = "site"\ntoken_env = "WATCHDOG_ORDERS_PASSWORD"\n'
    )

    orders = config.sla_for("orders")
    assert orders.first_response == timedelta(hours=1)
    assert orders.timezone.key == "Europe/Berlin"
    assert orders.extra_days_off == (date(2025, 6, 2),)
    assert config.sla_for("site") == config.sla
    with pytest.raises(KeyError):
        config.sla_for("nope")


def test_first_telegram_chat_is_named_telegram() -> None:
    config = load(
        OWNER_AND_SMTP
        + '[[notify.telegram]]\nbot_token_env = "WATCHDOG_ORDERS_PASSWORD"\nchat_id = -100123\n'
        + '[[notify.telegram]]\nname = "boss"\nbot_token_env = "WATCHDOG_ORDERS_PASSWORD"\n'
        + 'chat_id = "42"\n'
        + '[[escalation.step]]\nafter = "100%"\nnotify = "telegram:boss"\n'
    )

    assert [chat.name for chat in config.notify.telegram] == ["telegram", "boss"]
    assert config.notify.telegram[0].chat_id == "-100123"
    assert [c.name for c in config.telegram_chats_for("telegram")] == ["telegram", "boss"]
    assert [c.name for c in config.telegram_chats_for("telegram:boss")] == ["boss"]


def test_web_public_url_defaults_from_listen() -> None:
    config = load(
        OWNER_AND_SMTP
        + '[web]\nlisten = "0.0.0.0:9000"\npassword_env = "WATCHDOG_ORDERS_PASSWORD"\n'
    )

    assert config.web is not None
    assert config.web.listen == Listen("0.0.0.0", 9000)
    assert config.web.public_url == "http://0.0.0.0:9000"
    assert config.web.username == "owner"


def test_web_without_a_password_is_refused() -> None:
    assert problems(OWNER_AND_SMTP + '[web]\nlisten = "127.0.0.1:8080"\n') == [
        (
            "watchdog.toml: web.password: required key is missing"
            " (set password_env, password_file or password)"
        )
    ]


def test_rules_dir_is_relative_to_the_config_file_and_must_exist(tmp_path: Path) -> None:
    (tmp_path / "my-rules").mkdir()

    config = load(OWNER_AND_SMTP + '[classify]\nrules_dir = "my-rules"\n')
    assert config.classify.rules_dir is not None
    assert config.classify.rules_dir.resolve() == (tmp_path / "my-rules").resolve()

    lines = problems(OWNER_AND_SMTP + '[classify]\nrules_dir = "no-such-rules"\n')
    assert lines == [
        f"watchdog.toml: classify.rules_dir: folder {Path('no-such-rules')} does not exist"
    ]


# --- each kind of mistake ---------------------------------------------------------------


def test_bad_duration_names_the_key_and_the_value() -> None:
    assert problems(OWNER_AND_SMTP + '[sla]\nfirst_response = "2x"\n') == [
        'watchdog.toml: sla.first_response: expected a duration like "30m", "2h" or "1d", got "2x"'
    ]


def test_bad_port_of_second_mailbox_is_numbered_from_one() -> None:
    second = ORDERS.replace('"orders"', '"sales"') + 'port = "99x"\n'

    assert problems(OWNER_AND_SMTP + ORDERS + second) == [
        'watchdog.toml: mailbox[2].port: expected an integer 1-65535, got "99x"'
    ]


def test_bad_smtp_security_lists_what_is_allowed() -> None:
    text = OWNER_AND_SMTP.replace('host = "smtp', 'security = "ssl"\nhost = "smtp')

    assert problems(text) == [
        'watchdog.toml: smtp.security: expected one of starttls, tls, none, got "ssl"'
    ]


def test_unknown_timezone_suggests_the_close_one() -> None:
    assert problems(OWNER_AND_SMTP + '[sla]\ntimezone = "Europe/Moskow"\n') == [
        (
            'watchdog.toml: sla.timezone: expected an IANA time zone like "Europe/Moscow",'
            ' got "Europe/Moskow"; did you mean "Europe/Moscow"?'
        )
    ]


def test_unknown_holiday_country_gives_examples() -> None:
    assert problems(OWNER_AND_SMTP + ORDERS + '[mailbox.sla]\nholidays = "XX"\n') == [
        (
            "watchdog.toml: mailbox[1].sla.holidays: expected a country code for public holidays"
            ' such as "RU", "DE" or "US-CA", or "none", got "XX"'
        )
    ]


def test_unknown_key_suggests_the_close_one() -> None:
    text = OWNER_AND_SMTP + ORDERS.replace("password_env", "pasword_env")

    assert problems(text) == [
        'watchdog.toml: mailbox[1].pasword_env: unknown key; did you mean "password_env"?'
    ]


def test_unknown_key_with_nothing_close_gets_no_suggestion() -> None:
    assert problems(OWNER_AND_SMTP + "[digest]\ncolour = 3\n") == [
        "watchdog.toml: digest.colour: unknown key"
    ]


def test_unknown_table_is_reported() -> None:
    assert problems(OWNER_AND_SMTP + '[[mailboxes]]\nname = "x"\n') == [
        'watchdog.toml: mailboxes: unknown key; did you mean "mailbox"?'
    ]


def test_missing_required_key_is_named() -> None:
    text = OWNER_AND_SMTP.replace('email = "owner@example.com"', 'name = "Olga"')

    assert problems(text) == ["watchdog.toml: owner.email: required key is missing"]


def test_missing_required_table_is_named() -> None:
    assert problems('[owner]\nemail = "owner@example.com"\n') == [
        "watchdog.toml: smtp: required table is missing"
    ]


def test_mailbox_written_as_a_single_table_is_explained() -> None:
    text = OWNER_AND_SMTP + ORDERS.replace("[[mailbox]]", "[mailbox]")

    assert problems(text) == [
        "watchdog.toml: mailbox: expected an array of tables [[mailbox]], got a table"
    ]


def test_toml_syntax_error_gives_line_and_column() -> None:
    assert problems('[owner]\nemail = "owner@example.com"\nlanguage = = "en"\n') == [
        "watchdog.toml: line 3, column 12: Invalid value"
    ]


def test_missing_file_is_one_clear_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(Path("watchdog.toml"))

    assert caught.value.problems == [
        (
            "watchdog.toml: config file not found"
            " (give --config, set WATCHDOG_CONFIG, or create watchdog.toml)"
        )
    ]


def test_unset_env_variable_is_named_without_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_ORDERS_PASSWORD")

    assert problems(OWNER_AND_SMTP + ORDERS) == [
        (
            "watchdog.toml: mailbox[1].password_env:"
            " environment variable WATCHDOG_ORDERS_PASSWORD is not set"
        )
    ]


def test_commands_that_use_no_secret_load_without_the_variables_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WATCHDOG_ORDERS_PASSWORD")
    Path("watchdog.toml").write_text(OWNER_AND_SMTP + ORDERS, encoding="utf-8")

    config = load_config(Path("watchdog.toml"), need_secrets=False)

    assert config.mailboxes[0].name == "orders"


def test_a_misspelt_secret_key_is_reported_even_when_secrets_are_not_needed() -> None:
    Path("watchdog.toml").write_text(
        OWNER_AND_SMTP + ORDERS.replace("password_env", "pasword_env"), encoding="utf-8"
    )

    with pytest.raises(ConfigError) as caught:
        load_config(Path("watchdog.toml"), need_secrets=False)

    assert "did you mean" in caught.value.problems[0]


def test_secret_file_is_read_without_its_trailing_newline(tmp_path: Path) -> None:
    (tmp_path / "smtp.pass").write_text("pass word\n", encoding="utf-8")

    config = load(OWNER_AND_SMTP + 'password_file = "smtp.pass"\n')

    assert config.smtp.password is not None
    assert config.smtp.password.reveal() == "pass word"


def test_unreadable_secret_file_names_the_path_and_the_reason(tmp_path: Path) -> None:
    lines = problems(OWNER_AND_SMTP + 'password_file = "missing.pass"\n')

    assert lines == [
        f"watchdog.toml: smtp.password_file: cannot read {Path('missing.pass')}: {os.strerror(2)}"
    ]


def test_giving_a_secret_two_ways_is_an_error() -> None:
    text = OWNER_AND_SMTP + ORDERS + 'password_file = "orders.pass"\n'

    assert problems(text) == [
        (
            "watchdog.toml: mailbox[1].password: give only one of password, password_env,"
            " password_file; found password_env and password_file"
        )
    ]


def test_duplicate_source_names_are_refused_across_mailboxes_and_forms() -> None:
    text = (
        OWNER_AND_SMTP
        + ORDERS
        + '[[form]]\nname = "orders"\ntoken_env = "WATCHDOG_ORDERS_PASSWORD"\n'
    )

    assert problems(text) == [
        (
            'watchdog.toml: form[1].name: "orders" is already the name of mailbox[1];'
            " source names (of mailboxes and forms) must be unique"
        )
    ]


def test_step_naming_an_unknown_telegram_chat_is_refused() -> None:
    text = (
        OWNER_AND_SMTP
        + '[[notify.telegram]]\nbot_token_env = "WATCHDOG_ORDERS_PASSWORD"\nchat_id = "1"\n'
        + '[[escalation.step]]\nafter = "100%"\nnotify = "team"\n'
        + '[[escalation.step]]\nafter = "200%"\nnotify = "telegram:boss"\n'
    )

    assert problems(text) == [
        (
            'watchdog.toml: escalation.step[2].notify: no [[notify.telegram]] is named "boss"'
            ' (there are "telegram")'
        )
    ]


def test_three_mistakes_give_exactly_three_lines_in_file_order() -> None:
    text = (
        OWNER_AND_SMTP.replace('host = "smtp', 'security = "ssl"\nhost = "smtp')
        + '[sla]\nfirst_response = "2x"\n'
        + ORDERS
        + "port = 0\n"
    )

    assert problems(text) == [
        'watchdog.toml: smtp.security: expected one of starttls, tls, none, got "ssl"',
        'watchdog.toml: sla.first_response: expected a duration like "30m", "2h" or "1d", got "2x"',
        "watchdog.toml: mailbox[1].port: expected an integer 1-65535, got 0",
    ]


def test_errors_never_use_pydantic_wording() -> None:
    text = (
        OWNER_AND_SMTP
        + '[digest]\nenabled = "yes"\nskip_empty = 1\n'
        + '[alarms]\nsilence_factor = "lots"\n'
        + "[database]\nurl = 5\n"
        + '[classify]\nstaff = "anna@example.com"\n'
    )

    lines = problems(text)

    assert len(lines) == 5
    assert all(line.startswith("watchdog.toml: ") for line in lines)
    assert not any("Input should" in line or "pydantic" in line for line in lines)


# --- secrets ----------------------------------------------------------------------------


def test_plain_secret_is_accepted_with_a_warning() -> None:
    config = load(OWNER_AND_SMTP + 'password = "relay-pass"\n' + ORDERS)

    assert config.smtp.password == Secret("relay-pass")
    assert config.warnings == (
        (
            "watchdog.toml: smtp.password: a password is written in the file;"
            " prefer password_env or password_file"
        ),
    )


def test_secrets_never_appear_in_repr_of_config() -> None:
    config = load(OWNER_AND_SMTP + 'password = "relay-pass"\n' + ORDERS)

    for text in (repr(config), str(config), repr(config.mailboxes[0]), str(config.smtp.password)):
        assert "orders-secret-value" not in text and "relay-pass" not in text
    assert repr(config.mailboxes[0].password) == "Secret('********')"
    assert config.mailboxes[0].password.reveal() == "orders-secret-value"


def test_secrets_never_appear_in_error_text() -> None:
    text = (
        OWNER_AND_SMTP
        + 'password = "relay-pass"\n'
        + ORDERS
        + 'port = "99x"\n'
        + '[[form]]\nname = "site"\ntoken = 123456789\n'
        + '[web]\npassword_env = "my web pass!"\n'
    )

    with pytest.raises(ConfigError) as caught:
        load(text)

    error_text = str(caught.value)
    for secret in ("relay-pass", "orders-secret-value", "123456789", "my web pass!"):
        assert secret not in error_text
    assert "watchdog.toml: form[1].token: expected a non-empty string (value hidden)" in error_text


# --- where the file is -------------------------------------------------------------------


def test_config_path_comes_from_cli_then_env_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_config_path(None) == Path("watchdog.toml")

    monkeypatch.setenv("WATCHDOG_CONFIG", "/etc/watchdog/env.toml")
    assert resolve_config_path(None) == Path("/etc/watchdog/env.toml")
    assert resolve_config_path("cli.toml") == Path("cli.toml")


def test_error_lines_name_the_file_as_given(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "shop.toml").write_text(OWNER_AND_SMTP + "[sla]\nfirst_response = 5\n")

    with pytest.raises(ConfigError) as caught:
        load_config(resolve_config_path("conf/shop.toml"))

    assert caught.value.problems == [
        (
            f'{Path("conf/shop.toml")}: sla.first_response: expected a duration like "30m", "2h" or'
            ' "1d", got 5'
        )
    ]
