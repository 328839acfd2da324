"""Which folder of a mailbox is its inbox, Sent, Trash and Junk: a pure choice from a LIST.

The order of evidence, strongest first:

1. the config's ``inbox``/``sent``/``trash``/``junk`` keys (the user knows best);
2. SPECIAL-USE attributes (RFC 6154: ``\\Sent``, ``\\Trash``, ``\\Junk``), plus
   the older XLIST spellings Gmail once used (``\\Spam``, ``\\Inbox``);
3. well-known names, in Russian and English, as the big providers lay them
   out (Gmail's ``[Gmail]/...`` and ``[Google Mail]/...``, Yandex, Mail.ru,
   Outlook/Exchange, iCloud), compared case- and ``ё``-insensitively on the
   last path component or the whole path.

Servers send non-ASCII names in IMAP's modified UTF-7 (RFC 3501 5.1.3), so
"Отправленные" arrives as ``&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-``. A folder keeps
its wire name (what EXAMINE must send back) beside the decoded one (what people
read and what the database stores).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from watchdog.config.schema import MailboxConfig
from watchdog.errors import SourceError

Role = Literal["inbox", "sent", "trash", "junk"]
ROLES: tuple[Role, ...] = ("inbox", "sent", "trash", "junk")

#: SPECIAL-USE attributes by role; ``\Spam`` and ``\Inbox`` are Gmail's old XLIST names.
SPECIAL_USE: dict[Role, frozenset[str]] = {
    "inbox": frozenset({"\\inbox"}),
    "sent": frozenset({"\\sent"}),
    "trash": frozenset({"\\trash"}),
    "junk": frozenset({"\\junk", "\\spam"}),
}

#: Known names by role, in order of preference, already folded by ``_fold``.
#: A name matches a folder's last path component, or its whole path (for
#: names containing a separator, like Gmail's).
KNOWN_NAMES: dict[Role, tuple[str, ...]] = {
    "inbox": ("inbox", "входящие"),
    "sent": (
        "[gmail]/sent mail", "[google mail]/sent mail",
        "sent", "sent items", "sent messages", "sent mail", "sent-mail", "sentbox",
        "отправленные", "отправленные письма", "отправленные элементы",
    ),
    "trash": (
        "[gmail]/trash", "[gmail]/bin", "[google mail]/trash", "[google mail]/bin",
        "trash", "deleted items", "deleted messages", "deleted", "bin",
        "корзина", "удаленные", "удаленные письма", "удаленные элементы",
    ),
    "junk": (
        "[gmail]/spam", "[google mail]/spam",
        "junk", "spam", "junk e-mail", "junk email", "junk mail", "bulk mail",
        "спам", "нежелательная почта", "нежелательные",
    ),
}  # fmt: skip

#: LIST attributes of names that are not folders one can EXAMINE.
_UNSELECTABLE = frozenset({"\\noselect", "\\nonexistent"})


@dataclass(frozen=True, slots=True)
class ListedFolder:
    """One line of a LIST answer: the name as sent (modified UTF-7), its separator and flags."""

    wire: str
    delimiter: str | None
    flags: frozenset[str]

    @property
    def name(self) -> str:
        """The human-readable name (modified UTF-7 decoded)."""
        return decode_modified_utf7(self.wire)

    @property
    def selectable(self) -> bool:
        return not any(flag.lower() in _UNSELECTABLE for flag in self.flags)


@dataclass(frozen=True, slots=True)
class ChosenFolder:
    """The folder picked for a role, and why (shown by ``watchdog doctor``)."""

    role: Role
    name: str
    wire: str
    reason: str


@dataclass(frozen=True)
class FolderMap:
    """The folders of one mailbox by role; any but the inbox may be missing."""

    inbox: ChosenFolder
    sent: ChosenFolder | None = None
    trash: ChosenFolder | None = None
    junk: ChosenFolder | None = None

    def chosen(self) -> list[ChosenFolder]:
        """Return the folders found, in ROLES order."""
        found = (self.inbox, self.sent, self.trash, self.junk)
        return [folder for folder in found if folder is not None]

    def describe(self) -> str:
        """One line for people: ``inbox "INBOX" (standard name), sent "Отправленные" (...)``."""
        parts = []
        for role in ROLES:
            folder: ChosenFolder | None = getattr(self, role)
            parts.append(f"{role}: not found" if folder is None else
                         f'{role} "{folder.name}" ({folder.reason})')  # fmt: skip
        return ", ".join(parts)


def overrides_of(mailbox: MailboxConfig) -> dict[Role, str | None]:
    """Return the folder names the config sets by role (None where it sets none)."""
    return {
        "inbox": mailbox.inbox,
        "sent": mailbox.sent,
        "trash": mailbox.trash,
        "junk": mailbox.junk,
    }


def choose_folders(
    listed: Sequence[ListedFolder], overrides: Mapping[Role, str | None] | None = None
) -> FolderMap:
    """Return the folder for each role: an override, else SPECIAL-USE, else a known name.

    Raises SourceError (permanent) when an override names a folder the server
    does not have, listing the folders it has: a typo must not silently leave
    Sent unwatched.
    """
    usable = [folder for folder in listed if folder.selectable]
    picks: dict[Role, ChosenFolder | None] = {}
    for role in ROLES:
        wanted = (overrides or {}).get(role)
        if wanted:
            picks[role] = _override(role, wanted, usable)
        else:
            picks[role] = _by_special_use(role, usable) or _by_name(role, usable)
    taken = {pick.wire for role, pick in picks.items() if pick is not None and role != "inbox"}
    inbox = picks["inbox"] or _standard_inbox(usable, taken)
    return FolderMap(inbox=inbox, sent=picks["sent"], trash=picks["trash"], junk=picks["junk"])


def _override(role: Role, wanted: str, usable: Iterable[ListedFolder]) -> ChosenFolder:
    for folder in usable:
        if wanted in (folder.name, folder.wire) or (
            role == "inbox" and wanted.upper() == "INBOX" == folder.wire.upper()
        ):
            return ChosenFolder(role, folder.name, folder.wire, "set in the config")
    names = ", ".join(sorted(f'"{folder.name}"' for folder in usable)) or "none"
    raise SourceError(
        f'{role} = "{wanted}": the server has no such folder (it has: {names})', permanent=True
    )


def _by_special_use(role: Role, usable: Iterable[ListedFolder]) -> ChosenFolder | None:
    for folder in usable:
        flags = {flag.lower() for flag in folder.flags}
        matched = flags & SPECIAL_USE[role]
        if matched:
            flag = next(f for f in folder.flags if f.lower() in matched)
            return ChosenFolder(role, folder.name, folder.wire, f"SPECIAL-USE {flag}")
    return None


def _by_name(role: Role, usable: Sequence[ListedFolder]) -> ChosenFolder | None:
    """Return the folder whose name is earliest in KNOWN_NAMES; ties go to the shortest path.

    Folders flagged for another role are skipped: a server that marks
    "Spam" as \\Trash (it happens) keeps it out of Junk.
    """
    best: tuple[int, int, ListedFolder] | None = None
    for folder in usable:
        if _flagged_otherwise(role, folder):
            continue
        rank = _rank(role, folder)
        if rank is not None and (best is None or (rank, len(folder.wire)) < best[:2]):
            best = (rank, len(folder.wire), folder)
    if best is None:
        return None
    folder = best[2]
    return ChosenFolder(role, folder.name, folder.wire, "well-known name")


def _rank(role: Role, folder: ListedFolder) -> int | None:
    whole = _fold(folder.name)
    last = _fold(_last_component(folder))
    for rank, known in enumerate(KNOWN_NAMES[role]):
        if known in (whole, last):
            return rank
    return None


def _flagged_otherwise(role: Role, folder: ListedFolder) -> bool:
    flags = {flag.lower() for flag in folder.flags}
    return any(flags & SPECIAL_USE[other] for other in ROLES if other != role)


def _standard_inbox(usable: Iterable[ListedFolder], taken: set[str]) -> ChosenFolder:
    """INBOX exists on every IMAP server (RFC 3501), listed or not, in any letter case."""
    for folder in usable:
        if folder.wire.upper() == "INBOX" and folder.wire not in taken:
            return ChosenFolder("inbox", folder.name, folder.wire, "standard name")
    return ChosenFolder("inbox", "INBOX", "INBOX", "standard name")


def _last_component(folder: ListedFolder) -> str:
    name = folder.name
    return name.rsplit(folder.delimiter, 1)[-1] if folder.delimiter else name


def _fold(name: str) -> str:
    """Compare names loosely: case, ``ё``/``е``, and surrounding blanks do not matter."""
    return " ".join(name.casefold().replace("ё", "е").split())


def decode_modified_utf7(wire: str) -> str:
    """Decode IMAP's modified UTF-7 (RFC 3501 5.1.3); a name that is not valid stays as is.

    ``&`` starts a base64 run of UTF-16BE (with ``,`` for ``/``) ended by ``-``;
    ``&-`` is a literal ``&``. Some servers send raw UTF-8 instead (a quirk of
    older Exchange and of UTF8=ACCEPT sessions): it has no ``&`` runs and
    passes through unchanged.
    """
    out: list[str] = []
    i = 0
    while i < len(wire):
        if wire[i] != "&":
            out.append(wire[i])
            i += 1
            continue
        end = wire.find("-", i + 1)
        if end < 0:
            return wire
        chunk = wire[i + 1 : end]
        if not chunk:
            out.append("&")
        else:
            decoded = _decode_b64_utf16(chunk)
            if decoded is None:
                return wire
            out.append(decoded)
        i = end + 1
    return "".join(out)


def encode_modified_utf7(name: str) -> str:
    """Encode a folder name for the wire (RFC 3501 5.1.3); the inverse of decode_modified_utf7."""
    out: list[str] = []
    pending: list[str] = []
    for char in name + "\0":  # the sentinel flushes a trailing non-ASCII run
        if char != "\0" and not (0x20 <= ord(char) <= 0x7E):
            pending.append(char)
            continue
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending = []
        if char != "\0":
            out.append("&-" if char == "&" else char)
    return "".join(out)


def _decode_b64_utf16(chunk: str) -> str | None:
    padded = chunk.replace(",", "/") + "=" * (-len(chunk) % 4)
    try:
        return base64.b64decode(padded, validate=True).decode("utf-16-be")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
