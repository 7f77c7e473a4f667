"""Banner outcomes and GPC share (issue 16): the rollup against a full recount, in the same run.

A ledger of banner clicks (one event per purpose of a click, as the banner posts them; one region
and one ``banner_choice`` per click) plus a ``gpc`` event for about a third of the visitors, over 60
days, on SQLite and, where the binaries exist, on a throw-away PostgreSQL cluster. Per database,
timed (medians of ``--repeat`` runs):

* ``build``: the first report, which builds the rollup from the whole ledger (once);
* ``full``: the baseline, ``recount_banner_outcomes`` + ``recount_gpc_share``: both reports counted
  from the period's events (the database groups and de-duplicates; what the reports did before the
  rollup);
* ``report``: ``banner_outcomes`` + ``gpc_share`` with the rollup current;
* ``incremental``: both reports after ``--new`` more events (a third of them late clicks of existing
  visitors, dated anywhere in the 60 days): the refresh re-counts only those visitors, then answers.

Before timing (unless ``--check-once``), and after the new events, the rollup's reports are checked
equal to the recount's, over the whole period and over one that cuts days mid-way.

How the ledger is filled: on SQLite through ``ConsentService.record`` (validation, ``Ledger.append``).
On PostgreSQL, with ``--workdir``, the events of the SQLite ledger kept there are copied (same rows,
one COPY: copy_append.copy_sqlite_ledger); without it, through ``ConsentService.record`` with a
committer that runs the ledger's own append and sends its event rows by COPY (copy_append.CopyAppender).
``--workdir`` keeps the SQLite ledger between runs; a fill that was stopped goes on from where it
stopped, and ``--fill-only`` fills without measuring (10M events take tens of minutes on a busy machine).

Run: .venv/bin/python benchmarks/ops_reports.py [--events 200000] [--new 1000] [--db sqlite|postgresql|both]
     [--workdir DIR] [--fill-only] [--check-once] [--full-repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import ROOT, median, postgres, timed
from copy_append import CopyAppender, copy_sqlite_ledger

from consentgate.ledger.store import Ledger
from consentgate.policy import Policy, load_policy
from consentgate.reports import web_rollup
from consentgate.reports.banner import (
    banner_outcomes,
    gpc_share,
    recount_banner_outcomes,
    recount_gpc_share,
)
from consentgate.reports.periods import Period
from consentgate.service import ConsentService
from consentgate.store import web_rollup as web_store
from consentgate.store.engine import Engine
from consentgate.store.rates import locked

POLICY = ROOT / "src" / "consentgate" / "policy" / "example.yaml"
PURPOSES = ("train_support_chatbot", "finetune_recommender", "product_analytics", "marketing")
START = datetime(2026, 9, 1, tzinfo=UTC)
PERIOD = Period(START, START + timedelta(days=61))
CUT = Period(START + timedelta(hours=3, minutes=30), START + timedelta(days=40, hours=7))


def fill(
    ledger: Ledger, policy: Policy, events: int, *, seed: int = 16, first: int = 0, existing: int = 0
) -> int:
    """Append about ``events`` events for visitors numbered from ``first``; with ``existing``, a third
    of the clicks are late ones of visitors below it. Returns the next free visitor number."""
    rnd = random.Random(seed)
    # PostgreSQL: the ledger's own append with its rows sent by COPY (copy_append.py); SQLite: append.
    committer = CopyAppender(ledger) if ledger.is_postgres else None
    service = ConsentService(policy, ledger, committer=committer)  # type: ignore[arg-type]
    batch: list[tuple[str, dict[str, object]]] = []
    i, stored = first, 0
    while stored + len(batch) < events:
        if existing and rnd.random() < 1 / 3:
            subject = f"visitor-{rnd.randrange(existing)}"
        else:
            subject = f"visitor-{i}"
            i += 1
        region = rnd.choice(("DE", "FR", "US-CA", "GB", "JP"))
        when = START + timedelta(seconds=rnd.randrange(86_400 * 60))
        if rnd.random() < 0.3:
            batch.append(
                (
                    "g",
                    {
                        "subject": subject,
                        "action": "gpc",
                        "region": region,
                        "source": "banner",
                        "occurred_at": when.isoformat(),
                        "signals": {"gpc": True, "via": "dom"},
                    },
                )
            )
        choice = rnd.choice(("accept_all", "reject_all", "custom"))
        for p in PURPOSES:
            batch.append(
                (
                    "c",
                    {
                        "subject": subject,
                        "action": "deny" if choice == "reject_all" else "grant",
                        "purposes": [p],
                        "region": region,
                        "source": "banner",
                        "occurred_at": (when + timedelta(seconds=1)).isoformat(),
                        "signals": {"banner_choice": choice},
                    },
                )
            )
        if len(batch) >= 20_000:
            service.record(batch, strict=False)
            stored += len(batch)
            batch = []
    if batch:
        service.record(batch, strict=False)
    return i


def both(engine: Engine, policy: Policy, period: Period, *, full: bool) -> tuple[Any, Any]:
    if full:
        return recount_banner_outcomes(engine, policy, period), recount_gpc_share(engine, policy, period)
    return banner_outcomes(engine, policy, period), gpc_share(engine, policy, period)


def check(engine: Engine, policy: Policy) -> None:
    for period in (PERIOD, CUT):
        assert both(engine, policy, period, full=False) == both(engine, policy, period, full=True), period


def filled(
    ledger: Ledger, policy: Policy, args: argparse.Namespace, path: Path | None, kept: Path | None
) -> tuple[int, float, str]:
    """Fill the ledger, or, with ``--workdir``, reuse what an earlier run of this script filled: the
    SQLite file itself, and for PostgreSQL a copy of its events (copy_append.copy_sqlite_ledger).
    Returns the next free visitor number, the seconds it took, and how the ledger was filled."""
    note = None if kept is None else kept.with_name(kept.name + ".fill.json")
    if note is not None and note.exists():
        done = json.loads(note.read_text())
        if path is not None and ledger.count() > 0:
            return int(done["visitors"]), float(done["setup_s"]), "filled by an earlier run, reused"
        if ledger.is_postgres:
            assert kept is not None
            t0 = time.perf_counter()
            copy_sqlite_ledger(kept, ledger, int(done["events"]))
            took = time.perf_counter() - t0
            return (
                int(done["visitors"]),
                took,
                f"its events copied from {kept.name} (filled in {done['setup_s']} s)",
            )
    have = ledger.count() if path is not None else 0  # a kept file whose fill was stopped: go on
    t0 = time.perf_counter()
    visitors = fill(ledger, policy, args.events - have, seed=16 + have, first=_next_visitor(ledger))
    setup = time.perf_counter() - t0
    if note is not None and path is not None:
        note.write_text(
            json.dumps(
                {
                    "events": ledger.count(),
                    "visitors": visitors,
                    "setup_s": round(setup, 1),
                    "resumed_at": have,
                }
            )
        )
    how = "filled through ConsentService.record"
    if have >= args.events:
        how += f" by an earlier run stopped at {have:,} events, reused"
    elif have:
        how += f", resumed at {have:,} events"
    return visitors, setup, how


def io_bytes() -> list[int]:
    """Bytes this process has read and written through system calls (Linux; zeros elsewhere), page
    cache hits included: what SQLite moves between its own cache and the files."""
    try:
        fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    except OSError:
        return [0, 0]
    return [int(fields["rchar"]), int(fields["wchar"])]


def _next_visitor(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT max(CAST(substr(subject, 9) AS INTEGER)) FROM events WHERE subject LIKE 'visitor-%'"
        ).scalar()
    return 0 if found is None else int(found) + 1


def measure(
    name: str,
    url: str,
    policy: Policy,
    args: argparse.Namespace,
    path: Path | None = None,
    kept: Path | None = None,
) -> dict[str, Any]:
    """The figures for one database. ``path``: the kept SQLite file this ledger is; ``kept``: the kept
    SQLite file (PostgreSQL copies its events when an earlier run filled it)."""
    with Ledger.open(url) as ledger:
        visitors, setup, how = filled(ledger, policy, args, path, kept)
        n = ledger.count()
        engine = ledger.engine
        print(f"{name}: {n:,} events, {visitors:,} visitors ({how}; {setup:.0f} s), "
              f"load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        if args.fill_only:
            return {"events": n, "setup_s": round(setup, 1)}
        with locked(engine, web_store.LOCK_KEY) as conn:
            web_store.reset(conn)  # a kept file may hold a rollup an earlier run built
        cpu, io = time.process_time(), io_bytes()
        build = timed(lambda: web_rollup.refresh(engine, policy), repeat=1)[0]
        cpu, io = time.process_time() - cpu, [b - a for a, b in zip(io, io_bytes(), strict=True)]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        # This process's CPU and I/O: on a busy machine the wall clock grows with the load, the work does not.
        print(f"  build (first report, once): {build:.2f} s ({cpu:.2f} s CPU in this process, "
              f"{io[0] / 1e6:,.0f} MB read and {io[1] / 1e6:,.0f} MB written through read/write; "
              f"peak memory {rss} MB), load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        if not args.check_once:
            check(engine, policy)
        t_full = median(
            timed(lambda: both(engine, policy, PERIOD, full=True), repeat=args.full_repeat or args.repeat)
        )
        print(f"  full recount, both reports: {t_full:.2f} s", flush=True)
        t_report = median(timed(lambda: both(engine, policy, PERIOD, full=False), repeat=args.repeat))
        print(f"  both reports, rollup current: {t_report:.3f} s", flush=True)
        runs = []
        for r in range(args.repeat):
            visitors = fill(ledger, policy, args.new, seed=100 + r, first=visitors, existing=visitors)
            runs.append(timed(lambda: both(engine, policy, PERIOD, full=False), repeat=1)[0])
        t_incr = median(runs)
        print(f"  both reports after {args.new:,} new events: {t_incr:.3f} s "
              f"(runs {', '.join(f'{x:.3f}' for x in runs)})", flush=True)  # fmt: skip
        check(engine, policy)
        n_after = ledger.count()
    out = {
        "events": n,
        "events_after": n_after,
        "filled": how,
        "build_cpu_s": round(cpu, 2),
        "build_io_mb": [round(x / 1e6) for x in io],
        "build_peak_rss_mb": rss,
        "setup_s": round(setup, 1),
        "build_s": round(build, 2),
        "full_s": round(t_full, 3),
        "report_s": round(t_report, 3),
        "incremental_s": round(t_incr, 3),
        "incremental_runs": [round(x, 3) for x in runs],
        "full_over_report": round(t_full / t_report, 1),
        "full_over_incremental": round(t_full / t_incr, 1),
        "load_average_end": os.getloadavg(),
    }
    print(f"  {name}: full {t_full:.2f} s / report {t_report:.3f} s / incremental {t_incr:.3f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--new", type=int, default=1_000, help="events added before each incremental report")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--full-repeat", type=int, help="runs of the full recount (default: --repeat)")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep the SQLite ledger here (ops-reports-EVENTS.db) and reuse it on the next run; default: "
        "a temporary directory, removed afterwards",
    )
    parser.add_argument("--fill-only", action="store_true", help="fill the ledgers, measure nothing")
    parser.add_argument(
        "--check-once",
        action="store_true",
        help="check the rollup's reports against the recount only after the new events (each check "
        "recounts twice: minutes at 10M events), not also before the timings",
    )
    args = parser.parse_args()
    policy = load_policy(POLICY)
    results: dict[str, Any] = {"command": " ".join(["python", "benchmarks/ops_reports.py", *sys.argv[1:]])}
    results["load_average"] = os.getloadavg()
    if args.db in ("sqlite", "both"):
        if args.workdir is not None:
            args.workdir.mkdir(parents=True, exist_ok=True)
            path = args.workdir / f"ops-reports-{args.events}.db"
            results["sqlite"] = measure("SQLite", str(path), policy, args, path, path)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                results["sqlite"] = measure("SQLite", str(Path(tmp) / "ledger.db"), policy, args)
    if args.db in ("postgresql", "both"):
        with postgres() as url:
            if url is not None:
                kept = None if args.workdir is None else args.workdir / f"ops-reports-{args.events}.db"
                results["postgresql"] = measure("PostgreSQL", url, policy, args, None, kept)
    results["load_average_end"] = os.getloadavg()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
