"""Consent-rate reports (issue 16): the rollup against a full recomputation, in the same run.

For SQLite and a throw-away PostgreSQL: a ledger of ``--events`` events over ``--events /
--per-person`` people (the example policy: consent in the EU with a material notice change in June
2026 and expiry, opt-out with GPC in US states, legitimate interest in Brazil; grants, refusals,
withdrawals, opt-outs, GPC, choices under two notice versions and four sources, 10 % of people with a
linked cookie id, 0.2 % erased). How the ledger is filled (``--fill``):

- ``append`` (SQLite's default): ``Ledger.append`` in chunks of 20,000;
- ``copy`` (PostgreSQL's default): ``benchmarks/copy_append.py`` — ``Ledger.append``'s own transaction
  body (head checked under its lock, rows built, salted and hashed onto the chain, head moved, sealed
  with ``--signed``) per 200,000 events, the event rows loaded with COPY instead of multi-row INSERTs
  (``Ledger.append`` took twice as long for 100,000 events, over half of it in psycopg parsing the
  long INSERT statements). ``--verify`` runs
  ``Ledger.verify`` on the result: a 200,000-event copy-filled signed ledger verifies ok and signed.

The links are stored as ``store.aliases.add_link`` stores each one (a row and a chained ``link``
record), many per transaction. Then, timed:

- ``build``: the first report, which builds the rollup from the whole ledger (once);
- ``full``: the baseline — a full recomputation of the report at one instant
  (``reports.replay.tally``: every person's events read and decided again);
- ``report``: ``consent_rates`` at the same instant when nothing changed (the rollup is current);
- ``incremental``: ``consent_rates`` after ``--new`` more events (a third recorded late, about the
  past) and 20 new alias links: the refresh re-decides only those people, then answers;
- ``series``: ``consent_rates`` by day over a year (366 instants).

Before timing, the rollup's figures are checked against the full recomputation's (after the new
events too). Prints seconds per step and the ratio full / incremental, as JSON at the end.

Run: .venv/bin/python benchmarks/reports.py                       (1M events, both databases)
     .venv/bin/python benchmarks/reports.py --events 200000 --db sqlite
     .venv/bin/python benchmarks/reports.py --events 200000 --db postgresql --verify --signed
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import ROOT, postgres
from copy_append import CopyAppender

REGIONS = ["DE", "FR", "NL", "GB", "US-CA", "US-TX", "US", "BR", "JP", "IN"]
SOURCES = ["banner", "api", "toggle", "privacy_center"]
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
SPAN_S = 700 * 86_400
AT = datetime(2026, 9, 1, tzinfo=UTC)


def make_events(policy: Any, people: int, per_person: int, seed: int, *, first: int = 0) -> list[Any]:
    from consentgate.ledger.events import Action, NewEvent

    rnd = random.Random(seed)
    purposes = [p for p in policy.purposes if p.notice is not None]
    negative = [Action.DENY, Action.WITHDRAW, Action.OPT_OUT, Action.OBJECT]
    out = []
    for i in range(first, first + people):
        subject = f"user-{i:08d}"
        region = rnd.choice(REGIONS)
        for _ in range(per_person):
            when = EPOCH + timedelta(seconds=rnd.randrange(SPAN_S))
            roll = rnd.random()
            source = rnd.choice(SOURCES)
            if roll < 0.08:
                out.append(
                    NewEvent(subject, Action.GPC, when, region=region, source=source, signals={"gpc": True})
                )
                continue
            purpose = rnd.choice(purposes)
            if roll < 0.6:
                version = "2" if when.month >= 6 and when.year >= 2026 else "1"
                out.append(NewEvent(subject, Action.GRANT, when, purpose=purpose.id, notice_id=purpose.notice,
                                    notice_version=version, region=region, source=source))  # fmt: skip
            else:
                out.append(NewEvent(subject, rnd.choice(negative), when, purpose=purpose.id, region=region,
                                    source=source))  # fmt: skip
        if rnd.random() < 0.002:
            out.append(NewEvent(subject, Action.ERASE, EPOCH + timedelta(seconds=rnd.randrange(SPAN_S))))
    return out


def link_rows(ledger: Any, pairs: list[tuple[str, str]]) -> int:
    """``(alias, subject)`` links stored as ``store.aliases.add_link`` stores each one — an ``aliases``
    row with its salt and a chained ``link`` record committing to it — but many in one writer
    transaction (one head check and one seal for the lot instead of one per link)."""
    from sqlalchemy import insert

    from consentgate.ledger import schema as t
    from consentgate.ledger.chain import alias_commit, new_salt
    from consentgate.ledger.records import write_records

    def change(seq: int) -> list[tuple[str, dict[str, str]]]:
        now = datetime.now(UTC).isoformat()
        rows, records = [], []
        for i, (alias, subject) in enumerate(pairs):
            salt = new_salt()
            rows.append({"alias": alias, "subject": subject, "kind": "cookie_id", "linked_at": now,
                         "salt": salt, "record_seq": seq + i})  # fmt: skip
            records.append(("link", {"row": alias_commit(salt, alias, subject, "cookie_id", now)}))
        for start in range(0, len(rows), 50_000):
            conn.execute(insert(t.aliases), rows[start : start + 50_000])
        return records

    with ledger._writer.begin() as conn:
        write_records(conn, ledger.signer, change)
    return len(pairs)


def chained_link(ledger: Any, alias: str, subject: str) -> None:
    """One link through the product's own path (``store.aliases.add_link``, one transaction)."""
    from consentgate.store.aliases import add_link

    add_link(ledger.engine, alias, subject, "cookie_id", signer=ledger.signer)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def fill_ledger(ledger: Any, policy: Any, people: int, args: argparse.Namespace) -> tuple[int, int, str]:
    """The ledger described above: events, then one cookie id linked for every tenth person."""
    t0 = time.perf_counter()
    fill = args.fill if args.fill != "auto" else ("copy" if ledger.is_postgres else "append")
    n_events = 0
    chunk_people = max(1, 200_000 // args.per_person)
    for first in range(0, people, chunk_people):
        events = make_events(
            policy, min(chunk_people, people - first), args.per_person, seed=first, first=first
        )
        if fill == "copy":
            CopyAppender(ledger).append(events)
        else:
            for start in range(0, len(events), 20_000):
                ledger.append(events[start : start + 20_000])
        n_events += len(events)
        if args.progress and n_events // 1_000_000 != (n_events - len(events)) // 1_000_000:
            rate = n_events / (time.perf_counter() - t0)
            print(f"  filled {n_events:,} events ({rate:,.0f} events/s)", flush=True)
    links = link_rows(ledger, [(f"cookie-{j:08d}", f"user-{j:08d}") for j in range(0, people, 10)])
    return n_events, links, fill


def reuse(ledger: Any) -> tuple[int, int, str]:
    """A ledger an earlier run of this script filled (``--ledger-url``, same ``--events`` and
    ``--per-person``), its rollup discarded so the first report builds it again."""
    from sqlalchemy import delete, func, select

    from consentgate.ledger import schema as t

    with ledger.engine.begin() as conn:
        conn.execute(delete(t.report_state))
        links = int(conn.execute(select(func.count()).select_from(t.aliases)).scalar_one())
    return ledger.count(), links, "reused"


def run(url: str, label: str, args: argparse.Namespace) -> dict[str, Any]:
    from consentgate.ledger.store import Ledger
    from consentgate.policy import load_policy
    from consentgate.reports import consent_rates, replay, rollup

    policy = load_policy(ROOT / "src" / "consentgate" / "policy" / "example.yaml")
    people = args.events // args.per_person
    signer = None
    if args.signed:  # every append then seals the heads, as with a configured ledger key
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from consentgate.ledger.signing import Signer

        signer = Signer(Ed25519PrivateKey.generate())
    ledger = Ledger.open(url, signer=signer)
    t0 = time.perf_counter()
    if args.ledger_url:
        n_events, links, fill = reuse(ledger)
    else:
        n_events, links, fill = fill_ledger(ledger, policy, people, args)
    setup = time.perf_counter() - t0
    print(f"{label}: {n_events:,} events, {people:,} people, {links:,} alias links (set up in {setup:.0f} s, "
          f"fill: {fill})", flush=True)  # fmt: skip
    engine = ledger.engine
    out: dict[str, Any] = {
        "events": n_events,
        "people": people,
        "alias_links": links,
        "fill": fill,
        "setup_s": round(setup, 1),
    }
    if args.verify:
        verify_s, report = timed(ledger.verify)
        print(f"  ledger verify: ok={report.ok}, signed={report.signed}, {report.checked:,} events checked "
              f"({verify_s:.0f} s)", flush=True)  # fmt: skip
        assert report.ok, f"the filled ledger must verify: {report.problem} (seq {report.bad_seq})"
        out["verify"] = {"ok": report.ok, "signed": report.signed, "checked": report.checked}

    build_s, _ = timed(lambda: rollup.refresh(engine, policy))
    print(f"  build (first report, once): {build_s:.1f} s", flush=True)
    full_s, full = timed(lambda: replay.tally(engine, policy, [AT]))
    print(f"  full recomputation: {full_s:.1f} s", flush=True)
    assert rollup.tally(engine, policy, [AT]) == full, "the rollup must equal the full recomputation"

    report_runs = [timed(lambda: consent_rates(engine, policy, at=AT))[0] for _ in range(args.repeat)]
    print(
        f"  report, nothing new: {statistics.median(report_runs):.3f} s (median of {args.repeat})", flush=True
    )

    incremental_runs = []
    for r in range(args.repeat):
        first = people + r * args.new
        fresh = make_events(
            policy, args.new // args.per_person or 1, args.per_person, seed=10**6 + r, first=first
        )
        late = make_events(policy, args.new // 3, 1, seed=2 * 10**6 + r)  # existing people, about the past
        ledger.append(fresh + late)
        # 20 links that merge two existing people each (user-a becomes an alias of user-b).
        pick = random.Random(r).sample(range(1, people), 40)
        merges = [(f"user-{a:08d}", f"user-{b:08d}") for a, b in zip(pick[::2], pick[1::2], strict=True)]
        link_rows(ledger, merges)
        chained_link(ledger, f"device-{r}", "user-00000000")
        s, _ = timed(lambda: consent_rates(engine, policy, at=AT))
        incremental_runs.append(s)
    incremental = statistics.median(incremental_runs)
    print(f"  incremental report after {args.new:,} new events and 20 links: {incremental:.3f} s "
          f"(runs {', '.join(f'{x:.3f}' for x in incremental_runs)})", flush=True)  # fmt: skip
    check_s, full_after = timed(lambda: replay.tally(engine, policy, [AT]))
    assert rollup.tally(engine, policy, [AT]) == full_after, "the refreshed rollup must equal a recomputation"

    series_s, report = timed(
        lambda: consent_rates(engine, policy, start=datetime(2025, 9, 1, tzinfo=UTC),
                              end=datetime(2026, 9, 1, tzinfo=UTC), interval="day")
    )  # fmt: skip
    print(f"  series by day over a year ({len(report.rows):,} rows): {series_s:.2f} s", flush=True)
    ledger.close()
    out.update(
        {
            "build_s": round(build_s, 2),
            "full_s": round(full_s, 2),
            "full_after_s": round(check_s, 2),
            "report_s": round(statistics.median(report_runs), 3),
            "incremental_s": round(incremental, 3),
            "incremental_runs": [round(x, 3) for x in incremental_runs],
            "series_s": round(series_s, 2),
            "full_over_incremental": round(full_s / incremental, 1),
        }
    )
    ratio = out["full_over_incremental"]
    print(f"  {label}: full {full_s:.1f} s / incremental {incremental:.3f} s = {ratio}x", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--per-person", type=int, default=10)
    ap.add_argument("--new", type=int, default=1_000, help="events added before each incremental report")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument(
        "--fill",
        choices=["auto", "append", "copy"],
        default="auto",
        help="how the ledger is filled: Ledger.append, or its transaction body with the event rows "
        "loaded by COPY (benchmarks/copy_append.py, PostgreSQL only); auto: copy on PostgreSQL",
    )
    ap.add_argument(
        "--verify", action="store_true", help="run the ledger's chain verification after the fill"
    )
    ap.add_argument("--signed", action="store_true", help="a ledger key: every append seals the heads")
    ap.add_argument(
        "--ledger-url",
        help="use this ledger, filled by an earlier run with the same --events and --per-person, instead "
        "of a new one (its rollup is discarded first; --db is ignored)",
    )
    ap.add_argument("--progress", action="store_true", help="print the fill's progress every million events")
    args = ap.parse_args()
    results: dict[str, Any] = {
        "command": " ".join(["python", "benchmarks/reports.py", *sys.argv[1:]]),
        "cpus": os.cpu_count(),
    }
    if args.ledger_url:
        label = "PostgreSQL" if args.ledger_url.startswith("postgresql") else "SQLite"
        results[label.lower()] = run(args.ledger_url, label, args)
        print(json.dumps(results, indent=2))
        return
    with tempfile.TemporaryDirectory(prefix="cg-reports-", dir=args.workdir) as tmp:
        if args.db in ("sqlite", "both"):
            results["sqlite"] = run(str(Path(tmp) / "ledger.db"), "SQLite", args)
        if args.db in ("postgresql", "both"):
            with postgres() as pg_url:
                if pg_url is not None:
                    results["postgresql"] = run(pg_url, "PostgreSQL", args)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
