"""Filter benchmark (issue 4): consentgate's dataset filter against what a team would write by hand.

One run generates the data, builds the consent ledger and snapshot, then times, each contestant in
its own child process (wall time of the filter itself, imports excluded; peak RSS from getrusage):

- ``floor``: a hand-written DuckDB anti-join against the opted-out ids, plus the do_not_train
  predicate, Parquet in and out: the fastest way we know to do the job;
- ``cg-duckdb`` / ``cg-polars``: ``consentgate.pipeline.filter_files`` from the snapshot file (reads
  the snapshot, builds the plan, filters, counts every drop reason, writes the manifest);
- ``pandas-isin``: ``read_parquet`` → ``~isin(opted_out) & ~do_not_train`` → ``to_parquet``;
- ``cg-spark`` (and ``floor``/``cg-duckdb`` again for reference) on a smaller slice, local[*].

Contestants run interleaved, ``--repeat`` times; medians are reported. Every output is checked to
hold the same rows (count and sum of event ids) as the floor's.

Run: .venv/bin/python benchmarks/filter.py            (20M events, 2M subjects; several minutes)
     .venv/bin/python benchmarks/filter.py --quick    (2M events, 200k subjects)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import OPT_OUT_POLICY, ROOT

POLICY = OPT_OUT_POLICY
PURPOSE = "train_ranker"
# Contestants run by another interpreter (--pandas2-python: a venv with pandas 2.x).
PYTHONS: dict[str, str] = {}
AT = datetime(2026, 9, 1, tzinfo=UTC)


# -- contestants (run in child processes) ----------------------------------------------------------


def contestant(name: str, work: Path, events: Path, out: Path) -> dict[str, Any]:
    """Run one contestant; the timer covers the work only (imports and Spark start-up excluded)."""
    extra: dict[str, Any] = {}
    if name == "floor":
        import duckdb

        t, cpu0 = time.perf_counter(), _cpu()
        con = duckdb.connect()
        con.execute(
            f"COPY (SELECT e.* FROM read_parquet('{events}') e "
            f"ANTI JOIN read_parquet('{work / 'optouts.parquet'}') o ON e.user_id = o.user_id "
            f"WHERE NOT coalesce(e.do_not_train, false)) TO '{out}' (FORMAT parquet)"
        )
        con.close()
        elapsed, cpu = time.perf_counter() - t, _cpu() - cpu0
    elif name in ("pandas-isin", "pandas2-isin"):
        import pandas as pd

        extra["pandas"] = pd.__version__
        t, cpu0 = time.perf_counter(), _cpu()
        df = pd.read_parquet(events)
        opted_out = pd.read_parquet(work / "optouts.parquet")["user_id"]
        kept = df[~df["user_id"].isin(opted_out) & ~df["do_not_train"].fillna(False)]
        kept.to_parquet(out, index=False)
        elapsed, cpu = time.perf_counter() - t, _cpu() - cpu0
    elif name.startswith("cg-"):
        engine = name.removeprefix("cg-")
        from consentgate.pipeline import FilterOptions, Snapshot, filter_files
        from consentgate.pipeline.engines import load

        load(engine)  # import the engine's library before the clock starts, as the others do
        session = None
        if engine == "spark":
            from consentgate.pipeline.engines.spark import local_session

            t = time.perf_counter()
            session = local_session()
            session.sparkContext.setLogLevel("ERROR")
            extra["spark_startup_s"] = round(time.perf_counter() - t, 2)
        t, cpu0 = time.perf_counter(), _cpu()
        manifest = filter_files(
            events,
            out,
            Snapshot.read(work / "snapshot.parquet"),
            FilterOptions(subject_column="user_id"),
            engine=engine,
            purpose=PURPOSE,
            manifest_path=out.with_suffix(".manifest.json"),
        )
        elapsed, cpu = time.perf_counter() - t, _cpu() - cpu0
        extra["counts"] = manifest.counts.to_json()
        if session is not None:
            # The first run in a fresh JVM pays for class loading and JIT; a long-lived session
            # (a notebook, a cluster job filtering several datasets) runs warm. Report both.
            shutil.rmtree(out)
            t = time.perf_counter()
            filter_files(events, out, Snapshot.read(work / "snapshot.parquet"),
                         FilterOptions(subject_column="user_id"), engine=engine, purpose=PURPOSE)  # fmt: skip
            extra["warm_s"] = round(time.perf_counter() - t, 2)
            extra["jvm_peak_rss_mb"] = _stop_spark(session)
    else:
        raise SystemExit(f"unknown contestant {name}")
    if not name.endswith("spark"):  # Spark's work happens in the JVM, another process
        extra["cpu_s"] = round(cpu, 2)
    return {"name": name, "seconds": elapsed, "peak_rss_mb": peak_rss_mb(os.getpid()), **extra}


def _cpu() -> float:
    """User + system CPU seconds of this process, all threads: steadier than wall time on a busy
    machine, since time spent waiting for a core is not counted."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_mb(pid: int) -> int:
    """The process's peak resident memory (VmHWM). Not getrusage's ru_maxrss: on Linux that value
    survives fork and exec, so a child would report at least its parent's size."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _stop_spark(session: Any) -> int:
    """Stop Spark and its JVM; return the JVM's peak RSS, read just before it exits."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    proc = getattr(gateway, "proc", None)
    jvm_peak = peak_rss_mb(proc.pid) if proc is not None else 0
    session.stop()
    if gateway is not None:
        gateway.shutdown()
        if proc is not None:
            if proc.stdin:
                proc.stdin.close()  # the JVM exits when its stdin closes
            proc.wait(timeout=60)
    return jvm_peak


