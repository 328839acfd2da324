"""Load test of POST /hooks/{form}: 200 requests/s for 10 s against a real uvicorn.

Usage: ``python bench/webhook_load.py [--rate 200] [--seconds 10]``

The server runs in a subprocess (this script with ``--serve``), on a free
loopback port, with a temporary SQLite database, so the load generator and
the server never share a GIL. Requests are sent open-loop: request *i* starts
at ``i / rate`` seconds whatever happened to the earlier ones, and its latency
is counted from that planned moment, so a stalled server shows as latency
instead of as a politely slower client. Every body is distinct (a Tilda
submission with its own ``tranid``), so each must be stored: rows stored must
equal the 2xx count, which must equal the number sent.

The client is a few lines of asyncio streams (HTTP/1.1, CONNECTIONS
keep-alive connections, requests built before the clock starts) rather than
an HTTP library: on a 2-core machine every millisecond of client CPU is taken
from the server. The report says how much CPU the client, the server and
everything else on the machine used during the run, so a reader can tell a
slow server from a busy machine.

Targets: p99 < 50 ms, nothing lost. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TOKEN = "bench-token"
P99_TARGET_MS = 50.0
CONNECTIONS = 32  # keep-alive connections: far more than 200/s at a few ms each needs
REQUEST_TIMEOUT_S = 10.0  # an answer later than this is a transport failure (status 0)
START_TIMEOUT_S = 30.0
CONFIG = """
[database]
url = "sqlite:///{db}"

[owner]
email = "owner@shop.test"

[smtp]
host = "smtp.shop.test"
from = "watchdog@shop.test"

[web]
password = "bench"

[[form]]
name = "contact"
preset = "tilda"
token_env = "BENCH_FORM_TOKEN"
"""


def serve(config_path: str, port: int) -> None:
    """Run the app under uvicorn until terminated (the ``--serve`` mode)."""
    import uvicorn

    from watchdog.config import load_config
    from watchdog.storage.engine import make_engine, session_factory
    from watchdog.web.app import create_app

    config = load_config(Path(config_path))
    app = create_app(config, session_factory(make_engine(config.database.url)))
    # loop and http "auto" pick uvloop and httptools, which uvicorn[standard] installs
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    """Return a loopback TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def body(number: int) -> bytes:
    """Return a distinct, realistic Tilda submission."""
    return urllib.parse.urlencode(
        {
            "Name": f"Покупатель {number}",
            "Email": f"buyer{number}@example.ru",
            "Phone": f"+7 916 {number % 1000:03d}-{number % 100:02d}-00",
            "Textarea": f"Здравствуйте! Вопрос по заказу номер {number}, когда доставка?",
            "tranid": f"bench:{number}",
            "formid": "form1",
        }
    ).encode()


async def wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    """Poll /healthz until it answers 200; fail if the server exits or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            connection = await Connection.open(port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        try:
            if await connection.send(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n") == 200:
                return
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            connection.close()
        await asyncio.sleep(0.05)
    raise SystemExit(f"the server did not answer within {START_TIMEOUT_S:.0f} s")


class Connection:
    """One keep-alive HTTP/1.1 connection: write a request, read the status and the body.

    Hand-written rather than httpx, which spends a few ms of CPU per request:
    on two cores that CPU is taken from the server and the bench measures
    itself. It reads only what this server sends (a status line, headers with
    Content-Length, a body); anything else is a failure, counted as status 0.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        """Connect to the server on loopback."""
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def send(self, request: bytes) -> int:
        """Send one whole request; return the response's status once its body is read."""
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, _, headers = head.partition(b"\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", headers)
        if length is None:
            raise ValueError("the response has no Content-Length")
        await self._reader.readexactly(int(length[1]))
        return int(status_line.split(b" ", 2)[1])

    def close(self) -> None:
        """Close the socket without waiting."""
        self._writer.close()


def request(number: int) -> bytes:
    """Return the whole HTTP request posting submission ``number``."""
    content = body(number)
    return (
        f"POST /hooks/contact HTTP/1.1\r\nHost: bench\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Watchdog-Token: {TOKEN}\r\nContent-Length: {len(content)}\r\n\r\n"
    ).encode() + content


async def worker(
    port: int,
    connection: Connection | None,
    queue: asyncio.Queue[tuple[bytes, float]],
    results: list[tuple[int, float]],
) -> None:
    """Send queued requests over one keep-alive connection; record (status, ms since planned).

    A failed request (status 0) costs the connection; the next one opens a new one.
    """
    try:
        while True:
            message, planned = await queue.get()
            try:
                if connection is None:
                    connection = await Connection.open(port)
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    status = await connection.send(message)
            except (OSError, TimeoutError, asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError, ValueError):  # fmt: skip
                status = 0  # a transport failure: counted, never stored
                if connection is not None:
                    connection.close()
                connection = None
            results.append((status, (time.perf_counter() - planned) * 1000))
            queue.task_done()
    finally:
        if connection is not None:
            connection.close()


