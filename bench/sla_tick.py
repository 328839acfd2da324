"""How long one SLA tick takes with 100,000 open cases, on SQLite and on PostgreSQL.

A tick is what the scheduler runs every minute whatever arrived: the
tracker's pass over untracked messages (none here: the cost of an idle
tick), its look at \\Answered flags of open cases, the SLA summary (open,
overdue, overdue since) computed in the database, and the escalation
decision in its steady state (every case decided before, its next step
hours away). Target: < 1 s on both.

    .venv/bin/python bench/sla_tick.py [--cases 100000] [--runs 5] [--skip-postgres]

PostgreSQL: the server on 127.0.0.1:5432 if it answers, else a throwaway
cluster started like the test suite's (and stopped at the end).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from watchdog.config import Config, load_config
from watchdog.escalate.decide import decide_escalations
from watchdog.ingest.message import OurIdentity
from watchdog.sla import sla_summary
from watchdog.storage.engine import make_engine, session_factory
from watchdog.storage.migrate import upgrade_engine
from watchdog.storage.models import Case, Classification, Message, Source, Thread
from watchdog.track.tracker import TrackPolicy, track_new

NOW = datetime(2025, 11, 5, 12, 0, tzinfo=UTC)
BATCH = 10_000


def fill(engine: Engine, cases: int) -> None:
    """Insert ``cases`` open cases, each with its thread and tracked request message."""
    with engine.begin() as conn:
        conn.execute(
            insert(Source), [{"id": 1, "kind": "mailbox", "name": "orders", "created_at": NOW}]
        )
        for start in range(1, cases + 1, BATCH):
            ids = range(start, min(start + BATCH, cases + 1))
            received = [NOW - timedelta(minutes=7 * i % 20_000) for i in ids]
            conn.execute(insert(Thread), [
                {"id": i, "subject_norm": f"вопрос {i}", "counterpart": f"c{i}@mail.ru",
                 "created_at": at, "last_message_at": at} for i, at in zip(ids, received)
            ])  # fmt: skip
            conn.execute(insert(Message), [
                {"id": i, "source_id": 1, "folder": "INBOX", "uidvalidity": 1, "uid": i,
                 "message_id_header": f"m{i}@mail.ru", "from_addr": f"c{i}@mail.ru",
                 "subject": f"Вопрос {i}", "received_at": at, "direction": "incoming",
                 "flags": ["\\Seen"] if i % 3 else [], "thread_id": i, "tracked_at": NOW,
                 "created_at": at} for i, at in zip(ids, received)
            ])  # fmt: skip
            conn.execute(insert(Classification), [
                {"message_id": i, "category": "customer", "request": True, "rules": [], "created_at": NOW}
                for i in ids
            ])  # fmt: skip
            conn.execute(insert(Case), [
                {"id": i, "thread_id": i, "source_id": 1, "opening_message_id": i,
                 "customer": f"c{i}@mail.ru", "subject": f"Вопрос {i}", "received_at": at,
                 "deadline_at": at + timedelta(hours=2), "state": "open", "created_at": at,
                 "next_escalation_at": NOW + timedelta(hours=3)}
                for i, at in zip(ids, received)
            ])  # fmt: skip


def bench_config(folder: Path) -> Config:
    """A shop with one mailbox "orders" and design.md's escalation policy."""
    path = folder / "watchdog.toml"
    path.write_text(
        '[owner]\nemail = "owner@shop.test"\n[smtp]\nhost = "127.0.0.1"\nfrom = "w@shop.test"\n'
        '[[mailbox]]\nname = "orders"\nhost = "127.0.0.1"\nusername = "orders@shop.test"\n'
        'password = "x"\nteam = ["anna@shop.test"]\n',
        encoding="utf-8",
    )
    return load_config(path)


def tick(engine: Engine, config: Config) -> tuple[float, str]:
    """Run one tick; return its seconds and a one-line summary."""
    policy = TrackPolicy(
        ours=OurIdentity(domains=frozenset({"shop.test"})), deadline_for=lambda s, t: t
    )
    started = time.perf_counter()
    with session_factory(engine)() as session:
        report = track_new(session, policy, NOW)
        summary = sla_summary(session, NOW)
        decided = decide_escalations(session, config, NOW)
    seconds = time.perf_counter() - started
    return seconds, (
        f"tracked {report.tracked}, open {summary.open}, overdue {summary.overdue}, "
        f"escalations decided {len(decided.recorded)}"
    )


def measure(name: str, engine: Engine, cases: int, runs: int, config: Config) -> None:
    upgrade_engine(engine)
    started = time.perf_counter()
    fill(engine, cases)
    print(f"{name}: filled {cases:,} open cases in {time.perf_counter() - started:.1f} s")
    times = []
    for _ in range(runs):
        seconds, line = tick(engine, config)
        times.append(seconds)
    verdict = "meets" if max(times) < 1 else "MISSES"
    print(f"{name}: one SLA tick: median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms over {runs} runs ({line}); target < 1 s: {verdict}")  # fmt: skip


def postgres(cases: int, runs: int, config: Config) -> None:
    from tests.fixtures.postgres import Unavailable, _start_cluster, _try_local_server

    server, reason = _try_local_server()
    cluster = None
    if server is None:
        try:
            cluster = _start_cluster()
        except Unavailable as exc:
            print(f"postgresql: skipped ({reason}; {exc})")
            return
        from tests.fixtures.postgres import LOCAL_HOST, Server

        server = Server(LOCAL_HOST, cluster.port, "postgres", None)
    try:
        with server.connect() as conn:
            conn.execute("DROP DATABASE IF EXISTS watchdog_bench")
            conn.execute("CREATE DATABASE watchdog_bench")
        engine = make_engine(server.url("watchdog_bench"))
        measure("postgresql", engine, cases, runs, config)
        engine.dispose()
        with server.connect() as conn:
            conn.execute("DROP DATABASE watchdog_bench WITH (FORCE)")
    finally:
        if cluster is not None:
            cluster.stop()
            shutil.rmtree(cluster.folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="watchdog-bench-"))
    try:
        config = bench_config(folder)
        engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
        measure("sqlite", engine, args.cases, args.runs, config)
        engine.dispose()
        if not args.skip_postgres:
            postgres(args.cases, args.runs, config)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
