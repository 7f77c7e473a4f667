"""Every decision rule and basis checked on all five fields of the answer, not only on ``allowed``.

A gate reads ``allowed``; a person, an auditor or a regulator reads ``basis``, ``region``,
``reason`` and ``evidence_event``. A decision that is right for the wrong reason, names the wrong
basis, or cites the wrong event is false assurance, so each case here pins the whole
:meth:`Decision.to_json`. The policy is built here, small, so each rule is reached on purpose
(including a purpose with no ``"*"`` basis, which the example policy never has).
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, tzinfo

import pytest

from consentgate.decide import Decision, Query, decide, decide_batch, decide_timeline
from consentgate.decide import Timeline as DecisionTimeline
from consentgate.errors import QueryError
from consentgate.ledger.events import Action, ConsentEvent
from consentgate.policy import parse_policy_text

POLICY = parse_policy_text(
    """
organization: {name: Example Fields Ltd, contact: privacy@example.com}
regions:
  EU: {countries: [DE, FR], honour_gpc: false}
  US-CA: {countries: [US-CA], honour_gpc: true}
purposes:
  - id: tune
    title: Tune the example model
    kind: ai_training
    notice: ai
    max_age_days: 10
    basis: {EU: consent, US-CA: opt_out, "*": consent}
  - id: eu_only
    title: Train only where consent is asked
    kind: ai_training
    notice: ai
    basis: {EU: consent}
  - id: fraud
    title: Detect fraud
    kind: security
    basis: {"*": legitimate_interest}
  - id: ads
    title: Measure ads
    kind: marketing
    basis: {EU: not_allowed, "*": opt_out}
  - id: banned
    title: Sell data
    kind: marketing
    basis: {"*": not_allowed}
  - id: account
    title: Run the account
    kind: necessary
    basis: {"*": contract}
notices:
  - id: ai
    purposes: [tune, eu_only]
    versions:
      - {version: 1, effective_from: 2026-01-01T00:00:00Z, reconsent: false, text: {en: "v1"}}
      - {version: 2, effective_from: 2026-04-01T00:00:00Z, reconsent: true, text: {en: "v2"}}
  - id: other
    purposes: [tune]
    versions:
      - {version: 1, effective_from: 2026-01-01T00:00:00Z, text: {en: "other"}}