# -- set-up (parent) -------------------------------------------------------------------------------


def generate(work: Path, n_events: int, n_subjects: int, optout: float, spark_events: int) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute(f"""
        COPY (
          SELECT i AS event_id,
                 'user-' || lpad((hash(i) % {n_subjects})::VARCHAR, 8, '0') AS user_id,
                 TIMESTAMP '2026-01-01' + to_seconds(i % 31536000) AS ts,
                 (hash(i * 7 + 1) % 1000) < 5 AS do_not_train,
                 'message ' || (hash(i * 3) % 100000)::VARCHAR
                   || ' about order ' || (i % 997)::VARCHAR AS text
          FROM range({n_events}) t(i)
        ) TO '{work / "events.parquet"}' (FORMAT parquet)
    """)
    con.execute(f"""
        COPY (SELECT 'user-' || lpad(s::VARCHAR, 8, '0') AS user_id FROM range({n_subjects}) t(s)
              WHERE (hash(s + 99) % 1000) < {int(optout * 1000)})
        TO '{work / "optouts.parquet"}' (FORMAT parquet)
    """)
    con.execute(f"""
        COPY (SELECT * FROM read_parquet('{work / "events.parquet"}') WHERE event_id < {spark_events})
        TO '{work / "events_small.parquet"}' (FORMAT parquet)
    """)
    con.close()


