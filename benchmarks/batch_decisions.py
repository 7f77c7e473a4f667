"""Batches of decisions about people not asked before, in-process: the bulk path (pipeline/bulkquery.py,
Arrow columns) against the per-person path it replaced for large batches, in the same run (issue 20).

``ConsentService.decide_many`` is called as ``POST /v1/decisions/batch`` calls it on a cache miss, with
batches of several sizes, each batch about people no earlier batch asked about (so nothing the database
or the process cached for one person helps the next). The per-person path is the same call with the
bulk path switched off (``bulkquery.MIN_GROUP`` above the batch size). Ledger: ``--subjects`` people
with one grant each, as benchmarks/reads.py seeds it, plus every tenth person with a withdrawal and
every fiftieth with a cookie id linked. Reported: decisions/s of CPU time and of wall time (median of
``--repeat`` batches per size), which also shows where the bulk path starts to pay (``MIN_GROUP``).

Run: .venv/bin/python benchmarks/batch_decisions.py [--db sqlite|postgresql|both] [--subjects 70000]
[--sizes 16,32,64,128,1000,5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import postgres
from reads import POLICY, PURPOSE

from consentgate.decide import Query
from consentgate.ledger.store import Ledger
from consentgate.pipeline import bulkquery
from consentgate.policy import load_policy
from consentgate.service import ConsentService


def _seed(service: ConsentService, subjects: int) -> None:
    when = datetime.now(UTC) - timedelta(days=2)
    raws = []
    for s in range(subjects):
        base = {"subject": f"cold-{s:07d}", "purposes": [PURPOSE], "region": "DE", "source": "banner"}
        raws.append(("", {**base, "action": "grant", "notice_id": "ai-training", "notice_version": 2,
                          "occurred_at": when.isoformat(), "locale": "en"}))  # fmt: skip
        if s % 10 == 0:
            raws.append(
                ("", {**base, "action": "withdraw", "occurred_at": (when + timedelta(hours=1)).isoformat()})
            )
    for start in range(0, len(raws), 5000):
        service.record(raws[start : start + 5000])
    for s in range(0, subjects, 50):
        service.link(f"cookie-{s:07d}", f"cold-{s:07d}", "cookie_id")


def _batches(subjects: int, size: int, repeat: int, offset: int) -> Iterator[list[Query]]:
    now = datetime.now(UTC)
    for r in range(repeat):
        first = offset + r * size
        yield [Query(f"cold-{(first + j) % subjects:07d}", PURPOSE, now) for j in range(size)]


def _time(service: ConsentService, batches: Iterator[list[Query]]) -> tuple[float, float]:
    cpu, wall = [], []
    for batch in batches:
        c, w = time.process_time(), time.perf_counter()
        service.decide_many(batch)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(cpu), statistics.median(wall)


def _run(name: str, url: str, args: argparse.Namespace) -> list[str]:
    sizes = [int(s) for s in args.sizes.split(",")]
    lines = []
    with Ledger.open(url) as ledger:
        service = ConsentService(load_policy(POLICY), ledger)
        _seed(service, args.subjects)
        service.decide_many([Query("cold-0000000", PURPOSE, datetime.now(UTC))] * 200)  # imports, warm pool
        offset = 0
        for size in sizes:
            results = {}
            for path in ("per-person", "bulk"):
                bulkquery.MIN_GROUP = size + 1 if path == "per-person" else 1
                results[path] = _time(service, _batches(args.subjects, size, args.repeat, offset))
                offset += size * args.repeat  # never the same people twice
            (pc, pw), (bc, bw) = results["per-person"], results["bulk"]
            lines.append(
                f"{name}: batch of {size:>5}: per-person {size / pc:>9,.0f} decisions/s CPU "
                f"({size / pw:>9,.0f} wall); bulk {size / bc:>9,.0f} CPU ({size / bw:>9,.0f} wall); "
                f"bulk/per-person {pc / bc:.2f}x (CPU)"
            )
            print(lines[-1], flush=True)
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--subjects", type=int, default=70_000)
    ap.add_argument("--sizes", default="16,32,64,128,1000,5000")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}; cpus {os.cpu_count()}")
    lines: list[str] = []
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            lines += _run("sqlite", str(Path(tmp) / "batch.db"), args)
    if args.db in ("postgresql", "both"):
        with postgres() as url:
            if url:
                lines += _run("postgresql", url, args)
    print(f"load average after: {os.getloadavg()}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