"""
)
SUBJECT = "person-7@example.com"
AT = datetime.fromisoformat("2026-03-20T12:00:00+00:00")
_seq = itertools.count(1)


def ev(
    action: str,
    occurred: str,
    purpose: str | None = None,
    *,
    notice: str | None = None,
    version: str | None = None,
    region: str | None = None,
    signals: dict[str, object] | None = None,
    event_id: str | None = None,
) -> ConsentEvent:
    n = next(_seq)
    when = datetime.fromisoformat(occurred)
    return ConsentEvent(
        subject=SUBJECT,
        action=Action(action),
        occurred_at=when,
        recorded_at=when,
        purpose=purpose,
        notice_id=notice,
        notice_version=version,
        region=region,
        signals=signals or {},
        seq=n,
        event_id=event_id or f"evt-{n}",
    )


def grant(occurred: str, purpose: str = "tune", version: str | None = "1", **kw: object) -> ConsentEvent:
    kw.setdefault("notice", "ai")
    return ev("grant", occurred, purpose, version=version, **kw)  # type: ignore[arg-type]


def answer(
    events: list[ConsentEvent], purpose: str, region: str | None = None, at: datetime = AT
) -> dict[str, object]:
    return decide(POLICY, events, SUBJECT, purpose, at, region).to_json()


def expect(
    allowed: bool, basis: str | None, region: str, reason: str, evidence: str | None = None
) -> dict[str, object]:
    return {
        "allowed": allowed,
        "basis": basis,
        "region": region,
        "reason": reason,
        "evidence_event": evidence,
    }


# --- no lawful basis: a purpose without "*" asked about a region it does not list ------------------


def test_no_lawful_basis_denies_even_with_a_grant() -> None:
    events = [grant("2026-03-10T09:00:00+00:00", "eu_only", region="DE", event_id="g")]
    assert answer(events, "eu_only", "DE") == expect(
        True, "consent", "EU", "consent given at 2026-03-10T09:00:00+00:00 under ai v1", "g"
    )
    # The same grant, asked about Japan (the default group, for which eu_only names no basis).
    assert answer(events, "eu_only", "JP") == expect(
        False, None, "*", "the policy gives eu_only no lawful basis in JP (default)"
    )


def test_no_lawful_basis_in_a_listed_region_group_names_the_group() -> None:
    assert answer([], "eu_only", "US-CA") == expect(
        False, None, "US-CA", "the policy gives eu_only no lawful basis in US-CA"
    )


def test_no_lawful_basis_without_any_region_says_the_region_is_unknown() -> None:
    assert answer([], "eu_only") == expect(
        False, None, "*", "the policy gives eu_only no lawful basis in unknown region (default)"
    )


# --- rule 2: erasure, under every basis and with none -------------------------------------------


ERASED = "erasure requested at 2026-03-05T10:00:00+01:00; no purpose may use this person's data"


@pytest.mark.parametrize(
    ("purpose", "region", "basis", "group"),
    [
        ("tune", "DE", "consent", "EU"),
        ("tune", "US-CA", "opt_out", "US-CA"),
        ("fraud", "DE", "legitimate_interest", "EU"),
        ("ads", "DE", "not_allowed", "EU"),
        ("ads", "JP", "opt_out", "*"),
        ("account", "FR", "contract", "EU"),
        ("eu_only", "JP", None, "*"),  # no lawful basis: still the erasure is the answer, basis None
    ],
)
def test_erasure_decides_every_field_under_every_basis(
    purpose: str, region: str, basis: str | None, group: str
) -> None:
    events = [
        grant("2026-03-01T00:00:00+00:00", purpose),
        ev("erase", "2026-03-05T10:00:00+01:00", event_id="erase-first"),
        ev("erase", "2026-03-07T00:00:00+00:00", event_id="erase-again"),
        grant("2026-03-09T00:00:00+00:00", purpose),
    ]
    assert answer(events, purpose, region) == expect(False, basis, group, ERASED, "erase-first")


# --- rule 3: not_allowed and contract ---------------------------------------------------------------


def test_not_allowed_names_the_purpose_and_region() -> None:
    events = [ev("grant", "2026-03-01T00:00:00+00:00", "ads")]
    assert answer(events, "ads", "FR") == expect(False, "not_allowed", "EU", "ads is not allowed in EU")


def test_contract_is_allowed_whatever_the_choice_and_cites_no_event() -> None:
    events = [ev("withdraw", "2026-03-01T00:00:00+00:00", "account")]
    assert answer(events, "account", "DE") == expect(
        True, "contract", "EU", "account is needed for the contract in EU"
    )
    assert answer(events, "account", "BR") == expect(
        True, "contract", "*", "account is needed for the contract in BR (default)"
    )


# --- rule 6: legitimate_interest and opt_out --------------------------------------------------------


@pytest.mark.parametrize(
    ("purpose", "region", "basis", "where"),
    [
        ("fraud", "DE", "legitimate_interest", "EU"),
        ("tune", "US-CA", "opt_out", "US-CA"),
        ("ads", None, "opt_out", "unknown region (default)"),
    ],
)
def test_no_signal_is_allowed_under_li_and_opt_out(
    purpose: str, region: str | None, basis: str, where: str
) -> None:
    group = "*" if region is None else where
    assert answer([], purpose, region) == expect(
        True, basis, group, f"{basis} in {where}; no objection recorded"
    )


@pytest.mark.parametrize(
    ("action", "past"),
    [("deny", "refused"), ("withdraw", "withdrawn"), ("object", "objected to"), ("opt_out", "opted out")],
)
def test_each_negative_signal_denies_under_li_with_its_own_words(action: str, past: str) -> None:
    events = [
        ev("grant", "2026-03-01T00:00:00+00:00", "fraud"),
        ev(action, "2026-03-02T08:30:00-05:00", "fraud", event_id="neg"),
    ]
    assert answer(events, "fraud", "DE") == expect(
        False,
        "legitimate_interest",
        "EU",
        f"legitimate_interest in EU; {past} at 2026-03-02T08:30:00-05:00",
        "neg",
    )


def test_grant_after_an_objection_is_allowed_and_cited() -> None:
    events = [
        ev("object", "2026-03-01T00:00:00+00:00", "fraud"),
        ev("grant", "2026-03-03T00:00:00+00:00", "fraud", event_id="back"),
    ]
    assert answer(events, "fraud", "DE") == expect(
        True,
        "legitimate_interest",
        "EU",
        "legitimate_interest in EU; granted at 2026-03-03T00:00:00+00:00",
        "back",
    )


def test_gpc_opts_out_under_opt_out_where_honoured_with_its_own_words() -> None:
    events = [
        ev("grant", "2026-03-01T00:00:00+00:00", "tune", notice="ai", version="1"),
        ev("gpc", "2026-03-02T00:00:00+00:00", signals={"gpc": True}, event_id="gpc"),
    ]
    assert answer(events, "tune", "US-CA") == expect(
        False,
        "opt_out",
        "US-CA",
        "opt_out in US-CA; opted out by Global Privacy Control at 2026-03-02T00:00:00+00:00",
        "gpc",
    )
    # The same GPC signal where the region does not honour it (default group, opt_out): ignored.
    assert answer(events[1:], "ads", "JP") == expect(
        True, "opt_out", "*", "opt_out in JP (default); no objection recorded"
    )


def test_gpc_without_a_purpose_signal_opts_out() -> None:
    events = [ev("gpc", "2026-03-02T00:00:00+00:00", signals={"gpc": True}, event_id="gpc")]
    assert answer(events, "tune", "US-CA")["evidence_event"] == "gpc"
    assert answer(events, "tune", "US-CA")["allowed"] is False


# --- rule 5: consent ---------------------------------------------------------------------------------


def test_consent_without_signal() -> None:
    assert answer([], "tune", "DE") == expect(False, "consent", "EU", "consent needed and none recorded")


def test_consent_after_a_withdrawal() -> None:
    events = [
        grant("2026-03-01T00:00:00+00:00"),
        ev("withdraw", "2026-03-02T00:00:00+00:00", "tune", event_id="w"),
    ]
    assert answer(events, "tune", "DE") == expect(
        False, "consent", "EU", "consent withdrawn at 2026-03-02T00:00:00+00:00", "w"
    )


def test_consent_granted_under_another_notice() -> None:
    events = [grant("2026-03-01T00:00:00+00:00", notice="other", event_id="g")]
    assert answer(events, "tune", "DE") == expect(
        False,
        "consent",
        "EU",
        "grant at 2026-03-01T00:00:00+00:00 was made under notice 'other', not 'ai'",
        "g",
    )


@pytest.mark.parametrize("version", ["9", None])
def test_consent_naming_an_unknown_or_no_version(version: str | None) -> None:
    events = [grant("2026-03-01T00:00:00+00:00", version=version, event_id="g")]
    assert answer(events, "tune", "DE") == expect(
        False,
        "consent",
        "EU",
        f"grant at 2026-03-01T00:00:00+00:00 names notice version {version!r}, unknown to the policy"
        if version is not None
        else "grant at 2026-03-01T00:00:00+00:00 names no version of notice 'ai', so what the person saw "
        "is unknown",
        "g",
    )


def test_consent_to_an_old_version_after_a_material_change() -> None:
    events = [grant("2026-03-25T00:00:00+00:00", event_id="g")]
    april = datetime.fromisoformat("2026-04-01T00:00:00+00:00")
    assert answer(events, "tune", "DE", april) == expect(
        False,
        "consent",
        "EU",
        "consent given to ai v1, but v2 (effective 2026-04-01T00:00:00+00:00) changed it materially; "
        "ask again",
        "g",
    )
    # One microsecond earlier the material version is not yet in force.
    assert answer(events, "tune", "DE", april - timedelta(microseconds=1))["allowed"] is True


def test_consent_expiry_at_the_edge_and_one_past_it() -> None:
    events = [grant("2026-03-01T00:00:00+00:00", event_id="g")]
    edge = datetime.fromisoformat("2026-03-11T00:00:00+00:00")  # exactly max_age_days (10) later
    assert answer(events, "tune", "DE", edge) == expect(
        True, "consent", "EU", "consent given at 2026-03-01T00:00:00+00:00 under ai v1", "g"
    )
    assert answer(events, "tune", "DE", edge + timedelta(microseconds=1)) == expect(
        False, "consent", "EU", "consent given at 2026-03-01T00:00:00+00:00 expired after 10 days", "g"
    )


def test_consent_under_the_default_region_reports_the_default_group() -> None:
    events = [grant("2026-03-15T00:00:00+00:00", event_id="g", region="JP")]
    assert answer(events, "tune") == expect(
        True, "consent", "*", "consent given at 2026-03-15T00:00:00+00:00 under ai v1", "g"
    )


# --- rule 1: the region of the latest event, and only events up to ``at`` ---------------------------


def test_region_comes_from_the_latest_event_that_carries_one_even_a_non_signal() -> None:
    events = [
        ev("deny", "2026-03-01T00:00:00+00:00", "tune", region="DE"),
        ev("gpc", "2026-03-02T00:00:00+00:00", signals={"gpc": False}, region="US-CA"),
        ev("deny", "2026-03-03T00:00:00+00:00", "ads"),  # no region: does not reset it
    ]
    decision = answer(events, "tune")
    assert (decision["region"], decision["basis"]) == ("US-CA", "opt_out")


def test_an_erasure_after_at_does_not_count() -> None:
    events = [
        grant("2026-03-01T00:00:00+00:00", event_id="g"),
        ev("erase", "2026-03-20T12:00:00.000001+00:00"),
    ]
    assert answer(events, "tune", "DE")["evidence_event"] == "g"


def test_the_first_erasure_is_the_evidence_even_when_recorded_last() -> None:
    early = ev("erase", "2026-03-02T00:00:00+00:00", event_id="early")
    late = ev("erase", "2026-03-04T00:00:00+00:00", event_id="late")
    assert answer([late, early], "fraud", "DE")["evidence_event"] == "early"


# --- errors --------------------------------------------------------------------------------------------


def test_unknown_purpose_lists_the_declared_ones() -> None:
    with pytest.raises(QueryError) as err:
        decide(POLICY, [], SUBJECT, "mine_crypto", AT)
    assert (
        str(err.value)
        == "unknown purpose 'mine_crypto'; the policy declares: tune, eu_only, fraud, ads, banned, account"
    )
    assert err.value.purpose == "mine_crypto"


class _NoOffset(tzinfo):
    """A time zone that does not know its offset: as good as none."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None


