"""The banner's record under CPU contention: this checkout's server against another revision's, interleaved.

Why: in the banner benchmark the server's time for the click's record was mostly its threads waiting
for a CPU while Chromium held both cores (``banner.py --trace``). This script isolates that: two real
servers (uvicorn, SQLite, WAL with ``synchronous=FULL``), this checkout's and ``--baseline``'s, get the
same records one at a time, alternating, each what "Accept all" sends for a new visitor (a visitor id
from ``POST /v1/visitors``, then ``POST /v1/consents/browser``: a ``text/plain`` body with the key and
one choice per purpose asked in the EU). With ``--hogs N``, N processes spin on the CPU meanwhile,
standing in for the browser's. Reported per server and hog count: the client's time for the record
and the server's access-log duration (median, p90).

Run: .venv/bin/python benchmarks/record_handoff.py --baseline main [--records 200] [--hogs 0 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from banner import RECORD_ROUTE, Ours, checkout, consentgate_banner, server_times, start_consentgate

ORIGIN = "https://www.example.com"  # in the example policy's web.origins


def _spin(stop: Any) -> None:
    while not stop.is_set():
        sum(range(10_000))


def _choices(api: str) -> list[dict[str, Any]]:
    cfg = httpx.get(f"{api}/v1/banner/config", params={"locale": "en", "region": "DE"}, timeout=10).json()
    notices = cfg["notices"]
    return [
        {
            "purpose": p["id"],
            "notice_id": p["notice"],
            "notice_version": notices[p["notice"]]["version"],
            "wording_hash": notices[p["notice"]]["wording_hash"],
            "action": "grant",
        }
        for p in cfg["purposes"]
        if p["ask"]
    ]


def _record(client: httpx.Client, ours: Ours, choices: list[dict[str, Any]]) -> float:
    """One new visitor's "Accept all": ms from sending the record until its answer is read."""
    visitor = client.post(
        f"{ours.api}/v1/visitors", headers={"Authorization": f"Bearer {ours.key}", "Origin": ORIGIN}
    )
    visitor.raise_for_status()
    submission = {
        "subject": visitor.json()["visitor_id"],
        "region": "DE",
        "locale": "en",
        "source": "banner",
        "choices": choices,
        "signals": {"banner_choice": "accept_all"},
    }
    body = httpx.Request("POST", "/", json={"key": ours.key, "subject_token": None, "submission": submission})
    started = time.perf_counter()
    answer = client.post(
        f"{ours.api}{RECORD_ROUTE}",
        content=body.read(),
        headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": ORIGIN},
    )
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 201:
        sys.exit(f"{ours.banner.name}: {answer.status_code} {answer.text}")
    return elapsed


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", metavar="REF", required=True, help="git revision to compare against")
    parser.add_argument("--records", type=int, default=200, help="records per server and hog count")
    parser.add_argument("--hogs", type=int, nargs="+", default=[0, 2], help="CPU-spinning processes")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        servers = [
            Ours(consentgate_banner("this checkout"), root / "this"),
            Ours(
                consentgate_banner(f"@ {args.baseline}"),
                root / "base",
                src=checkout(args.baseline, root / "rev"),
            ),
        ]
        client: dict[tuple[str, int], list[float]] = {}
        counts: list[int] = []
        try:
            for s in servers:
                start_consentgate(s, ORIGIN, trace=False)
            choices = _choices(servers[0].api)
            with httpx.Client(timeout=30) as http:
                for s in servers:  # warm-up: connections, first requests
                    for _ in range(5):
                        _record(http, s, choices)
                for hogs in args.hogs:
                    stop = multiprocessing.Event()
                    spinners = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(hogs)]
                    for p in spinners:
                        p.start()
                    try:
                        for _ in range(args.records):
                            for s in servers:
                                client.setdefault((s.banner.name, hogs), []).append(_record(http, s, choices))
                    finally:
                        stop.set()
                        for p in spinners:
                            p.join()
                    counts.append(hogs)
        finally:
            for s in servers:
                if s.server is not None:
                    s.server.stop(10)
        served: dict[str, list[float]] = {}
        for s in servers:
            assert s.server is not None
            served[s.banner.name] = server_times(s.server.log_path, RECORD_ROUTE).get("POST", [])[5:]

    print(
        f"\nPOST {RECORD_ROUTE}, a new visitor's Accept all, {args.records} records per row, interleaved (ms)"
    )
    print(f"{'server':24} {'hogs':>4} {'client median':>14} {'p90':>7} {'server median':>14} {'p90':>7}")
    for n, hogs in enumerate(counts):
        for s in servers:
            mine = client[(s.banner.name, hogs)]
            logged = served[s.banner.name][n * args.records : (n + 1) * args.records]
            print(
                f"{s.banner.name:24} {hogs:4} {statistics.median(mine):14.2f} {_p90(mine):7.2f} "
                f"{statistics.median(logged):14.2f} {_p90(logged):7.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
