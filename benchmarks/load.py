"""Load test (issue 3): sustained acknowledged events/s and decision requests/s over HTTP.

A real uvicorn server runs in its own process; this script is the second process, driving it on
loopback with many concurrent clients. Each submission is what a banner's "Accept all" or "Reject
all" sends: one choice for each of the five consent purposes, so five events. Loops are bounded by
count *and* time. The baseline in the same run is the same server with group commit turned off
(one durable transaction per request).

Run: .venv/bin/python benchmarks/load.py [--seconds 15] [--concurrency 32] [--db postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from common import ROOT, percentile, postgres

from consentgate import apikeys
from consentgate.ledger.store import Ledger

POLICY = ROOT / "src" / "consentgate" / "policy" / "example.yaml"
CONSENT_PURPOSES = {
    "train_support_chatbot": "ai-training",
    "finetune_recommender": "ai-training",
    "product_analytics": "cookies",
    "personalisation": "cookies",
    "marketing": "marketing",
}
MAX_REQUESTS = 200_000  # hard bound whatever the time limit


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _submission(rnd: random.Random, i: int) -> dict[str, Any]:
    allow = rnd.random() < 0.6
    when = datetime.now(UTC) - timedelta(seconds=rnd.randint(0, 3600))
    return {
        "subject": f"load-{i:08d}",
        "occurred_at": when.isoformat(),
        "region": rnd.choice(["DE", "FR", "GB", "US-CA", "BR"]),
        "locale": "en",
        "source": "banner",
        "choices": [
            {"purpose": p, "action": "grant" if allow else "deny", "notice_id": n,
             "notice_version": 2 if n == "ai-training" else 1}
            for p, n in CONSENT_PURPOSES.items()
        ],
    }  # fmt: skip


class Server:
    def __init__(self, db: str, *, group_commit: bool) -> None:
        self.port = _free_port()
        env = dict(
            os.environ,
            CONSENTGATE_DB=db,
            CONSENTGATE_POLICY=str(POLICY),
            CONSENTGATE_GROUP_COMMIT="true" if group_commit else "false",
            CONSENTGATE_RATE_PER_KEY="0",
            CONSENTGATE_RATE_PER_IP="0",
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "consentgate.server.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning", "--no-access-log"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def _drive(
    base: str, key: str, seconds: float, concurrency: int, make: Any, method: str, path: str
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    done = 0
    events = 0
    stop_at = time.perf_counter() + seconds
    counter = iter(range(MAX_REQUESTS))

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors, done, events
        for i in counter:
            if time.perf_counter() > stop_at:
                return
            t0 = time.perf_counter()
            if method == "POST":
                r = await client.post(path, json=make(i))
            else:
                r = await client.get(path, params=make(i))
            latencies.append(time.perf_counter() - t0)
            if r.status_code >= 400:
                errors += 1
            else:
                done += 1
                if method == "POST":
                    events += len(r.json()["events"])

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:
        t = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - t
    return {
        "requests_per_s": round(done / elapsed),
        "events_per_s": round(events / elapsed) if method == "POST" else None,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "requests": done,
        "errors": errors,
        "seconds": round(elapsed, 1),
    }


def run(db_url: str, seconds: float, concurrency: int, group_commit: bool) -> dict[str, Any]:
    with Ledger.open(db_url) as ledger:
        _, key = apikeys.create_key(ledger.engine, "admin", "load benchmark")
    server = Server(db_url, group_commit=group_commit)
    try:
        rnd = random.Random(5)
        offset = random.randrange(10**6) * 1000
        writes = asyncio.run(
            _drive(
                server.base,
                key,
                seconds,
                concurrency,
                lambda i: _submission(rnd, offset + i),
                "POST",
                "/v1/consents",
            )
        )
        reads = asyncio.run(
            _drive(server.base, key, seconds / 2, concurrency,
                   lambda i: {"subject": f"load-{offset + i % 5000:08d}", "purpose": "train_support_chatbot"},
                   "GET", "/v1/decisions")
        )  # fmt: skip
    finally:
        server.stop()
    with Ledger.open(db_url) as ledger:
        verified = ledger.verify().ok
    return {"writes": writes, "decisions": reads, "ledger_verified": verified}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = ap.parse_args()
    report: dict[str, Any] = {"concurrency": args.concurrency, "events_per_submission": len(CONSENT_PURPOSES)}
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            report["sqlite"] = {
                "group_commit": run(str(Path(tmp) / "a.db"), args.seconds, args.concurrency, True),
                "baseline_one_commit_per_request": run(
                    str(Path(tmp) / "b.db"), args.seconds, args.concurrency, False
                ),
            }
            print(json.dumps({"sqlite": report["sqlite"]}, indent=2), flush=True)
    if args.db in ("postgresql", "both"):
        with postgres() as url:
            if url:
                import psycopg

                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("CREATE DATABASE a")
                    conn.execute("CREATE DATABASE b")
                base = url.rsplit("/", 1)[0]
                report["postgresql"] = {
                    "group_commit": run(f"{base}/a", args.seconds, args.concurrency, True),
                    "baseline_one_commit_per_request": run(
                        f"{base}/b", args.seconds, args.concurrency, False
                    ),
                }
                print(json.dumps({"postgresql": report["postgresql"]}, indent=2), flush=True)
    for db in ("sqlite", "postgresql"):
        if db in report:
            g = report[db]["group_commit"]["writes"]
            b = report[db]["baseline_one_commit_per_request"]["writes"]
            ratio = g["events_per_s"] / max(1, b["events_per_s"])
            print(
                f"{db}: {g['events_per_s']} events/s (p99 {g['p99_ms']} ms) vs baseline "
                f"{b['events_per_s']} events/s (p99 {b['p99_ms']} ms): {ratio:.1f}x"
            )
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "load.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