@pytest.mark.parametrize("at", [datetime(2026, 3, 20, 12), datetime(2026, 3, 20, 12, tzinfo=_NoOffset())])
def test_an_at_without_offset_is_refused_on_every_entry_point(at: datetime) -> None:
    with pytest.raises(QueryError) as one:
        decide(POLICY, [], SUBJECT, "tune", at)
    assert (one.value.message, one.value.purpose) == (
        "'at' needs a time zone, e.g. 2026-05-01T12:00:00Z",
        "tune",
    )
    with pytest.raises(QueryError) as many:
        decide_batch(POLICY, {}, [Query(SUBJECT, "tune", AT), Query(SUBJECT, "tune", at)])
    assert many.value.message == "'at' needs a time zone, e.g. 2026-05-01T12:00:00Z"


def test_batch_answers_equal_single_decisions_on_every_field() -> None:
    alice = [
        grant("2026-03-01T00:00:00+00:00", region="DE"),
        ev("gpc", "2026-03-02T00:00:00+00:00", signals={"gpc": True}),
    ]
    queries = [
        Query("alice", "tune", AT),
        Query("alice", "tune", AT, "US-CA"),
        Query("nobody", "fraud", AT, "DE"),
        Query("alice", "eu_only", AT, "JP"),
        Query("alice", "tune", AT - timedelta(days=30)),
    ]
    got = decide_batch(POLICY, {"alice": alice}, queries)
    want = [
        decide(POLICY, alice if q.subject == "alice" else [], q.subject, q.purpose, q.at, q.region)
        for q in queries
    ]
    assert [d.to_json() for d in got] == [d.to_json() for d in want]


