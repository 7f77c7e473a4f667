"""Snapshots: one row per identifier with the decision function's answer; incremental == full."""

from __future__ import annotations

import contextlib
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import delete

from consentgate.decide import Query
from consentgate.errors import BadInput, QueryError
from consentgate.ledger import schema as t
from consentgate.ledger.store import Ledger
from consentgate.pipeline import SNAPSHOT_SCHEMA, Snapshot, build_snapshot, snapshot_table
from consentgate.pipeline.snapshot import META_KEY
from consentgate.policy import Policy, parse_policy_text
from consentgate.service import ConsentService

from .conftest import AT, POLICY, ev


def same(a: Snapshot, b: Snapshot) -> None:
    """Equal tables (rows, decisions, reasons, evidence, valid_until) reflecting the same state."""
    assert a.table.to_pylist() == b.table.to_pylist()
    for field in (
        "purpose",
        "at",
        "head_seq",
        "head_hash",
        "policy_fingerprint",
        "default_allowed",
        "persons",
    ):
        assert getattr(a.meta, field) == getattr(b.meta, field), field


def agrees(snap: Snapshot, svc: ConsentService, purpose: str, at: datetime) -> None:
    """Each row is the decision function's answer for its identifier (aliases resolved)."""
    keys = snap.table.column("key").to_pylist()
    decisions = svc.decide_many([Query(k, purpose, at) for k in keys])
    got = [
        (r["key"], r["allowed"], r["basis"], r["region"], r["reason"], r["evidence_event"])
        for r in snap.table.to_pylist()
    ]
    want = [
        (k, d.allowed, d.basis, d.region, d.reason, d.evidence_event)
        for k, d in zip(keys, decisions, strict=True)
    ]
    assert got == want


def test_one_row_per_identifier_with_the_persons_decision(policy: Policy, populated: ConsentService) -> None:
    snap = build_snapshot(policy, populated.ledger, "train_chat", AT)
    by_key = {r["key"]: r for r in snap.table.to_pylist()}
    assert set(by_key) == {
        "alice", "cookie-alice", "bob", "dave", "frank", "hal", "erin", "carol", "ken", "lee", "mia",
        "cookie-mia",
    }  # fmt: skip
    for key, row in by_key.items():
        d = populated.decide(key, "train_chat", AT)
        assert (row["allowed"], row["basis"], row["region"], row["reason"], row["evidence_event"]) == (
            d.allowed, d.basis, d.region, d.reason, d.evidence_event,
        ), key  # fmt: skip
    # The alias carries its person's decision and names the same person.
    assert by_key["cookie-alice"]["person"] == by_key["alice"]["person"] == "alice"
    assert by_key["cookie-alice"]["allowed"] is True
    # An allowed consent must be recomputed when it expires (30 days after the grant).
    assert by_key["alice"]["valid_until"] == datetime(2026, 7, 10, 9, 0, 0, 1, tzinfo=UTC)
    assert by_key["dave"]["valid_until"] is None  # a denial changes only through new events
    assert snap.table.schema.equals(SNAPSHOT_SCHEMA)
    head = populated.ledger.head()
    assert (snap.meta.head_seq, snap.meta.head_hash) == head
    assert snap.meta.default_allowed is False  # train_chat's "*" basis is consent
    assert build_snapshot(policy, populated.ledger, "train_optout", AT).meta.default_allowed is True


def test_parquet_file_carries_the_metadata(tmp_path: Path, policy: Policy, populated: ConsentService) -> None:
    snap = build_snapshot(policy, populated.ledger, "train_chat", AT)
    path = tmp_path / "snap.parquet"
    snap.write(path)
    raw = pq.read_schema(path).metadata[META_KEY]
    assert b'"head_hash"' in raw
    assert b'"policy_fingerprint"' in raw
    back = Snapshot.read(path)
    same(back, snap)
    table = snapshot_table(policy, populated.ledger, "train_chat", AT)
    assert META_KEY in table.schema.metadata
    with pytest.raises(BadInput, match="no consentgate snapshot metadata"):
        Snapshot.from_table(pa.table({"key": ["a"]}))


