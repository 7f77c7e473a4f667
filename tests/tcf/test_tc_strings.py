"""TC strings from a visitor's choices, each decoded by IAB's own library and compared field by field
with the choices, the policy and the GVL (tests/tcf/oracle.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentgate.errors import BadInput
from consentgate.ledger.tcstring import PublisherRestriction, PublisherTC, RestrictionType, TCModel, encode
from consentgate.policy.tcf import RestrictionKind, TcfRestriction, TcfSettings
from consentgate.web.tcf.gvl import SNAPSHOT_NAME, Gvl, shipped_gvl
from consentgate.web.tcf.signals import TcfChoices, additional_consent, policy_gaps, tc_model, tc_string

from . import oracle

WHEN = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
DAY = "2026-03-14T00:00:00.000Z"


@pytest.fixture(scope="module", autouse=True)
def _oracle() -> None:
    oracle.require_oracle()


@pytest.fixture(scope="module")
def gvl() -> Gvl:
    return shipped_gvl()


def _ids(values: frozenset[int] | set[int]) -> list[int]:
    return sorted(values)


def _expected_from_model(m: TCModel) -> dict[str, Any]:
    """The oracle's JSON for a model, built from our fields by hand (names as IAB's library uses)."""
    pub = m.publisher_tc or PublisherTC()
    return {
        "version": 2,
        "created": m.created.isoformat().replace("+00:00", ".000Z"),
        "lastUpdated": m.last_updated.isoformat().replace("+00:00", ".000Z"),
        "cmpId": m.cmp_id,
        "cmpVersion": m.cmp_version,
        "consentScreen": m.consent_screen,
        "consentLanguage": m.consent_language,
        "vendorListVersion": m.vendor_list_version,
        "policyVersion": m.tcf_policy_version,
        "isServiceSpecific": m.is_service_specific,
        "useNonStandardTexts": m.use_non_standard_texts,
        "purposeOneTreatment": m.purpose_one_treatment,
        "publisherCountryCode": m.publisher_cc,
        "numCustomPurposes": pub.custom_purposes,
        "specialFeatureOptins": _ids(m.special_feature_optins),
        "purposeConsents": _ids(m.purpose_consents),
        "purposeLegitimateInterests": _ids(m.purpose_legitimate_interests),
        "vendorConsents": _ids(m.vendor_consents),
        "vendorLegitimateInterests": _ids(m.vendor_legitimate_interests),
        "vendorsDisclosed": _ids(m.vendors_disclosed),
        "vendorsAllowed": [],
        "publisherConsents": _ids(pub.consents),
        "publisherLegitimateInterests": _ids(pub.legitimate_interests),
        "publisherCustomConsents": _ids(pub.custom_consents),
        "publisherCustomLegitimateInterests": _ids(pub.custom_legitimate_interests),
        "publisherRestrictions": [
            {"purposeId": r.purpose, "restrictionType": int(r.type), "vendorIds": _ids(r.vendors)}
            for r in sorted(m.restrictions, key=lambda r: (r.purpose, r.type))
            if r.vendors
        ],
        "segments": ["core", "vendorsDisclosed"] + (["publisherTC"] if m.publisher_tc else []),
    }


vendor_sets = st.frozensets(st.integers(1, 3000), max_size=40)
purpose_sets = st.frozensets(st.integers(1, 11))


@st.composite
def models(draw: st.DrawFn) -> TCModel:
    created = datetime(
        draw(st.integers(2020, 2030)), draw(st.integers(1, 12)), draw(st.integers(1, 28)), tzinfo=UTC
    )
    restrictions = draw(
        st.lists(
            st.builds(
                PublisherRestriction,
                st.integers(1, 11),
                st.sampled_from(list(RestrictionType)),
                st.frozensets(st.integers(1, 600), min_size=1, max_size=12),
            ),
            max_size=3,
            unique_by=lambda r: (r.purpose, r.type),
        )
    )
    custom = draw(st.integers(0, 5))
    publisher = draw(
        st.none()
        | st.builds(
            PublisherTC,
            purpose_sets,
            purpose_sets,
            st.just(custom),
            st.frozensets(st.integers(1, custom)) if custom else st.just(frozenset()),
            st.frozensets(st.integers(1, custom)) if custom else st.just(frozenset()),
        )
    )
    return TCModel(
        created=created,
        last_updated=created,
        cmp_id=draw(st.integers(2, 4095)),
        cmp_version=draw(st.integers(1, 4095)),
        consent_language=draw(st.sampled_from(["EN", "DE", "FR", "PT", "ZH", "HE"])),
        vendor_list_version=draw(st.integers(1, 4095)),
        tcf_policy_version=draw(st.sampled_from([4, 5])),
        publisher_cc=draw(st.sampled_from(["DE", "FR", "AA", "IE"])),
        consent_screen=draw(st.integers(0, 63)),
        purpose_one_treatment=draw(st.booleans()),
        use_non_standard_texts=draw(st.booleans()),
        special_feature_optins=draw(st.frozensets(st.integers(1, 2))),
        purpose_consents=draw(purpose_sets),
        purpose_legitimate_interests=draw(purpose_sets),
        # dense runs favour ranges, scattered ids the bitfield: both encodings get exercised
        vendor_consents=draw(
            vendor_sets
            | st.builds(lambda a, n: frozenset(range(a, a + n)), st.integers(1, 900), st.integers(1, 400))
        ),
        vendor_legitimate_interests=draw(vendor_sets),
        restrictions=tuple(restrictions),
        vendors_disclosed=draw(vendor_sets),
        publisher_tc=publisher,
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models())
def test_every_field_decodes_to_what_was_encoded(model: TCModel) -> None:
    assert oracle.decode(encode(model)) == _expected_from_model(model)


def _policy(**overrides: Any) -> TcfSettings:
    base: dict[str, Any] = {"enabled": True, "cmp_id": 300, "cmp_version": 7, "publisher_cc": "FR"}
    return TcfSettings.model_validate(base | overrides)


def test_choices_become_the_signals_iab_reads(gvl: Gvl) -> None:
    policy = _policy(
        legitimate_interest_purposes=[2, 7, 8, 10],
        restrictions=[
            TcfRestriction(purpose=2, type=RestrictionKind.REQUIRE_CONSENT, vendors=[755, 2]),
            TcfRestriction(purpose=9, type=RestrictionKind.NOT_ALLOWED, vendors=[8, 25, 4]),
        ],
    )
    choices = TcfChoices(
        purpose_consents=frozenset({1, 2, 3, 4}),
        purpose_objections=frozenset({8}),
        special_features=frozenset({2}),
        vendor_consents=frozenset(
            {1, 2, 3, 4, 25, 999}
        ),  # 3 declares no consent purpose, 4 deleted, 999 unknown
        vendor_objections=frozenset({755}),
    )
    got = oracle.decode(tc_string(choices, policy, gvl, language="pt-BR", created=WHEN, updated=WHEN))
    assert (got["cmpId"], got["cmpVersion"], got["publisherCountryCode"]) == (300, 7, "FR")
    assert got["consentLanguage"] == "PT"
    assert (got["vendorListVersion"], got["policyVersion"]) == (gvl.vendorListVersion, gvl.tcfPolicyVersion)
    assert got["created"] == got["lastUpdated"] == DAY
    assert got["isServiceSpecific"] is True
    assert got["segments"] == ["core", "vendorsDisclosed"]
    assert got["purposeConsents"] == [1, 2, 3, 4]
    assert got["purposeLegitimateInterests"] == [2, 7, 10]
    assert got["specialFeatureOptins"] == [2]
    assert got["vendorsDisclosed"] == gvl.active_vendor_ids()
    assert 4 not in got["vendorsDisclosed"]
    assert got["vendorConsents"] == [1, 2, 25]
    # LI: vendors declaring LI purposes (2, 8) or special purposes, which rest on LI (1, 3, 25),
    # less 755, objected to
    assert got["vendorLegitimateInterests"] == [1, 2, 3, 8, 25]
    assert got["publisherRestrictions"] == [
        {"purposeId": 2, "restrictionType": 1, "vendorIds": [2, 755]},
        {"purposeId": 9, "restrictionType": 0, "vendorIds": [8, 25]},
    ]


def test_our_signals_match_a_cmp_built_on_iabs_library(gvl: Gvl) -> None:
    """The same choices through the library's own GVL clean-ups give the same decoded string."""
    policy = _policy(
        legitimate_interest_purposes=[2, 7, 9],
        restrictions=[
            # 755 declares 7 under LI already: meaningless, dropped; 2 flexible on 2 under LI: kept
            TcfRestriction(purpose=7, type=RestrictionKind.REQUIRE_LEGITIMATE_INTEREST, vendors=[755]),
            TcfRestriction(purpose=2, type=RestrictionKind.REQUIRE_CONSENT, vendors=[2]),
            TcfRestriction(purpose=11, type=RestrictionKind.NOT_ALLOWED, vendors=[25, 8]),
        ],
    )
    choices = TcfChoices(
        purpose_consents=frozenset({1, 3, 5, 9, 11}),
        special_features=frozenset({1}),
        vendor_consents=frozenset(gvl.active_vendor_ids()),
        vendor_objections=frozenset({8}),
    )
    ours = oracle.decode(tc_string(choices, policy, gvl, language="de", created=WHEN, updated=WHEN))
    gvl_file = resources.files("consentgate.web.tcf").joinpath(SNAPSHOT_NAME)
    model = {k: v for k, v in ours.items() if k != "segments"}
    # hand the library the raw wishes; it must clean them up to what we wrote
    model["vendorConsents"] = sorted(choices.vendor_consents)
    model["vendorLegitimateInterests"] = [v for v in gvl.active_vendor_ids() if v != 8]
    model["segments"] = ["core", "vendorsDisclosed"]
    model["publisherRestrictions"] = [
        {
            "purposeId": r.purpose,
            "restrictionType": list(RestrictionKind).index(r.type),
            "vendorIds": r.vendors,
        }
        for r in policy.restrictions
    ]
    theirs = oracle.decode(oracle.encode_semantic(model, Path(str(gvl_file))))
    assert ours == theirs
    assert ours["publisherRestrictions"] == [
        {"purposeId": 2, "restrictionType": 1, "vendorIds": [2]},
        {"purposeId": 11, "restrictionType": 0, "vendorIds": [25]},
    ]