def test_a_timeline_is_reusable_and_sized() -> None:
    events = [grant("2026-03-01T00:00:00+00:00"), ev("withdraw", "2026-03-02T00:00:00+00:00", "tune")]
    tl = DecisionTimeline(iter(events))
    assert len(tl) == 2
    first = decide_timeline(POLICY, tl, "tune", AT, "DE")
    assert first == decide_timeline(POLICY, tl, "tune", AT, "DE")
    assert isinstance(first, Decision)


def test_a_grant_without_version_never_matches_a_version_labelled_none() -> None:
    odd = parse_policy_text(
        """
organization: {name: Example Odd Ltd, contact: privacy@example.com}
purposes:
  - {id: tune, title: Tune, kind: ai_training, notice: ai, basis: {"*": consent}}
notices:
  - id: ai
    purposes: [tune]
    versions:
      - {version: "None", effective_from: 2026-01-01T00:00:00Z, text: {en: "v"}}
"""
    )
    unversioned = grant("2026-03-01T00:00:00+00:00", version=None, event_id="g")
    assert decide(odd, [unversioned], SUBJECT, "tune", AT).to_json() == expect(
        False,
        "consent",
        "*",
        "grant at 2026-03-01T00:00:00+00:00 names no version of notice 'ai', so what the person saw "
        "is unknown",
        "g",
    )


