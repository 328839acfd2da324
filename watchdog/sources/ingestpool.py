"""Reading mail on every core: parse and classify in worker processes during a big sync.

A first sync (or the first poll after a long outage) reads tens of
thousands of mails. Parsing and classifying them (``read_mail``) is pure
Python and CPU-bound, 0.1-0.3 ms a mail (an HTML newsletter ~2 ms), so in
the polling process it would cost twice the IMAP download, and a thread
cannot help (the GIL). ``MailReaders`` hands each fetched batch to a pool of worker
processes; meanwhile the polling process fetches the next batch and inserts
the one before (see ``foldersync.FolderSyncer._read_new``).

- Workers come from a fork server (``forkserver``), which imports only this
  module and the main module (multiprocessing's rule), both kept light: the
  command line imports its heavy parts per command (see ``watchdog.cli``),
  and this module reads mail with ``ingest.read``, which needs no database.
  Forking the daemon itself (``fork``) is unsafe once it runs threads, and
  ``spawn`` would import the main module again in each worker.
- Each worker loads the rules itself, from the Ingestor's ``rule_dirs``
  (compiled rules cannot be pickled). An Ingestor without ``rule_dirs``
  is always read in-process.
- A small backlog is read in-process (``MailReaders`` without workers): starting the
  workers costs about half a second of CPU, worth it only for thousands of mails.
  A poll with a big backlog starts them as it begins (``MailReaders.start``, in the
  background); until they are up, batches are read in-process, by a polling
  process that would otherwise sit waiting for them.
- A worker that dies (killed, out of memory) costs nothing: its batch, and
  every batch after it, is read in-process instead.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from watchdog.classify import ClassifyContext, load_rules
from watchdog.ingest.message import OurIdentity
from watchdog.ingest.read import Ingestor, ReadMail, read_mail

#: One mail to read: its bytes and the role of its folder ("inbox", "sent", ...).
MailBytes = tuple[bytes, str | None]
#: A worker's answer: the reads, the CPU seconds they took, the worker's peak RSS in MB.
WorkerAnswer = tuple[list[ReadMail], float, float]

PARALLEL_BACKLOG = 2_000
"""New mails in one folder from which worker processes are worth starting."""
MAX_WORKERS = 4
"""More workers than this only add memory: the polling process becomes the bottleneck."""
AHEAD_PER_WORKER = 2
"""Batches fetched ahead per worker: one being read, one queued, so that a worker never
waits while the polling process commits or inserts (its serial part)."""
WORKER_NICENESS = 10
"""Workers yield the CPU to the polling process and the rest of the daemon (``nice``)."""


def default_workers() -> int:
    """Worker processes to use: one per core we may run on, none on a single core."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return 0 if cores < 2 else min(cores, MAX_WORKERS)


@dataclass(frozen=True)
class ReadPolicy:
    """When to read mail in worker processes, and in how many.

    ``workers=0`` reads everything in-process. Tests pass
    ``ReadPolicy(workers=2, from_backlog=1)`` to exercise the pool on a few mails.
    """

    workers: int = field(default_factory=default_workers)
    from_backlog: int = PARALLEL_BACKLOG


@dataclass
class ReadStats:
    """What reading cost: the polling process's wait, and the workers' CPU and peak memory."""

    workers: int = 0
    waited: float = 0.0
    worker_cpu: float = 0.0
    worker_peak_rss_mb: float = 0.0
    batches_in_workers: int = 0


