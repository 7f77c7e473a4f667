"""Ledger benchmark (issue 2): durable record throughput and decision latency, SQLite and PostgreSQL.

Every figure is printed next to its baseline from the same run:
- record: batched appends vs one transaction per event (what a naive store does), in-process and
  through the HTTP API served by a real uvicorn process (this script is the second process);
- decisions: one batch of 10,000 vs 10,000 single decisions, and p50/p99 of single decisions.

Run: .venv/bin/python benchmarks/ledger.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from common import ROOT, median, percentile, postgres, submission_events, synthetic_submissions, timed
from tests.support.servers import start_server

from consentgate.auth import apikeys
from consentgate.decide import Query, decide_batch
from consentgate.ledger.store import Ledger
from consentgate.policy import load_policy
from consentgate.service import ConsentService

POLICY = ROOT / "src" / "consentgate" / "policy" / "example.yaml"
AT = datetime(2026, 11, 1, tzinfo=UTC)


def bench_inprocess(url: str, n_subjects: int, results: dict[str, Any]) -> None:
    policy = load_policy(POLICY)
    ledger = Ledger.open(url)
    svc = ConsentService(policy, ledger)
    subs = synthetic_submissions(n_subjects, 2)
    raws = [r for s in subs for r in submission_events(s)]

    # Baseline: one durable transaction per event.
    base_n = 300
    t = time.perf_counter()
    for raw in raws[:base_n]:
        svc.record([raw])
    base_rate = base_n / (time.perf_counter() - t)

    # consentgate: batches of 1,000 events per durable transaction.
    rest = raws[base_n:]
    t = time.perf_counter()
    for i in range(0, len(rest), 1000):
        svc.record(rest[i : i + 1000])
    batch_rate = len(rest) / (time.perf_counter() - t)
    results["append_events_per_s_batched"] = round(batch_rate)
    results["append_events_per_s_one_per_txn"] = round(base_rate)
    results["append_ratio"] = round(batch_rate / base_rate, 1)

    # Decisions over the stored ledger.
    subjects = [f"visitor-{i:07d}" for i in range(n_subjects)]
    queries = [Query(subjects[i % len(subjects)], "train_support_chatbot", AT, None) for i in range(10_000)]
    events_by = {}
    for ev in ledger.events_of({q.subject for q in queries}):
        events_by.setdefault(ev.subject, []).append(ev)
    pure = timed(lambda: decide_batch(policy, events_by, queries), repeat=7)
    results["decide_batch_pure_per_s"] = round(len(queries) / median(pure))
    with_db = timed(lambda: svc.decide_many(queries), repeat=5)
    results["decide_batch_10k_with_db_per_s"] = round(len(queries) / median(with_db))
    results["decide_batch_10k_with_db_s_p50"] = round(median(with_db), 3)

    # Baseline and single latency: one decision at a time, each reading the ledger.
    lat = []
    for q in queries[:1000]:
        t = time.perf_counter()
        svc.decide(q.subject, q.purpose, q.at)
        lat.append(time.perf_counter() - t)
    single_rate = len(lat) / sum(lat)
    results["decide_single_p50_ms"] = round(percentile(lat, 0.50) * 1000, 3)
    results["decide_single_p99_ms"] = round(percentile(lat, 0.99) * 1000, 3)
    results["decide_single_per_s"] = round(single_rate)
    results["decide_batch_vs_single_ratio"] = round(
        results["decide_batch_10k_with_db_per_s"] / single_rate, 1
    )
    ledger.close()


def bench_api(url: str, n_subjects: int, seconds: float, results: dict[str, Any]) -> None:
    """Through HTTP: a real uvicorn server process, this process as the client."""
    ledger = Ledger.open(url)
    _, key = apikeys.create_key(ledger.engine, "admin", "benchmark")
    ledger.close()
    # Storage throughput through batches of one key is the point here, not its event budget. Unsealed,
    # as the in-process figures are: no ledger key beside a benchmark's database.
    logs = Path(tempfile.mkdtemp(prefix="cg-bench-ledger-"))
    server = start_server(
        url, POLICY, logs, name="ledger-api", extra_env={"CONSENTGATE_RATE_EVENTS_PER_KEY": "0"}, seal=False
    )
    base = server.base_url
    headers = {"Authorization": f"Bearer {key}"}
    try:
        subs = synthetic_submissions(n_subjects, 3, seed=11)

        # Baseline: one submission (2 events) per request, one client.
        with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
            t, sent = time.perf_counter(), 0
            for s in subs[:200]:
                r = c.post("/v1/consents", json=s)
                r.raise_for_status()
                sent += len(r.json()["events"])
            single_rate = sent / (time.perf_counter() - t)

        # Batched: 100 submissions per request, 4 client threads, bounded by time and count.
        lock = threading.Lock()
        acked: list[int] = []
        lat: list[float] = []
        chunks = [subs[i : i + 100] for i in range(200, len(subs), 100)]
        stop_at = time.time() + seconds

        def worker(chunk: list[dict[str, Any]]) -> None:
            if time.time() > stop_at:
                return
            with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
                t0 = time.perf_counter()
                r = c.post("/v1/consents/batch", json={"submissions": chunk})
                r.raise_for_status()
                n = int(r.json()["events_recorded"])
                with lock:
                    acked.append(n)
                    lat.append(time.perf_counter() - t0)

        t = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(worker, chunks))
        elapsed = time.perf_counter() - t
        batch_rate = sum(acked) / elapsed
        results["api_events_per_s_batched"] = round(batch_rate)
        results["api_batch_request_p50_ms"] = round(percentile(lat, 0.5) * 1000, 1)
        results["api_batch_request_p99_ms"] = round(percentile(lat, 0.99) * 1000, 1)
        results["api_events_per_s_single"] = round(single_rate)
        results["api_ratio"] = round(batch_rate / single_rate, 1)

        # Decisions over HTTP: single GETs and one batch of 10,000.
        with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
            lat = []
            for i in range(500):
                t0 = time.perf_counter()
                r = c.get(
                    "/v1/decisions",
                    params={"subject": f"visitor-{i:07d}", "purpose": "train_support_chatbot"},
                )
                r.raise_for_status()
                lat.append(time.perf_counter() - t0)
            results["api_decision_p50_ms"] = round(percentile(lat, 0.5) * 1000, 2)
            results["api_decision_p99_ms"] = round(percentile(lat, 0.99) * 1000, 2)
            queries = [{"subject": f"visitor-{i % n_subjects:07d}", "purpose": "train_support_chatbot"}
                       for i in range(10_000)]  # fmt: skip
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                r = c.post("/v1/decisions/batch", json={"queries": queries})
                r.raise_for_status()
                times.append(time.perf_counter() - t0)
            results["api_decisions_batch_10k_s_p50"] = round(median(times), 3)
            results["api_decisions_batch_per_s"] = round(10_000 / median(times))
    finally:
        server.stop(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--no-api", action="store_true")
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    n = 2_000 if args.quick else 20_000
    seconds = 3.0 if args.quick else 10.0
    report: dict[str, Any] = {"machine": f"{os.cpu_count()} cores", "subjects": n}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = {}
        bench_inprocess(str(Path(tmp) / "bench.db"), n, sqlite)
        if not args.no_api:
            bench_api(str(Path(tmp) / "api.db"), n, seconds, sqlite)
        report["sqlite"] = sqlite
        print(json.dumps({"sqlite": sqlite}, indent=2), flush=True)
    if not args.no_postgres:
        with postgres() as pg_url:
            if pg_url:
                pg: dict[str, Any] = {}
                bench_inprocess(pg_url, n, pg)
                if not args.no_api:
                    import psycopg

                    with psycopg.connect(pg_url, autocommit=True) as conn:
                        conn.execute("CREATE DATABASE api")
                    bench_api(pg_url.rsplit("/", 1)[0] + "/api", n, seconds, pg)
                report["postgresql"] = pg
                print(json.dumps({"postgresql": pg}, indent=2), flush=True)
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "ledger.json").write_text(json.dumps(report, indent=2))
    targets = {
        "durable events/s through the API with batching (SQLite) >= 2,000": report["sqlite"].get(
            "api_events_per_s_batched"
        ),
        "decisions/s in batch (pure) >= 200,000": report["sqlite"]["decide_batch_pure_per_s"],
    }
    for name, value in targets.items():
        print(f"target  {name}: {value}")


if __name__ == "__main__":
    main()
