"""The erasure look-up on append (issue 13): what storing later events of erased people under their
pseudonym costs each append, in-process, SQLite and PostgreSQL.

Every append (one group-commit transaction: ``--submissions`` submissions of five events, distinct
subjects) now hashes its subjects under the erasure key and looks the hashes up on the suppression
list, under the write lock. The baseline in the same run is the same ``Ledger`` with the look-up
switched off (what the code did before). Runs alternate between the two on one ledger that holds an
erasure key and ``--erased`` suppressed identifiers, so a busy machine slows both alike; the figures
are the medians of per-append CPU time (process time: what the look-up adds, whatever the disk does)
and wall time (with the durable commit).

Run: .venv/bin/python benchmarks/erasure_lookup.py [--appends 300] [--submissions 16] [--erased 10000]
    [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import postgres

from consentgate.ledger.erasure import suppress
from consentgate.ledger.events import Action, NewEvent
from consentgate.ledger.store import Ledger
from consentgate.store.secrets import erasure_key

PURPOSES = ("p1", "p2", "p3", "p4", "p5")


class WithoutLookup(Ledger):
    """The baseline: appends as before the look-up existed."""

    def _under_pseudonyms(self, execute: Any, new: Sequence[NewEvent]) -> Sequence[NewEvent]:
        return new


def _batch(first: int, submissions: int) -> list[NewEvent]:
    when = datetime(2026, 1, 5, tzinfo=UTC)
    return [
        NewEvent(f"load-{first + i:08d}", Action.DENY, when, purpose=p)
        for i in range(submissions)
        for p in PURPOSES
    ]


def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    after, before = Ledger.open(url), WithoutLookup.open(url)
    key = erasure_key(after.engine)
    with after.engine.execution_options(ledger_write=True).begin() as conn:
        suppress(
            conn, {key.hash(f"erased-{i}") for i in range(args.erased)}, request_id=None, at=datetime.now(UTC)
        )
    times: dict[str, dict[str, list[float]]] = {
        "lookup": {"cpu": [], "wall": []},
        "baseline": {"cpu": [], "wall": []},
    }
    n = 0
    try:
        for _ in range(10):  # warm-up: connections, statement caches, the key found once
            for led in (after, before):
                led.append(_batch(n, args.submissions))
                n += args.submissions
        for i in range(args.appends):
            pair = ((after, "lookup"), (before, "baseline"))
            for led, label in pair if i % 2 == 0 else pair[::-1]:
                batch = _batch(n, args.submissions)
                n += args.submissions
                c0, w0 = time.process_time(), time.perf_counter()
                led.append(batch)
                times[label]["cpu"].append((time.process_time() - c0) * 1000)
                times[label]["wall"].append((time.perf_counter() - w0) * 1000)
        verified = after.verify().ok
    finally:
        after.close()
        before.close()
    out: dict[str, Any] = {"events_per_append": args.submissions * len(PURPOSES), "ledger_verified": verified}
    for label, t in times.items():
        out[label] = {
            "cpu_ms_median": round(statistics.median(t["cpu"]), 3),
            "wall_ms_median": round(statistics.median(t["wall"]), 3),
        }
    out["added_cpu_ms_per_append"] = round(
        out["lookup"]["cpu_ms_median"] - out["baseline"]["cpu_ms_median"], 3
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--appends", type=int, default=300, help="measured appends of each kind")
    ap.add_argument("--submissions", type=int, default=16, help="submissions (of 5 events) per append")
    ap.add_argument("--erased", type=int, default=10_000, help="identifiers on the suppression list")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = ap.parse_args()
    report: dict[str, Any] = {"args": vars(args)}
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            report["sqlite"] = measure(str(Path(tmp) / "ledger.db"), args)
    if args.db in ("postgresql", "both"):
        with postgres() as url:
            report["postgresql"] = measure(url, args) if url else "skipped: no PostgreSQL binaries"
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
