"""The config and the database: what the watchdog watches, and where it keeps what it saw."""

from __future__ import annotations

from collections.abc import Iterator

from watchdog.doctor.i18n import Phrasebook
from watchdog.doctor.report import Checkup, Finding
from watchdog.errors import WatchdogError
from watchdog.storage.engine import make_engine, safe_url
from watchdog.storage.migrate import MigrationStatus, migration_status

_T = Phrasebook(
    {
        "config": ("config", "настройки"),
        "config.valid": (
            (
                "read without errors: {mailboxes} mailbox(es), {forms} form(s), "
                "{chats} Telegram chat(s); the owner is {owner}"
            ),
            (
                "прочитаны без ошибок: почтовых ящиков {mailboxes}, форм {forms}, "
                "чатов Telegram {chats}; владелец {owner}"
            ),
        ),
        "config.warning.fix": (
            "see the note; the watchdog works as it is",
            "прочтите замечание; watchdog работает и так",
        ),
        "db": ("database {url}", "база данных {url}"),
        "db.broken": ("cannot be used: {reason}", "не работает: {reason}"),
        "db.broken.sqlite": (
            (
                "check database.url: the folder of the file must exist and the service's user "
                "must be allowed to write there"
            ),
            (
                "проверьте database.url: папка файла должна существовать, а пользователь службы "
                "должен иметь право писать в неё"
            ),
        ),
        "db.broken.server": (
            (
                "check database.url (host, port, database, user, password) and that the database "
                "server is running and lets this machine in"
            ),
            (
                "проверьте database.url (адрес, порт, базу, пользователя, пароль) и что сервер "
                "базы данных запущен и пускает эту машину"
            ),
        ),
        "db.current": (
            "schema up to date (revision {revision})",
            "схема актуальна (версия {revision})",
        ),
        "db.empty": (
            "empty: the tables are created when the watchdog starts",
            "пустая: таблицы будут созданы при запуске watchdog",
        ),
        "db.pending": (
            "{count} schema change(s) not applied yet (revision {revision})",
            "изменений схемы ещё не применено: {count} (версия {revision})",
        ),
        "db.pending.fix": (
            "nothing is broken: they are applied at start, or now by `watchdog db upgrade`",
            (
                "ничего не сломано: они применяются при запуске или сейчас командой "
                "`watchdog db upgrade`"
            ),
        ),
        "db.unknown": (
            (
                "at revision {revision}, which this version does not know: "
                "a newer watchdog has upgraded it"
            ),
            (
                "в версии {revision}, которую эта версия программы не знает: "
                "её обновил более новый watchdog"
            ),
        ),
        "db.unknown.fix": (
            "run the newer watchdog again, or restore the backup made before the upgrade",
            (
                "запустите снова более новый watchdog или восстановите резервную копию, "
                "сделанную до обновления"
            ),
        ),
    }
)


def check_config(checkup: Checkup) -> Iterator[Finding]:
    """Summarise what the config watches; its errors never get this far (exit 2 before)."""
    config, lang = checkup.config, checkup.lang
    subject = _T(lang, "config")
    yield Finding(
        subject,
        "ok",
        _T(
            lang,
            "config.valid",
            mailboxes=len(config.mailboxes),
            forms=len(config.forms),
            chats=len(config.notify.telegram),
            owner=config.owner.email,
        ),
    )
    for warning in config.warnings:
        yield Finding(subject, "warn", warning, fix=_T(lang, "config.warning.fix"))


def check_database(checkup: Checkup) -> Iterator[Finding]:
    """Connect to the database and say whether its schema is current."""
    url, lang = checkup.config.database.url, checkup.lang
    subject = _T(lang, "db", url=safe_url(url))
    try:
        make_engine(url).dispose()
        status = migration_status(url)
    except WatchdogError as exc:
        kind = "sqlite" if url.startswith("sqlite") else "server"
        yield Finding(
            subject, "fail", _T(lang, "db.broken", reason=exc), fix=_T(lang, f"db.broken.{kind}")
        )
        return
    yield _schema(subject, status, checkup)


def _schema(subject: str, status: MigrationStatus, checkup: Checkup) -> Finding:
    """Say where the schema stands: current, empty, behind, or ahead of this program."""
    lang = checkup.lang
    if status.unknown:
        detail = _T(lang, "db.unknown", revision=status.current)
        return Finding(subject, "fail", detail, fix=_T(lang, "db.unknown.fix"))
    if status.up_to_date:
        return Finding(subject, "ok", _T(lang, "db.current", revision=status.current))
    if status.current is None:
        return Finding(subject, "warn", _T(lang, "db.empty"), fix=_T(lang, "db.pending.fix"))
    detail = _T(lang, "db.pending", count=len(status.pending), revision=status.current)
    return Finding(subject, "warn", detail, fix=_T(lang, "db.pending.fix"))
