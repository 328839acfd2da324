"""The IMAP edge: a ``MailboxReader`` protocol and its imapclient implementation.

This module and its helper ``imapwire`` (which reads FETCH answers off the
wire, fast) are the only ones that import imapclient and imaplib.
Everything above them sees plain dataclasses and ``SourceError``.

The reader can only read. It opens folders with EXAMINE (``select_folder(...,
readonly=True)``) and fetches with ``BODY.PEEK``, so the server never sets
\\Seen. It has no method that could STORE, COPY, MOVE or EXPUNGE, and a test
checks that a whole poll leaves every flag as it was.

Errors are translated here. A refused login is ``SourceError(permanent=True)``:
retrying with the same password cannot help. A refused connection, a timeout
or a dropped connection is ``SourceError(permanent=False)``. A command the
server refuses (NO/BAD, or an answer imapclient cannot parse) is permanent
too: repeating that command will not help, but the caller may try a smaller one.
"""

from __future__ import annotations

import contextlib
import re
import ssl
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import imapclient  # type: ignore[import-untyped]
from imapclient.exceptions import (  # type: ignore[import-untyped]
    IMAPClientAbortError,
    IMAPClientError,
    LoginError,
)

from watchdog.config.schema import MailboxConfig
from watchdog.errors import SourceError
from watchdog.sources.folders import ListedFolder
from watchdog.sources.imapwire import read_fetch, send_fetch, uid_fetch

#: RFC 5530 response codes that mean "try again later", even on a refused LOGIN.
_TRANSIENT_CODES = ("[UNAVAILABLE]", "[INUSE]", "[LIMIT]", "[SERVERBUG]")
#: The flag a server sets per session; it says nothing about the message.
_SESSION_FLAGS = frozenset({"\\recent"})
_HEADER_FIELDS = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID DATE)]"
_SEQUENCE_RANGE = re.compile(r"^(\d+)(?::(\d+))?$")


@dataclass(frozen=True, slots=True)
class FolderStatus:
    """What EXAMINE says about a folder.

    ``uidnext`` is None when the server leaves it out (old servers do);
    ``highestmodseq`` is None without CONDSTORE, or for a folder the server
    cannot track (``OK [NOMODSEQ]``).
    """

    uidvalidity: int
    uidnext: int | None
    exists: int
    highestmodseq: int | None


@dataclass(frozen=True, slots=True)
class FetchedMail:
    """One message as fetched: ``raw`` may be only its first part (``truncated``)."""

    uid: int
    raw: bytes
    size: int
    flags: tuple[str, ...]
    internal_date: datetime | None

    @property
    def truncated(self) -> bool:
        return self.size > len(self.raw)


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed since a mod-sequence: new flags by UID, and UIDs expunged.

    ``vanished`` is None when the server cannot say (CONDSTORE without QRESYNC).
    """

    flags: dict[int, tuple[str, ...]]
    vanished: frozenset[int] | None


class MailboxReader(Protocol):
    """Read-only access to one logged-in mailbox; every method may raise SourceError.

    Folder arguments are wire names (as LIST sent them); message methods act
    on the folder last examined.
    """

    @property
    def condstore(self) -> bool:
        """True when the server tracks mod-sequences (CONDSTORE, RFC 7162)."""
        ...

    @property
    def qresync(self) -> bool:
        """True when the server reports expunged UIDs (QRESYNC, RFC 7162)."""
        ...

    def list_folders(self) -> list[ListedFolder]:
        """Return every folder with its flags (LIST "" "*")."""
        ...

    def status(self, wire: str) -> FolderStatus:
        """Return a folder's status without opening it (STATUS): the cheap idle check."""
        ...

    def examine(self, wire: str) -> FolderStatus:
        """Open a folder read-only (EXAMINE) and return its status."""
        ...

    def list_new(self, first_uid: int) -> dict[int, int]:
        """Return the size of every message with UID >= ``first_uid``, by UID."""
        ...

    def fetch_mail(self, uids: Sequence[int], max_bytes: int) -> dict[int, FetchedMail]:
        """Fetch messages, each cut at ``max_bytes``; a UID gone meanwhile is left out."""
        ...

    def fetch_headers(self, uids: Sequence[int]) -> dict[int, FetchedMail]:
        """Fetch only the Message-ID and Date headers (``raw``), with size and flags."""
        ...

    def fetch_flags(self, first_uid: int, last_uid: int) -> dict[int, tuple[str, ...]]:
        """Return the flags of the messages with UIDs in [first_uid, last_uid]."""
        ...

    def changes_since(self, modseq: int, last_uid: int) -> Changes:
        """Return flag changes and (with QRESYNC) expunges since ``modseq``, up to ``last_uid``."""
        ...

    def all_uids(self) -> frozenset[int]:
        """Return the UIDs of every message in the folder (UID SEARCH ALL)."""
        ...

    def close(self) -> None:
        """Log out; never raises (the connection may be gone already)."""
        ...