def test_unknown_purpose_and_naive_time_are_refused(policy: Policy, ledger: Ledger) -> None:
    with pytest.raises(QueryError, match="unknown purpose"):
        build_snapshot(policy, ledger, "nope", AT)
    with pytest.raises(QueryError, match="time zone"):
        build_snapshot(policy, ledger, "train_chat", datetime(2026, 6, 1))


def test_incremental_reads_only_new_events_and_matches_a_full_rebuild(
    policy: Policy, populated: ConsentService
) -> None:
    led = populated.ledger
    first = build_snapshot(policy, led, "train_chat", AT)
    populated.record(
        [ev("dave", "grant", "2026-06-15T00:00:00Z"), ev("newbie", "grant", "2026-06-16T00:00:00Z")],
        strict=False,
    )
    populated.link("cookie-dave", "dave", "cookie_id")
    later = AT + timedelta(hours=1)
    inc = build_snapshot(policy, led, "train_chat", later, previous=first)
    assert inc.meta.built == "incremental"
    assert inc.meta.recomputed_persons == 2  # dave (new event and alias) and newbie
    same(inc, build_snapshot(policy, led, "train_chat", later))
    keys = dict(
        zip(inc.table.column("key").to_pylist(), inc.table.column("allowed").to_pylist(), strict=True)
    )
    assert keys["cookie-dave"] is True
    assert keys["newbie"] is True


def test_expiry_flips_a_decision_without_any_new_event(policy: Policy, populated: ConsentService) -> None:
    led = populated.ledger
    before = build_snapshot(policy, led, "train_chat", datetime(2026, 7, 10, 9, tzinfo=UTC))
    after_at = datetime(2026, 7, 10, 9, 0, 1, tzinfo=UTC)  # one second past alice's 30 days
    inc = build_snapshot(policy, led, "train_chat", after_at, previous=before)
    full = build_snapshot(policy, led, "train_chat", after_at)
    same(inc, full)
    alice = next(r for r in inc.table.to_pylist() if r["key"] == "alice")
    before_alice = next(r for r in before.table.to_pylist() if r["key"] == "alice")
    assert before_alice["allowed"] is True
    assert alice["allowed"] is False
    assert "expired" in alice["reason"]
    assert inc.meta.recomputed_persons == 1  # only alice was due


def test_reconsent_effective_date_flips_old_grants(ledger: Ledger, policy: Policy) -> None:
    svc = ConsentService(policy, ledger)
    svc.record([ev("bob", "grant", "2026-05-20T09:00:00Z")], strict=False)
    may = build_snapshot(policy, ledger, "train_chat", datetime(2026, 5, 25, tzinfo=UTC))
    assert may.table.column("allowed").to_pylist() == [True]
    # valid_until = the moment v2 (reconsent: true) takes effect.
    assert may.table.column("valid_until").to_pylist() == [datetime(2026, 6, 1, tzinfo=UTC)]
    june = datetime(2026, 6, 1, tzinfo=UTC)
    inc = build_snapshot(policy, ledger, "train_chat", june, previous=may)
    same(inc, build_snapshot(policy, ledger, "train_chat", june))
    assert inc.table.column("allowed").to_pylist() == [False]


def test_events_dated_in_the_future_come_due(ledger: Ledger, policy: Policy) -> None:
    svc = ConsentService(policy, ledger)
    svc.record([ev("ivy", "grant", "2026-07-01T00:00:00Z")], strict=False, allow_future=True)
    june = build_snapshot(policy, ledger, "train_chat", AT)
    assert june.table.column("allowed").to_pylist() == [False]
    july = datetime(2026, 7, 2, tzinfo=UTC)
    inc = build_snapshot(policy, ledger, "train_chat", july, previous=june)
    same(inc, build_snapshot(policy, ledger, "train_chat", july))
    assert inc.table.column("allowed").to_pylist() == [True]


def test_an_unlinked_alias_leaves_its_old_person(policy: Policy, populated: ConsentService) -> None:
    led = populated.ledger
    first = build_snapshot(policy, led, "train_chat", AT)
    with led.engine.begin() as conn:  # the admin repair store/aliases.py documents
        conn.execute(delete(t.aliases).where(t.aliases.c.alias == "cookie-alice"))
    inc = build_snapshot(policy, led, "train_chat", AT, previous=first)
    same(inc, build_snapshot(policy, led, "train_chat", AT))
    assert "cookie-alice" not in inc.table.column("key").to_pylist()


