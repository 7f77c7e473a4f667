"""Where the tail of ``GET /v1/decisions`` at half rate comes from (issue 20): a timeline of both sides.

``benchmarks/reads.py`` reports the p99 of decisions offered open-loop at half their saturated rate.
This script runs that phase again with both sides recording what they did, on one clock
(``time.perf_counter``: CLOCK_MONOTONIC, shared by every process on Linux):

* the client, per request: when it was due, when it was written, when the answer was read;
* the server (``consentgate serve`` started through :func:`_serve_traced`, which wraps a few functions
  before the CLI runs): each request's time inside the ASGI app, every garbage collection (generation,
  duration; ``gc.callbacks``), stalls of the event loop (a task that asks to wake every millisecond and
  records when it woke more than 3 ms late), each head read on PostgreSQL (its time in the worker thread
  and the time the request side waited for it), and each run of the chain monitor;
* both processes' run-queue wait (``/proc/PID/task/*/schedstat``: time ready to run but not on a CPU).

Each request slower than ``--slow-ms`` is then put in the first class that explains most of its
latency: written late by the client; overlapping a garbage collection; overlapping an event-loop stall;
waiting for a head read; overlapping a chain check; else unexplained (queueing behind other requests, or
the process off the CPU). Reported with the p50/p99 of each part.

Run: .venv/bin/python benchmarks/reads_tail.py [--db sqlite|postgresql|both] [--seconds 10] [--runs 3]
[--rate N (default: half the closed-loop rate measured first)] [--slow-ms 10] [--workers 1]
[--before SRC (a copy of src/ from before a change, run interleaved at the same rate)]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from bisect import bisect_right
from pathlib import Path
from typing import Any

from common import percentile, postgres
from reads import PURPOSE, _consentgate, _measure, _seed

STALL_S = 0.003  # an event-loop wake-up later than this counts as a stall


# -- inside the server process --------------------------------------------------------------------------


def _serve_traced(out: str, argv: list[str]) -> None:
    """Run ``consentgate`` with ``argv`` after wrapping what the timeline needs; write it at exit."""
    import asyncio
    import gc

    import fastapi
    import uvicorn

    from consentgate.server import readcache
    from consentgate.server.chain import ChainMonitor

    clock = time.perf_counter
    rec: dict[str, list[Any]] = {k: [] for k in ("gc", "stall", "request", "head", "head_wait", "chain")}
    gc_start: list[float] = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_start[0] = clock()
        else:
            rec["gc"].append((gc_start[0], clock() - gc_start[0], info["generation"]))

    gc.callbacks.append(on_gc)

    def timed_async(cls: Any, name: str, key: str) -> None:
        original = getattr(cls, name)

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = clock()
            try:
                return await original(*args, **kwargs)
            finally:
                rec[key].append((t, clock() - t))

        setattr(cls, name, wrapper)

    def timed_sync(cls: Any, name: str, key: str) -> None:
        original = getattr(cls, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = clock()
            try:
                return original(*args, **kwargs)
            finally:
                rec[key].append((t, clock() - t))

        setattr(cls, name, wrapper)

    app_call = fastapi.FastAPI.__call__

    async def timed_app(self: Any, scope: Any, receive: Any, send: Any) -> None:
        # The ASGI signature itself: uvicorn takes a callable with any other one for an app factory.
        t = clock()
        try:
            await app_call(self, scope, receive, send)
        finally:
            if scope["type"] == "http":
                rec["request"].append((t, clock() - t))

    fastapi.FastAPI.__call__ = timed_app  # type: ignore[method-assign]
    timed_async(readcache.HeadProbe, "read", "head_wait")
    timed_sync(readcache.HeadProbe, "heads", "head")  # SQLite: on the loop; PostgreSQL: in a thread
    timed_sync(ChainMonitor, "check", "chain")

    async def watch_loop() -> None:
        while True:
            t = clock()
            await asyncio.sleep(0.001)
            late = clock() - t - 0.001
            if late > STALL_S:
                rec["stall"].append((t + 0.001, late))

    startup = uvicorn.Server.startup
    tasks: list[asyncio.Task[None]] = []

    async def startup_and_watch(self: Any, sockets: Any = None) -> None:
        await startup(self, sockets)
        tasks.append(asyncio.get_running_loop().create_task(watch_loop()))

    shutdown = uvicorn.Server.shutdown

    async def shutdown_and_write(self: Any, sockets: Any = None) -> None:
        # Here, not at exit: uvicorn raises the stopping signal again once it has shut down.
        await shutdown(self, sockets)
        Path(out).write_text(json.dumps(rec))

    uvicorn.Server.startup = startup_and_watch  # type: ignore[method-assign]
    uvicorn.Server.shutdown = shutdown_and_write  # type: ignore[method-assign]
    from consentgate.cli import main

    sys.argv = ["consentgate", *argv]
    main()


# -- the orchestrator -----------------------------------------------------------------------------------


def _run_queue_ms(pid: int) -> float:
    """Milliseconds the process's threads spent ready to run but waiting for a CPU, so far."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError):
            continue
    return total / 1e6


