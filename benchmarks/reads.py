"""Reads at line rate (issue 20): decisions, /healthz and the banner configuration against a floor.

The floor is the cheapest thing the same stack can answer: a trivial FastAPI ``GET`` returning a small
JSON object under uvicorn with uvloop and httptools. consentgate runs as deployed (``consentgate
serve``: uvloop, httptools, its middleware, its JSON logs at ``warning``, a sealed ledger) on SQLite
and, where the binaries exist, on a throw-away PostgreSQL cluster. Every server is driven in the same
run by the same closed-loop client: a separate process, 16 keep-alive connections, an asyncio
``Protocol`` on uvloop over raw HTTP/1.1 bytes (a few microseconds of client CPU per request, so the
client is not what limits the figures; the report gives its CPU per request next to the server's).

Reported per database: requests/s of each endpoint and its ratio to the floor (the issue's targets:
decisions within 2x, /healthz and the banner configuration within 1.5x), the p99 of decisions offered
at half their saturated rate (open loop, latency counted from each request's scheduled start, so a
server that falls behind is charged for its queue), ``POST /v1/decisions/batch`` in decisions/s, and
decisions with ``serve --workers 2``.

The rate limits stay on with their bookkeeping, raised above what this machine can send (one client
address stands for many visitors here).

Run: .venv/bin/python benchmarks/reads.py [--seconds 5] [--db sqlite|postgresql|both] [--subjects 1000]
[--workers 2] [--before SRC]
     .venv/bin/python benchmarks/reads.py --batches-only --cold 20000 --rounds 3 --before OLD/src
(only batches, cold and warm, this tree and the older code interleaved round by round)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import ROOT, percentile, pg_backend_cpu, postgres, start_server
from load import _cpu_seconds, _free_port

POLICY = ROOT / "src" / "consentgate" / "policy" / "example.yaml"
CONNECTIONS = 16
PURPOSE = "train_support_chatbot"
BATCH_SIZE = 1000
DRAIN_SECONDS = 10.0


# -- the client process ------------------------------------------------------------------------------


def _request_maker(cfg: dict[str, Any]) -> Callable[[int], bytes]:
    host = f"Host: 127.0.0.1:{cfg['port']}\r\n"
    auth = f"Authorization: Bearer {cfg['key']}\r\n" if cfg.get("key") else ""
    kind, subjects = cfg["kind"], int(cfg.get("subjects", 1))
    if kind == "floor":
        fixed = f"GET /floor HTTP/1.1\r\n{host}\r\n".encode()
        return lambda i: fixed
    if kind == "healthz":
        fixed = f"GET /healthz HTTP/1.1\r\n{host}\r\n".encode()
        return lambda i: fixed
    if kind == "banner":
        fixed = f"GET /v1/banner/config?locale=en&region=DE HTTP/1.1\r\n{host}\r\n".encode()
        return lambda i: fixed
    if kind == "decide":
        ask = f"&purpose={PURPOSE} HTTP/1.1\r\n{host}{auth}\r\n"
        made = [f"GET /v1/decisions?subject=reader-{n:06d}{ask}".encode() for n in range(subjects)]
        return lambda i: made[i % subjects]
    if kind == "decide_fresh":  # a subject never asked before on every request: the cache never helps
        tag = os.urandom(4).hex()
        return lambda i: (
            f"GET /v1/decisions?subject=fresh-{tag}-{i:08d}&purpose={PURPOSE} HTTP/1.1\r\n{host}{auth}\r\n"
        ).encode()
    if kind in ("batch", "batch_cold"):
        # batch_cold: people seeded for it and asked about once each (cfg "limit" batches), so every
        # decision is a cache miss and goes to the database.
        bodies = []
        for b in range(max(1, subjects // BATCH_SIZE)):
            queries = [
                {"subject": f"reader-{(b * BATCH_SIZE + j) % subjects:06d}", "purpose": PURPOSE}
                if kind == "batch"
                else {"subject": f"cold-{cfg.get('first', 0) + b * BATCH_SIZE + j:07d}", "purpose": PURPOSE}
                for j in range(BATCH_SIZE)
            ]
            body = json.dumps({"queries": queries}).encode()
            head = (
                f"POST /v1/decisions/batch HTTP/1.1\r\n{host}{auth}Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            bodies.append(head.encode() + body)
        return lambda i: bodies[i % len(bodies)]
    raise ValueError(f"unknown kind {kind}")


class _Connection(asyncio.Protocol):
    """One keep-alive connection: sends a request, reads one Content-Length-framed answer, repeats."""

    def __init__(self, on_answer: Callable[[_Connection, int, bytes], None]) -> None:
        self.on_answer = on_answer
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.started = 0.0  # when the request was due (open loop: its scheduled instant)
        self.handled = 0.0  # when the client got to it: later than ``started`` if the client fell behind
        self.sent = 0.0  # when it was written: later than ``handled`` if no connection was free
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport
        self.ready.set_result(None)

    def send(self, request: bytes, started: float, handled: float) -> None:
        assert self.transport is not None
        self.started, self.handled = started, handled
        self.sent = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            self.on_answer(self, int(head[9:12]), body)


async def _drive(cfg: dict[str, Any]) -> dict[str, Any]:
    """Closed loop (``rate`` None: each connection sends again as soon as it is answered) or open
    loop at ``rate`` requests/s, for ``seconds``."""
    loop = asyncio.get_running_loop()
    make = _request_maker(cfg)
    seconds, rate = float(cfg["seconds"]), cfg.get("rate")
    limit = cfg.get("limit")  # closed loop: stop after this many requests (None: after ``seconds``)
    latencies: list[float] = []
    # The client's own lateness (it got to a request after it was due: descheduled, or its loop
    # busy) is part of each latency but not the server's doing; waiting for a free connection is.
    lags: list[float] = []
    served: list[float] = []  # latency counted from when the client got to the request
    trace: list[tuple[float, float, float, float]] | None = [] if cfg.get("trace") else None
    statuses: dict[int, int] = {}
    decisions = 0
    counter = 0
    stop_at = 0.0
    due: deque[tuple[float, float]] = deque()  # open loop: (scheduled, handled) not yet sent
    free: list[_Connection] = []
    finished = loop.create_future()
    outstanding = 0

    def send(conn: _Connection, started: float, handled: float) -> None:
        nonlocal counter, outstanding
        conn.send(make(counter), started, handled)
        counter += 1
        outstanding += 1

    def on_answer(conn: _Connection, status: int, body: bytes) -> None:
        nonlocal decisions, outstanding
        outstanding -= 1
        now = time.perf_counter()
        latencies.append(now - conn.started)
        lags.append(conn.handled - conn.started)
        served.append(now - conn.handled)
        if trace is not None:
            trace.append((conn.started, conn.handled, conn.sent, now))
        statuses[status] = statuses.get(status, 0) + 1
        if cfg["kind"] in ("batch", "batch_cold") and status == 200:
            decisions += body.count(b'"allowed"')
        if rate is None:
            if now < stop_at and (limit is None or counter < limit):
                send(conn, now, now)
        elif due:
            send(conn, *due.popleft())
        else:
            free.append(conn)
        done = now >= stop_at or (limit is not None and counter >= limit)
        if outstanding == 0 and done and not finished.done():
            finished.set_result(None)

    conns = []
    for _ in range(CONNECTIONS):
        _, conn = await loop.create_connection(lambda: _Connection(on_answer), "127.0.0.1", cfg["port"])
        await conn.ready
        conns.append(conn)
    await asyncio.sleep(max(0.0, cfg["start_at"] - time.time()))
    cpu0 = os.times()
    t0 = time.perf_counter()
    stop_at = t0 + seconds
    if rate is None:
        for conn in conns[: limit or len(conns)]:
            now = time.perf_counter()
            send(conn, now, now)
    else:
        free.extend(conns)
        i = 0
        while True:
            at = t0 + i / rate
            if at > stop_at:
                break
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            handled = time.perf_counter()
            if free:
                send(free.pop(), at, handled)
            else:
                due.append((at, handled))
            i += 1
    with contextlib.suppress(TimeoutError):  # answers still missing then are simply not counted
        await asyncio.wait_for(finished, timeout=seconds + DRAIN_SECONDS)
    elapsed = time.perf_counter() - t0
    cpu1 = os.times()
    for conn in conns:
        if conn.transport is not None:
            conn.transport.close()
    answered = len(latencies)
    return {
        "requests": answered,
        "requests_per_s": answered / elapsed,
        "decisions_per_s": decisions / elapsed,
        "statuses": statuses,
        "p50_ms": percentile(latencies, 0.50) * 1000 if latencies else None,
        "p99_ms": percentile(latencies, 0.99) * 1000 if latencies else None,
        "client_lag_p99_ms": percentile(lags, 0.99) * 1000 if lags else None,
        "from_handled_p99_ms": percentile(served, 0.99) * 1000 if served else None,
        **({"trace": trace} if trace is not None else {}),
        "client_cpu_ms_per_request": (cpu1.user + cpu1.system - cpu0.user - cpu0.system)
        * 1000
        / max(1, answered),
    }


def _client_main(cfg_json: str) -> None:
    import uvloop

    uvloop.install()
    cfg = json.loads(cfg_json)
    # To a file: a traced run's result is megabytes, and once came back over the pipe cut short.
    Path(cfg["out"]).write_text(json.dumps(asyncio.run(_drive(cfg))))


# -- the floor app -----------------------------------------------------------------------------------


def _floor_main(port: int) -> None:
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/floor")
    async def floor() -> dict[str, Any]:
        return {"status": "ok", "service": "floor"}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools", log_level="warning")


# -- the orchestrator --------------------------------------------------------------------------------


class _Server:
    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        argv = [a.replace("{port}", str(self.port)) for a in args]
        self.proc = start_server(argv, env or dict(os.environ), self.port)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _measure(server: _Server, kind: str, seconds: float, db: Any = None, **extra: Any) -> dict[str, Any]:
    """``db``: on PostgreSQL, an engine on the cluster, to report its backends' CPU per request too."""
    cfg = {"kind": kind, "port": server.port, "seconds": seconds, "start_at": time.time() + 1.0, **extra}
    backends = pg_backend_cpu(db) if db is not None else {}
    cpu0 = _cpu_seconds(server.proc.pid)
    with tempfile.TemporaryDirectory(prefix="cg-reads-client-") as tmp:
        cfg["out"] = str(Path(tmp) / "result.json")
        subprocess.run(
            [sys.executable, __file__, "--client", json.dumps(cfg)],
            capture_output=True,
            text=True,
            timeout=seconds + DRAIN_SECONDS + 60,
            check=True,
        )
        result: dict[str, Any] = json.loads(Path(cfg["out"]).read_text())
    result["server_cpu_ms_per_request"] = (
        (_cpu_seconds(server.proc.pid) - cpu0) * 1000 / max(1, result["requests"])
    )
    if db is not None:
        spent = sum(t - backends.get(pid, 0.0) for pid, t in pg_backend_cpu(db).items())
        result["db_cpu_ms_per_request"] = spent * 1000 / max(1, result["requests"])
    bad = {s: n for s, n in result["statuses"].items() if not str(s).startswith(("2", "3"))}
    if bad:
        raise RuntimeError(f"{kind}: answers other than 2xx/3xx: {bad}")
    return result


