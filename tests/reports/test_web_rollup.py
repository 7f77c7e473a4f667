"""The banner-outcome and GPC-share rollup against the full recount (the oracle), on SQLite and
PostgreSQL: across incremental refreshes with new visitors, late events, alias links, GPC and
erasure, over periods that cut days anywhere; a policy whose regions change; concurrent refreshes;
a damaged rollup.

The recount (``recount_banner_outcomes`` / ``recount_gpc_share``) is itself checked against a count
of the generated submissions in test_banner_report.py.
"""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from itertools import pairwise

import pytest
from sqlalchemy import text

from consentgate.errors import TransientStorageError
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.policy.load import parse_policy_text
from consentgate.reports import web_rollup
from consentgate.reports.banner import (
    banner_outcomes,
    gpc_share,
    recount_banner_outcomes,
    recount_gpc_share,
)
from consentgate.reports.periods import Period
from consentgate.reports.rates import Interval
from consentgate.requests import RequestDesk
from consentgate.service import ConsentService
from consentgate.store import web_rollup as web_store
from tests.conftest import EXAMPLE_POLICY

from .ops_data import CHOICES, START, Submission, generate, record

SPAN = timedelta(days=45)


def periods(rng: random.Random, n: int) -> list[Period]:
    """Whole data span, aligned days, one day, a few minutes across midnight, and random cuts."""
    day = START + timedelta(days=3)
    fixed = [
        Period(START - timedelta(days=400), START + timedelta(days=400)),
        Period(START + timedelta(days=2), START + timedelta(days=20)),
        Period(day, day + timedelta(days=1)),
        Period(day + timedelta(hours=23, minutes=58), day + timedelta(days=1, minutes=3)),
        Period(day + timedelta(hours=5), day + timedelta(hours=9)),
    ]
    out = []
    for _ in range(n):
        a = START + timedelta(microseconds=rng.randrange(int(SPAN.total_seconds() * 10**6)))
        b = a + timedelta(microseconds=rng.randrange(1, int(SPAN.total_seconds() * 10**6)))
        out.append(Period(a, b))
    return fixed + out


def assert_same(ledger: Ledger, policy: Policy, rng: random.Random) -> None:
    for period in periods(rng, 8):
        for interval in Interval:
            want = recount_banner_outcomes(ledger.engine, policy, period, interval=interval)
            assert banner_outcomes(ledger.engine, policy, period, interval=interval) == want, period
        assert gpc_share(ledger.engine, policy, period) == recount_gpc_share(ledger.engine, policy, period)


def late(rng: random.Random, subjects: list[str], n: int) -> list[Submission]:
    """Submissions recorded now for people already in the ledger, dated before many recorded ones."""
    out = []
    for _ in range(n):
        subject = rng.choice(subjects)
        when = START + timedelta(days=rng.randrange(30), seconds=rng.randrange(86_400))
        region = rng.choice(("DE", "FR", "US-CA", "GB", None))
        if rng.random() < 0.3:
            out.append(Submission(subject, when, region, "banner", "gpc", (), {"gpc": rng.random() < 0.8}))
            continue
        choice = rng.choice(CHOICES)
        signals = {"banner_choice": choice} if choice else {}
        if rng.random() < 0.3:
            signals["gpc"] = True
        purposes = ("train_support_chatbot", "marketing")
        out.append(
            Submission(subject, when, region, rng.choice(("banner", "toggle")), "grant", purposes, signals)
        )
    return out


def test_the_rollup_equals_the_recount_across_refreshes(ledger_url: str, example_policy: Policy) -> None:
    rng = random.Random(16)
    policy = example_policy
    with Ledger.open(ledger_url) as ledger:
        assert_same(ledger, policy, rng)  # an empty ledger: no rows either way
        first = generate(seed=1, visitors=50)
        record(ledger, policy, first)
        assert_same(ledger, policy, rng)

        subjects = sorted({s.subject for s in first})
        record(ledger, policy, generate(seed=2, visitors=30) + late(rng, subjects, 25))
        svc = ConsentService(policy, ledger)
        for a, b in zip(subjects[:6:2], subjects[1:6:2], strict=True):
            svc.link(a, b, "account_id")  # links leave identifiers apart in both reports
        assert_same(ledger, policy, rng)

        desk = RequestDesk(svc, adapters={}, now=lambda: START + SPAN)
        for subject in rng.sample(subjects, 4):
            desk.complete(desk.file("erase", subject, verified_by="operator").request_id)
        assert_same(ledger, policy, rng)

        # Erased people come back under their old identifier, late, and more people arrive.
        record(ledger, policy, late(rng, subjects, 15) + generate(seed=3, visitors=10))
        assert_same(ledger, policy, rng)


def test_a_policy_with_other_regions_rebuilds_the_rollup(ledger_url: str, example_policy: Policy) -> None:
    moved = parse_policy_text(EXAMPLE_POLICY.read_text().replace("countries: [GB]", "countries: [GB, ZA]"))
    assert moved.region_group("ZA") != example_policy.region_group("ZA")
    period = Period(START, START + SPAN)
    with Ledger.open(ledger_url) as ledger:
        record(ledger, example_policy, generate(seed=4, visitors=60))
        for policy in (example_policy, moved, example_policy):
            assert gpc_share(ledger.engine, policy, period) == recount_gpc_share(
                ledger.engine, policy, period
            )
            assert banner_outcomes(ledger.engine, policy, period) == recount_banner_outcomes(
                ledger.engine, policy, period
            )


