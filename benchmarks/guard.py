"""Guard refresh cost (issue 15 part 4): a check before every training step with a refresh each step.

5,000 people in the ledger (the synthetic banner submissions), batches of 64 records drawn from them,
``refresh_seconds=0`` so every batch first brings the snapshot up to date. Per batch, the median time
of ``run.check(batch)`` for this tree's :class:`TrainingRun` and, as the baseline in the same run, the
``TrainingRun`` of git revision ``--baseline`` (default ``main``), loaded from ``git show``.

Run: .venv/bin/python benchmarks/guard.py [--people 5000] [--batches 400] [--baseline main]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from common import ROOT, median, submission_events, synthetic_submissions

from consentgate.ledger.store import Ledger
from consentgate.policy import load_policy
from consentgate.service import ConsentService

POLICY = ROOT / "src" / "consentgate" / "policy" / "example.yaml"
PURPOSE = "train_support_chatbot"
AT = datetime(2026, 11, 1, tzinfo=UTC)


def baseline_module(rev: str) -> ModuleType:
    """``pipeline/training.py`` as it is at ``rev``, imported under another name."""
    text = subprocess.run(
        ["git", "show", f"{rev}:src/consentgate/pipeline/training.py"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "baseline_training.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("baseline_training", path)
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def per_batch(cls: Any, url: str, batches: list[list[dict[str, Any]]]) -> float:
    """Median seconds per checked batch, each after a refresh (refresh_seconds=0)."""
    policy = load_policy(POLICY)
    times = []
    with cls(PURPOSE, model="bench", dataset="bench", policy=policy, ledger=url,
             subject_column="subject", refresh_seconds=0, now=lambda: AT) as run:  # fmt: skip
        for batch in batches:
            t = time.perf_counter()
            run.check(batch)
            times.append(time.perf_counter() - t)
        assert run.refreshes >= len(batches), run.refreshes
    return median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=5000)
    ap.add_argument("--batches", type=int, default=400)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--baseline", default="main")
    args = ap.parse_args()
    from consentgate.pipeline.training import TrainingRun

    base = baseline_module(args.baseline).TrainingRun
    with tempfile.TemporaryDirectory() as tmp:
        url = str(Path(tmp) / "ledger.db")
        ledger = Ledger.open(url)
        svc = ConsentService(load_policy(POLICY), ledger)
        subs = synthetic_submissions(args.people, 1)
        raws = [r for s in subs for r in submission_events(s)]
        for i in range(0, len(raws), 1000):
            svc.record(raws[i : i + 1000], strict=False)
        ledger.close()
        # Only people allowed at AT, so no batch stops the run.
        probe = build_allowed(url, [s["subject"] for s in subs])
        rnd = random.Random(3)
        batches = [
            [{"subject": rnd.choice(probe), "text": "hello"} for _ in range(args.batch_size)]
            for _ in range(args.batches)
        ]
        results = {}
        for name, cls in (("baseline", base), ("this tree", TrainingRun), ("baseline again", base)):
            results[name] = per_batch(cls, url, batches)
            print(f"{name:>15}: {results[name] * 1000:.3f} ms per batch of {args.batch_size}", flush=True)
        print(f"people={args.people} batches={args.batches} baseline={args.baseline}")


def build_allowed(url: str, subjects: list[str]) -> list[str]:
    from consentgate.pipeline import build_snapshot

    ledger = Ledger.open(url)
    try:
        snap = build_snapshot(load_policy(POLICY), ledger, PURPOSE, AT)
    finally:
        ledger.close()
    keys, allows = snap.table.column("key").to_pylist(), snap.table.column("allowed").to_pylist()
    allowed = {k for k, a in zip(keys, allows, strict=True) if a}
    return [s for s in subjects if s in allowed]


if __name__ == "__main__":
    sys.exit(main())