def test_bad_ids_are_refused_with_what_to_fix(gvl: Gvl) -> None:
    with pytest.raises(BadInput, match="purpose_consents: 12 outside 1-11"):
        tc_string(
            TcfChoices(purpose_consents=frozenset({12})),
            _policy(),
            gvl,
            language="en",
            created=WHEN,
            updated=WHEN,
        )
    with pytest.raises(BadInput, match="two-letter"):
        tc_model(TcfChoices(), _policy(), gvl, language="fil", created=WHEN, updated=WHEN)


def test_policy_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="cmp_id"):
        TcfSettings(enabled=True)
    with pytest.raises(ValueError, match="cannot rest on a legitimate interest"):
        TcfSettings(legitimate_interest_purposes=[2, 3])
    with pytest.raises(ValueError, match="purposes 1, 4 cannot rest on a legitimate interest"):
        TcfSettings(publisher_legitimate_interest_purposes=[4, 1, 7])
    with pytest.raises(ValueError, match="extra"):
        TcfSettings.model_validate({"enabled": False, "cmpid": 3})


def test_additional_consent_string_lists_consented_then_disclosed_only() -> None:
    policy = _policy(google_ac_vendors=[89, 1, 2316, 35])
    assert (
        additional_consent(TcfChoices(google_ac_consents=frozenset({35, 1, 7})), policy)
        == "2~1.35~dv.89.2316"
    )
    assert additional_consent(TcfChoices(), policy) == "2~~dv.1.35.89.2316"
    assert additional_consent(TcfChoices(), _policy()) == "2~~dv."