def _seed(db_url: str, subjects: int, cold: int = 0) -> str:
    """``subjects`` people with one grant each (the issue's "subject with one grant"), and ``cold``
    more whom only the cold batches ask about; a read key."""
    from consentgate.auth import apikeys
    from consentgate.ledger.store import Ledger
    from consentgate.policy import load_policy
    from consentgate.service import ConsentService

    when = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    with Ledger.open(db_url) as ledger:
        service = ConsentService(load_policy(POLICY), ledger)
        raws = [
            ("", {"subject": s, "action": "grant", "purposes": [PURPOSE],
                  "notice_id": "ai-training", "notice_version": 2, "occurred_at": when,
                  "region": "DE", "locale": "en", "source": "banner"})
            for s in [f"reader-{n:06d}" for n in range(subjects)] + [f"cold-{n:07d}" for n in range(cold)]
        ]  # fmt: skip
        for start in range(0, len(raws), 5000):
            service.record(raws[start : start + 5000])
        _, key = apikeys.create_key(ledger.engine, "read", "reads benchmark")
    return key


def _consentgate(
    db_url: str, key_file: Path, workers: int = 1, src: str | None = None, traced: str | None = None
) -> _Server:
    env = dict(
        os.environ,
        CONSENTGATE_DB=db_url,
        CONSENTGATE_POLICY=str(POLICY),
        CONSENTGATE_LEDGER_KEY=str(key_file),
        CONSENTGATE_RATE_PER_KEY="1000000",
        CONSENTGATE_RATE_PER_IP="1000000",
        CONSENTGATE_LOG_LEVEL="warning",
    )
    if src:  # serve another copy of the code (``--before``): it comes first on the import path
        env["PYTHONPATH"] = src
    serve = ["-c", "from consentgate.cli import main; main()"]
    if traced:  # the timeline of reads_tail.py, written to this file when the server stops
        serve = [str(Path(__file__).with_name("reads_tail.py")), "--serve-traced", traced]
    argv = [sys.executable, *serve, "serve", "--port", "{port}", "--workers", str(workers)]
    return _Server(argv, env)


