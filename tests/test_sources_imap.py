"""The IMAP edge against a real Dovecot: connecting, telling failures apart, reading only."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.fixtures.dovecot import MailUser
from watchdog.config import Config
from watchdog.config.schema import MailboxConfig
from watchdog.config.secrets import Secret
from watchdog.doctor import Checkup, check_mailboxes
from watchdog.errors import SourceError
from watchdog.sources.imap import ImapClientReader

pytestmark = pytest.mark.dovecot

MESSAGE = (
    b"From: ivan@mail.ru\r\nTo: orders@shop.test\r\nSubject: Order\r\n"
    b"Message-ID: <m1@mail.ru>\r\nDate: Mon, 3 Nov 2025 12:00:00 +0300\r\n\r\n"
    + b"Hello! " * 100
    + b"\r\n"
)


def config(user: MailUser, **settings: Any) -> MailboxConfig:
    values: dict[str, Any] = {
        "name": "orders", "host": user.host, "port": user.port, "security": "none",
        "username": user.address, "password": Secret(user.password), "timeout": "10s",
    }  # fmt: skip
    values.update(settings)
    return MailboxConfig.model_validate(values)


def whole_config(mailbox: MailboxConfig) -> Config:
    return Config.model_validate(
        {
            "owner": {"email": "owner@shop.test"},
            "smtp": {"host": "127.0.0.1", "from": "watchdog@shop.test"},
            "mailbox": [mailbox],
        }
    )


@pytest.fixture
def reader(mailbox_user: MailUser) -> Iterator[ImapClientReader]:
    opened = ImapClientReader.open(config(mailbox_user))
    yield opened
    opened.close()


def trusting(user: MailUser) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(user.server.cert_path))


# -- connecting ----------------------------------------------------------------------


def test_tls_connects_and_verifies_the_certificate(mailbox_user: MailUser) -> None:
    mailbox = config(mailbox_user, security="tls", port=mailbox_user.server.tls_port)

    reader = ImapClientReader.open(mailbox, ssl_context=trusting(mailbox_user))

    assert [f.wire for f in reader.list_folders()] == ["INBOX"]
    reader.close()


def test_starttls_upgrades_the_plain_port(mailbox_user: MailUser) -> None:
    reader = ImapClientReader.open(
        config(mailbox_user, security="starttls"), ssl_context=trusting(mailbox_user)
    )

    assert reader.qresync and reader.condstore
    reader.close()


def test_an_untrusted_certificate_is_a_permanent_error(mailbox_user: MailUser) -> None:
    mailbox = config(mailbox_user, security="tls", port=mailbox_user.server.tls_port)

    with pytest.raises(SourceError, match="certificate not trusted") as caught:
        ImapClientReader.open(mailbox)  # the system's roots only

    assert caught.value.permanent


def test_a_wrong_password_is_permanent(mailbox_user: MailUser) -> None:
    with pytest.raises(SourceError, match="AUTHENTICATIONFAILED") as caught:
        ImapClientReader.open(config(mailbox_user, password=Secret("wrong")))

    assert caught.value.permanent
    assert "wrong" not in str(caught.value)


def test_a_refused_connection_is_a_network_error(mailbox_user: MailUser) -> None:
    with mailbox_user.server.stopped(), pytest.raises(SourceError) as caught:
        ImapClientReader.open(config(mailbox_user))

    assert not caught.value.permanent
    assert f"{mailbox_user.host}:{mailbox_user.port}" in str(caught.value)


def test_a_server_that_never_greets_times_out_as_a_network_error(mailbox_user: MailUser) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the TCP connection (backlog) but never says a word
        mailbox = config(mailbox_user, port=silent.getsockname()[1]).model_copy(
            update={"timeout": timedelta(milliseconds=200)}
        )
        with pytest.raises(SourceError, match="in time") as caught:
            ImapClientReader.open(mailbox)

    assert not caught.value.permanent


# -- reading -------------------------------------------------------------------------


def test_folders_are_listed_with_wire_names_and_special_use(
    mailbox_user: MailUser, reader: ImapClientReader
) -> None:
    mailbox_user.create_folder("Отправленные", "\\Sent")
    reopened = ImapClientReader.open(config(mailbox_user))  # flags are read at login

    folders = {f.name: f for f in reopened.list_folders()}
    reopened.close()

    sent = folders["Отправленные"]
    assert sent.wire == "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"
    assert "\\Sent" in sent.flags


def test_a_message_is_fetched_up_to_the_cap_with_its_real_size_and_date(
    mailbox_user: MailUser, reader: ImapClientReader
) -> None:
    arrived = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
    uid = mailbox_user.append("INBOX", MESSAGE, flags=["\\Flagged"], internal_date=arrived)
    reader.examine("INBOX")

    [mail] = reader.fetch_mail([uid], 100).values()

    assert mail.raw == MESSAGE[:100]
    assert (mail.size, mail.truncated) == (len(MESSAGE), True)
    assert mail.flags == ("\\Flagged",)  # \Recent belongs to the session, not the message
    assert mail.internal_date == arrived


def test_examine_reports_what_an_idle_check_needs(
    mailbox_user: MailUser, reader: ImapClientReader
) -> None:
    mailbox_user.append("INBOX", MESSAGE)

    status = reader.examine("INBOX")

    assert status.uidvalidity == mailbox_user.uidvalidity("INBOX")
    assert (status.uidnext, status.exists) == (2, 1)
    assert status.highestmodseq is not None


def test_listing_new_mail_past_the_last_uid_ignores_the_star_quirk(
    mailbox_user: MailUser, reader: ImapClientReader
) -> None:
    for _ in range(3):
        mailbox_user.append("INBOX", MESSAGE)
    reader.examine("INBOX")

    assert reader.list_new(2) == {2: len(MESSAGE), 3: len(MESSAGE)}
    assert reader.list_new(4) == {}  # "4:*" would name UID 3, the last message


def test_changes_since_a_modseq_report_flags_and_vanished_uids(
    mailbox_user: MailUser, reader: ImapClientReader
) -> None:
    first, second, third = (mailbox_user.append("INBOX", MESSAGE) for _ in range(3))
    modseq = reader.examine("INBOX").highestmodseq
    assert modseq is not None

    mailbox_user.set_flags("INBOX", second, ["\\Answered"])
    mailbox_user.expunge("INBOX", first)
    reader.examine("INBOX")
    changes = reader.changes_since(modseq, third)

    assert changes.flags == {second: ("\\Answered",)}
    assert changes.vanished == {first}


def test_the_headers_needed_to_recognise_a_message_are_fetched_alone(
    mailbox_user: MailUser, reader: ImapClientReader
) -> None:
    uid = mailbox_user.append("INBOX", MESSAGE)
    reader.examine("INBOX")

    [head] = reader.fetch_headers([uid]).values()

    assert b"Message-ID: <m1@mail.ru>" in head.raw and b"Subject" not in head.raw
    assert head.size == len(MESSAGE)


# -- doctor --------------------------------------------------------------------------


def test_doctor_shows_the_folders_it_chose(mailbox_user: MailUser) -> None:
    mailbox_user.create_folder("Отправленные", "\\Sent")
    mailbox_user.create_folder("Корзина")

    [finding] = check_mailboxes(Checkup(whole_config(config(mailbox_user)), now=datetime.now(UTC)))

    assert finding.ok
    assert '  sent:  "Отправленные" (the server marks it \\Sent)' in finding.lines
    assert '  trash: "Корзина" (by its usual name)' in finding.lines
    assert "changes and deletions are read cheaply (QRESYNC)" in finding.lines


def test_doctor_says_a_login_was_refused(mailbox_user: MailUser) -> None:
    mailbox = config(mailbox_user, password=Secret("nope"))

    [finding] = check_mailboxes(Checkup(whole_config(mailbox), now=datetime.now(UTC)))

    assert not finding.ok
    assert "AUTHENTICATIONFAILED" in finding.detail
    assert finding.fix.startswith('check username in [[mailbox]] "orders" and the password')
