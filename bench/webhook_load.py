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

Targets: p99 < 50 ms, nothing lost. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import httpx

TOKEN = "bench-token"
P99_TARGET_MS = 50.0
WORKERS = 32  # concurrent connections: far more than 200/s at a few ms each needs
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


async def wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    """Poll /healthz until it answers 200; fail if the server exits or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT_S
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SystemExit(f"the server exited with {server.returncode}")
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit(f"the server did not answer within {START_TIMEOUT_S:.0f} s")


async def worker(
    client: httpx.AsyncClient, url: str, queue: asyncio.Queue[tuple[int, float]],
    results: list[tuple[int, float]],
) -> None:  # fmt: skip
    """Send queued requests over one keep-alive connection; record (status, ms since planned)."""
    while True:
        number, planned = await queue.get()
        try:
            response = await client.post(
                f"{url}/hooks/contact",
                content=body(number),
                headers={"content-type": "application/x-www-form-urlencoded",
                         "x-watchdog-token": TOKEN},
            )  # fmt: skip
            status = response.status_code
        except httpx.HTTPError:
            status = 0  # a transport failure: counted, never stored
        results.append((status, (time.perf_counter() - planned) * 1000))
        queue.task_done()


async def load(url: str, rate: float, seconds: float) -> list[tuple[int, float]]:
    """Send ``rate * seconds`` requests open-loop; return each one's status and latency.

    The pacer queues request *i* at its planned moment, whatever the server
    is doing; WORKERS clients, one connection each, take them in turn. (One
    client with a big pool would do the same, but httpcore's pool spends time
    quadratic in its queue, which turns the load generator into the bottleneck.)
    """
    queue: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
    results: list[tuple[int, float]] = []
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(limits=limits, timeout=10.0) for _ in range(WORKERS)]
    for client in clients:  # connect before the clock starts
        await client.get(f"{url}/healthz")
    tasks = [asyncio.create_task(worker(client, url, queue, results)) for client in clients]
    start = time.perf_counter()
    for number in range(int(rate * seconds)):
        planned = start + number / rate
        await asyncio.sleep(max(0.0, planned - time.perf_counter()))
        queue.put_nowait((number, planned))
    await queue.join()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for client in clients:
        await client.aclose()
    return results


def count_rows(db: Path) -> int:
    """Return how many messages the server stored."""
    import sqlite3

    with sqlite3.connect(db) as connection:
        return int(connection.execute("SELECT count(*) FROM messages").fetchone()[0])


def report(results: list[tuple[int, float]], stored: int, rate: float, seconds: float) -> bool:
    """Print the figures; return True when every target is met."""
    latencies = sorted(ms for _, ms in results)
    statuses = Counter(status for status, _ in results)
    ok = sum(n for status, n in statuses.items() if 200 <= status < 300)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    p50, p99 = cuts[49], cuts[98]
    print(f"sent {len(results)} requests at {rate:.0f}/s for {seconds:.0f} s (open loop)")
    print(f"statuses: {dict(sorted(statuses.items()))}")
    print(f"latency ms: p50 {p50:.1f}  p99 {p99:.1f}  max {latencies[-1]:.1f}")
    print(f"rows stored {stored}, 2xx {ok}, sent {len(results)}")
    met = p99 < P99_TARGET_MS and stored == ok == len(results)
    print(f"targets (p99 < {P99_TARGET_MS:.0f} ms, nothing lost): {'met' if met else 'MISSED'}")
    return met


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
    with tempfile.TemporaryDirectory(prefix="watchdog-bench-") as folder:
        db = Path(folder) / "watchdog.db"
        config = Path(folder) / "watchdog.toml"
        config.write_text(CONFIG.format(db=db), encoding="utf-8")
        from watchdog.storage.migrate import upgrade

        upgrade(f"sqlite:///{db}")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "BENCH_FORM_TOKEN": TOKEN}
        command = [sys.executable, __file__, "--serve", str(config), str(port)]
        server = subprocess.Popen(command, env=env)
        try:
            asyncio.run(wait_until_up(url, server))
            cpu = time.process_time()
            results = asyncio.run(load(url, args.rate, args.seconds))
            cpu = time.process_time() - cpu
        finally:
            server.terminate()
            server.wait(timeout=30)
        print(f"load generator CPU: {cpu:.1f} s")
        return 0 if report(results, count_rows(db), args.rate, args.seconds) else 1


if __name__ == "__main__":
    sys.exit(main())
