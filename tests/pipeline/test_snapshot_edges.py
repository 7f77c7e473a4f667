"""The snapshot's bulk decision path at its edges: instants exactly at ``at``, alias chains, splits
that change a person's decision, unsorted previous tables, and why an update rebuilds.

Every snapshot here is also compared with the pure decision function row by row (``agrees``) or
with a full rebuild (``same``), so a row that merely exists is not mistaken for a right one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import delete

from consentgate.errors import BadInput, QueryError
from consentgate.ledger import schema as t
from consentgate.ledger.store import Ledger
from consentgate.pipeline import Snapshot, build_snapshot
from consentgate.policy import Policy, parse_policy_text
from consentgate.service import ConsentService

from .conftest import AT, POLICY, ev
from .test_snapshot import agrees, same

US = timedelta(microseconds=1)
V2_EFFECTIVE = datetime(2026, 6, 1, tzinfo=UTC)  # tests/pipeline/policy.yaml: ai v2, reconsent: true


def unlink(service: ConsentService, alias: str) -> None:
    """Remove a link: the admin repair store/aliases.py documents (there is no API for it)."""
    with service.ledger.engine.begin() as conn:
        conn.execute(delete(t.aliases).where(t.aliases.c.alias == alias))


def rows(snap: Snapshot) -> dict[str, dict[str, object]]:
    return {r["key"]: r for r in snap.table.to_pylist()}


def test_an_event_exactly_at_at_is_decided_now_not_again_later(
    service: ConsentService, policy: Policy
) -> None:
    service.record([ev("ann", "deny", "2026-06-20T00:00:00Z")], strict=False)
    snap = build_snapshot(policy, service.ledger, "train_chat", AT)
    row = rows(snap)["ann"]
    assert (row["allowed"], row["valid_until"]) == (False, None)
    # One microsecond before, the same event is still to come: that is when to decide again.
    early = build_snapshot(policy, service.ledger, "train_chat", AT - US)
    assert rows(early)["ann"]["valid_until"] == AT


def test_a_grant_that_has_just_expired_is_a_stable_denial(service: ConsentService, policy: Policy) -> None:
    service.record([ev("ann", "grant", "2026-06-10T09:00:00Z")], strict=False)
    expiry = datetime(2026, 7, 10, 9, 0, 0, 1, tzinfo=UTC)  # 30 days and one microsecond later
    before = rows(build_snapshot(policy, service.ledger, "train_chat", expiry - US))["ann"]
    assert (before["allowed"], before["valid_until"]) == (True, expiry)
    after = rows(build_snapshot(policy, service.ledger, "train_chat", expiry))["ann"]
    assert (after["allowed"], after["valid_until"]) == (False, None)
    assert "expired after 30 days" in str(after["reason"])


def test_a_material_change_already_in_force_is_no_longer_a_reason_to_recompute(
    service: ConsentService, policy: Policy
) -> None:
    service.record([ev("ann", "grant", "2026-06-01T00:00:00Z")], strict=False)  # a v2 grant
    row = rows(build_snapshot(policy, service.ledger, "train_chat", V2_EFFECTIVE))["ann"]
    assert row["allowed"] is True
    assert row["valid_until"] == V2_EFFECTIVE + timedelta(days=30) + US  # its expiry, not v2's start


def test_a_chain_of_aliases_is_one_person(service: ConsentService, policy: Policy) -> None:
    """An alias of an alias: the links are not star-shaped, so groups come from union-find."""
    service.record(
        [ev("zoe", "grant", "2026-06-10T09:00:00Z"), ev("yan", "deny", "2026-06-10T09:00:00Z")], strict=False
    )
    service.link("device-zoe", "zoe", "device_id")
    service.link("cookie-zoe", "device-zoe", "cookie_id")
    service.link("cookie-yan", "yan", "cookie_id")
    snap = build_snapshot(policy, service.ledger, "train_chat", AT)
    by_key = rows(snap)
    assert {k: (r["person"], r["allowed"]) for k, r in by_key.items()} == {
        "cookie-zoe": ("cookie-zoe", True),
        "device-zoe": ("cookie-zoe", True),
        "zoe": ("cookie-zoe", True),
        "cookie-yan": ("cookie-yan", False),
        "yan": ("cookie-yan", False),
    }
    assert snap.meta.persons == 2
    agrees(snap, service, "train_chat", AT)


def test_linking_two_known_people_regroups_them_without_new_events(
    service: ConsentService, policy: Policy
) -> None:
    service.record(
        [ev("amy", "grant", "2026-06-10T09:00:00Z"), ev("zed", "withdraw", "2026-06-11T09:00:00Z")],
        strict=False,
    )
    first = build_snapshot(policy, service.ledger, "train_chat", AT)
    assert rows(first)["amy"]["allowed"] is True
    service.link("zed", "amy", "account_id")
    inc = build_snapshot(policy, service.ledger, "train_chat", AT, previous=first)
    same(inc, build_snapshot(policy, service.ledger, "train_chat", AT))
    assert {k: (r["person"], r["allowed"]) for k, r in rows(inc).items()} == {
        "amy": ("amy", False),
        "zed": ("amy", False),
    }
    agrees(inc, service, "train_chat", AT)


def test_removing_the_alias_that_carried_the_grant_re_decides_the_person(
    service: ConsentService, policy: Policy
) -> None:
    service.record([ev("cookie-bea", "grant", "2026-06-10T09:00:00Z")], strict=False)
    service.link("cookie-bea", "bea", "cookie_id")
    first = build_snapshot(policy, service.ledger, "train_chat", AT)
    assert {k: r["allowed"] for k, r in rows(first).items()} == {"bea": True, "cookie-bea": True}
    unlink(service, "cookie-bea")
    inc = build_snapshot(policy, service.ledger, "train_chat", AT, previous=first)
    same(inc, build_snapshot(policy, service.ledger, "train_chat", AT))
    # bea has no events of her own: the person no longer exists in the ledger without the link.
    assert {k: (r["person"], r["allowed"]) for k, r in rows(inc).items()} == {
        "cookie-bea": ("cookie-bea", True)
    }


def test_an_eventless_alias_that_sorts_first_does_not_hide_the_others(
    service: ConsentService, policy: Policy
) -> None:
    service.record([ev("zoe", "grant", "2026-06-10T09:00:00Z")], strict=False)
    service.link("a-cookie", "zoe", "cookie_id")
    first = build_snapshot(policy, service.ledger, "train_chat", AT)
    unlink(service, "a-cookie")
    service.record([ev("zoe", "withdraw", "2026-06-15T09:00:00Z")], strict=False)
    inc = build_snapshot(policy, service.ledger, "train_chat", AT, previous=first)
    same(inc, build_snapshot(policy, service.ledger, "train_chat", AT))
    assert {k: (r["person"], r["allowed"]) for k, r in rows(inc).items()} == {"zoe": ("zoe", False)}


def test_an_unsorted_previous_table_is_sorted_even_when_nothing_changed(
    policy: Policy, populated: ConsentService
) -> None:
    first = build_snapshot(policy, populated.ledger, "train_chat", AT)
    backwards = Snapshot(first.table.take(pa.array(range(len(first) - 1, -1, -1))), first.meta)
    inc = build_snapshot(policy, populated.ledger, "train_chat", AT, previous=backwards)
    assert (inc.meta.built, inc.meta.recomputed_persons) == ("incremental", 0)
    assert inc.table.to_pylist() == first.table.to_pylist()


def test_an_update_at_the_same_instant_is_incremental_and_recomputes_nobody(
    policy: Policy, populated: ConsentService
) -> None:
    first = build_snapshot(policy, populated.ledger, "train_chat", AT)
    again = build_snapshot(policy, populated.ledger, "train_chat", AT, previous=first)
    assert (again.meta.built, again.meta.recomputed_persons, again.meta.rebuild_reason) == (
        "incremental",
        0,
        None,
    )
    assert again.meta.persons == first.meta.persons
    same(again, first)


def test_each_reason_for_a_full_rebuild_is_named(
    policy: Policy, populated: ConsentService, tmp_path: Path
) -> None:
    led = populated.ledger
    first = build_snapshot(policy, led, "train_chat", AT)
    changed = parse_policy_text(POLICY.read_text().replace("max_age_days: 30", "max_age_days: 31"))
    rebuilt = build_snapshot(changed, led, "train_chat", AT, previous=first)
    assert (rebuilt.meta.built, rebuilt.meta.rebuild_reason) == (
        "full",
        "the policy changed since the previous snapshot",
    )
    earlier = build_snapshot(policy, led, "train_chat", AT - US, previous=first)
    assert (earlier.meta.built, earlier.meta.rebuild_reason) == (
        "full",
        "'at' is earlier than the previous snapshot's",
    )
    other = Ledger.open(str(tmp_path / "other.db"))
    try:
        ConsentService(policy, other).record([ev("solo", "grant", "2026-06-10T09:00:00Z")], strict=False)
        shorter = build_snapshot(policy, other, "train_chat", AT, previous=first)
        assert (shorter.meta.built, shorter.meta.rebuild_reason) == (
            "full",
            "the ledger is shorter than the previous snapshot's head",
        )
        mine = build_snapshot(policy, other, "train_chat", AT)
        ConsentService(policy, other).record([ev("solo", "deny", "2026-06-11T09:00:00Z")], strict=False)
        assert build_snapshot(policy, other, "train_chat", AT, previous=mine).meta.rebuild_reason is None
        moved = build_snapshot(policy, led, "train_chat", AT, previous=mine)  # same length, other chain
        assert moved.meta.rebuild_reason == (
            "the ledger no longer holds the previous snapshot's head (another ledger, or rewritten)"
        )
    finally:
        other.close()


def test_errors_name_the_purpose(policy: Policy, populated: ConsentService) -> None:
    with pytest.raises(QueryError) as err:
        build_snapshot(policy, populated.ledger, "mine_crypto", AT)
    assert str(err.value) == "unknown purpose 'mine_crypto'; the policy declares: train_chat, train_optout"
    assert err.value.purpose == "mine_crypto"
    first = build_snapshot(policy, populated.ledger, "train_chat", AT)
    with pytest.raises(BadInput) as bad:
        build_snapshot(policy, populated.ledger, "train_optout", AT, previous=first)
    assert err.type is QueryError
    assert bad.value.purpose == "train_optout"


def test_without_at_the_snapshot_is_of_now(policy: Policy, populated: ConsentService) -> None:
    before = datetime.now(UTC)
    snap = build_snapshot(policy, populated.ledger, "train_chat")
    assert before <= snap.meta.at <= datetime.now(UTC)
    agrees(snap, populated, "train_chat", snap.meta.at)