def test_named_and_bare_google_providers_make_one_ac_string_of_the_visitors_switches() -> None:
    named = {"id": 2316, "name": "Example Ad Tech Ltd", "privacy_url": "https://ads.example.com/privacy"}
    policy = _policy(google_ac_vendors=[89, named, {"id": 35}, 1])
    assert [(v.id, v.name) for v in policy.ac_vendors()] == [
        (89, None), (2316, "Example Ad Tech Ltd"), (35, None), (1, None)
    ]  # fmt: skip
    mixed = TcfChoices(google_ac_consents=frozenset({2316, 1, 4000}))  # 4000 was never disclosed
    assert additional_consent(mixed, policy) == "2~1.2316~dv.35.89"
    everyone = TcfChoices(google_ac_consents=frozenset({1, 35, 89, 2316}))
    assert additional_consent(everyone, policy) == "2~1.35.89.2316~dv."


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ([{"id": 89, "title": "Ads"}], "extra"),  # an unknown key is a mistake, not a silent setting
        ([{"name": "Ads"}], "id"),
        ([89, {"id": 89, "name": "Ads"}], "providers 89 are listed more than once"),
        ([{"id": 89, "privacy_url": "javascript:alert(1)"}], "not an http"),
        ([{"id": 89, "name": ""}], "at least 1 character"),
        ([0], "greater than or equal to 1"),
    ],
)
def test_a_wrong_google_provider_entry_is_refused_saying_what_to_fix(
    entries: list[Any], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        _policy(google_ac_vendors=entries)


def test_what_the_gvl_cannot_carry_out_is_named(gvl: Gvl) -> None:
    policy = _policy(
        vendors=[1, 8, 4000],
        restrictions=[
            TcfRestriction(purpose=7, type=RestrictionKind.REQUIRE_LEGITIMATE_INTEREST, vendors=[755, 2]),
            TcfRestriction(purpose=2, type=RestrictionKind.REQUIRE_CONSENT, vendors=[755]),
        ],
    )
    gaps = policy_gaps(policy, gvl)
    assert len(gaps) == 2
    assert gaps[0].startswith("web.tcf names vendors 4000, which GVL")
    assert (
        "restrictions[0] (require_legitimate_interest for purpose 7) changes nothing for vendors 2, 755"
        in gaps[1]
    )
    assert policy_gaps(_policy(), gvl) == []


GVL_IDS = [1, 2, 3, 8, 25, 755]  # the shipped snapshot's live vendors (4 is deleted)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[TcfSettings, TcfChoices]:
    vendor_ids = st.sampled_from([*GVL_IDS, 4, 9, 4000])  # with a deleted and two unknown ids
    restrictions = draw(
        st.lists(
            st.builds(
                TcfRestriction,
                purpose=st.integers(1, 11),
                type=st.sampled_from(list(RestrictionKind)),
                vendors=st.lists(st.sampled_from(GVL_IDS), min_size=1, max_size=4, unique=True),
            ),
            max_size=4,
        )
    )
    policy = _policy(
        legitimate_interest_purposes=draw(st.lists(st.sampled_from([2, 7, 8, 9, 10, 11]), unique=True)),
        restrictions=restrictions,
    )
    choices = TcfChoices(
        purpose_consents=draw(purpose_sets),
        purpose_objections=draw(purpose_sets),
        special_features=draw(st.frozensets(st.integers(1, 2))),
        vendor_consents=draw(st.frozensets(vendor_ids)),
        vendor_objections=draw(st.frozensets(vendor_ids)),
    )
    return policy, choices


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_any_choices_give_the_signals_iabs_library_gives(
    gvl: Gvl, scenario: tuple[TcfSettings, TcfChoices]
) -> None:
    """Random choices, LI purposes and restrictions: our GVL rules and the library's clean-ups agree."""
    policy, choices = scenario
    ours = oracle.decode(tc_string(choices, policy, gvl, language="fr", created=WHEN, updated=WHEN))
    model = {k: v for k, v in ours.items() if k != "segments"}
    model["purposeLegitimateInterests"] = sorted(
        set(policy.legitimate_interest_purposes) - choices.purpose_objections
    )
    model["vendorConsents"] = sorted(choices.vendor_consents)
    model["vendorLegitimateInterests"] = sorted(set(GVL_IDS) - choices.vendor_objections)
    model["publisherRestrictions"] = [
        {
            "purposeId": r.purpose,
            "restrictionType": list(RestrictionKind).index(r.type),
            "vendorIds": r.vendors,
        }
        for r in policy.restrictions
    ]
    model["segments"] = ["core", "vendorsDisclosed"]
    gvl_file = Path(str(resources.files("consentgate.web.tcf").joinpath(SNAPSHOT_NAME)))
    assert _gvl_view(ours) == _gvl_view(oracle.decode(oracle.encode_semantic(model, gvl_file)))


def _gvl_view(decoded: dict[str, Any]) -> dict[str, Any]:
    """A decoded string as a vendor reads it against the GVL. The library may encode a restriction on
    vendors 8 and 25 as the range 8-25, since no vendor in between exists in the list (its README
    says so): the same meaning, other bits. Ids the GVL does not have are left out for comparing."""
    known = {int(k) for k in shipped_gvl().vendors}
    view = dict(decoded)
    view["publisherRestrictions"] = [
        {**r, "vendorIds": [v for v in r["vendorIds"] if v in known]}
        for r in decoded["publisherRestrictions"]
    ]
    return view
