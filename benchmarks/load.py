"""Load test (issue 3): sustained acknowledged events/s and decision requests/s over HTTP.

A real uvicorn server runs in its own process (``consentgate serve``'s event loop and HTTP parser);
the load comes from separate generator processes (this script started with ``--generate``) on
loopback. Each submission is what a banner's "Accept all" or "Reject all" sends: one choice for each
of the five consent purposes, so five events. Every loop is bounded by count *and* time.

Two ways of loading the server, reported separately because they answer different questions:

* **fixed rate** (open loop): requests are *scheduled* at a constant offered rate whatever the server
  does, and each one's latency runs from its scheduled start, so a server that falls behind is charged
  for the queue it builds (no coordinated omission, as wrk2 does it). This is the "sustained at a
  latency target" figure: the offered rate is sustained when the acknowledged rate keeps up with it
  and p99 stays under the target.
* **saturation** (closed loop): ``--concurrency`` connections each send the next request as soon as
  the previous answer arrives: the most the server acknowledges, with the latency of a full queue.

The generators are a minimal HTTP/1.1 client on raw keep-alive sockets (about a tenth of the CPU of
httpx per request), so they take little from the server on a small machine; the report says how much
CPU they and the server used. The baseline in the same run is the same server with group commit off
(one durable transaction per request).

Run: .venv/bin/python benchmarks/load.py [--seconds 8] [--rate 400] [--concurrency 32] [--db sqlite]
[--erased N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import ROOT, percentile, postgres, start_server

POLICY = ROOT / "src" / "consentgate" / "policy" / "example.yaml"
CONSENT_PURPOSES = {
    "train_support_chatbot": "ai-training",
    "finetune_recommender": "ai-training",
    "product_analytics": "cookies",
    "personalisation": "cookies",
    "marketing": "marketing",
}
EVENTS_PER_SUBMISSION = len(CONSENT_PURPOSES)
MAX_REQUESTS = 200_000  # hard bound per generator process, whatever the time limit
DRAIN_SECONDS = 10.0  # after the last scheduled request, answers still missing then count as errors
TARGET_P99_MS = 50.0


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


# -- the generator process -------------------------------------------------------------------------


def _request_maker(kind: str, port: int, key: str, first: int) -> Callable[[int], bytes]:
    """Bytes of request ``i``: a distinct subject per submission; decisions read subjects written."""
    head = f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n"
    rnd = random.Random(first)
    if kind == "submit":

        def submit(i: int) -> bytes:
            body = json.dumps(_submission(rnd, first + i)).encode()
            return (
                f"POST /v1/consents HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body

        return submit

    def decide(i: int) -> bytes:
        subject = f"load-{first + i % 5000:08d}"
        query = f"subject={subject}&purpose=train_support_chatbot"
        return f"GET /v1/decisions?{query} HTTP/1.1\r\n{head}\r\n".encode()

    return decide


class _Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def call(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(
                "the server answered without Content-Length; this client reads no other framing"
            )
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def _generate(cfg: dict[str, Any]) -> dict[str, Any]:
    """One generator process: fixed ``rate`` (open loop) or ``concurrency`` (closed loop) for ``seconds``."""
    make = _request_maker(cfg["kind"], cfg["port"], cfg["key"], cfg["first"])
    seconds, rate, concurrency = float(cfg["seconds"]), cfg.get("rate"), int(cfg["concurrency"])
    limit = min(MAX_REQUESTS, int(rate * seconds) if rate else MAX_REQUESTS)
    latencies: list[float] = []
    acked = errors = events = 0
    connections = [_Connection(cfg["port"]) for _ in range(concurrency)]

    async def one(conn: _Connection, request: bytes, started: float) -> None:
        nonlocal acked, errors, events
        try:
            status, body = await conn.call(request)
        except (OSError, asyncio.IncompleteReadError, RuntimeError, ValueError):
            conn.close()
            errors += 1
            return
        latencies.append(time.perf_counter() - started)
        if status >= 400:
            errors += 1
        else:
            acked += 1
            events += body.count(b'"event_id"')

    await asyncio.sleep(max(0.0, cfg["start_at"] - time.time()))  # every generator starts together
    t0 = time.perf_counter()
    stop_at = t0 + seconds
    if rate:
        # Open loop: request i is due at t0 + i/rate; a free connection takes the oldest due request,
        # and its latency counts from when it was due, so a slow server is charged for the backlog.
        queue: asyncio.Queue[tuple[bytes, float] | None] = asyncio.Queue()

        async def connection_loop(conn: _Connection) -> None:
            while (item := await queue.get()) is not None:
                await one(conn, *item)

        loops = [asyncio.create_task(connection_loop(c)) for c in connections]
        for i in range(limit):
            due = t0 + i / rate
            if due > stop_at:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait((make(i), due))
        for _ in loops:
            queue.put_nowait(None)
        sent_until = time.perf_counter()
        _, pending = await asyncio.wait(loops, timeout=DRAIN_SECONDS)
        for task in pending:
            task.cancel()
        errors += queue.qsize()  # never sent within the drain time
        elapsed = max(seconds, sent_until - t0)
    else:
        counter = iter(range(limit))

        async def closed_loop(conn: _Connection) -> None:
            for i in counter:
                started = time.perf_counter()
                if started > stop_at:
                    return
                await one(conn, make(i), started)

        await asyncio.gather(*(closed_loop(c) for c in connections))
        elapsed = time.perf_counter() - t0
    for conn in connections:
        conn.close()
    cpu = os.times()
    return {
        "acked": acked,
        "errors": errors,
        "events": events,
        "seconds": elapsed,
        "latencies": latencies,
        "cpu_seconds": cpu.user + cpu.system,
    }


def _generator_main(cfg_json: str) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(_generate(json.loads(cfg_json)))))


# -- the orchestrator ------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User + system CPU so far of a process and its live descendants (Linux /proc; NaN elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = int(fields[11]) + int(fields[12])
    if pid not in used:
        return float("nan")
    total, todo = 0, [pid]
    while todo:
        here = todo.pop()
        total += used.get(here, 0)
        todo.extend(child for child, parent in parents.items() if parent == here)
    return total / ticks


class Server:
    def __init__(
        self,
        db: str,
        *,
        group_commit: bool,
        workers: int = 1,
        src: str | None = None,
        key: Path | None = None,
    ) -> None:
        self.port = _free_port()
        env = dict(
            os.environ,
            CONSENTGATE_DB=db,
            CONSENTGATE_POLICY=str(POLICY),
            CONSENTGATE_GROUP_COMMIT="true" if group_commit else "false",
            # The default rate limits stay on (per key 2,000/s, per address 1,000/s): above what
            # this machine serves, so they cost their bookkeeping but refuse nothing. The one key
            # here stands for a whole site's traffic, so its event budget (default 2,000 events/s,
            # which saturation exceeds) is raised, not turned off: its bookkeeping is measured too.
            CONSENTGATE_RATE_EVENTS_PER_KEY="1000000",
            CONSENTGATE_LOG_LEVEL="warning",
        )
        if src:  # serve another copy of the code (``--before``): it comes first on the import path
            env["PYTHONPATH"] = src
        if key is not None:  # the ledger key: every commit is sealed (Ed25519), as deployed
            env["CONSENTGATE_LEDGER_KEY"] = str(key)
        # `consentgate serve`, as deployed: uvloop and httptools when installed, our JSON logging.
        serve = "from consentgate.cli import main; main()"
        argv = [sys.executable, "-c", serve, "serve", "--port", str(self.port), "--workers", str(workers)]
        self.proc = start_server(argv, env, self.port)

    def cpu_seconds(self) -> float:
        return _cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _phase(
    server: Server,
    key: str,
    kind: str,
    seconds: float,
    *,
    rate: float | None,
    concurrency: int,
    processes: int,
    first: int,
) -> dict[str, Any]:
    """Run ``processes`` generators at once against ``server``; merge what they measured."""
    start_at = time.time() + 1.0  # time for the interpreters to start
    procs = []
    for p in range(processes):
        cfg = {
            "kind": kind,
            "port": server.port,
            "key": key,
            "first": first + p * MAX_REQUESTS,
            "seconds": seconds,
            "rate": rate / processes if rate else None,
            "concurrency": max(1, concurrency // processes),
            "start_at": start_at,
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, __file__, "--generate", json.dumps(cfg)],
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    cpu_before = server.cpu_seconds()
    outs = []
    for proc in procs:
        out, _ = proc.communicate(timeout=seconds + DRAIN_SECONDS + 60)
        if proc.returncode != 0:
            raise RuntimeError(f"load generator failed with exit code {proc.returncode}")
        outs.append(json.loads(out))
    server_cpu = server.cpu_seconds() - cpu_before
    latencies = [x for o in outs for x in o["latencies"]]
    elapsed = max(o["seconds"] for o in outs)
    acked = sum(o["acked"] for o in outs)
    result: dict[str, Any] = {
        "offered_requests_per_s": rate,
        "requests_per_s": round(acked / elapsed),
        "events_per_s": round(sum(o["events"] for o in outs) / elapsed) if kind == "submit" else None,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1) if latencies else None,
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "requests": acked,
        "errors": sum(o["errors"] for o in outs),
        "seconds": round(elapsed, 1),
        "server_cpu_ms_per_request": round(server_cpu * 1000 / max(1, acked), 2),
        "generator_cpu_ms_per_request": round(sum(o["cpu_seconds"] for o in outs) * 1000 / max(1, acked), 2),
    }
    if rate:
        result["sustained"] = bool(
            result["errors"] == 0
            and acked >= 0.98 * rate * seconds
            and result["p99_ms"] is not None
            and result["p99_ms"] < TARGET_P99_MS
        )
    return result


def _seed_erasures(ledger: Any, n: int) -> None:
    """An erasure key and ``n`` suppressed identifiers, as after ``n`` erasures: every append then
    looks its subjects up on the list (ledger/store.py)."""
    from consentgate.ledger.erasure import suppress
    from consentgate.store.secrets import erasure_key

    key = erasure_key(ledger.engine)
    with ledger.engine.execution_options(ledger_write=True).begin() as conn:
        suppress(conn, {key.hash(f"erased-{i}") for i in range(n)}, request_id=None, at=datetime.now(UTC))


def run(db_url: str, args: argparse.Namespace, group_commit: bool, src: str | None = None) -> dict[str, Any]:
    from consentgate.auth import apikeys
    from consentgate.ledger.signing import create_key
    from consentgate.ledger.store import Ledger

    # The code under test seals every commit with a ledger key; code from before a change has none.
    signer = None if src else create_key(Path(tempfile.mkdtemp(prefix="cg-load-key-")) / "ledger.key")
    if src:  # the code from before makes its own ledger: a newer schema would be foreign to it
        make = (
            "import sys; from consentgate.auth import apikeys; from consentgate.ledger.store import Ledger\n"
            "with Ledger.open(sys.argv[1]) as ledger:\n"
            "    print(apikeys.create_key(ledger.engine, 'admin', 'load benchmark')[1])"
        )
        env = dict(os.environ, PYTHONPATH=src)
        made = subprocess.run([sys.executable, "-c", make, db_url], env=env, capture_output=True, text=True)
        key = made.stdout.strip()
    else:
        with Ledger.open(db_url) as ledger:
            _, key = apikeys.create_key(ledger.engine, "admin", "load benchmark")
    if args.erased and not src:
        with Ledger.open(db_url) as ledger:
            _seed_erasures(ledger, args.erased)
    # Other work on the machine moves these figures a lot: each run says how busy it was.
    out: dict[str, Any] = {"load_average": round(os.getloadavg()[0], 2)}
    key_file = signer.path if signer else None
    server = Server(db_url, group_commit=group_commit, workers=args.workers, src=src, key=key_file)
    first = random.randrange(10**3) * 10**7
    common = {"processes": args.processes}
    try:
        # Warm up (imports, first connections, the key cache) outside the measurements.
        _phase(server, key, "submit", 1.0, rate=100, concurrency=8, processes=1, first=first + 9 * 10**6)
        out["submit_fixed_rate"] = [
            _phase(server, key, "submit", args.seconds, rate=r, concurrency=args.rate_connections,
                   first=first + k * 10**6, **common)
            for k, r in enumerate(args.rate)
        ]  # fmt: skip
        out["submit_saturation"] = _phase(
            server, key, "submit", args.seconds, rate=None, concurrency=args.concurrency,
            first=first + 5 * 10**6, **common,
        )  # fmt: skip
        # Decisions read the subjects just written (the first 5,000 of the saturation phase).
        out["decisions_fixed_rate"] = _phase(
            server, key, "decide", args.seconds / 2, rate=args.decision_rate,
            concurrency=args.rate_connections, first=first + 5 * 10**6, **common,
        )  # fmt: skip
        out["decisions_saturation"] = _phase(
            server, key, "decide", args.seconds / 2, rate=None, concurrency=args.concurrency,
            first=first + 5 * 10**6, **common,
        )  # fmt: skip
    finally:
        server.stop()
    with Ledger.open(db_url, signer=signer) as ledger:
        report = ledger.verify()
        out["ledger_verified"] = report.ok
        out["ledger_signed"] = report.signed
    return out


def _summary(db: str, label: str, r: dict[str, Any]) -> list[str]:
    lines = []
    for f in r["submit_fixed_rate"]:
        lines.append(
            f"{db} {label}: offered {f['offered_requests_per_s'] * EVENTS_PER_SUBMISSION:.0f} events/s → "
            f"{f['events_per_s']} acknowledged, p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, "
            f"errors {f['errors']}: {'sustained' if f['sustained'] else 'NOT sustained'} "
            f"(p99 < {TARGET_P99_MS:.0f} ms)"
        )
    s = r["submit_saturation"]
    lines.append(
        f"{db} {label}: saturation {s['events_per_s']} events/s, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms"
    )
    for name in ("decisions_fixed_rate", "decisions_saturation"):
        d = r[name]
        lines.append(
            f"{db} {label}: {name.replace('_', ' ')} {d['requests_per_s']} requests/s, "
            f"p50 {d['p50_ms']} ms, p99 {d['p99_ms']} ms, errors {d['errors']}"
        )
    return lines


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure of each phase as the median over the repeated runs (``sustained``: the majority)."""

    def merge(values: list[Any]) -> Any:
        if all(isinstance(v, dict) for v in values):
            return {k: merge([v[k] for v in values]) for k in values[0]}
        if all(isinstance(v, list) for v in values):
            return [merge(list(vs)) for vs in zip(*values, strict=True)]
        if all(isinstance(v, bool) for v in values):
            return sum(values) * 2 > len(values)
        if all(isinstance(v, int | float) for v in values):
            m = statistics.median(values)
            return round(m, 1) if isinstance(m, float) else m
        return values[0]

    return merge(runs)


