"""Cold ``POST /v1/decisions/batch`` in-process: the whole request through the ASGI app (every
middleware, body checks, validation, the decision cache, the bulk path, the encoded answer), without
a socket or a client in the same process, for this tree and an older copy of ``src`` in the same run.

Issue 20 asks for 50,000 decisions/s through HTTP with a cold cache: at most 20 ms of server CPU per
batch of 1,000. ``reads.py --batches-only`` measures that through uvicorn on both databases; this
script is the quieter tool for finding where the milliseconds go (run it under ``py-spy record``)
and for A/B runs on a busy machine: each side runs in its own process, started alternately
``--runs`` times, and reports the median CPU time per batch and the collector's share (``gc.callbacks``,
thread CPU time). The process is prepared as ``consentgate serve`` prepares it
(``server/process.py``: ``gc.freeze()``, the young threshold, the switch interval), so collection
costs what it costs in the server. Ledger: SQLite (or ``--db postgresql``, a throw-away cluster),
``--people`` never-asked people with one grant each; the erasure key exists (as in a server), the
suppression list is empty.

On PostgreSQL the SQL runs in the database's backend processes, outside the measured process; their
CPU per batch is reported beside it (``db_cpu_ms``: every client backend of the cluster, from ``/proc``).
On SQLite the same work is inside the measured process.

Run: .venv/bin/python benchmarks/batch_asgi.py [--people 30000] [--runs 4] [--before OLD/src]
     [--db postgresql]
Profile: .venv/bin/py-spy record -r 200 -f raw -o out.txt -- .venv/bin/python benchmarks/batch_asgi.py --side
     [--passes 6] [--url postgresql://…]   (--passes: the same batches again, the cache emptied between)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BATCH = 1000


def _side(people: int, url: str | None = None, passes: int = 1) -> dict[str, float]:
    """One measured process: seed, build the app as a server does, send every batch once."""
    import logging

    from common import asgi_request, pg_backend_cpu
    from reads import POLICY, PURPOSE

    from consentgate import service as service_module
    from consentgate.auth import apikeys
    from consentgate.ledger.store import Ledger
    from consentgate.policy import load_policy
    from consentgate.server import create_app
    from consentgate.service import ConsentService
    from consentgate.settings import Settings

    logging.disable(logging.WARNING)
    db = url or str(Path(tempfile.mkdtemp(prefix="cg-batch-asgi-")) / "ledger.db")
    when = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    ledger = Ledger.open(db)
    service = ConsentService(load_policy(POLICY), ledger)
    raws = [
        ("", {"subject": f"cold-{n:07d}", "action": "grant", "purposes": [PURPOSE],
              "notice_id": "ai-training", "notice_version": 2, "occurred_at": when,
              "region": "DE", "locale": "en", "source": "banner"})
        for n in range(people)
    ]  # fmt: skip
    for start in range(0, len(raws), 5000):
        service.record(raws[start : start + 5000])
    service.erasure_key  # noqa: B018 - made, as a server makes it at start-up
    _, key = apikeys.create_key(ledger.engine, "read", "batch_asgi benchmark")
    settings = Settings(db=db, policy=POLICY, rate_per_key=1e9, rate_per_ip=1e9)
    app: Any = create_app(settings, service=service)
    if hasattr(service_module, "preload_bulk_path"):  # what serving_app does (older code: nothing)
        service_module.preload_bulk_path()
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, *gc.get_threshold()[1:])
    sys.setswitchinterval(0.001)
    collector = [0.0, 0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collector[1] = time.thread_time()
        else:
            collector[0] += time.thread_time() - collector[1]

    gc.callbacks.append(on_gc)
    bodies = [
        json.dumps(
            {"queries": [{"subject": f"cold-{b * BATCH + j:07d}", "purpose": PURPOSE} for j in range(BATCH)]}
        ).encode()
        for b in range(people // BATCH)
    ]
    headers = [
        (b"host", b"bench"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {key}".encode()),
    ]

    async def call(body: bytes) -> None:
        status, _ = await asgi_request(app, "POST", "/v1/decisions/batch", body, headers)
        if status != 200:
            raise RuntimeError(f"batch answered {status}")

    async def run() -> dict[str, float]:
        async with app.router.lifespan_context(app):
            await call(bodies[0])  # imports (older code), connections, the key cache
            collector[0] = 0.0
            backends = pg_backend_cpu(ledger.engine) if url else {}
            cpu = time.process_time()
            cache = app.state.consentgate.decisions.cache
            for n in range(passes):
                if n:  # the same people again, cold again: forget every answer (more samples per run)
                    cache._entries.clear()
                for body in bodies[1:]:
                    await call(body)
            n = (len(bodies) - 1) * passes
            out = {"cpu_ms": (time.process_time() - cpu) * 1000 / n, "gc_ms": collector[0] * 1000 / n}
            if url:
                after = pg_backend_cpu(ledger.engine)
                spent = sum(t - backends.get(pid, 0.0) for pid, t in after.items())
                out["db_cpu_ms"] = spent * 1000 / n
            return out

    return asyncio.run(run())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--people", type=int, default=30_000)
    ap.add_argument("--passes", type=int, default=1, help="with --side: ask about everyone this often")
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--before", metavar="SRC", help="an older copy of src/, measured alternately")
    ap.add_argument("--side", action="store_true", help="measure this process only and print JSON")
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--url", help=argparse.SUPPRESS)  # a side's PostgreSQL database
    args = ap.parse_args()
    if args.side:
        print(json.dumps(_side(args.people, args.url, args.passes)))
        return
    if args.db == "postgresql":
        from common import postgres

        with postgres() as url:
            if url is None:
                return
            _compare(args, url)
        return
    _compare(args, None)


def _compare(args: argparse.Namespace, url: str | None) -> None:
    sides = [("this tree", None)] + ([("before", args.before)] if args.before else [])
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _ in sides}
    print(f"load average before: {os.getloadavg()}; cpus {os.cpu_count()}")
    for _ in range(args.runs):
        for name, src in sides:
            env = dict(os.environ, PYTHONPATH=src) if src else dict(os.environ)
            argv = [sys.executable, __file__, "--side", "--people", str(args.people)]
            if url:  # each run on a database of its own: the people are never asked before
                argv += ["--url", _new_database(url)]
            out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
            results[name].append(json.loads(out.strip().splitlines()[-1]))
            print(f"{name}: {results[name][-1]}", flush=True)
    print(f"load average after: {os.getloadavg()}")
    for name, runs in results.items():
        cpu = statistics.median(r["cpu_ms"] for r in runs)
        collected = statistics.median(r["gc_ms"] for r in runs)
        if url:
            db = statistics.median(r["db_cpu_ms"] for r in runs)
            print(f"{name}: median {db:.1f} ms of PostgreSQL backend CPU per batch, besides:")
        print(
            f"{name}: median {cpu:.1f} ms CPU per cold batch of {BATCH} ({BATCH * 1000 / cpu:,.0f} "
            f"decisions/s of one core), collector {collected:.1f} ms; runs "
            + ", ".join(f"{r['cpu_ms']:.1f}" for r in runs)
        )


def _new_database(url: str) -> str:
    """A new empty database in the cluster of ``url``; its URL."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"cg_batch_{os.urandom(4).hex()}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


if __name__ == "__main__":
    main()
