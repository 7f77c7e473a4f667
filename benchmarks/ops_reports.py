"""Banner outcomes and GPC share (issue 16) against a recount over every event, in the same run.

A ledger of banner clicks (one event per purpose of a click, as the banner posts them; one region
and one ``banner_choice`` per click) plus a ``gpc`` event for about a third of the visitors, on
SQLite and, where the binaries exist, on a throw-away PostgreSQL cluster. Per database:

* ``banner_outcomes`` and ``gpc_share`` over the whole period (the database groups and de-duplicates,
  Python reads the few distinct ``signals`` strings);
* the baseline: the straightforward recount, every event of the ledger read through
  ``Ledger.iter_events`` and counted in Python (de-duplicating clicks by identifier and time) — what
  the first version of the reports did.

Both must give the same counts (checked); the figures are the median of 3 runs each.

Run: .venv/bin/python benchmarks/ops_reports.py [--events 200000] [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, median, postgres, timed

from consentgate.ledger.store import Ledger
from consentgate.policy import Policy, load_policy
from consentgate.reports.banner import banner_outcomes, gpc_share
from consentgate.reports.periods import Period
from consentgate.service import ConsentService

POLICY = ROOT / "src" / "consentgate" / "policy" / "example.yaml"
PURPOSES = ("train_support_chatbot", "finetune_recommender", "product_analytics", "marketing")
START = datetime(2026, 9, 1, tzinfo=UTC)
PERIOD = Period(START, START + timedelta(days=61))


def fill(ledger: Ledger, policy: Policy, events: int) -> None:
    rnd = random.Random(16)
    service = ConsentService(policy, ledger)
    batch: list[tuple[str, dict[str, object]]] = []
    i = stored = 0
    while stored + len(batch) < events:
        subject = f"visitor-{i}"
        i += 1
        region = rnd.choice(("DE", "FR", "US-CA", "GB", "JP"))
        when = START + timedelta(seconds=rnd.randrange(86_400 * 60))
        if rnd.random() < 0.3:
            batch.append(
                (
                    "g",
                    {
                        "subject": subject,
                        "action": "gpc",
                        "region": region,
                        "source": "banner",
                        "occurred_at": when.isoformat(),
                        "signals": {"gpc": True, "via": "dom"},
                    },
                )
            )
        choice = rnd.choice(("accept_all", "reject_all", "custom"))
        for p in PURPOSES:
            batch.append(
                (
                    "c",
                    {
                        "subject": subject,
                        "action": "deny" if choice == "reject_all" else "grant",
                        "purposes": [p],
                        "region": region,
                        "source": "banner",
                        "occurred_at": (when + timedelta(seconds=1)).isoformat(),
                        "signals": {"banner_choice": choice},
                    },
                )
            )
        if len(batch) >= 20_000:
            service.record(batch, strict=False)
            stored += len(batch)
            batch = []
    if batch:
        service.record(batch, strict=False)


def recount(ledger: Ledger, policy: Policy) -> tuple[Counter[str], dict[str, int]]:
    """The baseline: every event read and counted in Python."""
    clicks: set[tuple[str, int]] = set()
    outcomes: Counter[str] = Counter()
    gpc: dict[str, set[str]] = defaultdict(set)
    start, end = PERIOD.start_us, PERIOD.end_us
    for e in ledger.iter_events():
        if not start <= e.occurred_us < end:
            continue
        if e.action.value == "gpc" and e.signals.get("gpc") is True:
            gpc[policy.region_group(e.region)].add(e.subject)
        elif e.source == "banner" and (e.subject, e.occurred_us) not in clicks:
            clicks.add((e.subject, e.occurred_us))
            outcomes[str(e.signals.get("banner_choice", "unattributed"))] += 1
    return outcomes, {g: len(ids) for g, ids in gpc.items()}


def measure(name: str, url: str, policy: Policy, events: int) -> None:
    with Ledger.open(url) as ledger:
        fill(ledger, policy, events)
        n = ledger.count()
        engine = ledger.engine
        ours = banner_outcomes(engine, policy, PERIOD)
        share = gpc_share(engine, policy, PERIOD)
        want_outcomes, want_gpc = recount(ledger, policy)
        got: Counter[str] = Counter()
        for row in ours["rows"]:
            got.update({k: row[k] for k in ("accept_all", "reject_all", "custom")})
        assert +got == +want_outcomes, (got, want_outcomes)
        assert {r["region"]: r["gpc_visitors"] for r in share["rows"] if r["gpc_visitors"]} == want_gpc
        t_banner = median(timed(lambda: banner_outcomes(engine, policy, PERIOD), repeat=3))
        t_gpc = median(timed(lambda: gpc_share(engine, policy, PERIOD), repeat=3))
        t_base = median(timed(lambda: recount(ledger, policy), repeat=3))
    print(
        f"{name}: {n} events, {sum(got.values())} clicks | banner_outcomes {t_banner:.2f} s, "
        f"gpc_share {t_gpc:.2f} s | baseline recount (both) {t_base:.2f} s "
        f"({t_base / t_banner:.1f}x banner_outcomes)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    policy = load_policy(POLICY)
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            measure("SQLite", str(Path(tmp) / "ledger.db"), policy, args.events)
    if args.db in ("postgresql", "both"):
        with postgres() as url:
            if url is not None:
                measure("PostgreSQL", url, policy, args.events)


if __name__ == "__main__":
    main()
