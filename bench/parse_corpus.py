"""Measure ``parse_message`` throughput on a folder of .eml files, one process, one core.

    .venv/bin/python bench/parse_corpus.py [FOLDER] [--rounds N] [--compare]

``--compare`` also times the alternatives considered for the parser (bare
compat32, ``policy.default``, mail-parser), to keep the choice honest.
"""

from __future__ import annotations

import argparse
import email
import logging
import time
from collections.abc import Callable
from email import policy
from pathlib import Path

from watchdog.ingest.parse import parse_message

DEFAULT_CORPUS = Path("/work/shared/corpus")


def measure(name: str, parse: Callable[[bytes], object], raws: list[bytes], rounds: int) -> None:
    """Print messages per second for ``parse`` over ``raws``, best of ``rounds``."""
    best = float("inf")
    errors = 0
    for _ in range(rounds):
        errors = 0
        start = time.perf_counter()
        for raw in raws:
            try:
                parse(raw)
            except Exception:  # noqa: BLE001 - counting failures is the point
                errors += 1
        best = min(best, time.perf_counter() - start)
    print(f"{name:40s} {len(raws) / best:8.0f} msg/s  ({best * 1000:.1f} ms, {errors} raised)")


def _policy_default(raw: bytes) -> None:
    msg = email.message_from_bytes(raw, policy=policy.default)
    for value in msg.values():
        str(value)
    body = msg.get_body(("plain", "html"))  # type: ignore[attr-defined]
    if body is not None:
        body.get_content()


def _mail_parser(raw: bytes) -> None:
    import mailparser  # type: ignore[import-untyped]

    logging.getLogger("mailparser").setLevel(logging.CRITICAL)
    parsed = mailparser.parse_from_bytes(raw)
    _ = (parsed.subject, parsed.text_plain, parsed.attachments)


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("folder", nargs="?", type=Path, default=DEFAULT_CORPUS)
    args.add_argument("--rounds", type=int, default=5)
    args.add_argument("--compare", action="store_true")
    opts = args.parse_args()
    raws = [path.read_bytes() for path in sorted(opts.folder.rglob("*.eml"))]
    print(f"{len(raws)} messages, {sum(map(len, raws)) / 1024:.0f} KiB")
    measure("watchdog parse_message", parse_message, raws, opts.rounds)
    if opts.compare:
        measure("bare compat32 feedparser", email.message_from_bytes, raws, opts.rounds)
        measure("policy.default + headers + get_body", _policy_default, raws, opts.rounds)
        measure("mail-parser parse_from_bytes", _mail_parser, raws, opts.rounds)


if __name__ == "__main__":
    main()