class MailReaders:
    """Reads batches of mail, in ``workers`` processes or, with none, in this one.

    ``submit`` a batch, then ask for its ``result`` with the same mails: from
    a worker when there is a pool, else read here and now. When the pool
    breaks (a worker was killed), that batch and every later one are read here.
    """

    def __init__(self, ingestor: Ingestor, workers: int = 0) -> None:
        self.ingestor = ingestor
        self.stats = ReadStats(workers=workers)
        self.depth = workers * AHEAD_PER_WORKER
        """Batches worth fetching ahead of the one being stored (see AHEAD_PER_WORKER)."""
        self._pool: ProcessPoolExecutor | None = None
        self.ready: threading.Event | None = None
        """Set once ``start``'s workers are up; None when not started ahead (then the pool
        spawns them as ``submit`` hands it batches)."""
        if workers:
            assert ingestor.rule_dirs is not None
            context = multiprocessing.get_context(_start_method())
            if context.get_start_method() == "forkserver":
                # Shared by the whole process. Each worker imports the main module
                # (multiprocessing's rule): preloaded, the fork server imports it once.
                context.set_forkserver_preload(["__main__", __name__])
            self._pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=context,
                initializer=_start_worker,
                initargs=(ingestor.rule_dirs, ingestor.context, ingestor.ours),
            )

    def start(self) -> None:
        """Start the worker processes now, in the background, ready for the first batch.

        Starting them takes a second or two (the fork server imports the
        program, each worker loads the rules), and ``submit`` would do it in
        the polling process, which would then wait. Called as a big poll
        begins, the start overlaps with the work before the first batch.
        """
        pool = self._pool
        if pool is None:
            return
        self.ready = ready = threading.Event()

        def spawn() -> None:
            try:
                self._spawn(pool)
            finally:  # up, or broken: either way submit stops reading in-process
                ready.set()

        threading.Thread(target=spawn, name="ingestpool-start", daemon=True).start()

    def _spawn(self, pool: ProcessPoolExecutor) -> None:
        """Spawn every worker and wait until each has loaded the rules."""
        # One worker is spawned per submit while none is idle: one no-op each.
        with contextlib.suppress(Exception):  # shut down or broken meanwhile: nothing to do
            for future in [pool.submit(_ready) for _ in range(self.stats.workers)]:
                future.result()

    def submit(self, mails: list[MailBytes]) -> Future[WorkerAnswer] | None:
        """Start reading ``mails`` in a worker; None when they will be read in-process.

        While the workers started ahead are still starting, None: the
        polling process reads the batch itself when it needs it, instead
        of waiting a second or so for them.
        """
        if self._pool is None or (self.ready is not None and not self.ready.is_set()):
            return None
        return self._pool.submit(_read_batch, mails)

    def result(
        self, pending: Future[WorkerAnswer] | None, mails: list[MailBytes]
    ) -> list[ReadMail]:
        """Return the reads of ``mails``, in order, waiting for their worker if they have one."""
        start = time.perf_counter()
        try:
            if pending is not None:
                try:
                    reads, cpu, rss = pending.result()
                except BrokenProcessPool:
                    self.close(wait=False)
                else:
                    self.stats.worker_cpu += cpu
                    self.stats.worker_peak_rss_mb = max(self.stats.worker_peak_rss_mb, rss)
                    self.stats.batches_in_workers += 1
                    return reads
            return [read_mail(self.ingestor, raw, folder_role=role) for raw, role in mails]
        finally:
            self.stats.waited += time.perf_counter() - start

    def close(self, *, wait: bool = True) -> None:
        """Stop the workers (after their current batch); reading goes on in-process."""
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
            self._pool = None
        self.depth = 0


def open_readers(ingestor: Ingestor, backlog: int, policy: ReadPolicy) -> MailReaders:
    """Return the readers for ``backlog`` new mails in a folder; close them when done."""
    if policy.workers >= 1 and backlog >= policy.from_backlog and ingestor.rule_dirs is not None:
        return MailReaders(ingestor, policy.workers)
    return MailReaders(ingestor)


def _start_method() -> str:
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


# -- in the worker -------------------------------------------------------------

_worker_ingestor: Ingestor | None = None


def _start_worker(rule_dirs: tuple[str, ...], context: ClassifyContext, ours: OurIdentity) -> None:
    global _worker_ingestor
    # The polling process feeds the workers (IMAP, then the database) and the mail
    # server feeds it: when cores are short, they go first, the workers take the rest.
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    _worker_ingestor = Ingestor(load_rules(rule_dirs), context, ours, rule_dirs)


def _ready() -> None:
    """Nothing: submitted by ``MailReaders.start`` so that a worker is spawned."""


def _read_batch(mails: list[MailBytes]) -> WorkerAnswer:
    """Read a batch; return the reads, the CPU seconds it took and this worker's peak RSS (MB)."""
    ingestor = _worker_ingestor
    assert ingestor is not None
    start = time.process_time()
    reads = [read_mail(ingestor, raw, folder_role=role) for raw, role in mails]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return reads, time.process_time() - start, peak
