"""The shared rule functions (issue 12) on the two hot paths, against the code from before them.

Issue 12 moved the purpose, region and notice checks into one function each (``Policy.require_purpose``,
``region_code``/``Policy.query_region``, intake's field rules). Both hot paths call them: intake, which
every ``POST /v1/consents`` runs, and the pure decision function. This script measures both, for the
current ``src/`` and for a copy of ``src/`` from before the change (``--before SRC``), each in its own
subprocess so each imports its own consentgate, interleaved round by round so machine noise hits both:

- **intake**: events/s through ``validate_batch`` with the live-capture rules (banner submissions,
  one event per purpose), no storage;
- **decisions**: decisions/s of ``decide_batch`` over 10,000 queries on events already in memory.

Run: .venv/bin/python benchmarks/rules.py --before /tmp/rules-before/src [--rounds 5]
(make the copy with: git archive main src | tar -x -C /tmp/rules-before)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import ROOT, submission_events, synthetic_submissions

POLICY = ROOT / "src" / "consentgate" / "policy" / "example.yaml"
AT = datetime(2026, 11, 1, tzinfo=UTC)
SUBJECTS = 2_000


def child() -> dict[str, object]:
    """One measurement of whichever consentgate ``PYTHONPATH`` put first."""
    import consentgate
    from consentgate.decide import Query, decide_batch
    from consentgate.ledger.intake import validate_batch
    from consentgate.ledger.store import Ledger
    from consentgate.policy import load_policy
    from consentgate.service import ConsentService

    policy = load_policy(POLICY)
    raws = [r for s in synthetic_submissions(SUBJECTS, 2) for r in submission_events(s)]
    now = datetime.now(UTC)

    def intake() -> None:
        validate_batch(policy, raws, now=now, default_source="api", require_notice_for_grant=True)

    intake()  # warm-up
    t = time.perf_counter()
    intake()
    intake_rate = len(raws) / (time.perf_counter() - t)

    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger.open(os.path.join(tmp, "ledger.db"))
        service = ConsentService(policy, ledger)
        for i in range(0, len(raws), 1000):
            service.record(raws[i : i + 1000], strict=False)
        subjects = [f"visitor-{i:07d}" for i in range(SUBJECTS)]
        queries = [Query(subjects[i % SUBJECTS], "train_support_chatbot", AT, None) for i in range(10_000)]
        events_by: dict[str, list[object]] = {}
        for ev in ledger.events_of(set(subjects)):
            events_by.setdefault(ev.subject, []).append(ev)
        ledger.close()
    decide_batch(policy, events_by, queries)  # warm-up  # type: ignore[arg-type]
    times = []
    for _ in range(5):
        t = time.perf_counter()
        decide_batch(policy, events_by, queries)  # type: ignore[arg-type]
        times.append(time.perf_counter() - t)
    return {
        "consentgate": str(Path(consentgate.__file__).parent),
        "intake_events_per_s": round(intake_rate),
        "decisions_per_s": round(len(queries) / statistics.median(times)),
    }


def run(src: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{Path(__file__).parent}"}
    out = subprocess.run(
        [sys.executable, __file__, "--child"], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(out.stdout)
    if not str(result["consentgate"]).startswith(str(src)):
        raise SystemExit(f"the child imported {result['consentgate']}, not the tree under {src}")
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", type=Path, required=False, help="src/ of the code to compare against")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child()))
        return
    trees = {"after": ROOT / "src"}
    if args.before is not None:
        trees["before"] = args.before.resolve()
    rounds: dict[str, list[dict[str, object]]] = {name: [] for name in trees}
    for r in range(args.rounds):
        for name, src in trees.items():
            rounds[name].append(run(src))
            print(f"round {r + 1} {name}: {rounds[name][-1]}", file=sys.stderr)
    report: dict[str, object] = {}
    for name, results in rounds.items():
        for key in ("intake_events_per_s", "decisions_per_s"):
            report[f"{name}.{key}"] = round(statistics.median(float(str(x[key])) for x in results))
    if "before" in trees:
        for key in ("intake_events_per_s", "decisions_per_s"):
            after, before = report[f"after.{key}"], report[f"before.{key}"]
            report[f"ratio.{key}"] = round(float(str(after)) / float(str(before)), 3)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