@runtime_checkable
class PrefetchingReader(Protocol):
    """A reader that can ask for the next batch while this one is stored."""

    def prefetch_mail(self, uids: Sequence[int], max_bytes: int) -> None:
        """Send the FETCH of ``uids`` now; ``fetch_mail`` with the same arguments reads it.

        Between the two the server goes on producing the answer (into the
        socket's buffers) while the caller stores the batch before it.
        """
        ...


Connect = Callable[[MailboxConfig], MailboxReader]


def default_connect(mailbox: MailboxConfig) -> MailboxReader:
    """Connect and log in to the configured server, verifying its certificate."""
    return ImapClientReader.open(mailbox)


class ImapClientReader:
    """``MailboxReader`` over imapclient. Build it with :meth:`open`."""

    def __init__(self, client: Any, server: str) -> None:
        self._client = client
        self._server = server
        caps = {bytes(cap).upper() for cap in client.capabilities()}
        self._capabilities = frozenset(cap.decode("ascii", "replace") for cap in caps)
        self._qresync = b"QRESYNC" in caps and b"ENABLE" in caps
        self._condstore = (b"CONDSTORE" in caps or self._qresync) and b"ENABLE" in caps
        # FETCHes sent ahead (prefetch_mail), oldest first; answers read but not yet taken;
        # data that came early, in an earlier command's answer (see _read_ahead).
        self._ahead: deque[tuple[tuple[tuple[int, ...], int], bytes]] = deque()
        self._answers: dict[tuple[tuple[int, ...], int], dict[int, FetchedMail] | SourceError] = {}
        self._early: dict[int, dict[bytes, Any]] = {}

    @classmethod
    def open(
        cls, mailbox: MailboxConfig, *, ssl_context: ssl.SSLContext | None = None
    ) -> ImapClientReader:
        """Connect, secure (tls/starttls), log in and enable CONDSTORE/QRESYNC.

        ``ssl_context`` defaults to one that verifies the server's certificate
        and host name; tests pass one that trusts their own CA.
        """
        server = f"{mailbox.host}:{mailbox.port}"
        seconds = mailbox.timeout.total_seconds()
        # Loading the system's CA roots takes ~50 ms: only when TLS is used.
        context = None
        if mailbox.security != "none":
            context = ssl_context or ssl.create_default_context()
        with _translated(server, "connect"):
            client = imapclient.IMAPClient(
                mailbox.host,
                mailbox.port,
                ssl=mailbox.security == "tls",
                ssl_context=context,
                timeout=imapclient.SocketTimeout(connect=seconds, read=seconds),
            )
        try:
            with _translated(server, "log in"):
                if mailbox.security == "starttls":
                    client.starttls(context)
                _login(client, mailbox, server)
                reader = cls(client, server)
                reader._enable()
        except BaseException:
            _shutdown(client)
            raise
        return reader

    def _enable(self) -> None:
        """Turn on QRESYNC (which implies CONDSTORE), else CONDSTORE.

        Quirk: Dovecot sends HIGHESTMODSEQ in EXAMINE only once CONDSTORE is
        enabled in the session, so it is enabled even though CHANGEDSINCE alone
        would enable it implicitly.
        """
        if self._qresync:
            self._client.enable("QRESYNC")
        elif self._condstore:
            self._client.enable("CONDSTORE")
        # Our wire names are the server's own bytes: never re-encode them.
        self._client.folder_encode = False
        # Aware INTERNALDATEs, not imapclient's conversion to local naive time.
        self._client.normalise_times = False

    @property
    def capabilities(self) -> frozenset[str]:
        """What the server announced after login, upper-case ("IDLE"); shown by the doctor."""
        return self._capabilities

    @property
    def condstore(self) -> bool:
        return self._condstore

    @property
    def qresync(self) -> bool:
        return self._qresync

    def list_folders(self) -> list[ListedFolder]:
        self._read_ahead()
        with _translated(self._server, "LIST"):
            rows = self._client.list_folders()
        return [_listed(flags, delimiter, name) for flags, delimiter, name in rows]

    def status(self, wire: str) -> FolderStatus:
        self._read_ahead()
        # Quirk: Dovecot's EXAMINE costs time in proportion to the folder (about
        # 15 ms per 1,000 Maildir messages) while STATUS answers from its index
        # in well under a millisecond, so the idle check asks STATUS.
        items = ["UIDVALIDITY", "UIDNEXT", "MESSAGES"] + (
            ["HIGHESTMODSEQ"] if self._condstore else []
        )
        with _translated(self._server, f'STATUS "{wire}"'):
            status = self._client.folder_status(wire, items)
        return FolderStatus(
            uidvalidity=int(status[b"UIDVALIDITY"]),
            uidnext=int(status[b"UIDNEXT"]) if b"UIDNEXT" in status else None,
            exists=int(status.get(b"MESSAGES", 0)),
            highestmodseq=_modseq(status.get(b"HIGHESTMODSEQ")),
        )

    def examine(self, wire: str) -> FolderStatus:
        self._read_ahead()
        with _translated(self._server, f'EXAMINE "{wire}"'):
            status = self._client.select_folder(wire, readonly=True)
        modseq = status.get(b"HIGHESTMODSEQ")
        return FolderStatus(
            uidvalidity=int(status[b"UIDVALIDITY"]),
            uidnext=int(status[b"UIDNEXT"]) if b"UIDNEXT" in status else None,
            exists=int(status.get(b"EXISTS", 0)),
            highestmodseq=_modseq(modseq) if self._condstore else None,
        )

    def list_new(self, first_uid: int) -> dict[int, int]:
        self._read_ahead()
        # Quirk: "n:*" always includes the last message, even when its UID is
        # below n (RFC 3501 6.4.8), so the answer is filtered.
        data = self._fetch_range(f"{first_uid}:*", "(RFC822.SIZE)")
        return {
            uid: int(item[b"RFC822.SIZE"])
            for uid, item in data.items()
            if uid >= first_uid and b"RFC822.SIZE" in item
        }

    def fetch_mail(self, uids: Sequence[int], max_bytes: int) -> dict[int, FetchedMail]:
        key = (tuple(uids), max_bytes)
        self._read_ahead(until=key)
        answer = self._answers.pop(key, None)
        if isinstance(answer, SourceError):
            raise answer
        if answer is not None:
            return answer
        data = self._fetch_list(uids, _mail_items(max_bytes))
        return {uid: _mail(uid, item) for uid, item in data.items() if _body(item) is not None}

    def prefetch_mail(self, uids: Sequence[int], max_bytes: int) -> None:
        if not uids:
            return
        with _translated(self._server, "UID FETCH"):
            tag = send_fetch(self._client._imap, uid_set(sorted(set(uids))), _mail_items(max_bytes))
        self._ahead.append(((tuple(uids), max_bytes), tag))

    def fetch_headers(self, uids: Sequence[int]) -> dict[int, FetchedMail]:
        self._read_ahead()
        data = self._fetch_list(uids, f"({_HEADER_FIELDS} RFC822.SIZE FLAGS INTERNALDATE)")
        return {uid: _mail(uid, item) for uid, item in data.items() if _body(item) is not None}

    def fetch_flags(self, first_uid: int, last_uid: int) -> dict[int, tuple[str, ...]]:
        self._read_ahead()
        if last_uid < first_uid:
            return {}
        data = self._fetch_range(f"{first_uid}:{last_uid}", "(FLAGS)")
        return {
            uid: _flags(item[b"FLAGS"])
            for uid, item in data.items()
            if first_uid <= uid <= last_uid and b"FLAGS" in item
        }

    def changes_since(self, modseq: int, last_uid: int) -> Changes:
        self._read_ahead()
        if last_uid < 1:
            return Changes({}, frozenset() if self._qresync else None)
        modifiers = f"(CHANGEDSINCE {modseq}{' VANISHED' if self._qresync else ''})"
        self._client._imap.untagged_responses.pop("VANISHED", None)
        data = self._fetch_range(f"1:{last_uid}", "(FLAGS)", modifiers)
        flags = {uid: _flags(item[b"FLAGS"]) for uid, item in data.items() if b"FLAGS" in item}
        if not self._qresync:
            return Changes(flags, None)
        vanished = self._client._imap.untagged_responses.pop("VANISHED", [])
        return Changes(flags, frozenset(_vanished_uids(vanished)))

    def all_uids(self) -> frozenset[int]:
        self._read_ahead()
        with _translated(self._server, "UID SEARCH ALL"):
            return frozenset(int(uid) for uid in self._client.search("ALL"))

    def close(self) -> None:
        _shutdown(self._client)

    # -- internals -------------------------------------------------------------

    def _read_ahead(self, until: tuple[tuple[int, ...], int] | None = None) -> None:
        """Read the answers of FETCHes sent ahead, in order, up to ``until`` (else all).

        Every other command first reads them all: an answer left unread would
        be taken for the next command's. Quirk: a server may run pipelined
        FETCHes together (Dovecot does), so a message of a later FETCH can
        come inside an earlier one's answer; such data is kept for the FETCH
        that asked for it, never taken for "not there, expunged". A refusal
        is kept for its ``fetch_mail``; a network error propagates.
        """
        while self._ahead:
            key, tag = self._ahead.popleft()
            try:
                with _translated(self._server, "UID FETCH"):
                    data = read_fetch(self._client._imap, tag)
            except SourceError as exc:
                if not exc.permanent:
                    raise
                self._answers[key] = exc
            else:
                for uid, item in data.items():
                    self._early.setdefault(uid, {}).update(item)
                mine = {uid: self._early.pop(uid) for uid in key[0] if uid in self._early}
                self._answers[key] = {
                    uid: _mail(uid, item) for uid, item in mine.items() if _body(item) is not None
                }
            if key == until:
                return
        self._early.clear()  # nothing is pending: what is left was unsolicited

    def _fetch_list(self, uids: Sequence[int], items: str) -> dict[int, dict[bytes, Any]]:
        """UID FETCH of listed UIDs; like imapclient's ``fetch``, other messages are dropped."""
        if not uids:
            return {}
        wanted = sorted(set(uids))
        data = self._fetch_range(uid_set(wanted), items)
        return {uid: data[uid] for uid in wanted if uid in data}

    def _fetch_range(
        self, uid_range: str, items: str, modifiers: str | None = None
    ) -> dict[int, dict[bytes, Any]]:
        """UID FETCH, read by ``imapwire.uid_fetch``: every response of the answer, by UID.

        imapclient's ``fetch`` only accepts lists of UIDs and filters its
        answer by them, which a range like ``1:*`` cannot express; and its
        parser costs more than the download itself (see ``imapwire``).
        """
        with _translated(self._server, "UID FETCH"):
            return uid_fetch(self._client._imap, uid_range, items, modifiers)


