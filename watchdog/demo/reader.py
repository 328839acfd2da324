"""A ``MailboxReader`` over the bundled week: an IMAP account that lives in memory.

The demo has no IMAP server, yet its mail must reach the watchdog through the
same door as real mail (``poll_mailbox`` and everything after it), so this
module plays the server. A message is visible once the demo's virtual clock
has passed its arrival, and a message moved to Trash leaves INBOX and appears
in Trash at that moment, as an IMAP MOVE would make it.

What a real server guarantees, this one does too, because the sync relies on it:

- UIDVALIDITY never changes, and UIDs grow in order of arrival in a folder
  (so "new mail" is always "UIDs above the last one read");
- CONDSTORE and QRESYNC: HIGHESTMODSEQ grows with every arrival and every
  expunge, so an unchanged folder answers STATUS with the same value and the
  sync stays idle; an expunge is reported as VANISHED;
- INTERNALDATE is the arrival time, and a moved message keeps it;
- Sent, Junk and Trash carry their SPECIAL-USE attributes.

Flags never change after arrival: the week's data gives each message its flags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32

from watchdog.config.schema import MailboxConfig
from watchdog.demo.week import FOLDERS, Mail, Week
from watchdog.errors import SourceError
from watchdog.sources.folders import ListedFolder
from watchdog.sources.imap import Changes, FetchedMail, FolderStatus, MailboxReader

#: SPECIAL-USE attributes (RFC 6154) as a server would LIST them.
_ATTRIBUTES = {
    "INBOX": frozenset({"\\HasNoChildren"}),
    "Sent": frozenset({"\\HasNoChildren", "\\Sent"}),
    "Junk": frozenset({"\\HasNoChildren", "\\Junk"}),
    "Trash": frozenset({"\\HasNoChildren", "\\Trash"}),
}
#: Any fixed number will do: it only has to stay the same between polls.
_UIDVALIDITY = 1762722000


@dataclass(frozen=True, slots=True)
class _Slot:
    """One message in one folder: its UID there, and the time span it is in the folder."""

    uid: int
    mail: Mail
    since: datetime
    until: datetime | None

    def visible(self, now: datetime) -> bool:
        return self.since <= now and (self.until is None or now < self.until)


class _Folder:
    """The messages of one folder with their UIDs and the folder's mod-sequence history."""

    def __init__(self, name: str, index: int, slots: Iterable[_Slot]) -> None:
        self.name = name
        self.uidvalidity = _UIDVALIDITY + index
        self.slots = tuple(slots)
        events = [slot.since for slot in self.slots]
        events += [slot.until for slot in self.slots if slot.until is not None]
        self._events = sorted(events)

    def modseq(self, now: datetime) -> int:
        """HIGHESTMODSEQ at ``now``: one more for each arrival and expunge so far."""
        return 1 + sum(1 for event in self._events if event <= now)

    def status(self, now: datetime) -> FolderStatus:
        arrived = [slot.uid for slot in self.slots if slot.since <= now]
        return FolderStatus(
            uidvalidity=self.uidvalidity,
            uidnext=max(arrived, default=0) + 1,
            exists=sum(1 for slot in self.slots if slot.visible(now)),
            highestmodseq=self.modseq(now),
        )

    def visible(self, now: datetime) -> dict[int, _Slot]:
        return {slot.uid: slot for slot in self.slots if slot.visible(now)}