def _compare(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {label: {"median": _median_run(r), "runs": r} for label, r in runs.items()}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--generate":
        _generator_main(sys.argv[2])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=8.0, help="length of each submission phase")
    ap.add_argument(
        "--rate",
        type=float,
        nargs="+",
        default=[400.0],
        help="offered submissions/s of the fixed-rate phases (400 = 2,000 events/s, issue 3's target)",
    )
    ap.add_argument("--decision-rate", type=float, default=200.0, help="offered decision requests/s")
    ap.add_argument("--concurrency", type=int, default=32, help="connections of the saturation phases")
    ap.add_argument("--rate-connections", type=int, default=64, help="connections of the fixed-rate phases")
    ap.add_argument("--processes", type=int, default=1, help="load generator processes per phase")
    ap.add_argument("--workers", type=int, default=1, help="server processes (`consentgate serve --workers`)")
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs of each server, interleaved; figures are their medians"
    )
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    ap.add_argument(
        "--erased",
        type=int,
        default=0,
        metavar="N",
        help="start each ledger with N identifiers on the erasure suppression list (and its key)",
    )
    ap.add_argument(
        "--before",
        metavar="SRC",
        help="also serve the code in SRC (a copy of src/ from before a change), group commit on, "
        "interleaved with the others: before/after figures from the same minutes",
    )
    args = ap.parse_args()
    report: dict[str, Any] = {
        "events_per_submission": EVENTS_PER_SUBMISSION,
        "target": {"events_per_s": 2000, "p99_ms": TARGET_P99_MS},
        "args": vars(args),
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg(),
    }
    configs: dict[str, tuple[bool, str | None]] = {
        "group_commit": (True, None),
        "baseline_one_commit_per_request": (False, None),
    }
    if args.before:
        configs["group_commit_before"] = (True, str(Path(args.before).resolve()))
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            runs: dict[str, list[dict[str, Any]]] = {label: [] for label in configs}
            for i in range(args.repeat):  # interleaved, so a noisy minute hits both alike
                for label, (on, src) in configs.items():
                    runs[label].append(run(str(Path(tmp) / f"{label}-{i}.db"), args, on, src))
            report["sqlite"] = _compare(runs)
    if args.db in ("postgresql", "both"):
        with postgres() as url:
            if url:
                import psycopg

                base = url.rsplit("/", 1)[0]
                runs = {label: [] for label in configs}
                for i in range(args.repeat):
                    for k, (label, (on, src)) in enumerate(configs.items()):
                        name = f"{label[0]}{k}_{i}"
                        with psycopg.connect(url, autocommit=True) as conn:
                            conn.execute(f"CREATE DATABASE {name}")
                        runs[label].append(run(f"{base}/{name}", args, on, src))
                report["postgresql"] = _compare(runs)
    report["load_average_after"] = os.getloadavg()
    lines: list[str] = [f"medians of {args.repeat} runs; load average before {report['load_average_before']}"]
    for db in ("sqlite", "postgresql"):
        if db in report:
            print(json.dumps({db: {k: v["median"] for k, v in report[db].items()}}, indent=2), flush=True)
            for label, r in report[db].items():
                lines += _summary(db, label, r["median"])
                per_run = [
                    f"p99 {x['submit_fixed_rate'][0]['p99_ms']} ms at load {x['load_average']}"
                    for x in r["runs"]
                ]
                lines.append(f"{db} {label}: fixed-rate runs: {'; '.join(per_run)}")
            g = report[db]["group_commit"]["median"]["submit_saturation"]
            b = report[db]["baseline_one_commit_per_request"]["median"]["submit_saturation"]
            lines.append(
                f"{db}: saturation with group commit {g['events_per_s'] / max(1, b['events_per_s']):.2f}x "
                f"the baseline's events/s; p99 {g['p99_ms']} ms vs {b['p99_ms']} ms"
            )
            if "group_commit_before" in report[db]:
                new = report[db]["group_commit"]["median"]["submit_fixed_rate"][0]
                old = report[db]["group_commit_before"]["median"]["submit_fixed_rate"][0]
                cpu = "server_cpu_ms_per_request"
                lines.append(
                    f"{db}: at the fixed rate, server CPU per submission {new[cpu]} ms vs {old[cpu]} ms "
                    f"before; p99 {new['p99_ms']} ms vs {old['p99_ms']} ms"
                )
    print("\n".join(lines))
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "load.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