class _Windows:
    """Intervals given as (start, duration, ...), for summing their overlap with another interval."""

    def __init__(self, windows: list[list[float]]) -> None:
        merged: list[list[float]] = []  # their union, as disjoint [start, end] in order
        for w in sorted(windows):
            if merged and w[0] <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], w[0] + w[1])
            else:
                merged.append([w[0], w[0] + w[1]])
        self.merged = merged
        self.starts = [m[0] for m in merged]

    def overlap(self, start: float, end: float) -> float:
        """Seconds of [start, end] covered by at least one of them."""
        lo = max(0, bisect_right(self.starts, start) - 1)
        hi = bisect_right(self.starts, end)
        return sum(max(0.0, min(end, m[1]) - max(start, m[0])) for m in self.merged[lo:hi])


def _classify(trace: list[list[float]], server: dict[str, list[list[float]]], slow: float) -> dict[str, Any]:
    """The slow requests by cause, and what the server did while the client was sending."""
    first, last = min(r[0] for r in trace), max(r[3] for r in trace)
    server = {k: [w for w in v if w[0] + w[1] >= first and w[0] <= last] for k, v in server.items()}
    gen2 = _Windows([g for g in server["gc"] if g[2] == 2])
    young = _Windows([g for g in server["gc"] if g[2] < 2])
    stalls, head_wait, chain = (_Windows(server[k]) for k in ("stall", "head_wait", "chain"))
    classes: dict[str, int] = {}
    slow_requests = [r for r in trace if r[3] - r[0] > slow]
    for due, handled, sent, done in slow_requests:
        latency = done - due
        parts = [
            ("the client got to it late", handled - due),
            ("no connection free (server behind)", sent - handled),
            ("a full (gen 2) collection", gen2.overlap(sent, done)),
            ("young collections", young.overlap(sent, done)),
            ("an event-loop stall", stalls.overlap(sent, done)),
            ("waiting for a head read", head_wait.overlap(sent, done)),
            ("a chain check running", chain.overlap(sent, done)),
        ]
        name, share = max(parts, key=lambda p: p[1])
        label = name if share >= latency / 3 else "unexplained (queue, off-CPU)"
        classes[label] = classes.get(label, 0) + 1
    lat = [r[3] - r[0] for r in trace]
    lag = [r[1] - r[0] for r in trace]
    from_handled = [r[3] - r[1] for r in trace]
    serve = [r[1] for r in server["request"]]
    ms = 1000.0
    return {
        "requests": len(trace),
        "p50_ms": percentile(lat, 0.5) * ms,
        "p99_ms": percentile(lat, 0.99) * ms,
        "client_lag_p99_ms": percentile(lag, 0.99) * ms,
        "p99_from_handled_ms": percentile(from_handled, 0.99) * ms,
        "asgi_p50_ms": percentile(serve, 0.5) * ms if serve else None,
        "asgi_p99_ms": percentile(serve, 0.99) * ms if serve else None,
        "slow": len(slow_requests),
        "slow_classes": classes,
        "gc_ms": {
            f"gen{g}": sorted((round(c[1] * ms, 2) for c in server["gc"] if c[2] == g), reverse=True)[:5]
            for g in (0, 1, 2)
        },
        "gc_count": {f"gen{g}": sum(1 for c in server["gc"] if c[2] == g) for g in (0, 1, 2)},
        "stalls": {
            "n": len(server["stall"]),
            "max_ms": max((s[1] for s in server["stall"]), default=0.0) * ms,
            "total_ms": sum(s[1] for s in server["stall"]) * ms,
        },
        "head_read_ms": _spread([h[1] for h in server["head"]]),
        "head_wait_ms": _spread([h[1] for h in server["head_wait"]]),
        "chain_checks_ms": [round(c[1] * ms, 1) for c in server["chain"]],
    }


def _spread(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"n": len(values), "p50": percentile(values, 0.5) * 1000, "p99": percentile(values, 0.99) * 1000}