async def load(port: int, messages: list[bytes], rate: float) -> list[tuple[int, float]]:
    """Send ``messages`` open-loop at ``rate`` a second; return each one's status and latency.

    The connections are opened before the clock starts. Then the pacer queues request *i* at its planned moment, whatever
    the server is doing; CONNECTIONS workers, one keep-alive connection each,
    take them in turn. When all are busy a request waits in the queue, and
    that wait counts in its latency. Answers still missing REQUEST_TIMEOUT_S
    after the last request was queued are left out: the report counts them as lost.
    """
    queue: asyncio.Queue[tuple[bytes, float]] = asyncio.Queue()
    results: list[tuple[int, float]] = []
    opened = await asyncio.gather(
        *(Connection.open(port) for _ in range(CONNECTIONS)), return_exceptions=True
    )
    tasks = [
        asyncio.create_task(
            worker(port, connection if isinstance(connection, Connection) else None, queue, results)
        )
        for connection in opened
    ]
    start = time.perf_counter()
    for number, message in enumerate(messages):
        planned = start + number / rate
        await asyncio.sleep(max(0.0, planned - time.perf_counter()))
        queue.put_nowait((message, planned))
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            await queue.join()
    except TimeoutError:
        pass
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return results


def count_rows(db: Path) -> int:
    """Return how many messages the server stored."""
    import sqlite3

    with sqlite3.connect(db) as connection:
        return int(connection.execute("SELECT count(*) FROM messages").fetchone()[0])


def report(
    results: list[tuple[int, float]], sent: int, stored: int, rate: float, seconds: float
) -> bool:
    """Print the figures; return True when every target is met.

    A request without an answer (still out when the run ended) counts as lost.
    """
    latencies = sorted(ms for _, ms in results) or [float("inf")]
    statuses = Counter(status for status, _ in results)
    ok = sum(n for status, n in statuses.items() if 200 <= status < 300)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    p50, p99 = cuts[49], cuts[98]
    print(f"sent {sent} requests at {rate:.0f}/s for {seconds:.0f} s (open loop)")
    print(f"statuses: {dict(sorted(statuses.items()))}, unanswered: {sent - len(results)}")
    print(f"latency ms: p50 {p50:.1f}  p99 {p99:.1f}  max {latencies[-1]:.1f}")
    print(f"rows stored {stored}, 2xx {ok}, sent {sent}")
    met = p99 < P99_TARGET_MS and stored == ok == sent
    print(f"targets (p99 < {P99_TARGET_MS:.0f} ms, nothing lost): {'met' if met else 'MISSED'}")
    return met


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds used so far: by this script, by the server, by the whole machine.

    The server's and the machine's figures come from /proc and are None off Linux.
    """

    wall: float
    generator: float
    server: float | None
    machine: float | None

    @classmethod
    def take(cls, server_pid: int) -> CpuSnapshot:
        """Read the clocks now."""
        return cls(time.perf_counter(), time.process_time(), _process_cpu(server_pid), _busy_cpu())


def _process_cpu(pid: int) -> float | None:
    """Return the CPU seconds (user + system) process ``pid`` has used."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # after "pid (comm)": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _busy_cpu() -> float | None:
    """Return the CPU seconds all processes on the machine have used (all but idle and iowait)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    ticks = [int(value) for value in first[1:9]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def report_cpu(before: CpuSnapshot, after: CpuSnapshot, sent: int) -> None:
    """Print who used the CPU during the load: a busy machine makes every latency worse."""
    generator = after.generator - before.generator
    print(f"load generator CPU: {generator:.1f} s ({generator / sent * 1000:.2f} ms a request)")
    if before.server is None or after.server is None:
        return
    server = after.server - before.server
    print(f"server CPU: {server:.1f} s ({server / sent * 1000:.2f} ms a request)")
    if before.machine is not None and after.machine is not None:
        others = max(0.0, after.machine - before.machine - generator - server)
        capacity = (after.wall - before.wall) * (os.cpu_count() or 1)
        print(
            f"other processes' CPU meanwhile: {others:.1f} s "
            f"(the machine had {capacity:.1f} s: {os.cpu_count()} cores for {after.wall - before.wall:.1f} s)"
        )


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """Return uvloop's loop factory when it is installed (uvicorn[standard] brings it), else None.

    The load generator's own CPU is taken from the server it measures; uvloop costs less.
    """
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main() -> int:
    """Start the server, run the load, stop the server, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to send")
    parser.add_argument("--serve", nargs=2, metavar=("CONFIG", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return 0
    sent = int(args.rate * args.seconds)
    with tempfile.TemporaryDirectory(prefix="watchdog-bench-") as folder:
        db = Path(folder) / "watchdog.db"
        config = Path(folder) / "watchdog.toml"
        config.write_text(CONFIG.format(db=db), encoding="utf-8")
        from watchdog.storage.migrate import upgrade

        upgrade(f"sqlite:///{db}")
        port = free_port()
        env = {**os.environ, "BENCH_FORM_TOKEN": TOKEN}
        command = [sys.executable, __file__, "--serve", str(config), str(port)]
        messages = [request(number) for number in range(sent)]
        server = subprocess.Popen(command, env=env)
        try:
            with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
                runner.run(wait_until_up(port, server))
                before = CpuSnapshot.take(server.pid)
                results = runner.run(load(port, messages, args.rate))
                after = CpuSnapshot.take(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
        report_cpu(before, after, sent)
        return 0 if report(results, sent, count_rows(db), args.rate, args.seconds) else 1


if __name__ == "__main__":
    sys.exit(main())
