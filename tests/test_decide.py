"""The decision function against the six rules of docs/decisions.md, one named test per behaviour.

The policy below is fictional and small on purpose: every lawful basis appears, one notice has a
material (reconsent) version between two non-material ones, and the regions cover a GPC-honouring
US state, a non-honouring US country group (for subdivision fallback), the EU, the UK and the default.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from consentgate.decide import Decision, Query, decide, decide_batch
from consentgate.errors import QueryError
from consentgate.ledger.events import Action, ConsentEvent
from consentgate.policy import load_policy, parse_policy_text
from tests.support import DECIDE_POLICY_PATH

POLICY = load_policy(DECIDE_POLICY_PATH)
SUBJECT = "user-1@example.com"
V2_EFFECTIVE = datetime.fromisoformat("2026-05-31T22:00:00+00:00")  # 2026-06-01T00:00+02:00
V3_EFFECTIVE = datetime.fromisoformat("2026-09-01T00:00:00+00:00")
US = timedelta(microseconds=1)

_seq = itertools.count(1)


def t(text: str) -> datetime:
    """An aware datetime from ISO text (``Z`` allowed)."""
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None
    return value


def ev(
    action: Action | str,
    occurred: str | datetime,
    purpose: str | None = None,
    *,
    recorded: str | datetime | None = None,
    seq: int | None = None,
    notice_id: str | None = None,
    notice_version: str | None = None,
    region: str | None = None,
    signals: dict[str, object] | None = None,
    subject: str = SUBJECT,
    event_id: str | None = None,
) -> ConsentEvent:
    """One event; recorded_at defaults to occurred_at, seq to a fresh increasing number."""
    action = Action(action)
    occurred_at = t(occurred) if isinstance(occurred, str) else occurred
    recorded_at = (
        occurred_at if recorded is None else (t(recorded) if isinstance(recorded, str) else recorded)
    )
    n = next(_seq) if seq is None else seq
    if action is Action.GRANT and notice_id is None and purpose is not None:
        notice_id = POLICY.purpose(purpose).notice
        if notice_version is None:
            notice_version = "1"
    return ConsentEvent(
        subject=subject,
        action=action,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        purpose=purpose,
        notice_id=notice_id,
        notice_version=notice_version,
        region=region,
        signals=signals or {},
        seq=n,
        event_id=event_id or f"evt-{n}",
    )


def grant(
    occurred: str | datetime, purpose: str = "train_model", version: str = "1", **kw: object
) -> ConsentEvent:
    return ev(Action.GRANT, occurred, purpose, notice_version=version, **kw)  # type: ignore[arg-type]


def gpc(occurred: str | datetime, on: bool = True, **kw: object) -> ConsentEvent:
    return ev(Action.GPC, occurred, signals={"gpc": on}, **kw)  # type: ignore[arg-type]


def ask(
    events: list[ConsentEvent],
    purpose: str = "train_model",
    at: str | datetime = "2026-03-15T12:00:00Z",
    region=None,
) -> Decision:
    when = t(at) if isinstance(at, str) else at
    return decide(POLICY, events, SUBJECT, purpose, when, region)


# --- Rule 1: which events count, and where ---------------------------------------------------------


def test_event_occurring_after_at_is_ignored() -> None:
    g = grant("2026-03-10T00:00:00Z")
    assert ask([g], at="2026-03-09T23:59:59Z", region="DE").allowed is False
    assert ask([g], at="2026-03-10T00:00:01Z", region="DE").allowed is True


def test_event_occurring_exactly_at_at_counts() -> None:
    g = grant("2026-03-10T00:00:00Z")
    assert ask([g], at="2026-03-10T00:00:00Z", region="DE").allowed is True
    assert ask([g], at=t("2026-03-10T00:00:00Z") - US, region="DE").allowed is False


def test_late_recorded_withdrawal_counts_for_times_after_it_occurred() -> None:
    # The withdrawal happened on 5 March but only reached the server on 20 March.
    g = grant("2026-03-01T00:00:00Z", recorded="2026-03-01T00:00:00Z", seq=1, event_id="g")
    w = ev(
        "withdraw",
        "2026-03-05T00:00:00Z",
        "train_model",
        recorded="2026-03-20T00:00:00Z",
        seq=2,
        event_id="w",
    )
    # Asked on 10 March, after the fact became known: the withdrawal counts (it occurred before at).
    decision = ask([g, w], at="2026-03-10T00:00:00Z", region="DE")
    assert decision.allowed is False
    assert decision.evidence_event == "w"
    assert ask([g, w], at="2026-03-04T00:00:00Z", region="DE").allowed is True


def test_late_recorded_grant_does_not_beat_a_later_occurring_withdrawal() -> None:
    # The grant has the larger recorded_at and seq, but it occurred first: the withdrawal is latest.
    w = ev(
        "withdraw",
        "2026-03-05T00:00:00Z",
        "train_model",
        recorded="2026-03-05T00:00:00Z",
        seq=1,
        event_id="w",
    )
    g = grant("2026-03-01T00:00:00Z", recorded="2026-03-20T00:00:00Z", seq=2, event_id="g")
    decision = ask([w, g], at="2026-03-25T00:00:00Z", region="DE")
    assert decision.allowed is False
    assert decision.evidence_event == "w"


def test_late_recorded_grant_counts_even_when_recorded_after_at() -> None:
    g = grant("2026-03-01T00:00:00Z", recorded="2026-04-01T00:00:00Z", event_id="g")
    decision = ask([g], at="2026-03-02T00:00:00Z", region="DE")
    assert decision.allowed is True
    assert decision.evidence_event == "g"


def test_query_region_wins_over_event_region() -> None:
    events = [ev("deny", "2026-03-01T00:00:00Z", "product_analytics", region="DE")]
    # The event says DE (EU: opt_out); the query says GB, so the UK basis (LI) applies.
    uk = ask(events, "product_analytics", region="GB")
    assert (uk.region, uk.basis, uk.allowed) == ("UK", "legitimate_interest", False)
    assert ask([], "product_analytics", region="GB").basis == "legitimate_interest"
    # ads_measurement: not_allowed in EU (event region) but opt_out in US-CA (query region).
    events = [ev("grant", "2026-03-01T00:00:00Z", "ads_measurement", region="DE")]
    decision = ask(events, "ads_measurement", region="US-CA")
    assert (decision.region, decision.basis, decision.allowed) == ("US-CA", "opt_out", True)


def test_region_defaults_to_latest_event_carrying_a_region() -> None:
    events = [
        ev("grant", "2026-03-01T00:00:00Z", "ads_measurement", region="US-CA"),
        ev("grant", "2026-03-02T00:00:00Z", "ads_measurement", region="FR"),
        gpc("2026-03-03T00:00:00Z"),  # no region: does not reset it
    ]
    decision = ask(events, "ads_measurement")
    assert (decision.region, decision.basis, decision.allowed) == ("EU", "not_allowed", False)


def test_region_from_events_uses_occurred_at_not_recording_order() -> None:
    fr = ev(
        "grant",
        "2026-03-02T00:00:00Z",
        "ads_measurement",
        region="FR",
        recorded="2026-03-02T00:00:00Z",
        seq=1,
    )
    ca = ev(
        "grant",
        "2026-03-01T00:00:00Z",
        "ads_measurement",
        region="US-CA",
        recorded="2026-03-09T00:00:00Z",
        seq=2,
    )
    assert ask([fr, ca], "ads_measurement").region == "EU"


def test_region_from_events_ignores_events_after_at() -> None:
    events = [
        ev("grant", "2026-03-01T00:00:00Z", "ads_measurement", region="US-CA"),
        ev("grant", "2026-04-01T00:00:00Z", "ads_measurement", region="DE"),
    ]
    assert ask(events, "ads_measurement", at="2026-03-15T00:00:00Z").region == "US-CA"
    assert ask(events, "ads_measurement", at="2026-04-15T00:00:00Z").region == "EU"


def test_no_region_anywhere_uses_default_group() -> None:
    decision = ask([], "ads_measurement")
    assert (decision.region, decision.basis, decision.allowed) == ("*", "opt_out", True)


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("DE", "EU"),
        ("de", "EU"),
        ("DE-BY", "EU"),  # subdivision of an EU country
        ("GB", "UK"),
        ("US-CA", "US-CA"),  # listed subdivision: its own group, not the country's
        ("US-WA", "US"),  # unlisted subdivision falls back to its country
        ("US", "US"),
        ("JP", "*"),  # unknown code: default
        ("EU", "EU"),  # a region id itself is accepted
    ],
)
def test_query_region_maps_iso_code_to_group(code: str, group: str) -> None:
    assert ask([], "fraud_checks", region=code).region == group


def test_subdivision_fallback_applies_the_country_groups_basis() -> None:
    # US-WA → US (opt_out, no GPC honour): no signal → allowed, and the basis is the US one.
    decision = ask([], "train_model", region="US-WA")
    assert (decision.region, decision.basis, decision.allowed) == ("US", "opt_out", True)
    # An unknown country falls to "*" (consent) and is denied without a grant.
    decision = ask([], "train_model", region="JP")
    assert (decision.region, decision.basis, decision.allowed) == ("*", "consent", False)


def test_basis_falls_back_to_star_when_group_has_no_entry() -> None:
    # ads_measurement names no basis for the US group → "*" (opt_out); the group stays US.
    decision = ask([], "ads_measurement", region="US-TX")
    assert (decision.region, decision.basis) == ("US", "opt_out")
    # voice_training names no EU basis → "*" (consent).
    assert ask([], "voice_training", region="DE").basis == "consent"


# --- Rule 2: erasure ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("purpose", "region"),
    [
        ("train_model", "DE"),
        ("train_model", "US-CA"),
        ("fraud_checks", "DE"),
        ("product_analytics", "US"),
        ("account_service", "DE"),  # even contract
        ("ads_measurement", "DE"),  # not_allowed: still denied, evidence is the erasure
    ],
)
def test_erase_denies_every_purpose_and_basis(purpose: str, region: str) -> None:
    events = [grant("2026-03-01T00:00:00Z", purpose), ev("erase", "2026-03-02T00:00:00Z", event_id="erase-1")]
    decision = ask(events, purpose, region=region)
    assert decision.allowed is False
    assert decision.evidence_event == "erase-1"


def test_erase_beats_later_grants() -> None:
    events = [
        grant("2026-03-01T00:00:00Z"),
        ev("erase", "2026-03-02T00:00:00Z", event_id="erase-1"),
        grant("2026-03-03T00:00:00Z", event_id="later-grant"),
    ]
    decision = ask(events, at="2026-03-10T00:00:00Z", region="DE")
    assert decision.allowed is False
    assert decision.evidence_event == "erase-1"


def test_erase_after_at_does_not_count() -> None:
    events = [grant("2026-03-01T00:00:00Z"), ev("erase", "2026-03-20T00:00:00Z")]
    assert ask(events, at="2026-03-10T00:00:00Z", region="DE").allowed is True
    assert ask(events, at="2026-03-20T00:00:00Z", region="DE").allowed is False


def test_erase_recorded_late_counts_from_when_it_occurred() -> None:
    events = [
        grant("2026-03-01T00:00:00Z", recorded="2026-03-01T00:00:00Z", seq=1),
        ev("erase", "2026-03-02T00:00:00Z", recorded="2026-03-30T00:00:00Z", seq=2, event_id="erase-1"),
    ]
    decision = ask(events, at="2026-03-10T00:00:00Z", region="DE")
    assert (decision.allowed, decision.evidence_event) == (False, "erase-1")


# --- Rule 3: not_allowed and contract -----------------------------------------------------------------


def test_not_allowed_denies_despite_a_grant() -> None:
    events = [ev("grant", "2026-03-01T00:00:00Z", "ads_measurement")]
    decision = ask(events, "ads_measurement", region="FR")
    assert (decision.allowed, decision.basis, decision.region) == (False, "not_allowed", "EU")
    assert decision.evidence_event is None


@pytest.mark.parametrize("action", ["deny", "withdraw", "object", "opt_out"])
def test_contract_is_allowed_whatever_the_choices(action: str) -> None:
    events = [ev(action, "2026-03-01T00:00:00Z", "account_service"), gpc("2026-03-02T00:00:00Z")]
    decision = ask(events, "account_service", region="US-CA")
    assert (decision.allowed, decision.basis) == (True, "contract")


def test_contract_allowed_with_no_events() -> None:
    assert ask([], "account_service").allowed is True


# --- Rule 4: signals, their order, and GPC ------------------------------------------------------------


def test_latest_signal_wins_grant_then_withdraw() -> None:
    events = [
        grant("2026-03-01T00:00:00Z"),
        ev("withdraw", "2026-03-02T00:00:00Z", "train_model", event_id="w"),
    ]
    decision = ask(events, region="DE")
    assert (decision.allowed, decision.evidence_event) == (False, "w")


def test_latest_signal_wins_withdraw_then_grant() -> None:
    events = [
        ev("withdraw", "2026-03-01T00:00:00Z", "train_model"),
        grant("2026-03-02T00:00:00Z", event_id="g"),
    ]
    decision = ask(events, region="DE")
    assert (decision.allowed, decision.evidence_event) == (True, "g")


@pytest.mark.parametrize("later", ["grant", "deny"])
def test_tie_on_occurred_at_broken_by_recorded_at(later: str) -> None:
    same = "2026-03-01T00:00:00Z"
    early, late = "2026-03-01T00:00:01Z", "2026-03-01T00:00:02Z"
    # seq deliberately runs against recorded_at, so only recorded_at can explain the outcome
    g = grant(
        same, recorded=late if later == "grant" else early, seq=1 if later == "grant" else 2, event_id="g"
    )
    d = ev(
        "deny", same, "train_model", recorded=late if later == "deny" else early,
        seq=1 if later == "deny" else 2, event_id="d",
    )  # fmt: skip
    for events in ([g, d], [d, g]):
        decision = ask(events, region="DE")
        assert decision.allowed is (later == "grant")
        assert decision.evidence_event == ("g" if later == "grant" else "d")


@pytest.mark.parametrize("later", ["grant", "deny"])
def test_tie_on_occurred_and_recorded_broken_by_seq(later: str) -> None:
    same = "2026-03-01T00:00:00Z"
    g = grant(same, seq=20 if later == "grant" else 10, event_id="g")
    d = ev("deny", same, "train_model", seq=20 if later == "deny" else 10, event_id="d")
    for events in ([g, d], [d, g]):
        decision = ask(events, region="DE")
        assert decision.allowed is (later == "grant")
        assert decision.evidence_event == ("g" if later == "grant" else "d")


def test_signals_for_other_purposes_do_not_count() -> None:
    events = [grant("2026-03-01T00:00:00Z"), ev("withdraw", "2026-03-02T00:00:00Z", "voice_training")]
    assert ask(events, region="DE").allowed is True
    assert ask(events, "voice_training", region="DE").allowed is False


def test_gpc_true_opts_out_under_opt_out_in_honouring_region() -> None:
    decision = ask([gpc("2026-03-01T00:00:00Z", event_id="gpc-1")], region="US-CA")
    assert (decision.allowed, decision.basis, decision.region) == (False, "opt_out", "US-CA")
    assert decision.evidence_event == "gpc-1"


def test_gpc_after_grant_opts_out_in_honouring_region() -> None:
    events = [grant("2026-03-01T00:00:00Z"), gpc("2026-03-02T00:00:00Z", event_id="gpc-1")]
    decision = ask(events, region="US-CA")
    assert (decision.allowed, decision.evidence_event) == (False, "gpc-1")


def test_grant_after_gpc_wins_in_honouring_region() -> None:
    events = [gpc("2026-03-01T00:00:00Z"), grant("2026-03-02T00:00:00Z", event_id="g")]
    decision = ask(events, region="US-CA")
    assert (decision.allowed, decision.evidence_event) == (True, "g")


def test_gpc_and_grant_tied_on_occurred_at_use_recorded_at() -> None:
    same = "2026-03-01T00:00:00Z"
    g = grant(same, recorded="2026-03-01T00:00:05Z", seq=1, event_id="g")
    p = gpc(same, recorded="2026-03-01T00:00:09Z", seq=2, event_id="gpc-1")
    assert ask([g, p], region="US-CA").evidence_event == "gpc-1"
    g2 = grant(same, recorded="2026-03-01T00:00:09Z", seq=1, event_id="g")
    p2 = gpc(same, recorded="2026-03-01T00:00:05Z", seq=2, event_id="gpc-1")
    decision = ask([g2, p2], region="US-CA")
    assert (decision.allowed, decision.evidence_event) == (True, "g")


def test_gpc_ignored_under_consent_even_in_honouring_region() -> None:
    events = [grant("2026-03-01T00:00:00Z", "voice_training", event_id="g"), gpc("2026-03-02T00:00:00Z")]
    decision = ask(events, "voice_training", region="US-CA")
    assert (decision.allowed, decision.basis, decision.evidence_event) == (True, "consent", "g")
    # and GPC alone is not a grant
    assert ask([gpc("2026-03-02T00:00:00Z")], "voice_training", region="US-CA").allowed is False


def test_gpc_ignored_under_legitimate_interest() -> None:
    decision = ask([gpc("2026-03-01T00:00:00Z")], "fraud_checks", region="US-CA")
    assert (decision.allowed, decision.basis, decision.evidence_event) == (True, "legitimate_interest", None)


def test_gpc_ignored_under_opt_out_in_eu() -> None:
    decision = ask([gpc("2026-03-01T00:00:00Z")], "product_analytics", region="DE")
    assert (decision.allowed, decision.basis, decision.region) == (True, "opt_out", "EU")


def test_gpc_ignored_under_opt_out_in_non_honouring_us_and_default() -> None:
    assert ask([gpc("2026-03-01T00:00:00Z")], "train_model", region="US-WA").allowed is True
    assert ask([gpc("2026-03-01T00:00:00Z")], "ads_measurement", region="JP").allowed is True


def test_gpc_false_is_ignored() -> None:
    decision = ask([gpc("2026-03-01T00:00:00Z", on=False)], region="US-CA")
    assert (decision.allowed, decision.evidence_event) == (True, None)


def test_gpc_false_does_not_undo_an_earlier_gpc_true() -> None:
    events = [
        gpc("2026-03-01T00:00:00Z", event_id="on"),
        gpc("2026-03-02T00:00:00Z", on=False, event_id="off"),
    ]
    decision = ask(events, region="US-CA")
    assert (decision.allowed, decision.evidence_event) == (False, "on")


def test_gpc_false_does_not_undo_an_opt_out() -> None:
    events = [
        ev("opt_out", "2026-03-01T00:00:00Z", "train_model", event_id="o"),
        gpc("2026-03-02T00:00:00Z", on=False),
    ]
    decision = ask(events, region="US-CA")
    assert (decision.allowed, decision.evidence_event) == (False, "o")


def test_gpc_without_signal_value_is_ignored() -> None:
    assert ask([ev("gpc", "2026-03-01T00:00:00Z")], region="US-CA").allowed is True


def test_gpc_after_at_is_ignored() -> None:
    events = [gpc("2026-03-20T00:00:00Z")]
    assert ask(events, at="2026-03-10T00:00:00Z", region="US-CA").allowed is True
    assert ask(events, at="2026-03-20T00:00:00Z", region="US-CA").allowed is False


def test_gpc_honoured_with_region_taken_from_events() -> None:
    events = [ev("grant", "2026-03-01T00:00:00Z", "train_model", region="US-CA"), gpc("2026-03-02T00:00:00Z")]
    decision = ask(events)
    assert (decision.region, decision.allowed) == ("US-CA", False)


# --- Rule 5: consent -----------------------------------------------------------------------------------


def test_consent_without_any_signal_is_denied() -> None:
    decision = ask([], region="DE")
    assert (decision.allowed, decision.basis, decision.region, decision.evidence_event) == (
        False,
        "consent",
        "EU",
        None,
    )


def test_consent_grant_under_the_notice_is_allowed() -> None:
    decision = ask([grant("2026-03-01T00:00:00Z", event_id="g")], region="DE")
    assert (decision.allowed, decision.basis, decision.evidence_event) == (True, "consent", "g")


@pytest.mark.parametrize("action", ["deny", "withdraw", "object", "opt_out"])
def test_consent_latest_negative_signal_denies(action: str) -> None:
    events = [
        grant("2026-03-01T00:00:00Z"),
        ev(action, "2026-03-02T00:00:00Z", "train_model", event_id="neg"),
    ]
    decision = ask(events, region="DE")
    assert (decision.allowed, decision.evidence_event) == (False, "neg")


def test_consent_grant_under_another_notice_is_denied() -> None:
    g = grant("2026-03-01T00:00:00Z", event_id="g")
    wrong = ConsentEvent(**{**_fields(g), "notice_id": "cookies"})
    decision = ask([wrong], region="DE")
    assert (decision.allowed, decision.evidence_event) == (False, "g")


def test_consent_grant_without_notice_is_denied() -> None:
    g = grant("2026-03-01T00:00:00Z")
    bare = ConsentEvent(**{**_fields(g), "notice_id": None, "notice_version": None})
    assert ask([bare], region="DE").allowed is False


def test_consent_grant_naming_unknown_version_is_denied() -> None:
    assert ask([grant("2026-03-01T00:00:00Z", version="7")], region="DE").allowed is False


def test_consent_grant_without_version_is_denied() -> None:
    g = grant("2026-03-01T00:00:00Z")
    assert ask([ConsentEvent(**{**_fields(g), "notice_version": None})], region="DE").allowed is False


def test_old_version_grant_counts_before_reconsent_version_is_effective() -> None:
    g = grant(V2_EFFECTIVE - timedelta(days=5), version="1")
    assert ask([g], at=V2_EFFECTIVE - US, region="DE").allowed is True


def test_old_version_grant_stops_counting_when_reconsent_version_takes_effect() -> None:
    g = grant(V2_EFFECTIVE - timedelta(days=5), version="1", event_id="g")
    decision = ask([g], at=V2_EFFECTIVE, region="DE")
    assert (decision.allowed, decision.evidence_event) == (False, "g")
    # the same instant written in the notice's own offset
    assert ask([g], at="2026-06-01T00:00:00+02:00", region="DE").allowed is False
    assert ask([g], at="2026-05-31T23:59:59+02:00", region="DE").allowed is True


def test_grant_of_reconsent_version_counts_after_it_is_effective() -> None:
    g = grant(V2_EFFECTIVE + timedelta(days=1), version="2", event_id="g")
    decision = ask([g], at=V2_EFFECTIVE + timedelta(days=2), region="DE")
    assert (decision.allowed, decision.evidence_event) == (True, "g")


def test_non_material_version_does_not_require_reconsent() -> None:
    # v3 is not material: a v2 grant still counts after v3 takes effect.
    g = grant(V3_EFFECTIVE - timedelta(days=1), version="2")
    assert ask([g], at=V3_EFFECTIVE + timedelta(days=1), region="DE").allowed is True


def test_newer_version_grant_satisfies_reconsent_floor() -> None:
    g = grant(V3_EFFECTIVE + timedelta(days=1), version="3")
    assert ask([g], at=V3_EFFECTIVE + timedelta(days=2), region="DE").allowed is True


def test_old_version_grant_still_denied_after_later_non_material_version() -> None:
    g = grant("2026-05-01T00:00:00Z", "voice_training", version="1")
    assert ask([g], "voice_training", at=V3_EFFECTIVE + timedelta(days=1), region="DE").allowed is False


def test_consent_exactly_max_age_days_old_still_counts() -> None:
    g = grant("2026-03-01T10:00:00Z", event_id="g")
    decision = ask([g], at=t("2026-03-01T10:00:00Z") + timedelta(days=30), region="DE")
    assert (decision.allowed, decision.evidence_event) == (True, "g")


def test_consent_older_than_max_age_days_expires() -> None:
    g = grant("2026-03-01T10:00:00Z", event_id="g")
    decision = ask([g], at=t("2026-03-01T10:00:00Z") + timedelta(days=30) + US, region="DE")
    assert (decision.allowed, decision.evidence_event) == (False, "g")


def test_max_age_measured_between_instants_across_offsets() -> None:
    g = grant("2026-03-01T12:00:00+02:00")  # 10:00Z
    assert ask([g], at="2026-03-31T10:00:00Z", region="DE").allowed is True
    assert ask([g], at="2026-03-31T12:00:01+02:00", region="DE").allowed is False


def test_consent_without_max_age_does_not_expire() -> None:
    g = grant(V3_EFFECTIVE + timedelta(days=1), "voice_training", version="3")
    assert ask([g], "voice_training", at="2030-01-01T00:00:00Z", region="DE").allowed is True


def test_renewed_grant_restarts_max_age() -> None:
    events = [grant("2026-03-01T00:00:00Z"), grant("2026-03-25T00:00:00Z", event_id="renew")]
    decision = ask(events, at="2026-04-15T00:00:00Z", region="DE")
    assert (decision.allowed, decision.evidence_event) == (True, "renew")


def test_notice_versions_are_ordered_by_effective_from_not_label() -> None:
    policy = parse_policy_text(
        """