def _one_run(
    db_url: str, key_file: Path, key: str, args: argparse.Namespace, src: str | None, rate: float | None
) -> dict[str, Any]:
    """One server (the code in ``src``, else this tree), warmed, then the traced open-loop phase at
    ``rate`` (None: half the closed-loop rate measured here first)."""
    out = Path(tempfile.mkdtemp(prefix="cg-tail-")) / "server.json"
    server = _consentgate(db_url, key_file, workers=args.workers, src=src, traced=str(out))
    try:
        _measure(server, "batch", 1.0, key=key, subjects=args.subjects)
        _measure(server, "decide", 1.0, key=key, subjects=args.subjects)
        if rate is None:
            rate = _measure(server, "decide", 3.0, key=key, subjects=args.subjects)["requests_per_s"] / 2
        waited0 = _run_queue_ms(server.proc.pid)
        load = os.getloadavg()[0]
        client = _measure(
            server, "decide", args.seconds, key=key, subjects=args.subjects, rate=rate, trace=True
        )
        waited = _run_queue_ms(server.proc.pid) - waited0
    finally:
        server.stop()
    result = _classify(client["trace"], json.loads(out.read_text()), args.slow_ms / 1000)
    result.update(rate=rate, load_average=load, server_run_queue_ms_per_s=waited / args.seconds)
    return result


def _run_db(name: str, db_url: str, args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """``--runs`` runs of this tree and, interleaved at the same offered rate, of ``--before``."""
    from consentgate.ledger.signing import create_key

    key_file = Path(tempfile.mkdtemp(prefix="cg-tail-key-")) / "ledger.key"
    create_key(key_file)
    key = _seed(db_url, args.subjects)
    results: dict[str, list[dict[str, Any]]] = {"now": [], "before": []}
    for run in range(args.runs):
        now = _one_run(db_url, key_file, key, args, None, args.rate)
        results["now"].append(now)
        print(f"{name} run {run + 1}: {json.dumps(now)}", flush=True)
        if args.before:
            before = _one_run(db_url, key_file, key, args, args.before, now["rate"])
            results["before"].append(before)
            print(f"{name} run {run + 1}, before: {json.dumps(before)}", flush=True)
    return results


def _summary(name: str, results: list[dict[str, Any]]) -> list[str]:
    def med(key: str) -> float:
        return statistics.median(float(r[key]) for r in results)

    classes: dict[str, int] = {}
    for r in results:
        for k, v in r["slow_classes"].items():
            classes[k] = classes.get(k, 0) + v
    p99s = ", ".join(f"{r['p99_ms']:.1f}" for r in results)
    loads = ", ".join(f"{r['load_average']:.1f}" for r in results)
    return [
        f"{name}: {len(results)} runs at {med('rate'):,.0f} requests/s offered; median p50 "
        f"{med('p50_ms'):.2f} ms, p99 {med('p99_ms'):.2f} ms (runs: {p99s}); the client's own lateness "
        f"p99 {med('client_lag_p99_ms'):.2f} ms; p99 from when the client got to a request "
        f"{med('p99_from_handled_ms'):.2f} ms; time in the app p99 {med('asgi_p99_ms'):.2f} ms; server "
        f"run-queue wait {med('server_run_queue_ms_per_s'):.0f} ms/s; load average {loads}",
        f"{name}: requests over the slow mark, by cause: {json.dumps(classes)}",
    ]


def _summaries(name: str, results: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = _summary(name, results["now"])
    if results["before"]:
        lines += _summary(f"{name} (--before)", results["before"])
    return lines


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "--serve-traced":
        _serve_traced(sys.argv[2], sys.argv[3:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each open-loop run")
    ap.add_argument("--runs", type=int, default=3, help="runs per database, each on a fresh server")
    ap.add_argument("--rate", type=float, help="requests/s offered (default: half the closed-loop rate)")
    ap.add_argument("--slow-ms", type=float, default=10.0, help="a request slower than this is explained")
    ap.add_argument("--subjects", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--before", metavar="SRC", help="also run the code in SRC (a copy of src/), interleaved")
    args = ap.parse_args()
    lines = [f"load average before: {os.getloadavg()}; cpus {os.cpu_count()}; {PURPOSE}"]
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            lines += _summaries("sqlite", _run_db("sqlite", str(Path(tmp) / "tail.db"), args))
    if args.db in ("postgresql", "both"):
        with postgres() as url:
            if url:
                lines += _summaries("postgresql", _run_db("postgresql", url, args))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