def test_the_default_region_names_the_code_asked_about_under_every_basis() -> None:
    assert answer([], "banned", "JP") == expect(
        False, "not_allowed", "*", "banned is not allowed in JP (default)"
    )
    granted = [ev("grant", "2026-03-03T00:00:00+00:00", "fraud", event_id="g")]
    assert answer(granted, "fraud", "JP") == expect(
        True,
        "legitimate_interest",
        "*",
        "legitimate_interest in JP (default); granted at 2026-03-03T00:00:00+00:00",
        "g",
    )
    objected = [ev("object", "2026-03-03T00:00:00+00:00", "fraud", event_id="o")]
    assert answer(objected, "fraud", "JP") == expect(
        False,
        "legitimate_interest",
        "*",
        "legitimate_interest in JP (default); objected to at 2026-03-03T00:00:00+00:00",
        "o",
    )


def test_a_consent_purpose_without_a_notice_never_counts_a_grant() -> None:
    """The loader refuses such a policy; a Policy built in code can still lack the notice, and then
    no grant can be consent: denied, saying why in words, citing the grant."""
    tune = next(p for p in POLICY.purposes if p.id == "tune")
    others = [p for p in POLICY.purposes if p.id != "tune"]
    fields = {name: getattr(POLICY, name) for name in type(POLICY).model_fields}
    # model_construct: no validation (which would refuse it) and none of POLICY's cached look-ups
    bare = type(POLICY).model_construct(
        **{**fields, "purposes": [tune.model_copy(update={"notice": None}), *others]}
    )
    assert bare.require_purpose("tune").notice is None
    events = [grant("2026-03-01T00:00:00+00:00", event_id="g")]
    assert decide(bare, events, SUBJECT, "tune", AT, "DE").to_json() == expect(
        False,
        "consent",
        "EU",
        "tune rests on consent but the policy names no notice to collect it under",
        "g",
    )


def test_a_grant_naming_no_notice_says_so_in_words() -> None:
    events = [ev("grant", "2026-03-01T00:00:00+00:00", "tune", version="1", event_id="g")]
    assert answer(events, "tune", "DE") == expect(
        False,
        "consent",
        "EU",
        "grant at 2026-03-01T00:00:00+00:00 names no notice; consent counts only under 'ai'",
        "g",
    )
