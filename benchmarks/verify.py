"""Chain verification (issue 13): how long the service's start-up check takes on a large ledger.

The service verifies the whole chain at start-up and again every ``chain_check_seconds``
(consentgate.server.chain). This builds a SQLite ledger of ``--events`` events (the API's own
intake, batches of 5,000 per transaction), then times, in the same run:

- ``Ledger.verify()``, what the monitor calls: every row read, re-hashed and linked;
- the baseline: reading every row in the same chunks without hashing (the floor any check pays).

Run: .venv/bin/python benchmarks/verify.py [--events 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from common import ROOT, median, submission_events, synthetic_submissions

from consentgate.ledger.store import Ledger
from consentgate.policy import load_policy
from consentgate.service import ConsentService

POLICY = ROOT / "src" / "consentgate" / "policy" / "example.yaml"


def build(url: str, events: int) -> None:
    service = ConsentService(load_policy(POLICY), Ledger.open(url))
    left, seed = events, 0
    while left > 0:  # in slices, so a million events never sit in memory at once
        seed += 1
        raws = [r for s in synthetic_submissions(1000, 2, seed=seed) for r in submission_events(s)][:left]
        for i in range(0, len(raws), 5000):
            service.record(raws[i : i + 5000], source="import", strict=False)
        left -= len(raws)
    service.ledger.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = str(Path(tmp) / "ledger.db")
        t = time.perf_counter()
        build(url, args.events)
        built = time.perf_counter() - t
        ledger = Ledger.open(url)
        verify, scan = [], []
        for _ in range(args.repeat):  # interleaved, so a noisy moment hits both alike
            t = time.perf_counter()
            report = ledger.verify()
            verify.append(time.perf_counter() - t)
            assert report.ok, report.problem
            t = time.perf_counter()
            rows = sum(1 for _ in ledger._iter_rows(0, 5000))
            scan.append(time.perf_counter() - t)
        ledger.close()
    out = {
        "events": report.checked,
        "rows_read": rows,
        "build_s": round(built, 1),
        "verify_s_median": round(median(verify), 2),
        "verify_s_runs": [round(x, 2) for x in verify],
        "baseline_read_only_s_median": round(median(scan), 2),
        "verify_events_per_s": round(report.checked / median(verify)),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