@pytest.mark.parametrize("locked_up_to", [web_rollup.LOCKED_UP_TO, 0])
def test_concurrent_refreshes_count_every_event_once(
    ledger_url: str, example_policy: Policy, locked_up_to: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three processes' worth of refreshes (each its own engine) while events keep arriving. With
    ``locked_up_to`` 0 every refresh reads outside the lock (as a first build or a bulk import does):
    one may then give up ("run the report again"), but none may count an event twice."""
    monkeypatch.setattr(web_rollup, "LOCKED_UP_TO", locked_up_to)
    policy = example_policy
    batches = [generate(seed=10 + i, visitors=8) for i in range(6)]
    errors: list[BaseException] = []
    done = threading.Event()

    def refresher() -> None:
        with Ledger.open(ledger_url) as own:
            while not done.is_set():
                try:
                    web_rollup.refresh(own.engine, policy)
                except TransientStorageError as exc:
                    if locked_up_to or "run the report again" not in str(exc):
                        errors.append(exc)
                except BaseException as exc:  # reported below: a thread's failure must fail the test
                    errors.append(exc)
                    return

    with Ledger.open(ledger_url) as ledger:
        record(ledger, policy, generate(seed=9, visitors=10))
        threads = [threading.Thread(target=refresher) for _ in range(3)]
        for th in threads:
            th.start()
        try:
            for batch in batches:
                record(ledger, policy, batch)
        finally:
            done.set()
            for th in threads:
                th.join()
        assert errors == []
        period = Period(START - timedelta(days=1), START + SPAN)
        assert gpc_share(ledger.engine, policy, period) == recount_gpc_share(ledger.engine, policy, period)
        assert banner_outcomes(ledger.engine, policy, period) == recount_banner_outcomes(
            ledger.engine, policy, period
        )


def test_a_damaged_rollup_is_refused_then_rebuilt(ledger_url: str, example_policy: Policy) -> None:
    period = Period(START, START + SPAN)
    with Ledger.open(ledger_url) as ledger:
        record(ledger, example_policy, generate(seed=5, visitors=40))
        want = recount_banner_outcomes(ledger.engine, example_policy, period)
        assert banner_outcomes(ledger.engine, example_policy, period) == want
        with ledger.engine.begin() as conn:
            conn.execute(text("UPDATE report_banner_days SET clicks = clicks - 1000"))
        with pytest.raises(TransientStorageError, match=r"inconsistent.*rebuilds it"):
            banner_outcomes(ledger.engine, example_policy, period)
        assert banner_outcomes(ledger.engine, example_policy, period) == want
        share = recount_gpc_share(ledger.engine, example_policy, period)
        assert gpc_share(ledger.engine, example_policy, period) == share
        with ledger.engine.begin() as conn:  # more GPC visitors than visitors, every count positive
            conn.execute(text("UPDATE report_web_days SET visits = visits + 1000 WHERE kind = 'gpc'"))
        with pytest.raises(TransientStorageError, match="more GPC visitors than visitors"):
            gpc_share(ledger.engine, example_policy, period)
        assert gpc_share(ledger.engine, example_policy, period) == share


def test_split_covers_the_period_exactly() -> None:
    """Whole days plus the cut parts tile [a, b), each part inside one day, for any a < b."""
    rng = random.Random(3)
    day = web_rollup.DAY_US
    for _ in range(2000):
        a = rng.randrange(-5 * day, 5 * day)
        b = a + rng.choice((1, rng.randrange(1, 3 * day), day, day - (a % day) or day))
        whole, parts = web_rollup.split(a, b)
        ranges = sorted([*parts, *([] if whole is None else [(whole[0] * day, whole[1] * day)])])
        assert ranges[0][0] == a
        assert ranges[-1][1] == b
        assert all(x[1] == y[0] for x, y in pairwise(ranges))
        assert all(lo // day == (hi - 1) // day for lo, hi in parts)


def test_a_refresh_with_nothing_new_writes_nothing(ledger_url: str, example_policy: Policy) -> None:
    with Ledger.open(ledger_url) as ledger:
        record(ledger, example_policy, generate(seed=6, visitors=20))
        head = web_rollup.refresh(ledger.engine, example_policy)
        with ledger.engine.connect() as conn:
            assert head == conn.execute(text("SELECT seq FROM ledger_head")).scalar_one()
            updated = conn.execute(text("SELECT updated_at FROM report_web_state")).scalar_one()
        assert web_rollup.refresh(ledger.engine, example_policy) == head
        with ledger.engine.connect() as conn:
            assert conn.execute(text("SELECT updated_at FROM report_web_state")).scalar_one() == updated


def test_a_large_build_uses_a_bigger_page_cache_then_gives_it_back(
    ledger_url: str, example_policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every write counts as large here: on SQLite the build runs with the bigger page cache, and the
    pooled connection that wrote it is back at the size it had (the pool hands it out again)."""
    monkeypatch.setattr(web_store, "_BIG_WRITE", 1)
    period = Period(START - timedelta(days=1), START + SPAN)
    rng = random.Random(21)
    with Ledger.open(ledger_url) as ledger:
        with ledger.engine.connect() as conn:
            cache = (
                conn.exec_driver_sql("PRAGMA cache_size").scalar() if conn.dialect.name == "sqlite" else None
            )
        first = generate(seed=7, visitors=40)
        record(ledger, example_policy, first)
        assert_same(ledger, example_policy, rng)  # the first build: every row in one large write
        record(ledger, example_policy, late(rng, sorted({s.subject for s in first}), 20))
        assert gpc_share(ledger.engine, example_policy, period) == recount_gpc_share(
            ledger.engine, example_policy, period
        )
        if cache is not None:
            with ledger.engine.connect() as conn:  # the pool holds one connection while idle
                assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == cache
