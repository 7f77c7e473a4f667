"""Shared helpers for the benchmark scripts: synthetic histories, timing, a throw-away PostgreSQL."""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # so `tests.support.pg` (the throw-away cluster) is importable

AI = ["train_support_chatbot", "finetune_recommender"]
REGIONS = ["DE", "FR", "GB", "US-CA", "US-TX", "US-NY", "BR", "JP", "IN"]
T0 = datetime(2026, 1, 5, tzinfo=UTC)


# The opt-out policy of the pipeline benchmarks (filter.py, snapshot.py): one AI purpose whose default
# is allowed, so opted-out people are what a filter must drop.
OPT_OUT_POLICY = """\
version: 1
organization: {name: Example Support Ltd, contact: privacy@example.com}
regions:
  US: {countries: [US], honour_gpc: true}
purposes:
  - id: train_ranker
    title: Improve ranking models
    kind: ai_training
    notice: ai
    basis: {"*": opt_out}
notices:
  - id: ai
    purposes: [train_ranker]
    versions:
      - version: 1
        effective_from: "2026-01-01T00:00:00Z"
        text: {en: "Use my activity to improve rankings."}
sources:
  - {id: events, kind: event_log, purposes: [train_ranker], personal: true}
"""


def synthetic_submissions(n_subjects: int, per_subject: int, seed: int = 7) -> list[dict[str, Any]]:
    """Consent submissions as the banner sends them: several purposes, one notice version each."""
    rnd = random.Random(seed)
    out = []
    for i in range(n_subjects):
        region = rnd.choice(REGIONS)
        for j in range(per_subject):
            when = T0 + timedelta(days=rnd.randint(0, 300), seconds=rnd.randint(0, 86_399))
            allow = rnd.random() < 0.7
            out.append(
                {
                    "subject": f"visitor-{i:07d}",
                    "occurred_at": when.isoformat(),
                    "region": region,
                    "locale": "en",
                    "source": "banner",
                    "choices": [
                        {
                            "purpose": p,
                            "action": "grant" if allow else ("withdraw" if j else "deny"),
                            "notice_id": "ai-training",
                            "notice_version": 2 if when.month >= 6 else 1,
                        }
                        for p in AI
                    ],
                }
            )
    return out


def submission_events(sub: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The raw per-purpose events a submission becomes (what the API does)."""
    base = {k: v for k, v in sub.items() if k != "choices"}
    return [
        ("", {**base, "action": c["action"], "purposes": [c["purpose"]], "notice_id": c["notice_id"],
              "notice_version": c["notice_version"]})
        for c in sub["choices"]
    ]  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn: Callable[[], Any], repeat: int = 5) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def median(xs: list[float]) -> float:
    return statistics.median(xs)


@contextmanager
def postgres() -> Iterator[str | None]:
    """A throw-away PostgreSQL cluster (tests/support/pg.py), or None when the server binaries are missing."""
    from tests.support.pg import PgCluster, pg_bin_dir

    if pg_bin_dir() is None:
        print("!! PostgreSQL binaries not found: skipping the PostgreSQL figures", file=sys.stderr)
        yield None
        return
    cluster = PgCluster().start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


def pg_backend_cpu(engine: Any) -> dict[int, float]:
    """CPU seconds so far of each client backend of the PostgreSQL cluster behind ``engine`` (from
    ``/proc``; the database runs on this machine in the benchmarks): the SQL's share of a request,
    which the server process's own CPU does not include."""
    import os

    with engine.connect() as conn:
        pids = [
            int(p)
            for (p,) in conn.exec_driver_sql(
                "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'"
            )
        ]
    out: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def start_server(argv: list[str], env: dict[str, str], port: int, timeout: float = 120.0) -> Any:
    """Start a server process and wait until ``/healthz`` on ``port`` answers 200 (a subprocess.Popen).

    Workers of ``serve --workers N`` can take tens of seconds to start on a busy small machine."""
    import socket
    import subprocess

    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("server did not start")


async def asgi_request(
    app: Any,
    method: str,
    path: str,
    body: bytes = b"",
    headers: list[tuple[bytes, bytes]] | tuple[tuple[bytes, bytes], ...] = (),
    query: bytes = b"",
    server: tuple[str, int] = ("bench", 80),
) -> tuple[int, bytes]:
    """One request through an ASGI app as uvicorn hands it over (the body in one piece, then a
    disconnect), from 192.0.2.1; its status and body. ``headers`` are sent as given, then
    ``content-length``: in-process benchmarks time the app, not a client or a socket."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status: list[int] = []
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
        "root_path": "", "client": ("192.0.2.1", 40000), "server": server,
        "headers": [*headers, (b"content-length", str(len(body)).encode())], "state": {},
    }  # fmt: skip
    await app(scope, receive, send)
    return status[0], b"".join(chunks)