organization: {name: Example Order Ltd}
purposes:
  - {id: p, title: P, kind: analytics, notice: n, basis: {"*": consent}}
notices:
  - id: n
    purposes: [p]
    versions:
      - {version: 9, effective_from: 2026-03-01T00:00:00Z, reconsent: true, text: {en: "second wording"}}
      - {version: 10, effective_from: 2026-01-01T00:00:00Z, reconsent: false, text: {en: "first wording"}}
"""
    )
    at = t("2026-04-01T00:00:00Z")

    def grant_n(version: str) -> ConsentEvent:
        return ev("grant", "2026-02-01T00:00:00Z", "p", notice_id="n", notice_version=version)

    # "10" is the older wording (effective first), so it is below the material version 9.
    assert decide(policy, [grant_n("10")], SUBJECT, "p", at).allowed is False
    assert decide(policy, [grant_n("9")], SUBJECT, "p", at).allowed is True
    assert decide(policy, [grant_n("10")], SUBJECT, "p", t("2026-02-15T00:00:00Z")).allowed is True


# --- Rule 6: legitimate_interest and opt_out ------------------------------------------------------------


@pytest.mark.parametrize(("purpose", "region"), [("fraud_checks", "DE"), ("train_model", "US-CA")])
def test_no_signal_is_allowed_under_li_and_opt_out(purpose: str, region: str) -> None:
    decision = ask([], purpose, region=region)
    assert (decision.allowed, decision.evidence_event) == (True, None)


@pytest.mark.parametrize("action", ["deny", "withdraw", "object", "opt_out"])
@pytest.mark.parametrize(("purpose", "region"), [("fraud_checks", "DE"), ("train_model", "US-CA")])
def test_negative_signal_denies_under_li_and_opt_out(action: str, purpose: str, region: str) -> None:
    decision = ask([ev(action, "2026-03-01T00:00:00Z", purpose, event_id="neg")], purpose, region=region)
    assert (decision.allowed, decision.evidence_event) == (False, "neg")


@pytest.mark.parametrize(("purpose", "region"), [("fraud_checks", "DE"), ("train_model", "US-CA")])
def test_grant_after_objection_restores_li_and_opt_out(purpose: str, region: str) -> None:
    events = [
        ev("object", "2026-03-01T00:00:00Z", purpose),
        grant("2026-03-02T00:00:00Z", purpose, event_id="g"),
    ]
    decision = ask(events, purpose, region=region)
    assert (decision.allowed, decision.evidence_event) == (True, "g")


def test_opt_out_basis_does_not_apply_consent_expiry_or_reconsent() -> None:
    # train_model is opt_out in US-CA: an old v1 grant followed by nothing is simply "no objection".
    g = grant("2026-01-05T00:00:00Z", version="1")
    assert ask([g], at="2026-12-01T00:00:00Z", region="US-CA").allowed is True


# --- Timestamps in different offsets --------------------------------------------------------------------


def test_signals_compare_by_instant_not_by_local_clock() -> None:
    # 01:00+02:00 is 23:00Z the day before, i.e. before 00:30Z.
    w = ev("withdraw", "2026-03-01T01:00:00+02:00", "train_model", event_id="w")
    g = grant("2026-03-01T00:30:00Z", event_id="g")
    decision = ask([g, w], at="2026-03-02T00:00:00Z", region="DE")
    assert (decision.allowed, decision.evidence_event) == (True, "g")


def test_at_compares_by_instant() -> None:
    g = grant("2026-03-01T00:30:00Z")
    # 2026-03-01T01:00+02:00 is before the grant
    assert ask([g], at="2026-03-01T01:00:00+02:00", region="DE").allowed is False
    # 2026-03-01T02:30+02:00 is the grant's instant exactly
    assert ask([g], at="2026-03-01T02:30:00+02:00", region="DE").allowed is True
    assert ask([g], at="2026-02-28T19:30:00-05:00", region="DE").allowed is True


# --- Decision shape, evidence and errors ----------------------------------------------------------------


def test_evidence_is_the_deciding_event_among_many() -> None:
    events = [
        grant("2026-03-01T00:00:00Z", event_id="a"),
        ev("withdraw", "2026-03-02T00:00:00Z", "train_model", event_id="b"),
        grant("2026-03-03T00:00:00Z", event_id="c"),
        ev("deny", "2026-03-03T00:00:00Z", "voice_training", event_id="other-purpose"),
        ev("deny", "2026-03-30T00:00:00Z", "train_model", event_id="future"),
    ]
    assert ask(events, at="2026-03-10T00:00:00Z", region="DE").evidence_event == "c"
    assert ask(events, at="2026-03-02T12:00:00Z", region="DE").evidence_event == "b"


def test_decision_json_has_the_contract_keys() -> None:
    decision = ask([grant("2026-03-01T00:00:00Z", event_id="g")], region="DE")
    payload = decision.to_json()
    assert set(payload) == {"allowed", "basis", "region", "reason", "evidence_event"}
    assert payload["allowed"] is True
    assert payload["basis"] == "consent"
    assert payload["region"] == "EU"
    assert payload["evidence_event"] == "g"
    assert isinstance(payload["reason"], str)
    assert payload["reason"].strip()
    assert "\n" not in payload["reason"]


def test_unknown_purpose_raises_query_error() -> None:
    with pytest.raises(QueryError, match="no_such_purpose"):
        ask([], "no_such_purpose")


def test_naive_at_raises_query_error() -> None:
    with pytest.raises(QueryError):
        decide(POLICY, [], SUBJECT, "train_model", datetime(2026, 3, 1, 12, 0))


def test_decide_does_not_filter_events_by_subject_string() -> None:
    # events are the resolved person's, whatever alias they were recorded under
    g = grant("2026-03-01T00:00:00Z", subject="cookie-abc123")
    assert decide(POLICY, [g], "account-42", "train_model", t("2026-03-02T00:00:00Z"), "DE").allowed is True


# --- decide_batch ---------------------------------------------------------------------------------------


def _batch_fixture() -> tuple[dict[str, list[ConsentEvent]], list[Query]]:
    alice = "alice@example.com"
    bob = "bob@example.com"
    events = {
        alice: [
            grant("2026-03-01T00:00:00Z", subject=alice, region="DE"),
            ev("withdraw", "2026-03-05T00:00:00Z", "train_model", subject=alice),
        ],
        bob: [
            gpc("2026-03-01T00:00:00Z", subject=bob, region="US-CA"),
            ev("erase", "2026-04-01T00:00:00Z", subject=bob),
        ],
    }
    queries = [
        Query(alice, "train_model", t("2026-03-02T00:00:00Z")),
        Query(bob, "train_model", t("2026-03-02T00:00:00Z")),
        Query(alice, "train_model", t("2026-03-06T00:00:00Z")),
        Query("carol@example.com", "fraud_checks", t("2026-03-02T00:00:00Z"), "GB"),
        Query(bob, "fraud_checks", t("2026-03-02T00:00:00Z")),
        Query(bob, "fraud_checks", t("2026-04-02T00:00:00Z")),
        Query(alice, "train_model", t("2026-03-02T00:00:00Z"), "US-CA"),
    ]
    return events, queries


def test_decide_batch_keeps_query_order() -> None:
    events, queries = _batch_fixture()
    answers = decide_batch(POLICY, events, queries)
    assert [a.allowed for a in answers] == [True, False, False, True, True, False, True]
    assert [a.region for a in answers] == ["EU", "US-CA", "EU", "UK", "US-CA", "US-CA", "US-CA"]


def test_decide_batch_equals_decide_one_by_one() -> None:
    events, queries = _batch_fixture()
    answers = decide_batch(POLICY, events, queries)
    one_by_one = [
        decide(POLICY, events.get(q.subject, []), q.subject, q.purpose, q.at, q.region) for q in queries
    ]
    assert answers == one_by_one


def test_decide_batch_rejects_bad_queries() -> None:
    events, _ = _batch_fixture()
    with pytest.raises(QueryError):
        decide_batch(POLICY, events, [Query("alice@example.com", "nope", t("2026-03-02T00:00:00Z"))])
    with pytest.raises(QueryError):
        decide_batch(POLICY, events, [Query("alice@example.com", "train_model", datetime(2026, 3, 2))])


def test_decide_batch_empty() -> None:
    assert decide_batch(POLICY, {}, []) == []


def _fields(event: ConsentEvent) -> dict[str, object]:
    """The init fields of an event, to build a modified copy."""
    return {
        name: getattr(event, name)
        for name in (
            "subject",
            "action",
            "occurred_at",
            "recorded_at",
            "purpose",
            "notice_id",
            "notice_version",
            "wording_hash",
            "region",
            "locale",
            "source",
            "signals",
            "seq",
            "event_id",
        )
    }
