"""The demo's mail relay: every e-mail the watchdog sends is written to a folder as .eml.

It stands where :class:`watchdog.notify.mailer.Mailer` stands (the outbox's
e-mail channel calls ``send``), so the escalations and digests of the demo
go through the real outbox, exactly once, and end up as files a newcomer can
open in any mail client.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.policy import SMTPUTF8
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9.@_-]+")


class FolderMailer:
    """Write each message to ``folder`` as ``NNN-<kind>-<recipient>.eml``; remember the paths."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.written: list[Path] = []

    def send(self, message: EmailMessage) -> str:
        """Write the message; return a receipt naming the file, as a relay names its queue id."""
        self.folder.mkdir(parents=True, exist_ok=True)
        kind = _kind_of(str(message["Message-ID"]))
        recipient = _UNSAFE.sub("_", str(message["To"]))
        path = self.folder / f"{len(self.written) + 1:03d}-{kind}-{recipient}.eml"
        path.write_bytes(message.as_bytes(policy=SMTPUTF8))
        self.written.append(path)
        return f"250 written to {path}"


def _kind_of(message_id: str) -> str:
    """Name the file after what the e-mail is: a digest, an alarm or an escalation."""
    if message_id.startswith("<digest-"):
        return "digest"
    return "alarm" if message_id.startswith("<watchdog.alarm.") else "escalation"
