"""The full snapshot build decides on Arrow columns (pipeline/bulk.py); the pure function stays the
definition. On random ledgers every row must be ``decide``'s answer for its identifier, with the
person's events gathered here from the links (not by the snapshot's own grouping), and the whole
table (``valid_until`` included) must equal the per-person build it replaced.
"""

from __future__ import annotations

import random
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from consentgate.decide import at_micros, decide
from consentgate.ledger import schema as t
from consentgate.ledger.erasure import pseudonymise
from consentgate.ledger.events import Action, NewEvent
from consentgate.ledger.store import Ledger
from consentgate.pipeline import Snapshot, build_snapshot
from consentgate.pipeline import snapshot as snapshot_module
from consentgate.policy import Policy, parse_policy_text
from consentgate.store.secrets import erasure_key

# Every basis, a region without "*" fallback basis, GPC honoured in one region only, a notice with
# a material change before and one after most instants asked about, a second notice.
POLICY_TEXT = """\
version: 1
organization: {name: Example Support Ltd, contact: privacy@example.com}
regions:
  EU: {countries: [DE, FR], honour_gpc: false}
  CA: {countries: [US-CA], honour_gpc: true}
  US: {countries: [US], honour_gpc: false}
purposes:
  - id: chat
    title: Train the support chatbot
    kind: ai_training
    notice: ai
    max_age_days: 20
    basis: {EU: consent, CA: opt_out, US: legitimate_interest, "*": consent}
  - id: rank
    title: Improve ranking models
    kind: ai_training
    notice: ai
    basis: {EU: not_allowed, CA: opt_out, US: contract, "*": opt_out}
  - id: tune
    title: Fine-tune models
    kind: fine_tuning
    notice: other
    basis: {EU: consent, CA: opt_out}
notices:
  - id: ai
    purposes: [chat, rank]
    versions:
      - {version: 1, effective_from: "2026-01-01T00:00:00Z", text: {en: "v1"}}
      - {version: 2, effective_from: "2026-03-01T00:00:00Z", reconsent: false, text: {en: "v2"}}
      - {version: 3, effective_from: "2026-05-01T00:00:00Z", reconsent: true, text: {en: "v3"}}
      - {version: 4, effective_from: "2026-07-01T00:00:00Z", reconsent: true, text: {en: "v4"}}
  - id: other
    purposes: [tune]
    versions:
      - {version: 1, effective_from: "2026-01-01T00:00:00Z", text: {en: "o1"}}
sources:
  - {id: chats, kind: chat_transcripts, purposes: [chat], personal: true}
"""
PURPOSES = ("chat", "rank", "tune")
IDS = ("ann", "ben", "cat", "dan", "eve")
ALIASES = ("cookie-1", "cookie-2", "device-1", "ann", "ben")
START = datetime(2026, 1, 1, tzinfo=UTC)
ZONES = (UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30)))
AT_CHOICES = (
    datetime(2026, 4, 30, 23, 59, tzinfo=UTC),
    datetime(2026, 5, 1, tzinfo=UTC),  # the instant v3 (material) takes effect
    datetime(2026, 6, 15, 12, tzinfo=UTC),
    datetime(2026, 9, 1, tzinfo=UTC),  # after v4: every grant made before it needs asking again
)

INSTANTS = sorted(
    {START + timedelta(days=d) for d in (0, 30, 95, 130, 200)}
    | set(AT_CHOICES)
    | {at - timedelta(days=20) for at in AT_CHOICES}
)


def policy() -> Policy:
    return parse_policy_text(POLICY_TEXT)


