"""Rule files: a broken file is reported with file, rule and problem; users override and disable."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mail import SHOP, decide, letter
from watchdog.bundled import rules_dir
from watchdog.classify import load_rules
from watchdog.classify.rules import load_file
from watchdog.errors import RuleError

GOOD = """
[[rule]]
name = "{name}"
concludes = "{concludes}"
explain.en = "Our wholesale portal."
explain.ru = "Наш оптовый портал."
match.from_regex = '^portal@opt\\.example\\.ru$'
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(folder: Path) -> RuleError:
    with pytest.raises(RuleError) as info:
        load_rules([folder])
    return info.value


def test_bundled_rules_load_and_have_unique_names() -> None:
    names = load_rules().names()
    assert len(names) == len(set(names)) > 40


def test_every_bundled_file_holds_rules_with_both_explanations() -> None:
    for path in sorted(rules_dir().glob("*.toml")):
        rules = [rule for _, rule in load_file(path) if rule is not None]
        assert rules, path
        assert all(r.explanation_ru and r.explanation_en for r in rules)


def test_invalid_regex_names_file_rule_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.toml",
        GOOD.format(name="broken", concludes="form").replace("^portal", "(portal"),
    )
    err = error_of(tmp_path)
    assert (err.file, err.rule) == (str(path), "broken")
    assert "match.from_regex" in err.problem and "invalid regular expression" in err.problem


def test_unknown_key_is_named(tmp_path: Path) -> None:
    write(
        tmp_path,
        "bad.toml",
        GOOD.format(name="typo", concludes="form") + "match.subjct_regex = 'x'\n",
    )
    err = error_of(tmp_path)
    assert err.rule == "typo" and "'subjct_regex'" in err.problem


def test_unknown_rule_key_is_named(tmp_path: Path) -> None:
    write(tmp_path, "bad.toml", GOOD.format(name="typo", concludes="form") + "weight = 3\n")
    assert "'weight'" in error_of(tmp_path).problem


def test_missing_explanation_is_reported(tmp_path: Path) -> None:
    text = GOOD.format(name="mute", concludes="form").replace(
        'explain.ru = "Наш оптовый портал."\n', ""
    )
    write(tmp_path, "bad.toml", text)
    err = error_of(tmp_path)
    assert err.rule == "mute" and "explain.ru" in err.problem


def test_unknown_conclusion_lists_the_allowed_ones(tmp_path: Path) -> None:
    write(tmp_path, "bad.toml", GOOD.format(name="spam", concludes="spam"))
    assert "customer, form, autoreply" in error_of(tmp_path).problem


def test_duplicate_name_in_one_folder_names_both_files(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", GOOD.format(name="portal", concludes="form"))
    write(tmp_path, "b.toml", GOOD.format(name="portal", concludes="form"))
    err = error_of(tmp_path)
    assert err.rule == "portal" and err.file.endswith("b.toml") and "a.toml" in err.problem


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.toml", "[[rule]\nname = 1\n")
    err = error_of(tmp_path)
    assert err.file == str(path) and "not valid TOML" in err.problem


def test_missing_rules_folder_is_an_error(tmp_path: Path) -> None:
    assert "does not exist" in error_of(tmp_path / "nope").problem


def test_error_message_reads_file_rule_problem(tmp_path: Path) -> None:
    write(tmp_path, "bad.toml", GOOD.format(name="spam", concludes="spam"))
    assert str(error_of(tmp_path)).startswith(f"{tmp_path / 'bad.toml'}: rule 'spam': 'concludes'")


def test_user_rule_with_a_bundled_name_overrides_it(tmp_path: Path) -> None:
    override = """
[[rule]]
name = "noreply-sender"
concludes = "notification"
explain.en = "Our own robots only."
explain.ru = "Только наши роботы."
match.from_regex = '^robot@shop-test\\.ru$'
"""
    write(tmp_path, "mine.toml", override)
    rules = load_rules([tmp_path])
    assert rules.names().count("noreply-sender") == 1
    raw = letter("Отправление вручено.", frm="noreply@pochta.ru", subject="Отправление вручено")
    assert "noreply-sender" not in decide(raw, SHOP, rules).rule_names


def test_enabled_false_switches_a_bundled_rule_off(tmp_path: Path) -> None:
    write(tmp_path, "off.toml", '[[rule]]\nname = "shouting-subject"\nenabled = false\n')
    assert "shouting-subject" not in load_rules([tmp_path]).names()


def test_users_own_rule_is_added_and_explains_itself(tmp_path: Path) -> None:
    write(tmp_path, "portal.toml", GOOD.format(name="wholesale-portal", concludes="form"))
    raw = letter(
        "Новый заказ опта.",
        frm="portal@opt.example.ru",
        subject="Заказ",
        headers={"Auto-Submitted": "auto-generated"},
    )
    decision = decide(raw, SHOP, load_rules([tmp_path]))
    assert decision.category == "form" and "wholesale-portal" in decision.decisive