def _run_db(name: str, db_url: str, args: argparse.Namespace, floor: _Server) -> dict[str, Any]:
    from consentgate.ledger.signing import create_key

    key_file = Path(tempfile.mkdtemp(prefix="cg-reads-key-")) / "ledger.key"
    create_key(key_file)
    if args.batches_only:
        return _run_batches(db_url, key_file, args)
    key = _seed(db_url, args.subjects, args.cold)
    out: dict[str, Any] = {"load_average": os.getloadavg()[0]}
    server = _consentgate(db_url, key_file)
    s = args.seconds
    try:
        # Warm-up: imports, the key cache, connections, and every subject's decision asked (the
        # figure is the steady state of a backend asking about the same people again and again;
        # "decisions_uncached" below is the other extreme). Then each endpoint, back to back.
        _measure(server, "batch", 1.0, key=key, subjects=args.subjects)  # every subject asked at least once
        _measure(server, "decide", 1.0, key=key, subjects=args.subjects)
        _measure(floor, "floor", 1.0)
        out["floor"] = _measure(floor, "floor", s)
        out["decisions"] = _measure(server, "decide", s, key=key, subjects=args.subjects)
        out["healthz"] = _measure(server, "healthz", s)
        out["banner_config"] = _measure(server, "banner", s)
        half = out["decisions"]["requests_per_s"] / 2
        out["decisions_half_rate"] = _measure(server, "decide", s, key=key, subjects=args.subjects, rate=half)
        out["decisions_uncached"] = _measure(server, "decide_fresh", s, key=key)
        out["batch"] = _measure(server, "batch", s, key=key, subjects=args.subjects)
        if args.cold >= BATCH_SIZE:  # last: it fills the cache with people nobody asks about again
            n = args.cold // BATCH_SIZE
            out["batch_cold"] = _measure(server, "batch_cold", 120, key=key, subjects=args.cold, limit=n)
        out["floor_again"] = _measure(floor, "floor", s)
    finally:
        server.stop()
    if args.before:
        server = _consentgate(db_url, key_file, src=args.before)
        try:
            _measure(server, "decide", max(2.0, args.subjects / 300), key=key, subjects=args.subjects)
            out["before"] = {
                "decisions": _measure(server, "decide", s, key=key, subjects=args.subjects),
                "healthz": _measure(server, "healthz", s),
                "banner_config": _measure(server, "banner", s),
                "batch": _measure(server, "batch", s, key=key, subjects=args.subjects),
            }
        finally:
            server.stop()
    if args.workers > 1:
        server = _consentgate(db_url, key_file, workers=args.workers)
        try:
            # Every worker has a cache of its own, and a connection goes to one worker: warm them as
            # the single process was warmed, with batches on all 16 connections (before, 1 s of
            # single requests left part of each worker's cache cold, and on PostgreSQL a miss costs
            # 12-20x a hit: part of why two workers looked slower than one, docs/benchmarks.md).
            _measure(server, "batch", 2.0, key=key, subjects=args.subjects)
            _measure(server, "decide", 1.0, key=key, subjects=args.subjects)
            out[f"decisions_workers_{args.workers}"] = _measure(
                server, "decide", s, key=key, subjects=args.subjects
            )
            out[f"banner_config_workers_{args.workers}"] = _measure(server, "banner", s)
        finally:
            server.stop()
    return out