class DemoMailbox:
    """The bundled week as a mailbox; ``connect`` is the ``Edges.connect`` of the demo.

    ``clock`` returns the demo's virtual time; each connection reads it once,
    so one poll sees one consistent moment, as one IMAP session would.
    """

    def __init__(self, week: Week, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._folders = {
            name: _Folder(name, index, _slots(name, week.mails))
            for index, name in enumerate(FOLDERS)
        }

    def connect(self, mailbox: MailboxConfig) -> MailboxReader:
        """Open a session at the current virtual time (the mailbox config is not needed)."""
        return DemoReader(self._folders, self._clock())


class DemoReader:
    """One session with the demo mailbox, frozen at ``now``. See the module docstring."""

    def __init__(self, folders: dict[str, _Folder], now: datetime) -> None:
        self._folders = folders
        self._now = now
        self._current: _Folder | None = None

    @property
    def condstore(self) -> bool:
        return True

    @property
    def qresync(self) -> bool:
        return True

    def list_folders(self) -> list[ListedFolder]:
        return [ListedFolder(name, "/", _ATTRIBUTES[name]) for name in self._folders]

    def status(self, wire: str) -> FolderStatus:
        return self._folder(wire).status(self._now)

    def examine(self, wire: str) -> FolderStatus:
        self._current = self._folder(wire)
        return self._current.status(self._now)

    def list_new(self, first_uid: int) -> dict[int, int]:
        return {
            uid: len(slot.mail.raw) for uid, slot in self._visible().items() if uid >= first_uid
        }

    def fetch_mail(self, uids: Sequence[int], max_bytes: int) -> dict[int, FetchedMail]:
        visible = self._visible()
        return {
            uid: _fetched(visible[uid], visible[uid].mail.raw[:max_bytes])
            for uid in uids
            if uid in visible
        }

    def fetch_headers(self, uids: Sequence[int]) -> dict[int, FetchedMail]:
        visible = self._visible()
        return {uid: _fetched(visible[uid], _id_and_date(visible[uid].mail.raw))
                for uid in uids if uid in visible}  # fmt: skip

    def fetch_flags(self, first_uid: int, last_uid: int) -> dict[int, tuple[str, ...]]:
        return {
            uid: slot.mail.flags
            for uid, slot in self._visible().items()
            if first_uid <= uid <= last_uid
        }

    def changes_since(self, modseq: int, last_uid: int) -> Changes:
        """Flags never change here; report the UIDs expunged after ``modseq``."""
        folder = self._opened()
        vanished = frozenset(
            slot.uid
            for slot in folder.slots
            if slot.uid <= last_uid
            and slot.until is not None
            and slot.until <= self._now
            and folder.modseq(slot.until) > modseq
        )
        return Changes({}, vanished)

    def all_uids(self) -> frozenset[int]:
        return frozenset(self._visible())

    def close(self) -> None:
        self._current = None

    def _folder(self, wire: str) -> _Folder:
        folder = self._folders.get(wire)
        if folder is None:
            raise SourceError(f"demo mailbox: no folder {wire!r}", permanent=True)
        return folder

    def _opened(self) -> _Folder:
        if self._current is None:
            raise SourceError("demo mailbox: no folder examined", permanent=True)
        return self._current

    def _visible(self) -> dict[int, _Slot]:
        return self._opened().visible(self._now)


def _slots(folder: str, mails: Sequence[Mail]) -> list[_Slot]:
    """Return the folder's messages in order of arrival there, numbered from UID 1."""
    spans: list[tuple[datetime, int, Mail, datetime | None]] = []
    for order, mail in enumerate(mails):
        if mail.folder == folder:
            spans.append((mail.at, order, mail, mail.moved_to_trash))
        elif folder == "Trash" and mail.moved_to_trash is not None:
            spans.append((mail.moved_to_trash, order, mail, None))
    spans.sort(key=lambda span: (span[0], span[1]))
    return [_Slot(uid, mail, since, until) for uid, (since, _, mail, until) in
            enumerate(spans, start=1)]  # fmt: skip


def _fetched(slot: _Slot, raw: bytes) -> FetchedMail:
    return FetchedMail(
        uid=slot.uid,
        raw=raw,
        size=len(slot.mail.raw),  # RFC822.SIZE: the whole message, whatever was fetched
        flags=slot.mail.flags,
        internal_date=slot.mail.at,
    )


def _id_and_date(raw: bytes) -> bytes:
    """Return only the Message-ID and Date header lines, as ``HEADER.FIELDS`` would."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    lines = [f"{name}: {headers[name]}" for name in ("Message-ID", "Date") if name in headers]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8", "replace")
