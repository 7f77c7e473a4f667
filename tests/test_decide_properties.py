"""Properties of the decision function that must hold for any history of events.

Events are drawn from a small grid of instants (so ties on occurred_at and recorded_at are common),
written in several UTC offsets, with a distinct ``seq`` per event. Besides the invariants the rules
of docs/decisions.md imply (order independence, no look-ahead, erasure is final, batch == single),
the decision is compared with a deliberately naive re-statement of the six rules (``reference``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import NamedTuple

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from consentgate.decide import Decision, Query, Timeline, decide, decide_batch, holds_until
from consentgate.ledger.events import Action, ConsentEvent
from consentgate.policy import load_policy
from consentgate.policy.models import Basis, Policy, to_micros
from tests.support import DECIDE_POLICY_PATH

POLICY = load_policy(DECIDE_POLICY_PATH)

SUBJECT = "person@example.com"
PURPOSES = [p.id for p in POLICY.purposes]
# weighted towards the consent purposes, whose rule has the most branches
PURPOSE_DRAW = ["train_model"] * 6 + ["voice_training"] * 3 + PURPOSES
CODES = ["DE", "FR", "GB", "US-CA", "US-WA", "US", "JP"]
GROUP_OF = {"DE": "EU", "FR": "EU", "GB": "UK", "US-CA": "US-CA", "US-WA": "US", "US": "US", "JP": "*"}
BASE = datetime(2026, 5, 12, tzinfo=UTC)
# 24 instants, 5 days apart, from 12 May to 4 September 2026: queries start just before v2 (material,
# 2026-05-31T22:00Z) and cross v3 (1 September); they span several max_age_days windows of train_model
# and hit their exact boundary (6 ticks = 30 days).
STEP = timedelta(days=5)
TICKS = 24
ZONES = [
    UTC,
    timezone(timedelta(hours=2)),
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
]
# grants are common and erasure rare, so that every rule gets exercised
NEGATIVE = [Action.DENY, Action.WITHDRAW, Action.OBJECT, Action.OPT_OUT]
ACTIONS = [Action.GRANT] * 8 + NEGATIVE * 2 + [Action.GPC] * 4 + [Action.ERASE]

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def instant(tick: int, zone: timezone) -> datetime:
    return (BASE + tick * STEP).astimezone(zone)


@st.composite
def times(draw: st.DrawFn, min_tick: int = 0) -> datetime:
    tick = draw(st.integers(min_tick, TICKS - 1))
    fudge = draw(st.sampled_from([timedelta(0), timedelta(0), timedelta(microseconds=1), timedelta(hours=5)]))
    return instant(tick, draw(st.sampled_from(ZONES))) + fudge


@st.composite
def event_specs(
    draw: st.DrawFn, subject: str = SUBJECT, actions: list[Action] = ACTIONS
) -> dict[str, object]:
    """Everything of an event except seq and event_id, which the list strategy assigns."""
    action = draw(st.sampled_from(actions))
    occurred = draw(times())
    recorded = occurred.astimezone(UTC) + draw(
        st.sampled_from([timedelta(0), timedelta(seconds=1), timedelta(days=2), timedelta(days=20)])
    )
    spec: dict[str, object] = {
        "subject": subject,
        "action": action,
        "occurred_at": occurred,
        "recorded_at": recorded,
        "region": draw(st.none() | st.sampled_from(CODES)),
    }
    if action is Action.GPC:
        spec["signals"] = draw(st.sampled_from([{"gpc": True}, {"gpc": True}, {"gpc": False}, {}]))
    elif action is not Action.ERASE:
        purpose = draw(st.sampled_from(PURPOSE_DRAW))
        spec["purpose"] = purpose
        if action is Action.GRANT:
            own = POLICY.purpose(purpose).notice
            spec["notice_id"] = draw(st.sampled_from([own] * 5 + ["marketing", None]))
            spec["notice_version"] = draw(st.sampled_from(["1", "1", "2", "2", "3", "3", "9", None]))
    return spec


def build(specs: list[dict[str, object]], first_seq: int = 1) -> list[ConsentEvent]:
    """Events with distinct seq and event ids, in generation (= recording) order."""
    return [
        ConsentEvent(**spec, seq=first_seq + i, event_id=f"{spec['subject']}#{first_seq + i}")  # type: ignore[arg-type]
        for i, spec in enumerate(specs)
    ]


def event_lists(
    subject: str = SUBJECT, max_size: int = 8, actions: list[Action] = ACTIONS
) -> st.SearchStrategy[list[ConsentEvent]]:
    return st.lists(event_specs(subject, actions), min_size=2, max_size=max_size).map(build)


# questions are asked mostly after some history has built up
queries = st.tuples(st.sampled_from(PURPOSE_DRAW), times(min_tick=4), st.none() | st.sampled_from(CODES))


def ask(events: list[ConsentEvent], query: tuple[str, datetime, str | None]) -> Decision:
    purpose, at, region = query
    return decide(POLICY, events, SUBJECT, purpose, at, region)


# --- a naive re-statement of docs/decisions.md's rules, for comparison -----------------------------------


class Expected(NamedTuple):
    allowed: bool
    basis: str
    region: str
    evidence: str | None  # the deciding event; for erasure, any erase that counts is acceptable
    erase_ids: frozenset[str]
    path: str  # which rule decided, for hypothesis' statistics


def reference(
    policy: Policy, events: list[ConsentEvent], purpose_id: str, at: datetime, region: str | None
) -> Expected:
    """The six rules of docs/decisions.md, as plainly as possible (aware datetimes compare by instant)."""
    purpose = policy.purpose(purpose_id)
    assert purpose is not None
    order = sorted(
        (e for e in events if e.occurred_at <= at), key=lambda e: (e.occurred_at, e.recorded_at, e.seq)
    )
    code = region or next((e.region for e in reversed(order) if e.region), None)
    group = GROUP_OF[code] if code else "*"
    basis = purpose.basis.get(group, purpose.basis.get("*"))
    assert basis is not None

    def out(
        allowed: bool, evidence: str | None, path: str, erase_ids: frozenset[str] = frozenset()
    ) -> Expected:
        return Expected(allowed, basis.value, group, evidence, erase_ids, path)

    erases = frozenset(e.event_id for e in order if e.action is Action.ERASE)
    if erases:
        return out(False, None, "2: erased", erases)
    if basis is Basis.NOT_ALLOWED:
        return out(False, None, "3: not_allowed")
    if basis is Basis.CONTRACT:
        return out(True, None, "3: contract")
    honours = policy.regions[group].honour_gpc if group in policy.regions else False
    gpc_counts = basis is Basis.OPT_OUT and honours
    signals = [
        e
        for e in order
        if (e.action not in (Action.GPC, Action.ERASE) and e.purpose == purpose_id)
        or (e.action is Action.GPC and e.signals.get("gpc") is True and gpc_counts)
    ]
    latest = signals[-1] if signals else None
    evidence = latest.event_id if latest else None
    if basis is Basis.CONSENT:
        if latest is None:
            return out(False, None, "5: no signal")
        if latest.action is not Action.GRANT:
            return out(False, evidence, "5: negative")
        if latest.notice_id != purpose.notice:
            return out(False, evidence, "5: other notice")
        versions = sorted(policy.notice(purpose.notice).versions, key=lambda v: v.effective_from)
        labels = [str(v.version) for v in versions]
        if latest.notice_version not in labels:
            return out(False, evidence, "5: unknown version")
        floor = max((i for i, v in enumerate(versions) if v.reconsent and v.effective_from <= at), default=-1)
        if labels.index(latest.notice_version) < floor:
            return out(False, evidence, "5: reconsent needed")
        if at - latest.occurred_at > timedelta(days=purpose.max_age_days or 100_000):
            return out(False, evidence, "5: expired")
        return out(True, evidence, "5: granted")
    if latest is None:
        return out(True, None, "6: no signal")
    if latest.action is Action.GRANT:
        return out(True, evidence, "6: granted")
    return out(False, evidence, "6: gpc" if latest.action is Action.GPC else "6: negative")


# --- properties --------------------------------------------------------------------------------------


@SETTINGS
@given(events=event_lists(), query=queries, data=st.data())
def test_decision_does_not_depend_on_event_order(events, query, data) -> None:
    shuffled = data.draw(st.permutations(events))
    assert ask(shuffled, query) == ask(events, query)
    assert ask(list(reversed(events)), query) == ask(events, query)


@SETTINGS
@given(events=event_lists(), query=queries)
def test_events_after_at_never_change_the_answer(events, query) -> None:
    _, at, _ = query
    up_to_at = [e for e in events if e.occurred_at <= at]
    assert ask(events, query) == ask(up_to_at, query)


@SETTINGS
@given(events=event_lists(), future=st.lists(event_specs(), max_size=5), query=queries, data=st.data())
def test_adding_future_events_never_changes_the_answer(events, future, query, data) -> None:
    _, at, _ = query
    # the same kinds of events, moved to after `at` (by 1 µs up to a few days), in any offset
    moved = [
        {
            **spec,
            "occurred_at": (
                at + data.draw(st.sampled_from([timedelta(microseconds=1), timedelta(days=4)]))
            ).astimezone(data.draw(st.sampled_from(ZONES))),
        }
        for spec in future
    ]
    later = build(moved, first_seq=1000)
    assert all(e.occurred_at > at for e in later)
    assert ask(events + later, query) == ask(events, query)


@SETTINGS
@given(events=event_lists(), query=queries, data=st.data())
def test_erase_at_or_before_at_always_denies(events, query, data) -> None:
    _, at, _ = query
    erase_at = data.draw(st.sampled_from([at, at - timedelta(microseconds=1), at - timedelta(days=3)]))
    erase_at = erase_at.astimezone(data.draw(st.sampled_from(ZONES)))
    erase = ConsentEvent(
        subject=SUBJECT,
        action=Action.ERASE,
        occurred_at=erase_at,
        recorded_at=erase_at + timedelta(days=data.draw(st.integers(0, 30))),
        seq=999,
        event_id="the-erase",
    )
    position = data.draw(st.integers(0, len(events)))
    with_erase = [*events[:position], erase, *events[position:]]
    decision = ask(with_erase, query)
    assert decision.allowed is False
    erase_ids = {e.event_id for e in with_erase if e.action is Action.ERASE and e.occurred_at <= at}
    assert decision.evidence_event in erase_ids


@SETTINGS
@given(
    alice=event_lists("alice@example.com", max_size=6),
    bob=event_lists("bob@example.com", max_size=6),
    qs=st.lists(
        st.tuples(st.sampled_from(["alice@example.com", "bob@example.com", "carol@example.com"]), queries),
        max_size=12,
    ),
)
def test_decide_batch_equals_individual_decide(alice, bob, qs) -> None:
    by_subject = {"alice@example.com": alice, "bob@example.com": bob}
    batch = [Query(subject, purpose, at, region) for subject, (purpose, at, region) in qs]
    expected = [
        decide(POLICY, by_subject.get(q.subject, []), q.subject, q.purpose, q.at, q.region) for q in batch
    ]
    assert decide_batch(POLICY, by_subject, batch) == expected


@SETTINGS
@given(events=event_lists(actions=[a for a in ACTIONS if a is not Action.ERASE]), query=queries)
def test_decision_matches_a_plain_reading_of_the_rules(events, query) -> None:
    """Erasure has its own property above; here it would hide the other rules too often."""
    purpose, at, region = query
    expected = reference(POLICY, events, purpose, at, region)
    event(expected.path)
    decision = ask(events, query)
    assert (decision.allowed, decision.basis, decision.region) == expected[:3]
    if expected.erase_ids:
        assert decision.evidence_event in expected.erase_ids
    else:
        assert decision.evidence_event == expected.evidence


@SETTINGS
@given(events=event_lists(), query=queries)
def test_reasons_never_show_a_missing_value_as_none(
    events: list[ConsentEvent], query: tuple[str, datetime, str | None]
) -> None:
    # Grants without a notice or a version are drawn often: their reason once read "notice None".
    decision = ask(events, query)
    assert "None" not in decision.reason, decision.reason
    assert "null" not in decision.reason, decision.reason


@SETTINGS
@given(events=event_lists(), query=queries, data=st.data())
def test_an_answer_holds_unchanged_up_to_holds_until(events, query, data) -> None:
    """What the HTTP decision cache relies on (server/readcache.py): with no new event, the decision
    at any instant from ``at`` to ``holds_until`` is the decision at ``at``, reason and evidence too."""
    purpose, at, region = query
    at_us = to_micros(at)
    until = holds_until(POLICY, Timeline(events), purpose, at_us)
    assert until >= at_us
    ten_years_us = 3650 * 86_400 * 1_000_000
    later_us = data.draw(st.sampled_from([at_us, until]) | st.integers(at_us, until), label="later_us")
    later_us = min(later_us, at_us + ten_years_us)
    later = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=later_us)
    assert ask(events, (purpose, later, region)) == ask(events, query)
