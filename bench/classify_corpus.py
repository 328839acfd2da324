"""Benchmark the classifier on the labelled corpus (MANIFEST.tsv).

Prints the 7-way confusion matrix, precision and recall per category, request
recall, the share of automatic mail taken for a request, throughput on one
core and the ratio to the bare parse time of the same files; ``--show``
lists every misclassified file with the rules that fired.

    .venv/bin/python bench/classify_corpus.py [--corpus PATH] [--repeat N] [--show]

The context is the corpus shop's: shop-test.ru is "our" domain. Run on one
core, in one process; times are the best of ``--repeat`` rounds so that a
noisy neighbour does not make the numbers lie.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from watchdog.classify import CATEGORIES, ClassifyContext, Decision, classify, load_rules
from watchdog.ingest.parse import parse_message

CONTEXT = ClassifyContext(own_domains=frozenset({"shop-test.ru"}))
TARGETS = "request recall 100 %, accuracy >= 97 %, automatic taken for request <= 3 %, >= 500 msg/s, <= 2x parse"


@dataclass(frozen=True)
class Sample:
    path: str
    label: str
    raw: bytes


def load_corpus(corpus: Path) -> list[Sample]:
    """Read MANIFEST.tsv and the files it names."""
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [Sample(r["file"], r["label"], (corpus / r["file"]).read_bytes()) for r in rows]


def measure(samples: list[Sample], repeat: int) -> tuple[float, float, float, list[Decision]]:
    """Best-of-``repeat`` times: bare parse, parse+classify, classify alone; and the decisions.

    Parse-only and parse+classify rounds alternate, so that a busy machine
    slows both alike and the ratio stays honest.
    """
    rules = load_rules()
    best_parse = best_total = best_classify = float("inf")
    decisions: list[Decision] = []
    for _ in range(repeat):
        start = time.perf_counter()
        for s in samples:
            parse_message(s.raw)
        best_parse = min(best_parse, time.perf_counter() - start)
        start = time.perf_counter()
        spent = 0.0
        decisions = []
        for s in samples:
            message = parse_message(s.raw)
            t = time.perf_counter()
            decisions.append(classify(message, rules, CONTEXT, raw=s.raw))
            spent += time.perf_counter() - t
        best_total = min(best_total, time.perf_counter() - start)
        best_classify = min(best_classify, spent)
    return best_parse, best_total, best_classify, decisions


def report(samples: list[Sample], decisions: list[Decision], show: bool) -> None:
    """Print the confusion matrix and the quality figures."""
    cats = list(CATEGORIES)
    matrix = {(a, p): 0 for a in cats for p in cats}
    for s, d in zip(samples, decisions, strict=True):
        matrix[(s.label, d.category)] += 1
    width = max(len(c) for c in cats) + 2
    print("confusion matrix (rows: label, columns: predicted)")
    print(" " * width + "".join(f"{c[:6]:>8}" for c in cats))
    for a in cats:
        print(f"{a:<{width}}" + "".join(f"{matrix[(a, p)]:>8}" for p in cats))
    print()
    print(f"{'category':<{width}}{'precision':>10}{'recall':>10}{'n':>6}")
    for c in cats:
        predicted = sum(matrix[(a, c)] for a in cats)
        actual = sum(matrix[(c, p)] for p in cats)
        prec = matrix[(c, c)] / predicted if predicted else float("nan")
        rec = matrix[(c, c)] / actual if actual else float("nan")
        print(f"{c:<{width}}{prec:>10.1%}{rec:>10.1%}{actual:>6}")
    total = len(samples)
    correct = sum(matrix[(c, c)] for c in cats)
    requests = [
        (s, d) for s, d in zip(samples, decisions, strict=True) if s.label in ("customer", "form")
    ]
    automatic = [
        (s, d)
        for s, d in zip(samples, decisions, strict=True)
        if s.label not in ("customer", "form")
    ]
    print()
    print(f"7-way accuracy:                  {correct}/{total} = {correct / total:.1%}")
    found = sum(d.request for _, d in requests)
    print(f"request recall:                  {found}/{len(requests)} = {found / len(requests):.1%}")
    false_req = sum(d.request for _, d in automatic)
    print(
        f"automatic mail taken as request: {false_req}/{len(automatic)} = {false_req / len(automatic):.1%}"
    )
    if show:
        print("\nmisclassified:")
        for s, d in zip(samples, decisions, strict=True):
            if s.label != d.category:
                print(
                    f"  {s.path}: label {s.label}, got {d.category}; rules {', '.join(d.rule_names) or '-'}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--show", action="store_true", help="list misclassified files with their rules"
    )
    args = parser.parse_args()
    samples = load_corpus(args.corpus)
    parse_time, total_time, classify_time, decisions = measure(samples, args.repeat)
    report(samples, decisions, args.show)
    n = len(samples)
    print()
    print(f"messages:                        {n} ({sum(len(s.raw) for s in samples) / 1e6:.1f} MB)")
    print(
        f"bare parse:                      {parse_time * 1e3:.1f} ms, {n / parse_time:,.0f} msg/s"
    )
    print(
        f"classify only:                   {classify_time * 1e3:.1f} ms, {n / classify_time:,.0f} msg/s"
    )
    print(
        f"parse + classify (one core):     {total_time * 1e3:.1f} ms, {n / total_time:,.0f} msg/s"
    )
    print(f"ratio to bare parse:             {total_time / parse_time:.2f}x")
    print(f"targets: {TARGETS}")


if __name__ == "__main__":
    main()
