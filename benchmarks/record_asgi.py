"""A new visitor's "Accept all" record in-process: the CPU of ``POST /v1/consents/browser``.

Issue 17 item 4: on the 2-core VM every millisecond of CPU the server spends on the click's record is
paid again in waiting for a core while Chromium is busy (``banner.py --trace``). This script measures
that CPU without a socket, a client or a browser in the process: the app as ``consentgate serve``
builds it (``serving_app``: frozen start-up objects, the access log on, the group committer, SQLite in
WAL with ``synchronous=FULL``, so every record's commit is flushed to disk), and per record a fresh
visitor id (``POST /v1/visitors``, as the page load gets it; not measured), then the record the banner
sends on "Accept all" (every asked purpose granted, its notice, version and wording hash, the
``consent_mode`` / ``do_not_train`` / ``banner_choice`` signals; measured). Reported: the median CPU
time of the whole process per record (every thread: event loop, threadpool, group committer), its
wall time, and the voluntary context switches of the process per record (each a thread that went to
sleep: a hand-off or a wait for the disk).

``--key-idle`` lets the API-key cache expire before each record, as after a quiet spell of more than
``key_cache_seconds``, so the record pays for verifying the key again.

Each side runs in its own process, alternately, ``--runs`` times: this tree and, with ``--before
OLD/src``, an older copy of ``src`` (``git archive main src | tar -x -C /tmp/main``).

Run: .venv/bin/python benchmarks/record_asgi.py [--records 300] [--runs 4] [--before /tmp/main/src]
Profile: .venv/bin/py-spy record -r 1000 -f raw -o out.txt -- .venv/bin/python benchmarks/record_asgi.py \
         --side --minted --records 3000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "src" / "consentgate" / "policy" / "example.yaml"
ORIGIN = "https://www.example.com"  # in the example policy's web.origins


def _side(records: int, key_idle: bool, minted: bool, trace: Path | None) -> dict[str, float]:
    """One measured process: a server's app, ``records`` new visitors' records through it."""
    import logging

    from common import asgi_request

    from consentgate.auth import apikeys
    from consentgate.ledger.store import Ledger
    from consentgate.server.process import serving_app
    from consentgate.settings import Settings

    db = str(Path(tempfile.mkdtemp(prefix="cg-record-asgi-")) / "ledger.db")
    with Ledger.open(db) as ledger:
        _, key = apikeys.create_key(ledger.engine, "collect", "record_asgi benchmark")
    settings = Settings(db=db, policy=POLICY, rate_per_key=0, rate_per_ip=0, log_level="info")
    if trace is not None:  # every step of each record timed (CPU per thread), as banner.py --trace does
        import record_trace

        record_trace._install(db)
        served: Any = serving_app(settings)
        app: Any = record_trace.Traced(served, trace)
        state = served.state.consentgate
    else:
        app = serving_app(settings)
        state = app.state.consentgate

    async def call(
        method: str,
        path: str,
        body: bytes = b"",
        headers: tuple[tuple[bytes, bytes], ...] = (),
        query: bytes = b"",
    ) -> tuple[int, bytes]:
        """One request from the banner's page (its Origin) through the app."""
        own = [(b"host", b"api.example.com"), (b"origin", ORIGIN.encode()), *headers]
        return await asgi_request(app, method, path, body, own, query, server=("api.example.com", 443))

    async def run() -> dict[str, float]:
        inner = getattr(app, "app", app)
        async with inner.router.lifespan_context(inner):
            await state.chain.require_intact()  # the start-up chain check, before the first write
            cfg = json.loads((await call("GET", "/v1/banner/config", query=b"locale=en&region=DE"))[1])
            choices = [
                {
                    "purpose": p["id"],
                    "notice_id": p["notice"],
                    "notice_version": cfg["notices"][p["notice"]]["version"],
                    "action": "grant",
                    "wording_hash": cfg["notices"][p["notice"]]["wording_hash"],
                }
                for p in cfg["purposes"]
                if p["ask"]
            ]
            keyed = ((b"authorization", f"Bearer {key}".encode()),)
            cpu: list[float] = []
            wall: list[float] = []
            switches: list[int] = []
            kernel: list[float] = []  # of the CPU, in the kernel (the commit's write and fsync, mostly)
            for n in range(records + 5):  # the first 5 warm up (imports, connections)
                if minted:  # the server's own visitor id, without its request (a profile of records only)
                    visitor = state.tokens.new_visitor_id()
                else:
                    status, answer = await call("POST", "/v1/visitors", headers=keyed)
                    if status != 201:
                        raise RuntimeError(f"visitor id: {status} {answer!r}")
                    visitor = json.loads(answer)["visitor_id"]
                submission = {
                    "choices": choices,
                    "source": "banner",
                    "signals": {
                        "consent_mode": {"analytics_storage": "granted", "ad_storage": "granted"},
                        "do_not_train": False,
                        "banner_choice": "accept_all",
                    },
                    "occurred_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "subject": visitor,
                    "region": "DE",
                    "locale": "en",
                }
                body = json.dumps({"key": key, "subject_token": None, "submission": submission}).encode()
                if key_idle:
                    state.keys.forget()
                usage = resource.getrusage(resource.RUSAGE_SELF)
                started, on_cpu = time.perf_counter(), time.process_time()
                plain = ((b"content-type", b"text/plain"),)
                status, answer = await call("POST", "/v1/consents/browser", body, plain)
                spent, took = time.process_time() - on_cpu, time.perf_counter() - started
                used = resource.getrusage(resource.RUSAGE_SELF)
                if status != 201:
                    raise RuntimeError(f"record: {status} {answer!r}")
                if n >= 5:
                    cpu.append(spent * 1000)
                    wall.append(took * 1000)
                    switches.append(used.ru_nvcsw - usage.ru_nvcsw)
                    kernel.append((used.ru_stime - usage.ru_stime) * 1000)
            return {
                "cpu_ms": statistics.median(cpu),
                "cpu_mean_ms": statistics.fmean(cpu),
                "kernel_mean_ms": statistics.fmean(kernel),
                "wall_ms": statistics.median(wall),
                "switches": statistics.median(switches),
            }

    logging.disable(logging.NOTSET)
    return asyncio.run(run())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=300)
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--before", metavar="SRC", help="an older copy of src/, measured alternately")
    ap.add_argument("--key-idle", action="store_true", help="the key cache expired before each record")
    ap.add_argument("--side", action="store_true", help="measure this process only and print JSON")
    ap.add_argument("--minted", action="store_true", help="with --side: visitor ids minted, not requested")
    ap.add_argument(
        "--trace", action="store_true", help="also time each step of the records (record_trace.py)"
    )
    ap.add_argument("--trace-file", type=Path, help=argparse.SUPPRESS)  # a side's trace
    args = ap.parse_args()
    if args.side:
        print(json.dumps(_side(args.records, args.key_idle, args.minted, args.trace_file)))
        return
    sides = [("this tree", None)] + ([("before", args.before)] if args.before else [])
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _ in sides}
    traces: dict[str, Path] = {}
    print(f"load average before: {os.getloadavg()}; cpus {os.cpu_count()}")
    for _ in range(args.runs):
        for name, src in sides:
            env = dict(os.environ)
            if src:
                env["PYTHONPATH"] = src
            argv = [sys.executable, __file__, "--side", "--records", str(args.records)]
            argv += ["--key-idle"] if args.key_idle else []
            if args.trace:
                traces.setdefault(name, Path(tempfile.mkdtemp(prefix="cg-record-trace-")) / "trace.jsonl")
                argv += ["--trace-file", str(traces[name])]
            done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
            if done.returncode:
                sys.exit(f"{name}: {done.stderr[-2000:]}")
            results[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"{name}: {results[name][-1]}", flush=True)
    print(f"load average after: {os.getloadavg()}")
    for name, path in traces.items():
        import record_trace

        print(f"{name}, every traced record of every run:")
        print("\n".join(record_trace.breakdown(path, 0.0, float("inf"))))
    for name, runs in results.items():
        cpu = statistics.median(r["cpu_ms"] for r in runs)
        wall = statistics.median(r["wall_ms"] for r in runs)
        switches = statistics.median(r["switches"] for r in runs)
        print(
            f"{name}: median {cpu:.2f} ms CPU per record (runs "
            + ", ".join(f"{r['cpu_ms']:.2f}" for r in runs)
            + f"), wall {wall:.2f} ms, {switches:g} voluntary context switches"
        )


if __name__ == "__main__":
    main()