def uid_set(uids: Sequence[int]) -> str:
    """Write ascending, distinct UIDs as an IMAP sequence set: runs become "first:last"."""
    runs: list[str] = []
    start = previous = uids[0]
    for uid in uids[1:]:
        if uid != previous + 1:
            runs.append(f"{start}:{previous}" if previous > start else str(start))
            start = uid
        previous = uid
    runs.append(f"{start}:{previous}" if previous > start else str(start))
    return ",".join(runs)


def _login(client: Any, mailbox: MailboxConfig, server: str) -> None:
    """Log in; a refusal is permanent unless the server says it is temporary."""
    try:
        client.login(mailbox.username, mailbox.password.reveal())
    except LoginError as exc:
        text = str(exc)
        transient = any(code in text.upper() for code in _TRANSIENT_CODES)
        raise SourceError(
            f"{server}: login as {mailbox.username} refused: {text}", permanent=not transient
        ) from exc


@contextlib.contextmanager
def _translated(server: str, doing: str) -> Iterator[None]:
    """Turn library and socket errors into SourceError, telling network from refusal."""
    try:
        yield
    except SourceError:
        raise
    except ssl.SSLCertVerificationError as exc:
        raise SourceError(f"{server}: certificate not trusted: {exc}", permanent=True) from exc
    except TimeoutError as exc:
        raise SourceError(f"{server}: no answer to {doing} in time", permanent=False) from exc
    except ConnectionRefusedError as exc:
        raise SourceError(f"{server}: connection refused", permanent=False) from exc
    except (OSError, IMAPClientAbortError, EOFError) as exc:
        raise SourceError(f"{server}: network error during {doing}: {exc}") from exc
    except IMAPClientError as exc:
        transient = any(code in str(exc).upper() for code in _TRANSIENT_CODES)
        raise SourceError(f"{server}: {doing} refused: {exc}", permanent=not transient) from exc
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        # imapclient's parser on an answer it does not understand.
        raise SourceError(
            f"{server}: cannot read the answer to {doing}: {exc!r}", permanent=True
        ) from exc