def _run_batches(db_url: str, key_file: Path, args: argparse.Namespace) -> dict[str, Any]:
    """``--batches-only``: warm and cold batches for this tree and, with ``--before``, the older
    code, interleaved round by round (each side going first in turn), each round on people neither
    server asked about before: ``--cold`` people per round and side."""
    rounds, cold = args.rounds, args.cold
    key = _seed(db_url, args.subjects, 2 * rounds * cold)
    sides = [("this tree", None)] + ([("before", args.before)] if args.before else [])
    servers = {name: _consentgate(db_url, key_file, src=src) for name, src in sides}
    out: dict[str, Any] = {"load_average": os.getloadavg()[0], "rounds": []}
    db = None
    if db_url.startswith("postgresql"):  # the backends' CPU per cold batch, beside the server's
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        db = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool)
    try:
        for server in servers.values():  # imports, connections, the key cache, every warm subject
            _measure(server, "batch", 1.0, key=key, subjects=args.subjects)
        first, n_cold = 0, cold // BATCH_SIZE
        for n in range(rounds):
            row: dict[str, Any] = {"load_average": os.getloadavg()[0]}
            # Whoever goes first in a round was seen to win it (branch cold4: seven of eight first
            # rounds, the same code on both sides included), so the sides take turns going first.
            order = list(servers.items())
            for name, server in order[n % len(order) :] + order[: n % len(order)]:
                row[name] = {
                    "cold": _measure(
                        server, "batch_cold", 120, db, key=key, subjects=cold, first=first, limit=n_cold
                    ),
                    "warm": _measure(server, "batch", args.seconds, key=key, subjects=args.subjects),
                }
                first += cold
            out["rounds"].append(row)
    finally:
        for server in servers.values():
            server.stop()
        if db is not None:
            db.dispose()
    return out


