"""The IMAP sync bench's code; run it as ``bench/imap_sync.py``, whose docstring says what it does.

It lives apart from that entry point because multiprocessing's fork server,
from which the sync's worker processes fork, imports the main module: a
daemon's main module (the ``watchdog`` command) is light, and so must the
bench's be, or the first sync would pay for importing the bench itself.
"""

from __future__ import annotations

import argparse
import imaplib
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Self
from unittest.mock import patch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from imapclient import IMAPClient

from tests.fixtures.dovecot import DovecotServer
from watchdog.classify import ClassifyContext, load_rules
from watchdog.config.schema import MailboxConfig
from watchdog.config.secrets import Secret
from watchdog.ingest.message import OurIdentity
from watchdog.ingest.read import Ingestor
from watchdog.ingest.store import ensure_source, insert_mails
from watchdog.sources import foldersync, ingestpool, mailsync
from watchdog.sources.imap import default_connect
from watchdog.sources.ingestpool import MailReaders
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade
from watchdog.storage.models import FolderSync

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
MOSCOW = timezone(timedelta(hours=3))
MAX_FETCH = 1_000_000
BARE_BATCH = 250
"""Messages per FETCH of the baseline, as it has always been measured. Bigger batches
fetch no faster with imapclient (250 and 1000: the same time within noise)."""
SENT_SHARE = 40  # every 40th message is one of our replies, in Sent
BIG_EVERY = 200  # every 200th message carries a 150 kB attachment
NEWSLETTER_EVERY = 10  # n % 10 == 1: an English HTML newsletter (about 6 kB)
ENGLISH_EVERY = 7  # n % 7 == 2: an English customer
FOLLOW_UP_EVERY = 11  # n % 11 == 5: a windows-1251 follow-up quoting our reply

_NEWSLETTER_ROW = (
    '<tr><td style="padding:8px;border-bottom:1px solid #eee"><a href="https://mail.test/p/{i}">'
    '<img src="https://cdn.test/{i}.jpg" width="80" alt=""></a></td><td style="padding:8px">'
    "<b>Product {i}</b><br>Now only $ {i}9.99 &mdash; free shipping on orders over $50. "
    '<a href="https://mail.test/p/{i}">Shop now &raquo;</a></td></tr>\r\n'
)