def _shutdown(client: Any) -> None:
    """Log out politely, or just drop the socket when the server is gone already."""
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - any failure here means "already gone"
        with contextlib.suppress(Exception):
            client.shutdown()


def _listed(
    flags: Sequence[bytes], delimiter: bytes | None, name: bytes | int | str
) -> ListedFolder:
    """One LIST row as a ListedFolder, keeping the name exactly as the server sent it.

    Quirk: some servers send a numeric name unquoted ("2024"), which the
    parser turns into an int; and a few send raw UTF-8 instead of modified
    UTF-7, kept here as decoded text.
    """
    if isinstance(name, bytes):
        wire = name.decode("utf-8", "replace")
    else:
        wire = str(name)
    return ListedFolder(
        wire=wire,
        delimiter=delimiter.decode("ascii", "replace") if delimiter else None,
        flags=frozenset(flag.decode("ascii", "replace") for flag in flags),
    )


def _body(item: dict[bytes, Any]) -> bytes | None:
    """Return the body section of a FETCH answer, whatever its key.

    Quirk: the key echoes the section ("BODY[]<0>", "BODY[HEADER.FIELDS
    (MESSAGE-ID DATE)]"), and servers differ in letter case and spacing.
    """
    for key, value in item.items():
        if key.upper().startswith(b"BODY["):
            return bytes(value) if value is not None else b""
    return None