def _batch_lines(db: str, r: dict[str, Any]) -> list[str]:
    lines = []
    for n, row in enumerate(r["rounds"], 1):
        for name in ("this tree", "before"):
            if name in row:
                c, w = row[name]["cold"], row[name]["warm"]
                backends = (
                    f" + {c['db_cpu_ms_per_request']:.1f} ms PostgreSQL"
                    if "db_cpu_ms_per_request" in c
                    else ""
                )
                lines.append(
                    f"{db}: round {n} (load {row['load_average']:.1f}) {name}: cold "
                    f"{c['decisions_per_s']:,.0f} decisions/s "
                    f"({c['server_cpu_ms_per_request']:.1f} ms server CPU{backends} "
                    f"per batch of {BATCH_SIZE}, "
                    f"p99 {c['p99_ms']:.1f} ms); warm {w['decisions_per_s']:,.0f} decisions/s "
                    f"({w['server_cpu_ms_per_request']:.1f} ms CPU per batch)"
                )
    return lines


def _lines(db: str, r: dict[str, Any], workers: int) -> list[str]:
    if "rounds" in r:
        return _batch_lines(db, r)
    floor = (r["floor"]["requests_per_s"] + r["floor_again"]["requests_per_s"]) / 2
    targets = {"decisions": 2.0, "healthz": 1.5, "banner_config": 1.5}
    lines = [f"{db}: floor {floor:,.0f} requests/s (mean of the runs before and after)"]
    for name, target in targets.items():
        m = r[name]
        ratio = floor / m["requests_per_s"]
        lines.append(
            f"{db}: {name} {m['requests_per_s']:,.0f} requests/s = {ratio:.2f}x slower than the floor "
            f"(target <= {target}x: {'met' if ratio <= target else 'NOT met'}); p99 {m['p99_ms']:.1f} ms; "
            f"server CPU {m['server_cpu_ms_per_request']:.3f} ms/request, client "
            f"{m['client_cpu_ms_per_request']:.3f}"
        )
    h = r["decisions_half_rate"]
    lines.append(
        f"{db}: decisions at half that rate ({h['requests_per_s']:,.0f}/s offered and answered): "
        f"p50 {h['p50_ms']:.2f} ms, p99 {h['p99_ms']:.2f} ms (target < 20 ms); the client's own lateness "
        f"p99 {h['client_lag_p99_ms']:.2f} ms, p99 counted from when it got to each request "
        f"{h['from_handled_p99_ms']:.2f} ms"
    )
    u = r["decisions_uncached"]
    lines.append(
        f"{db}: decisions about a new subject each time (no cache hit): {u['requests_per_s']:,.0f} "
        f"requests/s, p99 {u['p99_ms']:.1f} ms, server CPU {u['server_cpu_ms_per_request']:.3f} ms/request"
    )
    b = r["batch"]
    lines.append(
        f"{db}: POST /v1/decisions/batch ({BATCH_SIZE} queries each): "
        f"{b['decisions_per_s']:,.0f} decisions/s (target >= 50,000), p99 {b['p99_ms']:.1f} ms per batch"
    )
    if "batch_cold" in r:
        c = r["batch_cold"]
        lines.append(
            f"{db}: POST /v1/decisions/batch, cold (people never asked before, {c['requests']} batches): "
            f"{c['decisions_per_s']:,.0f} decisions/s (target >= 50,000), p99 {c['p99_ms']:.1f} ms per "
            f"batch, server CPU {c['server_cpu_ms_per_request']:.1f} ms per batch"
        )
    for name, m in r.get("before", {}).items():
        rate = (
            f"{m['decisions_per_s']:,.0f} decisions/s"
            if name == "batch"
            else f"{m['requests_per_s']:,.0f} requests/s"
        )
        lines.append(
            f"{db}: before (--before): {name} {rate}, p99 {m['p99_ms']:.1f} ms, "
            f"server CPU {m['server_cpu_ms_per_request']:.3f} ms/request"
        )
    if f"decisions_workers_{workers}" in r:
        w = r[f"decisions_workers_{workers}"]
        c = r[f"banner_config_workers_{workers}"]
        lines.append(
            f"{db}: serve --workers {workers}: decisions {w['requests_per_s']:,.0f} requests/s "
            f"(p99 {w['p99_ms']:.1f} ms), banner config {c['requests_per_s']:,.0f} requests/s"
        )
    return lines


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        _client_main(sys.argv[2])
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--floor":
        _floor_main(int(sys.argv[2]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0, help="length of each measured phase")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--subjects", type=int, default=1000, help="people with one grant each, asked in turn")
    ap.add_argument(
        "--cold", type=int, default=50_000, help="people asked about once each by the cold batches (0: skip)"
    )
    ap.add_argument("--workers", type=int, default=2, help="also serve with this many processes (1: skip)")
    ap.add_argument(
        "--before",
        metavar="SRC",
        help="also serve the code in SRC (a copy of src/ from before a change) in the same run",
    )
    ap.add_argument(
        "--batches-only",
        action="store_true",
        help="only POST /v1/decisions/batch, cold and warm, interleaved with --before round by round",
    )
    ap.add_argument("--rounds", type=int, default=3, help="with --batches-only: rounds of cold and warm")
    args = ap.parse_args()
    report: dict[str, Any] = {"args": vars(args), "cpus": os.cpu_count(), "load_average": os.getloadavg()}
    floor = _Server([sys.executable, __file__, "--floor", "{port}"])
    lines: list[str] = []
    try:
        if args.db in ("sqlite", "both"):
            with tempfile.TemporaryDirectory() as tmp:
                report["sqlite"] = _run_db("sqlite", str(Path(tmp) / "reads.db"), args, floor)
                lines += _lines("sqlite", report["sqlite"], args.workers)
        if args.db in ("postgresql", "both"):
            with postgres() as url:
                if url:
                    report["postgresql"] = _run_db("postgresql", url, args, floor)
                    lines += _lines("postgresql", report["postgresql"], args.workers)
    finally:
        floor.stop()
    print(f"load average before: {report['load_average']}; cpus {report['cpus']}")
    print("\n".join(lines))
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "reads.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