def build_ledger_and_snapshot(work: Path, results: dict[str, Any]) -> None:
    import pyarrow.parquet as pq

    from consentgate.ledger.events import Action, NewEvent
    from consentgate.ledger.store import Ledger
    from consentgate.pipeline import build_snapshot
    from consentgate.policy import load_policy

    (work / "policy.yaml").write_text(POLICY)
    policy = load_policy(work / "policy.yaml")
    ledger = Ledger.open(str(work / "ledger.db"))
    ids = pq.read_table(work / "optouts.parquet").column("user_id").to_pylist()
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    t = time.perf_counter()
    for start in range(0, len(ids), 20_000):
        ledger.append(
            [
                NewEvent(
                    s,
                    Action.OPT_OUT,
                    t0 + timedelta(seconds=i),
                    purpose=PURPOSE,
                    region="US",
                    source="import",
                )
                for i, s in enumerate(ids[start : start + 20_000], start)
            ]
        )
    results["ledger_events"] = len(ids)
    results["ledger_append_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    snap = build_snapshot(policy, ledger, PURPOSE, AT)
    results["snapshot_full_s"] = round(time.perf_counter() - t, 2)
    snap.write(work / "snapshot.parquet")
    results["snapshot_rows"] = len(snap)
    # Incremental: 1,000 more choices arrive; only they are read and re-decided.
    more = [f"user-late-{i:05d}" for i in range(1000)]
    ledger.append(
        [NewEvent(s, Action.OPT_OUT, AT - timedelta(days=1), purpose=PURPOSE, region="US") for s in more]
    )
    t = time.perf_counter()
    inc = build_snapshot(policy, ledger, PURPOSE, AT, previous=snap)
    results["snapshot_incremental_1k_s"] = round(time.perf_counter() - t, 2)
    assert inc.meta.built == "incremental"
    assert inc.meta.recomputed_persons == 1000
    ledger.close()


def run_child(name: str, work: Path, events: Path, out: Path) -> dict[str, Any]:
    if out.is_dir():
        shutil.rmtree(out)  # Spark's output of the previous repetition
    out.unlink(missing_ok=True)
    python = PYTHONS.get(name, sys.executable)
    cmd = [python, __file__, "--contestant", name, "--workdir", str(work),
           "--events-file", str(events), "--out-file", str(out)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _size_mb(path: Path) -> int:
    files = path.rglob("*.parquet") if path.is_dir() else [path]
    return round(sum(f.stat().st_size for f in files) / 2**20)


def fingerprint(path: Path) -> tuple[int, int]:
    import duckdb

    con = duckdb.connect()
    src = f"read_parquet('{path}/**/*.parquet')" if path.is_dir() else f"read_parquet('{path}')"
    n, s = con.execute(f"SELECT count(*), sum(event_id) FROM {src}").fetchall()[0]
    con.close()
    return int(n), int(s)


def race(names: list[str], work: Path, events: Path, repeat: int) -> dict[str, dict[str, Any]]:
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    for r in range(repeat):
        order = names[r % len(names) :] + names[: r % len(names)]  # rotate: no one always goes first
        for name in order:
            out = work / f"out-{name}-{events.stem}.parquet"
            res = run_child(name, work, events, out)
            res["rows_checksum"] = fingerprint(out)
            # Same compression for everyone (Snappy: DuckDB's, pandas' and now consentgate/Polars'
            # default), so the output sizes should match too.
            res["output_mb"] = _size_mb(out)
            runs[name].append(res)
            print(
                f"  {events.stem:14s} {name:12s} {res['seconds']:7.2f} s  {res['peak_rss_mb']:6d} MB",
                flush=True,
            )
    summary = {}
    for name, rs in runs.items():
        secs = [x["seconds"] for x in rs]
        cpus = [x["cpu_s"] for x in rs if "cpu_s" in x]
        summary[name] = {
            "median_s": round(statistics.median(secs), 2),
            "median_cpu_s": round(statistics.median(cpus), 2) if cpus else None,
            "min_s": round(min(secs), 2),
            "runs_s": [round(s, 2) for s in secs],
            "peak_rss_mb": max(x["peak_rss_mb"] for x in rs),
            **{k: v for k, v in rs[-1].items() if k not in ("name", "seconds", "peak_rss_mb", "cpu_s")},
        }
    checks = {s["rows_checksum"] for s in summary.values()}
    if len(checks) != 1:
        raise SystemExit(f"contestants disagree on the output rows: {summary}")
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=20_000_000)
    ap.add_argument("--subjects", type=int, default=2_000_000)
    ap.add_argument("--optout", type=float, default=0.10)
    ap.add_argument("--spark-events", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="2M events over 200k subjects, Spark on 500k")
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument(
        "--pandas2-python",
        help="also time pandas isin under pandas 2.x (object strings): a python with pandas<3 and pyarrow",
    )
    ap.add_argument("--contestant")
    ap.add_argument("--events-file", type=Path)
    ap.add_argument("--out-file", type=Path)
    args = ap.parse_args()
    if args.contestant:
        print(json.dumps(contestant(args.contestant, args.workdir, args.events_file, args.out_file)))
        return
    if args.quick:
        args.events, args.subjects, args.spark_events = 2_000_000, 200_000, 500_000
    with tempfile.TemporaryDirectory(prefix="cg-filter-bench-", dir=args.workdir) as tmp:
        work = Path(tmp)
        results: dict[str, Any] = {
            "command": " ".join(["python", "benchmarks/filter.py", *sys.argv[1:]]),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "system": platform.system(),
            },
            "events": args.events,
            "subjects": args.subjects,
            "optout_share": args.optout,
        }
        t = time.perf_counter()
        generate(work, args.events, args.subjects, args.optout, args.spark_events)
        results["generate_s"] = round(time.perf_counter() - t, 1)
        results["input_mb"] = round((work / "events.parquet").stat().st_size / 2**20)
        build_ledger_and_snapshot(work, results)
        print(f"data: {args.events:,} events, {args.subjects:,} subjects, {results['input_mb']} MB Parquet; "
              f"ledger {results['ledger_events']:,} opt-outs; snapshot {results['snapshot_full_s']} s "
              f"(incremental +1k: {results['snapshot_incremental_1k_s']} s)", flush=True)  # fmt: skip
        names = ["floor", "cg-duckdb", "cg-polars", "pandas-isin"]
        if args.pandas2_python:
            PYTHONS["pandas2-isin"] = args.pandas2_python
            names.append("pandas2-isin")
        big = race(names, work, work / "events.parquet", args.repeat)
        results["filter"] = big
        floor = big["floor"]["median_s"]
        results["ratios"] = {
            "cg_duckdb_vs_floor": round(big["cg-duckdb"]["median_s"] / floor, 3),
            "cg_polars_vs_floor": round(big["cg-polars"]["median_s"] / floor, 3),
            "pandas_vs_cg_duckdb": round(big["pandas-isin"]["median_s"] / big["cg-duckdb"]["median_s"], 2),
            "pandas_vs_cg_polars": round(big["pandas-isin"]["median_s"] / big["cg-polars"]["median_s"], 2),
            # Each repetition runs every contestant back to back: the median of per-repetition
            # ratios is steadier than a ratio of medians on a machine whose load varies.
            "cg_duckdb_vs_floor_paired": _paired(big, "cg-duckdb", "floor"),
            "cg_duckdb_vs_floor_cpu": round(
                big["cg-duckdb"]["median_cpu_s"] / big["floor"]["median_cpu_s"], 3
            ),
            "cg_polars_vs_floor_cpu": round(
                big["cg-polars"]["median_cpu_s"] / big["floor"]["median_cpu_s"], 3
            ),
            "pandas_vs_cg_duckdb_cpu": round(
                big["pandas-isin"]["median_cpu_s"] / big["cg-duckdb"]["median_cpu_s"], 2
            ),
            "cg_polars_vs_floor_paired": _paired(big, "cg-polars", "floor"),
            "pandas_vs_cg_duckdb_paired": _paired(big, "pandas-isin", "cg-duckdb"),
            "pandas_vs_cg_polars_paired": _paired(big, "pandas-isin", "cg-polars"),
            "pandas_vs_cg_polars_cpu": round(
                big["pandas-isin"]["median_cpu_s"] / big["cg-polars"]["median_cpu_s"], 2
            ),
            "pandas_vs_floor": round(big["pandas-isin"]["median_s"] / floor, 2),
        }
        if "pandas2-isin" in big:
            results["ratios"]["pandas2_vs_cg_duckdb_paired"] = _paired(big, "pandas2-isin", "cg-duckdb")
        out = ROOT / "benchmarks" / "out" / ("filter-quick.json" if args.quick else "filter.json")
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")  # kept even if the Spark part fails
        if not args.no_spark:
            small = race(
                ["floor", "cg-duckdb", "cg-spark"],
                work,
                work / "events_small.parquet",
                min(2, args.repeat),
            )
            results["filter_small"] = {"events": args.spark_events, **small}
        _report(results)
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {out.relative_to(ROOT)}")