def _mail_items(max_bytes: int) -> str:
    """The data items of a mail's FETCH: its first ``max_bytes``, size, flags, arrival time."""
    return f"(BODY.PEEK[]<0.{max_bytes}> RFC822.SIZE FLAGS INTERNALDATE)"


def _mail(uid: int, item: dict[bytes, Any]) -> FetchedMail:
    raw = _body(item) or b""
    return FetchedMail(
        uid=uid,
        raw=raw,
        size=int(item.get(b"RFC822.SIZE", len(raw))),
        flags=_flags(item.get(b"FLAGS", ())),
        internal_date=_utc(item.get(b"INTERNALDATE")),
    )


def _flags(raw: Sequence[bytes | str]) -> tuple[str, ...]:
    """Decode flags, dropping \\Recent (it belongs to the session, not the message)."""
    decoded = (flag.decode("utf-8", "replace") if isinstance(flag, bytes) else flag for flag in raw)
    return tuple(sorted(flag for flag in decoded if flag.lower() not in _SESSION_FLAGS))


def _utc(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:  # a server without a zone in INTERNALDATE: take it as UTC
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _modseq(value: object) -> int | None:
    """HIGHESTMODSEQ, or None; a server that cannot keep mod-sequences for a folder says 0."""
    if value is None:
        return None
    number = int(value)  # type: ignore[call-overload]
    return number or None


def _vanished_uids(lines: Sequence[bytes | str]) -> set[int]:
    """Expand ``VANISHED (EARLIER) 1,3:5`` lines into a set of UIDs."""
    uids: set[int] = set()
    for line in lines:
        text = line.decode("ascii", "replace") if isinstance(line, bytes) else line
        for token in text.replace("(EARLIER)", " ").replace(",", " ").split():
            match = _SEQUENCE_RANGE.match(token)
            if match:
                first = int(match.group(1))
                last = int(match.group(2) or first)
                uids.update(range(min(first, last), max(first, last) + 1))
    return uids
