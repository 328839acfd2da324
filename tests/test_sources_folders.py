"""Finding a mailbox's inbox, Sent, Trash and Junk from a LIST answer, as providers lay them out."""

from __future__ import annotations

import pytest

from watchdog.errors import SourceError
from watchdog.sources.folders import (
    FolderMap,
    ListedFolder,
    choose_folders,
    decode_modified_utf7,
    encode_modified_utf7,
)


def listed(*names: str | tuple[str, ...], delimiter: str = "/") -> list[ListedFolder]:
    """LIST rows: a bare name, or (name, flag, flag...)."""
    rows = []
    for item in names:
        name, *flags = (item,) if isinstance(item, str) else item
        rows.append(ListedFolder(name, delimiter, frozenset(flags)))
    return rows


def names(folders: FolderMap) -> dict[str, str | None]:
    return {
        role: (chosen.name if (chosen := getattr(folders, role)) else None)
        for role in ("inbox", "sent", "trash", "junk")
    }


def test_gmail_folders_are_found_under_the_gmail_prefix() -> None:
    folders = choose_folders(
        listed(
            "INBOX",
            "[Gmail]",
            "[Gmail]/All Mail",
            "[Gmail]/Sent Mail",
            "[Gmail]/Trash",
            "[Gmail]/Spam",
            "[Gmail]/Drafts",
        )
    )

    assert names(folders) == {
        "inbox": "INBOX", "sent": "[Gmail]/Sent Mail", "trash": "[Gmail]/Trash",
        "junk": "[Gmail]/Spam",
    }  # fmt: skip


def test_google_mail_in_britain_with_its_bin_is_found() -> None:
    folders = choose_folders(
        listed("INBOX", "[Google Mail]/Sent Mail", "[Google Mail]/Bin", "[Google Mail]/Spam")
    )

    assert names(folders)["trash"] == "[Google Mail]/Bin"
    assert names(folders)["sent"] == "[Google Mail]/Sent Mail"


def test_yandex_russian_folders_are_found_by_name() -> None:
    folders = choose_folders(listed("INBOX", "Отправленные", "Удалённые", "Спам", "Черновики"))

    assert names(folders) == {
        "inbox": "INBOX", "sent": "Отправленные", "trash": "Удалённые", "junk": "Спам",
    }  # fmt: skip


def test_mailru_folders_arrive_in_modified_utf7_and_are_decoded() -> None:
    # What Mail.ru's LIST sends for Отправленные, Корзина, Спам.
    folders = choose_folders(
        listed(
            "INBOX", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-", "&BBoEPgRABDcEOAQ9BDA-", "&BCEEPwQwBDw-"
        )
    )

    assert names(folders) == {
        "inbox": "INBOX", "sent": "Отправленные", "trash": "Корзина", "junk": "Спам",
    }  # fmt: skip
    assert folders.sent is not None and folders.sent.wire == "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"


def test_outlook_english_and_russian_layouts_are_found() -> None:
    english = choose_folders(listed("Inbox", "Sent Items", "Deleted Items", "Junk E-mail"))
    russian = choose_folders(
        listed("INBOX", "Отправленные элементы", "Удаленные элементы", "Нежелательная почта")
    )

    assert names(english) == {
        "inbox": "Inbox", "sent": "Sent Items", "trash": "Deleted Items", "junk": "Junk E-mail",
    }  # fmt: skip
    assert names(russian)["trash"] == "Удаленные элементы"
    assert names(russian)["junk"] == "Нежелательная почта"


def test_folders_under_inbox_with_a_dot_separator_are_found() -> None:
    folders = choose_folders(
        listed("INBOX", "INBOX.Sent", "INBOX.Trash", "INBOX.Junk", delimiter=".")
    )

    assert names(folders) == {
        "inbox": "INBOX", "sent": "INBOX.Sent", "trash": "INBOX.Trash", "junk": "INBOX.Junk",
    }  # fmt: skip


def test_special_use_wins_over_a_well_known_name() -> None:
    folders = choose_folders(
        listed("INBOX", "Sent", ("Sent Messages", "\\Sent"), "Trash", ("Bin", "\\Trash"))
    )

    assert names(folders)["sent"] == "Sent Messages"
    assert names(folders)["trash"] == "Bin"
    assert folders.sent is not None and folders.sent.reason == "SPECIAL-USE \\Sent"


def test_gmail_xlist_spam_flag_counts_as_junk() -> None:
    folders = choose_folders(listed("INBOX", ("[Gmail]/Nonsense", "\\Spam")))

    assert names(folders)["junk"] == "[Gmail]/Nonsense"


def test_a_folder_flagged_for_another_role_is_not_taken_by_its_name() -> None:
    folders = choose_folders(listed("INBOX", ("Spam", "\\Trash")))

    assert names(folders)["trash"] == "Spam"
    assert names(folders)["junk"] is None


def test_config_overrides_win_over_special_use_and_names() -> None:
    folders = choose_folders(
        listed("INBOX", ("Sent", "\\Sent"), "Отправленные", "Мусор"),
        {"sent": "Отправленные", "trash": "Мусор"},
    )

    assert names(folders)["sent"] == "Отправленные"
    assert names(folders)["trash"] == "Мусор"
    assert folders.trash is not None and folders.trash.reason == "set in the config"


def test_an_override_naming_a_missing_folder_is_a_permanent_error_listing_what_exists() -> None:
    with pytest.raises(SourceError) as caught:
        choose_folders(listed("INBOX", "Sent"), {"sent": "Sent Mails"})

    assert caught.value.permanent
    assert 'sent = "Sent Mails"' in str(caught.value)
    assert '"Sent"' in str(caught.value)


def test_unselectable_folders_are_never_chosen() -> None:
    folders = choose_folders(listed("INBOX", ("[Gmail]", "\\Noselect"), ("Trash", "\\Noselect")))

    assert names(folders)["trash"] is None


def test_a_missing_role_is_none_and_an_unlisted_inbox_is_still_inbox() -> None:
    folders = choose_folders(listed("Archive"))

    assert names(folders) == {"inbox": "INBOX", "sent": None, "trash": None, "junk": None}
    assert "sent: not found" in folders.describe()


def test_describe_says_which_folder_was_chosen_and_why() -> None:
    folders = choose_folders(listed("INBOX", ("Отправленные", "\\Sent"), "Корзина"))

    assert folders.describe() == (
        'inbox "INBOX" (well-known name), sent "Отправленные" (SPECIAL-USE \\Sent), '
        'trash "Корзина" (well-known name), junk: not found'
    )


@pytest.mark.parametrize(
    ("wire", "name"),
    [
        ("INBOX", "INBOX"),
        ("&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-", "Отправленные"),
        ("Q&-A", "Q&A"),
        ("&ZeVnLIqe-", "日本語"),
        ("Archive/&BBAEQARFBDgEMg-", "Archive/Архив"),
        ("broken &run", "broken &run"),  # no closing "-": left as the server sent it
        ("Отправленные", "Отправленные"),  # raw UTF-8 from a server that skips UTF-7
    ],
)
def test_modified_utf7_names_are_decoded(wire: str, name: str) -> None:
    assert decode_modified_utf7(wire) == name


@pytest.mark.parametrize(
    "name", ["INBOX", "Отправленные", "Q&A", "日本語", "Archive/Архив 2024", "a/b"]
)
def test_modified_utf7_encoding_is_the_inverse(name: str) -> None:
    assert decode_modified_utf7(encode_modified_utf7(name)) == name