@st.composite
def events(draw: st.DrawFn) -> NewEvent:
    action = draw(st.sampled_from([*Action, Action.GRANT, Action.GRANT, Action.GRANT]))  # grants: most rules
    # Few distinct instants, so ties on occurred_at are common (ordering then goes by recording),
    # and the edges: exactly at ``at``, and exactly max_age_days (20) before it.
    when = draw(st.sampled_from(INSTANTS)) + timedelta(minutes=draw(st.sampled_from([0, 0, 1])))
    when = (when + timedelta(microseconds=draw(st.sampled_from([0, 0, 250])))).astimezone(
        draw(st.sampled_from(ZONES))
    )
    fields: dict[str, Any] = {
        "region": draw(st.sampled_from([None, "DE", "US-CA", "US", "US-NY", "JP"])),
    }
    if action in (Action.GPC, Action.ERASE):
        if action is Action.GPC:
            fields["signals"] = draw(
                st.sampled_from([{"gpc": True}, {"gpc": False}, {"gpc": True, "ua": "x"}])
            )
    else:
        fields["purpose"] = draw(st.sampled_from([*PURPOSES, "unrelated"]))
        if action is Action.GRANT:
            fields["notice_id"] = draw(st.sampled_from(["ai", "ai", "other", None, "retired"]))
            fields["notice_version"] = draw(st.sampled_from(["1", "2", "3", "4", "4", "4", None, "9"]))
    return NewEvent(draw(st.sampled_from(IDS)), action, when, **fields)


links_strategy = st.dictionaries(st.sampled_from(ALIASES), st.sampled_from(IDS), max_size=4)


def persons(ledger: Ledger) -> dict[str, set[str]]:
    """Identifier → every identifier of its person, from the alias rows (a plain fixed point)."""
    with ledger.engine.connect() as conn:
        links = [(str(a), str(s)) for a, s in conn.execute(t.aliases.select().with_only_columns(
            t.aliases.c.alias, t.aliases.c.subject))]  # fmt: skip
    group: dict[str, set[str]] = defaultdict(set)
    for a, s in links:
        group[a].update({a, s})
        group[s].update({a, s})
    changed = True
    while changed:
        changed = False
        for ident, members in group.items():
            merged = set().union(*(group[m] for m in members))
            if merged != members:
                group[ident] = merged
                changed = True
    return group


def check(snap: Snapshot, ledger: Ledger, pol: Policy, purpose: str, at: datetime) -> None:
    """Each row is ``decide``'s answer, and the table is the per-person build's, exactly."""
    group = persons(ledger)
    by_subject = defaultdict(list)
    for ev in ledger.iter_events():
        by_subject[ev.subject].append(ev)
    expected_keys = {s for s in by_subject if not s.startswith("erased:")} | set(group)
    rows = snap.table.to_pylist()
    assert [r["key"] for r in rows] == sorted(expected_keys)
    for row in rows:
        members = group.get(row["key"], {row["key"]})
        evs = [e for m in members for e in by_subject.get(m, ())]
        d = decide(pol, evs, row["key"], purpose, at)
        got = (row["allowed"], row["basis"], row["region"], row["reason"], row["evidence_event"])
        assert got == (d.allowed, d.basis, d.region, d.reason, d.evidence_event), row["key"]
        assert row["person"] == min(members)
    ctx = snapshot_module._Context(
        pol, pol.require_purpose(purpose), at, at_micros(at, {}), snapshot_module.policy_fingerprint(pol)
    )
    reference = snapshot_module._full_per_person(ledger, ctx)
    assert snap.table.to_pylist() == reference.table.to_pylist()
    assert snap.meta.persons == reference.meta.persons


def fill(ledger: Ledger, evs: Sequence[NewEvent], links: dict[str, str]) -> None:
    for ev in evs:  # one append each: recorded_at and seq then follow the list's order
        ledger.append([ev])
    rows = [
        {"alias": a, "subject": s, "kind": "cookie_id", "linked_at": START.isoformat()}
        for a, s in links.items()
        if a != s
    ]
    if rows:
        with ledger.engine.begin() as conn:
            conn.execute(insert(t.aliases), rows)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    evs=st.lists(events(), max_size=14),
    links=links_strategy,
    at=st.sampled_from(AT_CHOICES),
)
def test_the_bulk_build_is_the_pure_function_on_random_ledgers(
    evs: list[NewEvent], links: dict[str, str], at: datetime
) -> None:
    pol = policy()
    with tempfile.TemporaryDirectory(prefix="cg-bulk-") as tmp:
        ledger = Ledger.open(str(Path(tmp) / "ledger.db"))
        try:
            fill(ledger, evs, links)
            for purpose in PURPOSES:
                check(build_snapshot(pol, ledger, purpose, at), ledger, pol, purpose, at)
        finally:
            ledger.close()


