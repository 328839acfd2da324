"""The Dovecot fixture is a real, isolated IMAP server that tests can trust."""

from __future__ import annotations

import os
import ssl
from datetime import UTC, datetime, timedelta, timezone

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from tests.fixtures.dovecot import PASSWORD, SEED_USERS, DovecotServer, MailUser

pytestmark = pytest.mark.dovecot

RUSSIAN_MESSAGE = (
    "From: =?utf-8?b?0JzQsNGA0LjRjw==?= <maria@example.ru>\r\n"
    "To: orders@shop.test\r\n"
    "Subject: =?utf-8?b?0JfQtNGA0LDQstGB0YLQstGD0LnRgtC1ISDQkCDQv9C+0LTRgdC60LDQttC40YLQtQ==?=\r\n"
    "Message-ID: <q1@example.ru>\r\n"
    "Date: Mon, 01 Jul 2024 10:00:00 +0300\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Здравствуйте! А подскажите, когда будет доставка?\r\n"
).encode()


def test_seed_users_log_in_with_the_known_password(dovecot: DovecotServer) -> None:
    assert set(SEED_USERS) <= set(dovecot.users)
    with IMAPClient(dovecot.host, dovecot.port, ssl=False, timeout=5) as imap:
        assert imap.login("orders@shop.test", PASSWORD) == b"Logged in"
        assert {b"CONDSTORE", b"QRESYNC", b"UIDPLUS", b"MOVE"} <= set(imap.capabilities())
        imap.logout()


def test_wrong_password_is_refused(mailbox_user: MailUser) -> None:
    with IMAPClient(mailbox_user.host, mailbox_user.port, ssl=False, timeout=5) as imap:
        with pytest.raises(LoginError, match="AUTHENTICATIONFAILED"):
            imap.login(mailbox_user.address, "not-the-password")
        imap.logout()


def test_tls_port_verifies_against_the_generated_cert(dovecot: DovecotServer) -> None:
    context = ssl.create_default_context(cafile=str(dovecot.cert_path))
    with IMAPClient(dovecot.host, dovecot.tls_port, ssl_context=context, timeout=5) as imap:
        imap.login("hello@shop.test", PASSWORD)
        imap.logout()


def test_tls_port_is_refused_without_trusting_the_cert(dovecot: DovecotServer) -> None:
    context = ssl.create_default_context()  # the system's roots only
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient(dovecot.host, dovecot.tls_port, ssl_context=context, timeout=5)


def test_each_test_gets_a_fresh_empty_account(
    dovecot: DovecotServer, mailbox_user: MailUser
) -> None:
    other = dovecot.new_user()
    dovecot.append(other, "INBOX", RUSSIAN_MESSAGE)

    assert mailbox_user.address not in SEED_USERS
    assert mailbox_user.flags("INBOX") == {}
    with mailbox_user.connect() as imap:
        assert [name for _, _, name in imap.list_folders()] == ["INBOX"]
    assert len(dovecot.flags(other, "INBOX")) == 1


def test_russian_folder_names_appear_in_list_as_written(mailbox_user: MailUser) -> None:
    mailbox_user.create_folder("Входящие/Заказы")
    mailbox_user.create_folder("Отправленные")

    with mailbox_user.connect() as imap:
        names = {name for _, _, name in imap.list_folders()}
    assert {"INBOX", "Входящие/Заказы", "Отправленные"} <= names


def test_special_use_flags_are_listed_for_that_user_only(
    dovecot: DovecotServer, mailbox_user: MailUser
) -> None:
    mailbox_user.create_folder("Отправленные", special_use="\\Sent")
    mailbox_user.create_folder("Корзина", special_use="\\Trash")
    mailbox_user.create_folder("Спам", special_use="\\Junk")
    mailbox_user.create_folder("Sent Items", special_use="\\Drafts")
    other = dovecot.new_user()
    dovecot.create_folder(other, "Отправленные")

    with mailbox_user.connect() as imap:
        flags = {name: set(flags) for flags, _, name in imap.list_folders()}
        assert imap.find_special_folder(b"\\Sent") == "Отправленные"
        assert b"SPECIAL-USE" in imap.capabilities()
    assert b"\\Sent" in flags["Отправленные"]
    assert b"\\Trash" in flags["Корзина"]
    assert b"\\Junk" in flags["Спам"]
    assert b"\\Drafts" in flags["Sent Items"]
    with dovecot.connect(other) as imap:
        [(other_flags, _, _)] = imap.list_folders(pattern="Отправленные")
    assert b"\\Sent" not in other_flags


