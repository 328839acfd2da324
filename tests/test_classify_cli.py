"""``watchdog classify``: JSON lines, explanations, errors per file, stdin, rule errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.mail import letter
from watchdog.cli import app
from watchdog.cli.exits import RET_CONFIG, RET_FAILED, RET_OK

runner = CliRunner()

TILDA = letter(
    "Request details:\n\nName: Анна\nPhone: +7 916 555-12-34\nComment: Здравствуйте! Подскажите, есть ли платье в M?",
    frm="Tilda Publishing <robot@tilda.ws>",
    subject="Заявка с сайта shop-test.ru",
    headers={"Auto-Submitted": "auto-generated"},
)
CF7 = letter(
    "От: Ольга <olga@yandex.ru>\nТема: Размеры\n\nСообщение:\nЕсть ли платье в размере 44?\n\n-- \n"
    "This e-mail was sent from a contact form on Шоп-тест (https://shop-test.ru)",
    frm="WordPress <wordpress@shop-test.ru>",
    subject='Шоп-тест "Размеры"',
)
NEWS = letter(
    "Новая коллекция!\n\nОтписаться: https://x.example/u",
    frm="news@brand.example.ru",
    headers={"List-Id": "<news.brand.example.ru>"},
)


def save(tmp_path: Path, name: str, raw: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(raw)
    return str(path)


def test_json_prints_one_object_per_file(tmp_path: Path) -> None:
    files = [save(tmp_path, "tilda.eml", TILDA), save(tmp_path, "news.eml", NEWS)]
    result = runner.invoke(app, ["classify", "--json", *files])
    assert result.exit_code == RET_OK
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [list(r)[:4] for r in records] == [["file", "category", "request", "rules"]] * 2
    assert [(r["file"], r["category"], r["request"]) for r in records] == [
        (files[0], "form", True),
        (files[1], "bulk", False),
    ]
    assert "tilda-form" in records[0]["rules"]


def test_explain_on_a_tilda_relay_reads_like_a_sentence_for_the_owner(tmp_path: Path) -> None:
    result = runner.invoke(app, ["classify", "--explain", save(tmp_path, "tilda.eml", TILDA)])
    assert result.exit_code == RET_OK
    assert "tilda.eml: form" in result.stdout
    assert "a request: needs an answer" in result.stdout
    assert (
        "Sent by the Tilda site form on behalf of a visitor: a customer's request, "
        "even though it comes from a robot address." in result.stdout
    )


def test_explain_in_russian_on_a_contact_form_7_relay(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["classify", "--explain", "--lang", "ru", save(tmp_path, "cf7.eml", CF7)]
    )
    assert result.exit_code == RET_OK
    assert "cf7.eml: form" in result.stdout
    assert "Почему:" in result.stdout
    assert "посетитель заполнил форму обратной связи и ждёт ответа" in result.stdout


def test_plain_mode_prints_file_and_category(tmp_path: Path) -> None:
    path = save(tmp_path, "news.eml", NEWS)
    result = runner.invoke(app, ["classify", path])
    assert result.stdout == f"{path}\tbulk\n"


def test_missing_file_and_non_mail_fail_while_other_files_are_classified(tmp_path: Path) -> None:
    png = tmp_path / "photo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    good = save(tmp_path, "tilda.eml", TILDA)
    result = runner.invoke(
        app, ["classify", "--json", str(tmp_path / "nope.eml"), str(png), str(empty), good]
    )
    assert result.exit_code == RET_FAILED
    assert [json.loads(line)["file"] for line in result.stdout.splitlines()] == [good]
    assert "nope.eml: no such file" in result.stderr
    assert "photo.png: is not an email" in result.stderr
    assert "empty.eml: is empty" in result.stderr


def test_dash_reads_the_message_from_stdin() -> None:
    result = runner.invoke(app, ["classify", "--json", "-"], input=TILDA)
    assert result.exit_code == RET_OK
    record = json.loads(result.stdout)
    assert (record["file"], record["category"]) == ("-", "form")


def test_broken_rules_file_is_reported_with_exit_code_2(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.toml").write_text(
        '[[rule]]\nname = "x"\nconcludes = "form"\nexplain.en = "e"\nexplain.ru = "r"\nmatch.subject_regex = "("\n'
    )
    result = runner.invoke(
        app, ["classify", "--rules-dir", str(rules), save(tmp_path, "t.eml", TILDA)]
    )
    assert result.exit_code == RET_CONFIG
    assert "bad.toml: rule 'x': match.subject_regex: invalid regular expression" in result.stderr


def test_unknown_language_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["classify", "--lang", "de", save(tmp_path, "t.eml", TILDA)])
    assert result.exit_code == RET_CONFIG