def message(n: int) -> bytes:
    """A plausible message; the mix of a shop's order mailbox (percentages of 20,000).

    Russian customers in plain utf-8 (about half), English customers (10 %),
    windows-1251 follow-ups quoting our reply under an RFC 2047 subject (6 %),
    shop notifications, half of them multipart/alternative with HTML (30 %),
    English HTML-only newsletters (7 %), our replies in Sent (2.5 %), and a
    150 kB PDF attached to every 200th.
    """
    common = (f"Date: {format_datetime(sent_at(n))}\r\nMessage-ID: <q{n}@mail.ru>\r\n"
              "MIME-Version: 1.0\r\n")  # fmt: skip
    plain = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    if n % SENT_SHARE == 0:
        head = (f"From: Anna <orders@shop.test>\r\nTo: client{n}@mail.ru\r\nSubject: Re: заказ {n}\r\n"
                f"In-Reply-To: <q{n - 1}@mail.ru>\r\n")  # fmt: skip
        body = ("Добрый день! Заказ отправлен, трек-номер пришлём завтра.\r\n" * 3
                + f"\r\n3 ноября 2025 г., 11:02, Клиент <client{n}@mail.ru>:\r\n"
                + "> Здравствуйте! А подскажите, когда будет доставка?\r\n" * 4)  # fmt: skip
    elif n % 3 == 0:
        head = (
            f"From: noreply@shop-cms.test\r\nTo: orders@shop.test\r\nSubject: Новый заказ #{n}\r\n"
        )
        body = "Автоматическое уведомление: оформлен заказ.\r\n" * 10
        if n % 2 and n % BIG_EVERY:
            rows = "".join(f"<tr><td>Товар {i}</td><td>{i * 370} ₽</td></tr>" for i in range(1, 9))
            html = (f"<html><body><h2>Новый заказ #{n}</h2><table>{rows}</table>"
                    "<p>Автоматическое уведомление: оформлен заказ.</p></body></html>")  # fmt: skip
            return (head + common + 'Content-Type: multipart/alternative; boundary="a"\r\n\r\n'
                    f"--a\r\n{plain}{body}\r\n--a\r\nContent-Type: text/html; charset=utf-8\r\n"
                    f"Content-Transfer-Encoding: 8bit\r\n\r\n{html}\r\n--a--\r\n").encode()  # fmt: skip
    elif n % NEWSLETTER_EVERY == 1 and n % BIG_EVERY:
        rows = "".join(_NEWSLETTER_ROW.format(i=i) for i in range(1, 16))
        html = ("<!DOCTYPE html><html><head><style>td{font-family:Arial}</style></head><body>"
                f"<table width=\"600\" align=\"center\">\r\n{rows}</table>"
                "<p style=\"font-size:11px\">You receive this because you subscribed at mail.test. "
                "<a href=\"https://mail.test/unsubscribe\">Unsubscribe</a></p></body></html>\r\n")  # fmt: skip
        head = (f"From: Deals Weekly <news@mail.test>\r\nTo: orders@shop.test\r\n"
                f"Subject: This week's deals, issue {n}\r\nList-Id: <deals.mail.test>\r\n"
                "List-Unsubscribe: <https://mail.test/unsubscribe>\r\nPrecedence: bulk\r\n")  # fmt: skip
        return (head + common + "Content-Type: text/html; charset=utf-8\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n" + html).encode()  # fmt: skip
    elif n % ENGLISH_EVERY == 2:
        head = (f"From: John Smith <john{n}@gmail.test>\r\nTo: orders@shop.test\r\n"
                f"Subject: Question about order {n}\r\n")  # fmt: skip
        body = ("Hello, I ordered a blue jacket last week and it has not arrived yet. "
                "Could you tell me when it will be delivered?\r\n\r\nThanks,\r\nJohn\r\n"
                "\r\nSent from my iPhone\r\n")  # fmt: skip
    elif n % FOLLOW_UP_EVERY == 5 and n % BIG_EVERY:
        subject = "=?windows-1251?B?UmU6INfl7CDn4Org5yDv8Ojl5OXy?="  # "Re: Чем заказ приедет"
        head = (f"From: =?windows-1251?B?yuvo5e3y?= <client{n}@yandex.test>\r\n"
                f"To: orders@shop.test\r\nSubject: {subject}\r\n"
                f"In-Reply-To: <q{n - 1}@mail.ru>\r\nReferences: <q{n - 2}@mail.ru> <q{n - 1}@mail.ru>\r\n")  # fmt: skip
        body = ("Спасибо! А можно курьером, а не почтой?\r\n\r\n"
                + "03.11.2025, 11:02, \"Анна\" <orders@shop.test>:\r\n"
                + "> Добрый день! Заказ отправлен, трек-номер пришлём завтра.\r\n" * 6)  # fmt: skip
        text = ("Content-Type: text/plain; charset=windows-1251\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n")  # fmt: skip
        return (head + common + text).encode() + body.encode("cp1251")
    else:
        head = (f"From: Клиент <client{n}@mail.ru>\r\nTo: orders@shop.test\r\n"
                f"Subject: Вопрос по заказу {n}\r\n")  # fmt: skip
        body = "Здравствуйте! А подскажите, когда будет доставка? Спасибо.\r\n" * 8
    if n % BIG_EVERY:
        return (head + common + plain + body).encode()
    blob = (b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=" * 2 + b"\r\n") * 2000
    multipart = (
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        f"{plain}{body}\r\n--b\r\nContent-Type: application/pdf; name=a.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    )
    return (head + common + multipart).encode() + blob + b"--b--\r\n"


def sent_at(n: int) -> datetime:
    """When mail ``n`` was written: one every few minutes, going back from NOW, in Moscow time.

    Every mail has its own Date and INTERNALDATE (a few seconds later), as in a real
    mailbox: what is stored per mail must be computed per mail.
    """
    return (NOW - timedelta(minutes=3 * n, seconds=n % 60)).astimezone(MOSCOW)


def fill(server: DovecotServer, users: list[str], count: int) -> None:
    """Write ``count`` messages as Maildir files for the first user, hard-link them for the rest."""
    first = _maildir_paths(server, users[0])
    for n in range(1, count + 1):
        folder = first["Sent"] if n % SENT_SHARE == 0 else first["INBOX"]
        raw = message(n)
        path = folder / f"{1_700_000_000 + n}.M{n}P1.bench,S={len(raw)}:2,"
        path.write_bytes(raw)
        arrived = sent_at(n).timestamp() + 7  # Maildir: the file's mtime is its INTERNALDATE
        os.utime(path, (arrived, arrived))
        server.run_as.chown(path)
    for user in users[1:]:
        paths = _maildir_paths(server, user)
        for name, source in first.items():
            for file in source.iterdir():
                os.link(file, paths[name] / file.name)
    for user in users:
        server.doveadm("force-resync", "-u", user, "*")
        server.doveadm("index", "-u", user, "*")
        warm(server, user)


def warm(server: DovecotServer, user: str) -> None:
    """Open each folder once, read-only, as the staff's mail clients would have.

    Quirk: after Maildir files appear behind its back, Dovecot's first open
    of a folder replays its transaction log (~0.3-0.9 s for 20,000 messages)
    and writes its index on logout; afterwards STATUS and EXAMINE take ~1 ms.
    A live mailbox is always in that steady state, so the bench starts there.
    """
    with IMAPClient(server.host, server.port, ssl=False, timeout=60) as imap:
        imap.login(user, server.users[user])
        imap.enable("QRESYNC")
        for folder in ("INBOX", "Sent"):
            imap.select_folder(folder, readonly=True)
        imap.logout()


def _maildir_paths(server: DovecotServer, user: str) -> dict[str, Path]:
    """Create the user's INBOX and Sent Maildirs (LAYOUT=fs) owned by Dovecot's account."""
    root = server.root / "mail" / user
    result = {}
    for name, path in (("INBOX", root / "Maildir"), ("Sent", root / "Maildir" / "Sent")):
        for part in ("", "cur", "new", "tmp"):
            (path / part).mkdir(parents=True, exist_ok=True)
        result[name] = path / "cur"
    for directory in [root, *root.rglob("*")]:
        if directory.is_dir():
            server.run_as.chown(directory)
    return result


def bare_fetch(server: DovecotServer, user: str) -> tuple[float, int]:
    """The baseline: the same data with imapclient and nothing else; return (seconds, bytes)."""
    start, total = time.perf_counter(), 0
    with IMAPClient(server.host, server.port, ssl=False, timeout=60) as imap:
        imap.login(user, server.users[user])
        for folder in ("INBOX", "Sent"):
            imap.select_folder(folder, readonly=True)
            uids = imap.search("ALL")
            for i in range(0, len(uids), BARE_BATCH):
                items = [f"BODY.PEEK[]<0.{MAX_FETCH}>", "RFC822.SIZE", "FLAGS", "INTERNALDATE"]
                for data in imap.fetch(uids[i : i + BARE_BATCH], items).values():
                    total += len(data[b"BODY[]<0>"])
        imap.logout()
    return time.perf_counter() - start, total


def mailbox_for(server: DovecotServer, user: str, n: int) -> MailboxConfig:
    return MailboxConfig.model_validate({
        "name": f"box{n}", "host": server.host, "port": server.port, "security": "none",
        "username": user, "password": Secret(server.users[user]), "timeout": "60s",
        "max_fetch_bytes": MAX_FETCH,
    })  # fmt: skip


class Spent:
    """Wall-clock and CPU seconds spent in some calls of the polling process."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def add(self, wall: float, cpu: float) -> None:
        self.wall += wall
        self.cpu += cpu


def timed(function: Callable[..., Any], spent: Spent) -> Callable[..., Any]:
    """Wrap ``function`` to add up the time spent in it."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent.add(time.perf_counter() - start, time.process_time() - cpu)

    return wrapper


def kept_readers(opened: list[MailReaders], results: Spent) -> Callable[..., MailReaders]:
    """Wrap open_readers to keep every MailReaders the sync opens, for their stats.

    ``results`` adds up the calls that wait for a batch's reads (and unpickle
    them, or read a small folder in this process).
    """

    def open_readers(*args: Any, **kwargs: Any) -> MailReaders:
        readers = ingestpool.open_readers(*args, **kwargs)
        readers.result = timed(readers.result, results)  # type: ignore[method-assign]
        opened.append(readers)
        return readers

    return open_readers


def seed_as_synced(server: DovecotServer, sessions: Any, mailbox: MailboxConfig) -> None:
    """Record a mailbox's folders as fully read (step 5 of the module docstring)."""
    with sessions() as session, IMAPClient(server.host, server.port, ssl=False) as imap:
        imap.login(mailbox.username, mailbox.password.reveal())
        imap.enable("QRESYNC")
        source = ensure_source(session, "mailbox", mailbox.name, NOW)
        for name, role in (("INBOX", "inbox"), ("Sent", "sent")):
            status = imap.folder_status(name, ["UIDVALIDITY", "UIDNEXT", "HIGHESTMODSEQ"])
            session.add(FolderSync(
                source_id=source.id, role=role, name=name, uidvalidity=status[b"UIDVALIDITY"],
                last_uid=status[b"UIDNEXT"] - 1, highestmodseq=status[b"HIGHESTMODSEQ"],
            ))  # fmt: skip
        session.commit()
        imap.logout()


class TimedReader:
    """A reader that adds up the time spent waiting on IMAP (every reader call)."""

    def __init__(self, reader: Any, spent: Spent) -> None:
        self._reader, self._spent = reader, spent

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._reader, name)
        return timed(attribute, self._spent) if callable(attribute) else attribute


def timed_connect(spent: Spent) -> Callable[[MailboxConfig], Any]:
    def connect(mailbox: MailboxConfig) -> Any:
        return TimedReader(timed(default_connect, spent)(mailbox), spent)

    return connect


def machine_cpu() -> float:
    """CPU seconds every process on the machine has used so far (/proc/stat: all but idle).

    Over a sync, this includes what the per-process figures miss: the
    workers' start and their pickling, the fork server, the kernel's work.
    On a quiet machine it is the sync's whole cost.
    """
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def server_cpu(server: DovecotServer) -> float:
    """CPU seconds used so far by Dovecot: the master, its children, and children gone."""
    total = 0.0
    pids = [server.pid] if server.pid else []
    while pids:
        pid = pids.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:  # gone meanwhile
            continue
        total += sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        pids.extend(int(child) for child in children)
    return total


class CommandCounter:
    """Counts IMAP commands sent (one ``send`` per command line on these paths)."""

    def __init__(self) -> None:
        self.count = 0
        self._original = imaplib.IMAP4.send

    def __enter__(self) -> Self:
        original = self._original

        def send(imap: imaplib.IMAP4, data: bytes) -> None:
            self.count += 1
            original(imap, data)

        imaplib.IMAP4.send = send  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        imaplib.IMAP4.send = self._original  # type: ignore[method-assign]


def run(messages: int, mailboxes: int, workdir: Path) -> None:
    server = DovecotServer.create()
    try:
        server.start()
        users = [server.new_user("bench") for _ in range(mailboxes)]
        start = time.perf_counter()
        fill(server, users, messages)
        print(
            f"filled {mailboxes} mailbox(es) x {messages} messages in {time.perf_counter() - start:.1f} s"
        )
        measure(server, users, workdir)
    finally:
        server.close()


BARE_RUNS = 2
"""Timed bare fetches, the best kept (a shared 2-core machine is noisy)."""
SYNC_RUNS = 2
"""Timed first syncs, each into an empty database. The first is the one reported: like a
daemon's first poll, it pays for starting the worker processes' fork server, which later
polls reuse (the second run shows that case)."""


@dataclass
class SyncRun:
    """One timed first sync into a fresh database, and how its time split."""

    seconds: float
    main_cpu: float
    server_cpu: float
    machine_cpu: float
    imap: Spent
    inserts: Spent
    results: Spent
    opened: list[MailReaders]
    stored: int

    @property
    def worker_cpu(self) -> float:
        return sum(readers.stats.worker_cpu for readers in self.opened)


def measure(server: DovecotServer, users: list[str], workdir: Path) -> None:
    bare_fetch(server, users[0])  # warm Dovecot's caches and the page cache
    bares = []
    for _ in range(BARE_RUNS):
        before_server, before = server_cpu(server), time.process_time()
        seconds, volume = bare_fetch(server, users[0])
        cpu, server_seconds = time.process_time() - before, server_cpu(server) - before_server
        bares.append((seconds, cpu, server_seconds))
    bare, bare_cpu, bare_server = min(bares)
    print(f"bare imapclient fetch:        {bare:7.2f} s  ({volume / 1e6:.0f} MB; best of "
          f"{', '.join(f'{b[0]:.2f}' for b in bares)})")  # fmt: skip

    ingestor = Ingestor(
        rules=load_rules(),
        context=ClassifyContext(own_domains=frozenset({"shop.test"})),
        ours=OurIdentity(domains=frozenset({"shop.test"})),
        rule_dirs=(),  # the bundled rules: worker processes can load them too
    )
    boxes = [mailbox_for(server, user, n) for n, user in enumerate(users, 1)]
    runs = []
    for n in range(1, SYNC_RUNS + 1):
        url = f"sqlite:///{workdir / f'bench-{n}.db'}"
        upgrade(url)
        engine = make_engine(url)
        runs.append(sync_once(server, session_factory(engine), boxes[0], ingestor))
        rss_sync = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if n < SYNC_RUNS:
            engine.dispose()
    first, *later = runs
    print(
        f"first sync (poll_mailbox):    {first.seconds:7.2f} s  = {first.seconds / bare:.2f}x bare; "
        f"{first.stored} messages stored"
    )
    for run in later:
        print(
            f"  again, its fork server up:  {run.seconds:7.2f} s  = {run.seconds / bare:.2f}x bare"
        )
    print_split(first)
    print(
        f"  CPU seconds, all processes: bare fetch {bare_cpu:.2f} + Dovecot {bare_server:.2f}; "
        f"first sync {first.main_cpu:.2f} + workers {first.worker_cpu:.2f} + Dovecot "
        f"{first.server_cpu:.2f} = {first.main_cpu + first.worker_cpu + first.server_cpu:.2f} "
        f"on {len(os.sched_getaffinity(0))} cores; the whole machine used {first.machine_cpu:.2f}"
    )
    sessions = session_factory(engine)
    for box in boxes[1:]:
        seed_as_synced(server, sessions, box)
    idle_times = []
    for _ in range(3):
        with CommandCounter() as commands:
            start = time.perf_counter()
            for n, box in enumerate(boxes, 1):
                later = NOW + timedelta(minutes=2 * n)
                idle = mailsync.poll_mailbox(
                    sessions, box, ingestor, now=later, unreachable_after=timedelta(hours=1)
                )
                assert idle.ok and all(f.idle for f in idle.folders.values()), idle
            idle_times.append(time.perf_counter() - start)
    print(
        f"idle poll of {len(boxes)} mailbox(es):   {min(idle_times):7.3f} s  (best of 3; "
        f"{commands.count // len(boxes)} IMAP commands per mailbox)"
    )
    print(
        f"peak RSS:                     {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:7.0f} MB"
        f"  (after the first sync: {rss_sync:.0f} MB)"
    )
    engine.dispose()


def sync_once(
    server: DovecotServer, sessions: Any, box: MailboxConfig, ingestor: Ingestor
) -> SyncRun:
    """Time ``poll_mailbox``'s first sync of ``box`` into an empty database."""
    imap, inserts, results = Spent(), Spent(), Spent()
    opened: list[MailReaders] = []
    keep = kept_readers(opened, results)
    with (
        patch.object(foldersync, "insert_mails", timed(insert_mails, inserts)),
        patch.object(mailsync, "open_readers", keep),  # the poll's shared workers
        patch.object(foldersync, "open_readers", keep),  # a folder's own
    ):
        before_server, before, machine = server_cpu(server), time.process_time(), machine_cpu()
        start = time.perf_counter()
        report = mailsync.poll_mailbox(
            sessions,
            box,
            ingestor,
            now=NOW,
            unreachable_after=timedelta(hours=1),
            connect=timed_connect(imap),
        )
        seconds, machine = time.perf_counter() - start, machine_cpu() - machine
        main_cpu, sync_server = time.process_time() - before, server_cpu(server) - before_server
    assert report.ok, report.error
    return SyncRun(
        seconds, main_cpu, sync_server, machine, imap, inserts, results, opened, report.new
    )


def print_split(run: SyncRun) -> None:
    """Where the first sync's time went, wall clock and the polling process's CPU."""
    waited = sum(readers.stats.waited for readers in run.opened)
    imap, inserts, results = run.imap, run.inserts, run.results
    rest_wall = run.seconds - imap.wall - inserts.wall - results.wall
    rest_cpu = run.main_cpu - imap.cpu - inserts.cpu - results.cpu
    print("                                wall s   CPU s (polling process)")
    for name, wall, cpu in (
        ("IMAP (reader calls)", imap.wall, imap.cpu),
        ("database inserts", inserts.wall, inserts.cpu),
        ("waiting for / taking reads", results.wall, results.cpu),
        ("the rest (batches, commits)", rest_wall, rest_cpu),
    ):
        print(f"  {name:28s} {wall:7.2f}  {cpu:7.2f}")
    print(f"  (of the waiting, {waited:.2f} s for parse + classify: the ingest stage)")
    in_workers = sum(readers.stats.batches_in_workers for readers in run.opened)
    peak = max((readers.stats.worker_peak_rss_mb for readers in run.opened), default=0)
    workers = max((readers.stats.workers for readers in run.opened), default=0)
    print(
        f"  worker processes: {workers}; {in_workers} batches read there, "
        f"{run.worker_cpu:.2f} s CPU in all, peak RSS {peak:.0f} MB each"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Measure the IMAP sync against a throwaway Dovecot (see bench/imap_sync.py)."
    )
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--mailboxes", type=int, default=10)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="watchdog-bench-"))
    try:
        run(args.messages, args.mailboxes, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
