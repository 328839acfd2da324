"""Each watched mailbox (IMAP): log in as a poll would; show the server's capabilities and folders.

For each role (inbox, sent, trash, junk) the report names the folder taken
and why. Only LIST is asked: the doctor opens no folder, so it cannot touch
the mail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from watchdog.config.schema import MailboxConfig
from watchdog.config.types import Language
from watchdog.doctor.i18n import Phrasebook
from watchdog.doctor.report import Checkup, Finding
from watchdog.doctor.trouble import Server, explain, security_words
from watchdog.errors import SourceError
from watchdog.sources.folders import (
    ROLES,
    ChosenFolder,
    FolderMap,
    ListedFolder,
    choose_folders,
    overrides_of,
)

#: Capabilities worth showing: what the watchdog uses, and what people ask about.
SHOWN_CAPABILITIES = ("IDLE", "CONDSTORE", "QRESYNC", "SPECIAL-USE")

_T = Phrasebook(
    {
        "mailbox": (
            "mailbox {name} ({user} at {host}:{port})",
            "ящик {name} ({user} на {host}:{port})",
        ),
        "section.mailbox": ('[[mailbox]] "{name}"', '[[mailbox]] "{name}"'),
        "ports.imap": (
            "tls goes with port 993, starttls and none with 143",
            "tls — это порт 993, starttls и none — порт 143",
        ),
        "mailbox.ok": ("logged in ({security})", "вход выполнен ({security})"),
        "caps": ("the server offers: {caps}", "сервер умеет: {caps}"),
        "caps.none": ("none of {caps}", "ничего из {caps}"),
        "changes.qresync": (
            "changes and deletions are read cheaply (QRESYNC)",
            "изменения и удаления читаются быстро (QRESYNC)",
        ),
        "changes.condstore": (
            "flag changes are read cheaply (CONDSTORE); deletions by comparing lists",
            "изменения флагов читаются быстро (CONDSTORE); удаления — сравнением списков",
        ),
        "changes.none": (
            "no CONDSTORE: flags are re-read on every poll (slower on big folders, still works)",
            (
                "нет CONDSTORE: флаги перечитываются при каждом опросе (медленнее на больших "
                "папках, но работает)"
            ),
        ),
        "folders": ("folders:", "папки:"),
        "role.inbox": ("inbox", "входящие"),
        "role.sent": ("sent", "отправленные"),
        "role.trash": ("trash", "корзина"),
        "role.junk": ("junk", "спам"),
        "folder.found": ('{role} "{name}" ({reason})', "{role} «{name}» ({reason})"),
        "folder.missing": ("{role} not found", "{role} не найдена"),
        "reason.config": ("set in the config", "задана в настройках"),
        "reason.special": ("the server marks it {flag}", "сервер отмечает её как {flag}"),
        "reason.name": ("by its usual name", "по привычному названию"),
        "reason.standard": ("the standard name", "стандартное название"),
        "no_sent": (
            "no Sent folder found: replies cannot be seen, so every request would look unanswered",
            (
                "папка отправленных не найдена: ответы не видны, и любая заявка будет "
                "выглядеть неотвеченной"
            ),
        ),
        "no_other": (
            (
                "logged in ({security}), but no {roles} folder found: a request deleted or left "
                "in spam goes unnoticed"
            ),
            (
                "вход выполнен ({security}), но не найдена папка: {roles}; заявку, удалённую "
                "или попавшую в спам, никто не заметит"
            ),
        ),
        "folder.fix": (
            (
                'set {keys} = "<folder>" in {section} if the server has such a folder under '
                "another name; it has: {names}"
            ),
            (
                'укажите {keys} = "<папка>" в {section}, если такая папка есть под другим '
                "названием; на сервере есть: {names}"
            ),
        ),
        "folder.override.fix": (
            (
                "write the folder's name in {section} exactly as the server lists it, or remove "
                "the key to let the watchdog find the folder itself"
            ),
            (
                "впишите в {section} название папки точно как на сервере или уберите ключ, "
                "и watchdog найдёт папку сам"
            ),
        ),
    }
)


@runtime_checkable
class _ShowsCapabilities(Protocol):
    """A reader that can tell what the server announced (ImapClientReader can)."""

    @property
    def capabilities(self) -> frozenset[str]: ...


def check_mailboxes(checkup: Checkup) -> Iterator[Finding]:
    """Log in to every mailbox; show its capabilities and which folders were chosen, and why."""
    for mailbox in checkup.config.mailboxes:
        yield _check_mailbox(mailbox, checkup)


def _check_mailbox(mailbox: MailboxConfig, checkup: Checkup) -> Finding:
    lang = checkup.lang
    subject = _T(
        lang, "mailbox", name=mailbox.name, user=mailbox.username, host=mailbox.host,
        port=mailbox.port,
    )  # fmt: skip
    try:
        reader = checkup.connect(mailbox)
        try:
            listed = reader.list_folders()
            facts = [_capabilities(reader, lang), _changes(reader.qresync, reader.condstore, lang)]
        finally:
            reader.close()
    except SourceError as exc:
        detail, fix = explain(exc, _imap_server(mailbox, checkup), lang)
        return Finding(subject, "fail", detail, fix=fix)
    return _folders_finding(subject, mailbox, listed, [fact for fact in facts if fact], lang)


def _folders_finding(
    subject: str,
    mailbox: MailboxConfig,
    listed: list[ListedFolder],
    facts: list[str],
    lang: Language,
) -> Finding:
    """Judge a logged-in mailbox by its folders: no Sent fails, no Trash or Junk is a note."""
    section = _T(lang, "section.mailbox", name=mailbox.name)
    try:
        folders = choose_folders(listed, overrides_of(mailbox))
    except SourceError as exc:
        fix = _T(lang, "folder.override.fix", section=section)
        return Finding(subject, "fail", str(exc), fix=fix)
    lines = (*facts, _T(lang, "folders"), *_folder_lines(folders, lang))
    security = security_words(lang, mailbox.security)
    names = ", ".join(f'"{folder.name}"' for folder in listed if folder.selectable) or "-"
    if folders.sent is None:
        fix = _T(lang, "folder.fix", keys="sent", section=section, names=names)
        return Finding(subject, "fail", _T(lang, "no_sent"), lines, fix)
    missing = [role for role in ("trash", "junk") if getattr(folders, role) is None]
    if not missing:
        return Finding(subject, "ok", _T(lang, "mailbox.ok", security=security), lines)
    roles = ", ".join(_T(lang, f"role.{role}") for role in missing)
    fix = _T(lang, "folder.fix", keys=" / ".join(missing), section=section, names=names)
    detail = _T(lang, "no_other", security=security, roles=roles)
    return Finding(subject, "warn", detail, lines, fix)


def _imap_server(mailbox: MailboxConfig, checkup: Checkup) -> Server:
    lang = checkup.lang
    return Server(
        host=mailbox.host,
        port=mailbox.port,
        section=_T(lang, "section.mailbox", name=mailbox.name),
        ports=_T(lang, "ports.imap"),
        user=mailbox.username,
        secret=checkup.secrets.describe(lang, ("mailbox", mailbox.name, "password")),
        timeout_s=mailbox.timeout.total_seconds(),
    )


def _capabilities(reader: object, lang: Language) -> str:
    """Say which of the capabilities worth knowing the server offers ("" if it cannot say)."""
    if not isinstance(reader, _ShowsCapabilities):
        return ""
    offered = [cap for cap in SHOWN_CAPABILITIES if cap in reader.capabilities]
    shown = ", ".join(offered) or _T(lang, "caps.none", caps=", ".join(SHOWN_CAPABILITIES))
    return _T(lang, "caps", caps=shown)


def _changes(qresync: bool, condstore: bool, lang: Language) -> str:
    """Say how cheaply the watchdog will see changes, from what the server offers."""
    return _T(
        lang, "changes.qresync" if qresync else "changes.condstore" if condstore else "changes.none"
    )


def _folder_lines(folders: FolderMap, lang: Language) -> list[str]:
    """One line per role: the folder chosen and how it was found, or that none was."""
    labels = {role: _T(lang, f"role.{role}") + ":" for role in ROLES}
    width = max(len(label) for label in labels.values())
    lines = []
    for role in ROLES:
        chosen: ChosenFolder | None = getattr(folders, role)
        label = f"{labels[role]:<{width}}"
        if chosen is None:
            lines.append("  " + _T(lang, "folder.missing", role=label))
            continue
        reason = _reason(chosen.reason, lang)
        lines.append("  " + _T(lang, "folder.found", role=label, name=chosen.name, reason=reason))
    return lines


def _reason(reason: str, lang: Language) -> str:
    """Put ``choose_folders``' reason (fixed English words) into the owner's language."""
    if reason.startswith("SPECIAL-USE "):
        return _T(lang, "reason.special", flag=reason.removeprefix("SPECIAL-USE "))
    key = {"set in the config": "config", "well-known name": "name", "standard name": "standard"}
    return _T(lang, f"reason.{key[reason]}") if reason in key else reason
