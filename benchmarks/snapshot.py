"""Snapshot benchmarks: a full build's subjects/s (issue 20) and what keeping a snapshot fresh costs
(issue 4).

Full build (``--part full``): for SQLite and a throw-away PostgreSQL, a ledger of ``--full-subjects``
subjects with a mix of events (grants under two notice versions, refusals, withdrawals, opt-outs,
GPC, a few erasures, choices about another purpose, regions with consent and with opt-out, some
alias links), then, interleaved ``--repeat`` times in one process, the full build as it is now
(``new``: decisions on Arrow columns) and the per-person build it replaced (``per-person``:
``snapshot._full_per_person``, every event an object, every person through ``decide_timeline``).
The first repetition checks that both tables are equal. Prints subjects/s of each.

Refresh (``--part refresh``): builds a SQLite ledger with ``--subjects`` opted-out subjects (one
event each) and ``--aliases`` cookie ids linked to some of them (one identifier per alias row in the
snapshot), then times, in one process and interleaved, ``--repeat`` times:

- ``full``: a full build (the baseline: what a refresh would cost without ``previous=``);
- ``refresh-none``: an incremental refresh when nothing changed (the training-run guard does this
  every ``refresh_seconds``);
- ``refresh-1k``: an incremental refresh after 1,000 new events (each repetition adds its own);
- ``refresh-link``: an incremental refresh after one new alias link between two existing subjects.

Each refresh starts from the same previous snapshot and is checked to equal a full rebuild.
``--baseline-rev REV`` also times ``snapshot.py`` as it was at git revision REV (loaded from
``git show``), so a before/after of a change is measured in the same run.

Run: .venv/bin/python benchmarks/snapshot.py --part full      (200k subjects, both databases)
     .venv/bin/python benchmarks/snapshot.py --part refresh   (1M identifiers; a few minutes)
     .venv/bin/python benchmarks/snapshot.py --subjects 90000 --aliases 10000 --full-subjects 20000
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from common import OPT_OUT_POLICY, ROOT, postgres

POLICY = OPT_OUT_POLICY
PURPOSE = "train_ranker"
AT = datetime(2026, 9, 1, tzinfo=UTC)

# The full-build ledger's policy: consent in the EU (30-day expiry, a material v2 in June), opt-out
# with GPC in the US, and a second purpose whose events only carry regions and times.
MIXED_POLICY = """\
version: 1
organization: {name: Example Support Ltd, contact: privacy@example.com}
regions:
  EU: {countries: [DE, FR, NL], honour_gpc: false}
  US: {countries: [US], honour_gpc: true}
purposes:
  - id: train_ranker
    title: Improve ranking models
    kind: ai_training
    notice: ai
    max_age_days: 120
    basis: {EU: consent, US: opt_out, "*": consent}
  - id: analytics
    title: Product analytics
    kind: analytics
    notice: ai
    basis: {"*": legitimate_interest}
notices:
  - id: ai
    purposes: [train_ranker, analytics]
    versions:
      - {version: 1, effective_from: "2026-01-01T00:00:00Z", text: {en: "Improve rankings."}}
      - {version: 2, effective_from: "2026-06-01T00:00:00Z", reconsent: true, text: {en: "Rankings, v2."}}
sources:
  - {id: events, kind: event_log, purposes: [train_ranker], personal: true}