def _paired(summary: dict[str, dict[str, Any]], a: str, b: str) -> float:
    ratios = [x / y for x, y in zip(summary[a]["runs_s"], summary[b]["runs_s"], strict=True)]
    return round(statistics.median(ratios), 3)


def _report(r: dict[str, Any]) -> None:
    floor = r["filter"]["floor"]["median_s"]
    share = f"{r['optout_share']:.0%} opted out"
    print(f"\nfilter, {r['events']:,} events over {r['subjects']:,} subjects ({share})")
    floor_cpu = r["filter"]["floor"]["median_cpu_s"]
    print(f"{'contestant':14s} {'median s':>9s} {'min s':>7s} {'vs floor':>9s} {'CPU s':>7s} "
          f"{'vs floor':>9s} {'peak RSS':>9s}")  # fmt: skip
    for name, s in r["filter"].items():
        ratio = s["median_s"] / floor
        cpu_ratio = s["median_cpu_s"] / floor_cpu
        print(f"{name:14s} {s['median_s']:9.2f} {s['min_s']:7.2f} {ratio:8.2f}x {s['median_cpu_s']:7.2f} "
              f"{cpu_ratio:8.2f}x {s['peak_rss_mb']:6d} MB  (output {s['output_mb']} MB)")  # fmt: skip
    q = r["ratios"]
    print(f"paired medians: cg-duckdb/floor {q['cg_duckdb_vs_floor_paired']}x, "
          f"cg-polars/floor {q['cg_polars_vs_floor_paired']}x, "
          f"pandas/cg-duckdb {q['pandas_vs_cg_duckdb_paired']}x, "
          f"pandas/cg-polars {q['pandas_vs_cg_polars_paired']}x")  # fmt: skip
    if "pandas2_vs_cg_duckdb_paired" in q:
        print(f"pandas 2 / cg-duckdb {q['pandas2_vs_cg_duckdb_paired']}x")
    if "filter_small" in r:
        small = r["filter_small"]
        print(f"\nsmaller slice, {small['events']:,} events:")
        for name, s in small.items():
            if name == "events":
                continue
            jvm = f" + JVM {s['jvm_peak_rss_mb']} MB" if "jvm_peak_rss_mb" in s else ""
            start = ""
            if "spark_startup_s" in s:
                start = f" (warm session: {s['warm_s']} s; start-up {s['spark_startup_s']} s, not included)"
            print(f"{name:14s} {s['median_s']:9.2f} s  {s['peak_rss_mb']} MB{jvm}{start}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