def test_a_larger_random_ledger_with_an_erasure_on_both_databases(ledger_url: str) -> None:
    """Hundreds of people, every kind of event, links, and one person erased for real (their
    identifiers pseudonymised): the bulk build must still be the pure function, on each database."""
    rnd = random.Random(20)
    pol = policy()
    names = [f"user-{i:04d}@example.com" for i in range(300)]
    drawn = [_random_event(rnd, names) for _ in range(900)]
    ledger = Ledger.open(ledger_url)
    try:
        for start in range(0, len(drawn), 100):
            ledger.append(drawn[start : start + 100])
        links = {f"cookie-{i:03d}": rnd.choice(names) for i in range(60)}
        links.update({f"device-{i:03d}": f"cookie-{rnd.randrange(60):03d}" for i in range(20)})  # chains
        fill(ledger, [], links)
        with ledger.engine.begin() as conn:
            pseudonymise(conn, erasure_key(ledger.engine), {names[0], "cookie-000"})
        for at in AT_CHOICES[1:3]:
            for purpose in PURPOSES:
                check(build_snapshot(pol, ledger, purpose, at), ledger, pol, purpose, at)
    finally:
        ledger.close()


def _random_event(rnd: random.Random, names: list[str]) -> NewEvent:
    action = rnd.choice(list(Action))
    when = (START + timedelta(days=rnd.randint(0, 240), seconds=rnd.randint(0, 3), microseconds=rnd.choice(
        [0, 7]))).astimezone(rnd.choice(ZONES))  # fmt: skip
    fields: dict[str, Any] = {"region": rnd.choice([None, "DE", "US-CA", "US", "JP"])}
    if action is Action.GPC:
        fields["signals"] = {"gpc": rnd.random() < 0.7}
    elif action is not Action.ERASE:
        fields["purpose"] = rnd.choice(PURPOSES)
        if action is Action.GRANT:
            fields["notice_id"] = rnd.choice(["ai", "ai", "ai", "other", None])
            fields["notice_version"] = rnd.choice(["1", "3", "4", "4", "9", None])
    if action is Action.ERASE and rnd.random() < 0.9:
        action = Action.WITHDRAW  # erasures stay rare, or most people would be erased
        fields["purpose"] = rnd.choice(PURPOSES)
    return NewEvent(rnd.choice(names), action, when, **fields)


def test_a_consent_purpose_without_a_notice_in_bulk(tmp_path: Path) -> None:
    """The loader refuses such a policy; one built in code can lack the notice, and then no grant
    is consent: the bulk build says so in decide's words, citing the grant."""
    loaded = policy()
    chat = loaded.require_purpose("chat").model_copy(update={"notice": None})
    fields = {name: getattr(loaded, name) for name in type(loaded).model_fields}
    purposes = [chat, *(p for p in loaded.purposes if p.id != "chat")]
    bare = type(loaded).model_construct(**{**fields, "purposes": purposes})
    ledger = Ledger.open(str(tmp_path / "ledger.db"))
    try:
        day = START + timedelta(days=40)
        grant = NewEvent(
            "ann", Action.GRANT, day, purpose="chat", notice_id="ai", notice_version="3", region="DE"
        )
        fill(
            ledger,
            [grant, NewEvent("ben", Action.DENY, day, purpose="chat", region="DE")],
            {"cookie-1": "ann"},
        )
        at = AT_CHOICES[2]
        snap = build_snapshot(bare, ledger, "chat", at)
        check(snap, ledger, bare, "chat", at)
        ann = next(r for r in snap.table.to_pylist() if r["key"] == "ann")
        assert (ann["allowed"], ann["reason"]) == (
            False,
            "chat rests on consent but the policy names no notice to collect it under",
        )
    finally:
        ledger.close()