"""


def mixed_events(n_subjects: int, seed: int = 20) -> list[Any]:
    """One to three events per subject, of every kind a decision looks at (fictional subjects)."""
    import random

    from consentgate.ledger.events import Action, NewEvent

    rnd = random.Random(seed)
    t0 = datetime(2026, 2, 1, tzinfo=UTC)
    out = []
    for i in range(n_subjects):
        subject = f"user-{i:08d}"
        region = rnd.choice(["DE", "FR", "NL", "US", "US-CA", "JP"])
        for _ in range(rnd.choice((1, 1, 2, 3))):
            when = t0 + timedelta(days=rnd.randint(0, 240), seconds=rnd.randint(0, 86_399))
            roll = rnd.random()
            if roll < 0.45:
                version = "2" if when.month >= 6 else "1"
                out.append(NewEvent(subject, Action.GRANT, when, purpose=PURPOSE, notice_id="ai",
                                    notice_version=version, region=region, locale="en"))  # fmt: skip
            elif roll < 0.75:
                action = rnd.choice([Action.DENY, Action.WITHDRAW, Action.OPT_OUT, Action.OBJECT])
                out.append(NewEvent(subject, action, when, purpose=PURPOSE, region=region))
            elif roll < 0.85:
                out.append(NewEvent(subject, Action.GPC, when, region=region, signals={"gpc": True}))
            elif roll < 0.995:
                out.append(NewEvent(subject, Action.DENY, when, purpose="analytics", region=region))
            else:
                out.append(NewEvent(subject, Action.ERASE, when, region=region))
    return out


def full_builds(url: str, label: str, work: Path, n_subjects: int, repeat: int) -> dict[str, Any]:
    """Full builds, new against per-person, on one database; subjects/s of each."""
    from consentgate.decide import at_micros
    from consentgate.ledger.store import Ledger
    from consentgate.pipeline import snapshot as current
    from consentgate.policy import load_policy

    (work / "mixed.yaml").write_text(MIXED_POLICY)
    policy = load_policy(work / "mixed.yaml")
    ledger = Ledger.open(url)
    t_setup = time.perf_counter()
    events = mixed_events(n_subjects)
    for start in range(0, len(events), 20_000):
        ledger.append(events[start : start + 20_000])
    link_alias_rows(ledger, n_subjects, n_subjects // 10)
    t_setup = time.perf_counter() - t_setup
    print(f"{label}: {n_subjects:,} subjects, {len(events):,} events (set up in {t_setup:.0f} s)", flush=True)
    at = datetime(2026, 7, 1, tzinfo=UTC)
    ctx = current._Context(
        policy, policy.require_purpose(PURPOSE), at, at_micros(at, {}), current.policy_fingerprint(policy)
    )
    runs: dict[str, list[float]] = {"new": [], "per-person": []}
    cpu: dict[str, list[float]] = {"new": [], "per-person": []}
    for r in range(repeat):
        c0 = time.process_time()
        new_s, new = timed(lambda: current.build_snapshot(policy, ledger, PURPOSE, at))
        c1 = time.process_time()
        old_s, old = timed(lambda: current._full_per_person(ledger, ctx))
        c2 = time.process_time()
        if r == 0:
            assert new.table.equals(old.table), "the new full build must equal the per-person one"
        runs["new"].append(new_s)
        runs["per-person"].append(old_s)
        cpu["new"].append(c1 - c0)
        cpu["per-person"].append(c2 - c1)
        print(f"  rep {r + 1}: new {new_s:.2f} s ({c1 - c0:.2f} s CPU), "
              f"per-person {old_s:.2f} s ({c2 - c1:.2f} s CPU)", flush=True)  # fmt: skip
    ledger.close()
    med = {k: statistics.median(v) for k, v in runs.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    out = {
        "subjects": n_subjects,
        "events": len(events),
        "rows": len(new),
        "seconds": {
            k: {"median": round(med[k], 3), "runs": [round(x, 3) for x in v]} for k, v in runs.items()
        },
        # This process's CPU (all its threads; not PostgreSQL's server): steadier than wall time on a
        # busy machine.
        "cpu_seconds": {k: round(v, 3) for k, v in med_cpu.items()},
        "subjects_per_s": {k: round(n_subjects / med[k]) for k in runs},
        "subjects_per_cpu_s": {k: round(n_subjects / med_cpu[k]) for k in runs},
        "speedup": round(med["per-person"] / med["new"], 1),
    }
    print(f"  {label}: new {out['subjects_per_s']['new']:,} subjects/s, per-person "
          f"{out['subjects_per_s']['per-person']:,} subjects/s ({out['speedup']}x)", flush=True)  # fmt: skip
    return out


def link_alias_rows(ledger: Any, n_subjects: int, n_aliases: int) -> None:
    """Cookie ids linked to every k-th subject (what identity.link writes, in bulk)."""
    from sqlalchemy import insert

    from consentgate.ledger import schema as t

    step = max(1, n_subjects // max(1, n_aliases))
    now = datetime.now(UTC).isoformat()
    rows = [
        {"alias": f"cookie-{j:08d}", "subject": f"user-{j * step % n_subjects:08d}", "kind": "cookie_id",
         "linked_at": now}
        for j in range(n_aliases)
    ]  # fmt: skip
    with ledger.engine.begin() as conn:
        for start in range(0, len(rows), 50_000):
            conn.execute(insert(t.aliases), rows[start : start + 50_000])


def build_ledger(work: Path, n_subjects: int, n_aliases: int) -> Any:
    from consentgate.ledger.events import Action, NewEvent
    from consentgate.ledger.store import Ledger

    ledger = Ledger.open(str(work / "ledger.db"))
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    for start in range(0, n_subjects, 20_000):
        ledger.append(
            [
                NewEvent(
                    f"user-{i:08d}", Action.OPT_OUT, t0 + timedelta(seconds=i), purpose=PURPOSE, region="US"
                )
                for i in range(start, min(start + 20_000, n_subjects))
            ]
        )
    link_alias_rows(ledger, n_subjects, n_aliases)
    return ledger


def load_rev(rev: str) -> ModuleType:
    """snapshot.py as it was at git revision ``rev``, as a module of its own."""
    src = subprocess.run(
        ["git", "show", f"{rev}:src/consentgate/pipeline/snapshot.py"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp(prefix="cg-snapshot-rev-")) / "snapshot_rev.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("consentgate_snapshot_rev", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subjects", type=int, default=900_000)
    ap.add_argument("--aliases", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline-rev", help="also time snapshot.py as of this git revision (e.g. HEAD)")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--part", choices=["full", "refresh", "all"], default="all")
    ap.add_argument("--full-subjects", type=int, default=200_000)
    args = ap.parse_args()
    results: dict[str, Any] = {
        "command": " ".join(["python", "benchmarks/snapshot.py", *sys.argv[1:]]),
        "cpus": os.cpu_count(),
    }
    if args.part in ("full", "all"):
        results["full"] = {}
        with tempfile.TemporaryDirectory(prefix="cg-snapshot-full-", dir=args.workdir) as tmp:
            work = Path(tmp)
            db = str(work / "mixed.db")
            results["full"]["sqlite"] = full_builds(db, "SQLite", work, args.full_subjects, args.repeat)
            with postgres() as pg_url:
                if pg_url is not None:
                    results["full"]["postgresql"] = full_builds(
                        pg_url, "PostgreSQL", work, args.full_subjects, args.repeat
                    )
    if args.part in ("refresh", "all"):
        results["refresh"] = refresh(args)
    results["peak_rss_mb"] = _peak_rss_mb()
    print(f"peak RSS {results['peak_rss_mb']} MB")
    out = ROOT / "benchmarks" / "out" / "snapshot.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


def refresh(args: argparse.Namespace) -> dict[str, Any]:
    """Issue 4's refresh timings on SQLite (see the module docstring)."""

    from sqlalchemy import insert

    from consentgate.ledger import schema as t
    from consentgate.ledger.events import Action, NewEvent
    from consentgate.pipeline import snapshot as current
    from consentgate.policy import load_policy

    versions: dict[str, ModuleType] = {"new": current}
    if args.baseline_rev:
        versions["rev"] = load_rev(args.baseline_rev)
    with tempfile.TemporaryDirectory(prefix="cg-snapshot-bench-", dir=args.workdir) as tmp:
        work = Path(tmp)
        (work / "policy.yaml").write_text(POLICY)
        policy = load_policy(work / "policy.yaml")
        t_setup, ledger = timed(lambda: build_ledger(work, args.subjects, args.aliases))
        prev = current.build_snapshot(policy, ledger, PURPOSE, AT)
        results: dict[str, Any] = {
            "subjects": args.subjects,
            "aliases": args.aliases,
            "identifiers": len(prev),
            "ledger_setup_s": round(t_setup, 1),
        }
        print(f"ledger: {args.subjects:,} subjects, {args.aliases:,} aliases, {len(prev):,} snapshot rows "
              f"(set up in {t_setup:.0f} s)", flush=True)  # fmt: skip
        runs: dict[str, list[float]] = {}
        later = AT - timedelta(days=1)
        for r in range(args.repeat):
            for tag, mod in versions.items():
                full_s, full = timed(lambda m=mod: m.build_snapshot(policy, ledger, PURPOSE, AT))
                runs.setdefault(f"{tag}:full", []).append(full_s)
                none_s, same = timed(
                    lambda m=mod, p=prev: m.build_snapshot(policy, ledger, PURPOSE, AT, previous=p)
                )
                assert same.meta.built == "incremental"
                assert same.meta.recomputed_persons == 0
                assert same.table.equals(prev.table), "a no-change refresh must equal the previous snapshot"
                runs.setdefault(f"{tag}:refresh-none", []).append(none_s)
            print(f"  rep {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in runs.items()), flush=True)
        # Changes (they accumulate in the ledger, so they come after the no-change timings).
        for r in range(args.repeat):
            late = [f"late-{r}-{i:05d}" for i in range(1000)]
            ledger.append([NewEvent(s, Action.OPT_OUT, later, purpose=PURPOSE, region="US") for s in late])
            link = {"alias": f"user-{r + 1:08d}", "subject": f"user-{args.subjects - 1 - r:08d}"}
            with ledger.engine.begin() as conn:
                conn.execute(
                    insert(t.aliases).values(
                        **link, kind="account_id", linked_at=datetime.now(UTC).isoformat()
                    )
                )
            full = current.build_snapshot(policy, ledger, PURPOSE, AT)
            for tag, mod in versions.items():
                s, inc = timed(
                    lambda m=mod, p=prev: m.build_snapshot(policy, ledger, PURPOSE, AT, previous=p)
                )
                assert inc.meta.built == "incremental"
                assert inc.table.equals(full.table), "an incremental refresh must equal a full rebuild"
                runs.setdefault(f"{tag}:refresh-1k+link", []).append(s)
            prev = full
            print(f"  changes rep {r + 1}: " + ", ".join(
                f"{k} {v[-1]:.2f} s" for k, v in runs.items() if k.endswith("link")), flush=True)  # fmt: skip
        ledger.close()
    med = {k: statistics.median(v) for k, v in runs.items()}
    results["seconds"] = {
        k: {"median": round(med[k], 3), "runs": [round(x, 3) for x in v]} for k, v in runs.items()
    }
    results["full_vs_refresh_none"] = round(med["new:full"] / med["new:refresh-none"], 1)
    if "rev:refresh-none" in med:
        results["refresh_none_rev_vs_new"] = round(med["rev:refresh-none"] / med["new:refresh-none"], 1)
    print(f"\n{'timing':22s} {'median s':>9s}")
    for k, v in results["seconds"].items():
        print(f"{k:22s} {v['median']:9.3f}")
    return results


def _peak_rss_mb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