def test_special_use_needs_a_declared_name(mailbox_user: MailUser) -> None:
    with pytest.raises(ValueError, match="SPECIAL_USE_NAMES"):
        mailbox_user.create_folder("Мои отправленные", special_use="\\Sent")


def test_append_then_peek_is_byte_exact_and_leaves_mail_unseen(mailbox_user: MailUser) -> None:
    received = datetime(2024, 7, 1, 10, 0, tzinfo=timezone(timedelta(hours=3)))
    uid = mailbox_user.append("INBOX", RUSSIAN_MESSAGE, flags=[b"$Label1"], internal_date=received)

    assert mailbox_user.fetch_raw("INBOX", uid) == RUSSIAN_MESSAGE
    with mailbox_user.connect() as imap:
        imap.select_folder("INBOX", readonly=True)
        data = imap.fetch([uid], [b"BODY.PEEK[]", b"INTERNALDATE", b"ENVELOPE"])[uid]
    assert data[b"BODY[]"] == RUSSIAN_MESSAGE
    assert data[b"INTERNALDATE"].astimezone(UTC) == received.astimezone(UTC)
    assert b"\\Seen" not in mailbox_user.flags("INBOX")[uid]
    assert b"$Label1" in mailbox_user.flags("INBOX")[uid]


def test_staff_helpers_move_flag_and_expunge(mailbox_user: MailUser) -> None:
    mailbox_user.create_folder("Корзина", special_use="\\Trash")
    first = mailbox_user.append("INBOX", RUSSIAN_MESSAGE)
    second = mailbox_user.append("INBOX", RUSSIAN_MESSAGE)

    mailbox_user.set_flags("INBOX", first, [b"\\Seen"])
    moved = mailbox_user.move(second, "INBOX", "Корзина")
    mailbox_user.expunge("INBOX", first)

    assert mailbox_user.flags("INBOX") == {}
    assert list(mailbox_user.flags("Корзина")) == [moved]
    assert mailbox_user.fetch_raw("Корзина", moved) == RUSSIAN_MESSAGE


def test_uidvalidity_can_be_changed(mailbox_user: MailUser) -> None:
    mailbox_user.append("INBOX", RUSSIAN_MESSAGE)
    before = mailbox_user.uidvalidity("INBOX")

    after = mailbox_user.set_uidvalidity("INBOX")

    assert after != before
    assert mailbox_user.uidvalidity("INBOX") == after
    assert len(mailbox_user.flags("INBOX")) == 1


def test_kick_drops_open_sessions(mailbox_user: MailUser) -> None:
    with mailbox_user.connect() as imap:
        imap.select_folder("INBOX", readonly=True)
        mailbox_user.kick()
        with pytest.raises((IMAPClient.AbortError, IMAPClient.Error, OSError)):
            imap.noop()


def test_server_goes_away_and_comes_back_with_the_mail(
    dovecot: DovecotServer, mailbox_user: MailUser
) -> None:
    uid = mailbox_user.append("INBOX", RUSSIAN_MESSAGE)

    with dovecot.stopped():
        assert not dovecot.running
        with pytest.raises(ConnectionRefusedError):
            IMAPClient(dovecot.host, dovecot.port, ssl=False, timeout=2)

    assert dovecot.running
    assert mailbox_user.fetch_raw("INBOX", uid) == RUSSIAN_MESSAGE


def test_dovecot_never_runs_as_root(dovecot: DovecotServer) -> None:
    assert dovecot.pid is not None
    with open(f"/proc/{dovecot.pid}/status", encoding="ascii") as status:
        uids = next(line for line in status if line.startswith("Uid:")).split()[1:]
    expected = dovecot.run_as.uid
    assert {int(uid) for uid in uids} == {expected}
    if os.geteuid() == 0:
        assert expected != 0


def test_delete_user_mail_empties_a_shared_account(dovecot: DovecotServer) -> None:
    user = dovecot.new_user("shared")
    dovecot.create_folder(user, "Спам", special_use="\\Junk")
    dovecot.append(user, "INBOX", RUSSIAN_MESSAGE)

    dovecot.delete_user_mail(user)

    assert dovecot.flags(user, "INBOX") == {}
    with dovecot.connect(user) as imap:
        assert [name for _, _, name in imap.list_folders()] == ["INBOX"]
