"""Guard refresh cost (issue 15 part 4): a check before every training step with a refresh each step.

5,000 people in the ledger (the synthetic banner submissions), batches of 64 records drawn from them,
``refresh_seconds=0`` so every batch first brings the snapshot up to date. Per batch, the median time
of ``run.check(batch)`` for this tree's :class:`TrainingRun` and, as the baseline in the same run, the
``TrainingRun`` of git revision ``--baseline`` (default 865d91b: main before issues 15 and 18): its
``src`` is unpacked with ``git archive`` and measured in a child process on the same ledger and the
same batches, before and after this tree's. ``--db postgres`` (or ``both``) measures the same on
PostgreSQL, in a throw-away cluster (tests/support/pg.py), one database per ledger.

Run: .venv/bin/python benchmarks/guard.py [--people 5000] [--batches 400] [--baseline 865d91b]
     [--db sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import ROOT, median, postgres, submission_events, synthetic_submissions

if __name__ == "__main__" and len(sys.argv) == 6 and sys.argv[1] == "--child":
    sys.path.insert(0, sys.argv[2])  # the baseline's source first, before anything imports consentgate
from consentgate.ledger.store import Ledger
from consentgate.policy import load_policy
from consentgate.service import ConsentService

POLICY = ROOT / "src" / "consentgate" / "policy" / "example.yaml"
PURPOSE = "train_support_chatbot"
AT = datetime(2026, 11, 1, tzinfo=UTC)


def baseline_src(rev: str, into: Path) -> Path:
    """The package source of ``rev``, unpacked under ``into`` (its imports must not mix with this tree's)."""
    archive = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def baseline_per_batch(src: Path, people: int, batches_file: Path, url: str) -> float:
    """``per_batch`` of the revision unpacked at ``src``, in a child process that imports only it,
    on a new ledger at ``url``."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(src), str(people), str(batches_file), url],
        cwd=ROOT / "benchmarks", capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"the baseline failed:\n{out.stderr}")
    return float(out.stdout.strip().splitlines()[-1])


def per_batch(cls: Any, url: str, batches: list[list[dict[str, Any]]]) -> float:
    """Median seconds per checked batch, each after a refresh (refresh_seconds=0)."""
    policy = load_policy(POLICY)
    times = []
    # The subject column is "subject", every version's default: no keyword that one version lacks.
    with cls(PURPOSE, model="bench", dataset="bench", policy=policy, ledger=url,
             refresh_seconds=0, now=lambda: AT) as run:  # fmt: skip
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
    ap.add_argument("--baseline", default="865d91b")
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = baseline_src(args.baseline, Path(tmp))
        for kind in ("sqlite", "postgres"):
            if args.db in (kind, "both"):
                with ledgers(kind, Path(tmp)) as urls:
                    if urls is not None:
                        measure(kind, urls, src, Path(tmp), args)
        print(f"people={args.people} batches={args.batches} baseline={args.baseline}")


def measure(kind: str, urls: dict[str, str], src: Path, tmp: Path, args: argparse.Namespace) -> None:
    from consentgate.pipeline.training import TrainingRun

    subs = record_people(urls["this tree"], args.people)
    # Only people allowed at AT, so no batch stops the run.
    probe = build_allowed(urls["this tree"], [s["subject"] for s in subs])
    rnd = random.Random(3)
    batches = [
        [{"subject": rnd.choice(probe), "text": "hello"} for _ in range(args.batch_size)]
        for _ in range(args.batches)
    ]
    batches_file = tmp / "batches.json"
    batches_file.write_text(json.dumps(batches))
    for name in ("baseline", "this tree", "baseline again"):
        if name == "this tree":
            seconds = per_batch(TrainingRun, urls[name], batches)
        else:
            # Its own ledger, the same events: an older schema cannot open this tree's database.
            seconds = baseline_per_batch(src, args.people, batches_file, urls[name])
        print(f"{kind:>8} {name:>15}: {seconds * 1000:.3f} ms per batch of {args.batch_size}", flush=True)


@contextmanager
def ledgers(kind: str, tmp: Path) -> Iterator[dict[str, str] | None]:
    """A new, empty ledger for each measurement: SQLite files, or databases of one PostgreSQL cluster
    (None when its binaries are missing)."""
    names = ("baseline", "this tree", "baseline again")
    if kind == "sqlite":
        yield {n: str(tmp / f"{n.replace(' ', '-')}.db") for n in names}
        return
    import psycopg

    with postgres() as url:
        if url is None:
            yield None
            return
        server = url.rsplit("/", 1)[0]
        urls = {}
        with psycopg.connect(url, autocommit=True) as conn:
            for n in names:
                db = n.replace(" ", "_")
                conn.execute(f"CREATE DATABASE {db}")
                urls[n] = f"{server}/{db}"
        yield urls


def record_people(url: str, people: int) -> list[dict[str, Any]]:
    """A ledger at ``url`` with the synthetic banner submissions of ``people`` (the same every time)."""
    ledger = Ledger.open(url)
    svc = ConsentService(load_policy(POLICY), ledger)
    subs = synthetic_submissions(people, 1)
    raws = [r for s in subs for r in submission_events(s)]
    for i in range(0, len(raws), 1000):
        svc.record(raws[i : i + 1000], strict=False)
    ledger.close()
    return subs


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


def child(src: str, people: str, batches_file: str, url: str) -> None:
    """The baseline's side: import the revision at ``src`` (first on the path), record the people into
    a new ledger at ``url`` and print its median."""
    import consentgate

    assert consentgate.__file__ is not None
    assert consentgate.__file__.startswith(src), consentgate.__file__
    try:
        from consentgate.pipeline.training import TrainingRun
    except ImportError:  # before issue 18 the guard lived in pipeline/guard.py
        from consentgate.pipeline.guard import TrainingRun  # type: ignore[no-redef]
    record_people(url, int(people))
    print(per_batch(TrainingRun, url, json.loads(Path(batches_file).read_text())))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        sys.exit(child(*sys.argv[2:]))
    sys.exit(main())
