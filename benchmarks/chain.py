"""Ledger proof costs (issue 13): what sealing adds per event, and streaming verify of a big ledger.

Every figure next to its baseline from the same run:
- sign: appends of B events per commit (B = 1, 10, 100 — a lone request, a busy group commit, an
  import) with a ledger key vs without, interleaved, on SQLite; plus one raw Ed25519 signature;
- verify: ``Ledger.verify()`` (both chains, side tables, seals, derived columns) of N events vs a
  bare walk that only re-hashes each event (what verify did before issue 13), and the peak memory of
  a process that only verifies, at N/10 and N events — flat when verify streams.

Run: .venv/bin/python benchmarks/chain.py [--events 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import ROOT, median

from consentgate.ledger.events import Action, NewEvent, NoticeText
from consentgate.ledger.signing import Signer, create_key
from consentgate.ledger.store import Ledger

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WORDING = "Use my support conversations to train and improve the support chatbot."


def _events(first: int, n: int) -> list[NewEvent]:
    from consentgate.ledger.chain import wording_hash

    h = wording_hash(WORDING)
    return [
        NewEvent(
            subject=f"user-{(first + i) % 200_000}@example.com",
            action=Action.GRANT if (first + i) % 3 else Action.WITHDRAW,
            occurred_at=T0 + timedelta(seconds=first + i),
            purpose="train_support_chatbot",
            notice_id="ai-training",
            notice_version="1",
            wording_hash=h,
            region="DE",
            locale="en",
            source="banner",
            signals={"do_not_train": False},
        )
        for i in range(n)
    ]


def _text() -> list[NoticeText]:
    from consentgate.ledger.chain import wording_hash

    return [NoticeText("ai-training", "1", "en", WORDING, wording_hash(WORDING))]


def sign_cost(tmp: Path, repeat: int) -> dict[str, Any]:
    signer = create_key(tmp / "keys" / "ledger.key")
    message = b'{"events":{"hash":"' + b"0" * 64 + b'","seq":1}}'
    t = time.perf_counter()
    for _ in range(2000):
        signer.sign(message)
    raw_us = (time.perf_counter() - t) / 2000 * 1e6
    out: dict[str, Any] = {"ed25519_sign_us": round(raw_us, 1)}
    for batch in (1, 10, 100):
        commits = max(20, 2000 // batch)
        times: dict[str, list[float]] = {"signed": [], "unsigned": []}
        for r in range(repeat):  # interleaved: a noisy second hits both alike
            for label, key in (("signed", signer), ("unsigned", None)):
                with Ledger.open(str(tmp / f"sign-{batch}-{label}-{r}.db"), signer=key) as ledger:
                    ledger.append(_events(0, 1), _text())  # warm: schema, wording, pooled connection
                    t = time.perf_counter()
                    for c in range(commits):
                        ledger.append(_events(1 + c * batch, batch))
                    times[label].append((time.perf_counter() - t) / (commits * batch) * 1e6)
        s, u = median(times["signed"]), median(times["unsigned"])
        out[f"batch_{batch}"] = {
            "us_per_event_signed": round(s, 1),
            "us_per_event_unsigned": round(u, 1),
            "sign_cost_us_per_event": round(s - u, 1),
        }
    return out


def build(path: Path, n: int, signer: Signer) -> None:
    with Ledger.open(str(path), signer=signer) as ledger:
        ledger.append(_events(0, 1), _text())
        done = 1
        while done < n:
            k = min(5000, n - done)
            ledger.append(_events(done, k))
            done += k


_CHILD = """
import json, resource, sys, time
from pathlib import Path
from consentgate.ledger.signing import Signer
from consentgate.ledger.store import Ledger
from consentgate.ledger.chain import event_hash
import json as j
db, key, mode = sys.argv[1], sys.argv[2], sys.argv[3]
with Ledger.open(db, signer=Signer.load(Path(key)), migrate_schema=False) as ledger:
    t = time.perf_counter()
    if mode == "verify":
        r = ledger.verify()
        assert r.intact, r
        n = r.checked
    else:  # the bare walk: re-hash each event, nothing else
        n = 0
        for row in ledger._iter_rows(0, 5000):
            rec = dict(row); rec["signals"] = j.loads(row["signals"])
            assert event_hash(row["prev_hash"], rec) == row["hash"]
            n += 1
    s = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": s, "events": n, "max_rss_mb": rss}))
"""


def _child(db: Path, key: Path, mode: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(db), str(key), mode], check=True, capture_output=True, text=True
    )
    return dict(json.loads(out.stdout))


def verify_cost(tmp: Path, n: int, repeat: int) -> dict[str, Any]:
    signer = create_key(tmp / "vkeys" / "ledger.key")
    assert signer.path is not None
    out: dict[str, Any] = {}
    for size in (n // 10, n):
        db = tmp / f"verify-{size}.db"
        t = time.perf_counter()
        build(db, size, signer)
        built = time.perf_counter() - t
        runs: dict[str, list[dict[str, Any]]] = {"verify": [], "bare_rehash_walk": []}
        for _ in range(repeat):
            for mode in runs:
                runs[mode].append(_child(db, signer.path, mode))
        out[str(size)] = {"build_seconds": round(built, 1)} | {
            mode: {
                "seconds": round(median([r["seconds"] for r in rs]), 2),
                "events_per_s": round(size / median([r["seconds"] for r in rs])),
                "max_rss_mb": round(median([r["max_rss_mb"] for r in rs]), 1),
            }
            for mode, rs in runs.items()
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=1_000_000, help="events in the big ledger")
    ap.add_argument("--repeat", type=int, default=5, help="interleaved repetitions; figures are medians")
    ap.add_argument(
        "--sign-dir",
        default="/dev/shm" if Path("/dev/shm").is_dir() else None,
        help="where the sign-cost ledgers go (default /dev/shm: a tmpfs, so fsync does not drown the CPU "
        "cost of a seal in disk jitter)",
    )
    ap.add_argument("--only", choices=["sign", "verify"], help="run one of the two parts")
    args = ap.parse_args()
    import os

    report: dict[str, Any] = {"args": vars(args), "load_average_before": os.getloadavg()}
    if args.only != "verify":
        with tempfile.TemporaryDirectory(dir=args.sign_dir) as d:
            report["sign"] = sign_cost(Path(d), args.repeat)
            print(json.dumps({"sign": report["sign"]}, indent=2), flush=True)
    if args.only != "sign":
        with tempfile.TemporaryDirectory() as d:
            report["verify"] = verify_cost(Path(d), args.events, max(1, args.repeat // 2))
            print(json.dumps({"verify": report["verify"]}, indent=2), flush=True)
    report["load_average_after"] = os.getloadavg()
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / f"chain{'-' + args.only if args.only else ''}.json").write_text(json.dumps(report, indent=2))
    print(f"load average before {report['load_average_before']}, after {report['load_average_after']}")


if __name__ == "__main__":
    main()