def test_a_changed_policy_or_an_earlier_time_rebuilds_fully(
    policy: Policy, populated: ConsentService
) -> None:
    led = populated.ledger
    first = build_snapshot(policy, led, "train_chat", AT)
    changed = parse_policy_text(
        POLICY.read_text().replace("max_age_days: 30", "max_age_days: 5"), file="p.yaml"
    )
    rebuilt = build_snapshot(changed, led, "train_chat", AT, previous=first)
    assert rebuilt.meta.built == "full"
    assert rebuilt.meta.rebuild_reason is not None
    assert "policy changed" in rebuilt.meta.rebuild_reason
    same(rebuilt, build_snapshot(changed, led, "train_chat", AT))
    earlier = build_snapshot(policy, led, "train_chat", AT - timedelta(days=1), previous=first)
    assert earlier.meta.built == "full"
    with pytest.raises(BadInput, match="previous snapshot is for purpose"):
        build_snapshot(policy, led, "train_optout", AT, previous=first)


def test_a_snapshot_of_another_ledger_is_not_updated_from(tmp_path: Path, policy: Policy) -> None:
    one = Ledger.open(str(tmp_path / "one.db"))
    two = Ledger.open(str(tmp_path / "two.db"))
    try:
        ConsentService(policy, one).record([ev("a", "grant", "2026-06-10T00:00:00Z")], strict=False)
        ConsentService(policy, two).record([ev("b", "grant", "2026-06-10T00:00:00Z")], strict=False)
        snap = build_snapshot(policy, one, "train_chat", AT)
        other = build_snapshot(policy, two, "train_chat", AT, previous=snap)
        assert other.meta.built == "full"
        assert other.table.column("key").to_pylist() == ["b"]
    finally:
        one.close()
        two.close()


@pytest.mark.parametrize("seed", [1, 2, 3, 13])
def test_random_histories_incremental_always_equals_full(seed: int, ledger: Ledger, policy: Policy) -> None:
    """Random events (late, out of order, dated ahead), links and time steps across the expiry and
    re-consent boundaries: after every step the updated snapshot equals a full rebuild, and every
    row is the decision function's answer for its identifier."""
    rnd = random.Random(seed)
    svc = ConsentService(policy, ledger)
    people = [f"p{i}" for i in range(12)]
    actions = ["grant", "grant", "grant", "deny", "withdraw", "opt_out", "gpc", "erase"]
    at = datetime(2026, 5, 10, tzinfo=UTC)
    snaps = {p: build_snapshot(policy, ledger, p, at) for p in ("train_chat", "train_optout")}
    for _ in range(6):
        batch = []
        for _ in range(rnd.randint(0, 6)):
            action = rnd.choice(actions)
            when = at + timedelta(days=rnd.randint(-40, 15), hours=rnd.randint(0, 23))
            purpose = rnd.choice(["train_chat", "train_optout"])
            region = rnd.choice(["DE", "US-CA", "JP"])
            extra = {"signals": {"gpc": True}} if action == "gpc" else {}
            batch.append(
                ev(
                    rnd.choice(people),
                    action,
                    when.isoformat().replace("+00:00", "Z"),
                    purpose,
                    region=region,
                    **extra,
                )
            )
        if batch:
            svc.record(batch, strict=False, allow_future=True)
        if rnd.random() < 0.4:
            a, b = rnd.sample(people, 2)
            with contextlib.suppress(BadInput):  # already linked to someone else
                svc.link(f"cookie-{a}", b, "cookie_id")
        at += timedelta(days=rnd.randint(1, 20))
        for purpose, prev in list(snaps.items()):
            inc = build_snapshot(policy, ledger, purpose, at, previous=prev)
            assert inc.meta.built == "incremental"
            same(inc, build_snapshot(policy, ledger, purpose, at))
            agrees(inc, svc, purpose, at)
            snaps[purpose] = inc
