"""The decoder the ledger checks TC strings with: it reads back every string the encoder writes, reads
IAB's own library's strings as the library does, and says plainly what is wrong with a broken one."""

from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings

from consentgate.errors import BadInput
from consentgate.ledger.tcstring import (
    PublisherTC,
    TcfIssuer,
    TCModel,
    consents_in,
    decode,
    encode,
    issuer_problems,
)
from consentgate.policy.tcf import TcfSettings

from . import oracle
from .test_tc_strings import _expected_from_model, models

WHEN = datetime(2026, 3, 14, tzinfo=UTC)
BASE = TCModel(
    created=WHEN,
    last_updated=WHEN,
    cmp_id=300,
    cmp_version=4,
    consent_language="DE",
    vendor_list_version=150,
    tcf_policy_version=5,
    publisher_cc="DE",
    purpose_consents=frozenset({1, 2}),
    vendor_consents=frozenset({8, 25}),
    vendors_disclosed=frozenset({1, 8, 25}),
)
SETTINGS = TcfSettings(enabled=True, cmp_id=300, cmp_version=4, publisher_cc="DE", vendors=[1, 8, 25, 40])
ISSUER = TcfIssuer(SETTINGS, lists={150: 5, 152: 5}, disclosed=lambda version: None)


def _canonical(model: TCModel) -> TCModel:
    """What a string can carry of a model: restrictions without vendors are not written, and are
    written in (purpose, type) order."""
    kept = tuple(sorted((r for r in model.restrictions if r.vendors), key=lambda r: (r.purpose, r.type)))
    return dataclasses.replace(model, restrictions=kept)


@settings(max_examples=300, deadline=None)
@given(models())
def test_every_string_the_encoder_writes_decodes_to_its_model(model: TCModel) -> None:
    assert decode(encode(model)) == _canonical(model)


@pytest.fixture(scope="module")
def _oracle() -> None:
    oracle.require_oracle()


@pytest.mark.usefixtures("_oracle")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models())
def test_strings_iabs_library_writes_decode_as_the_library_reads_them(model: TCModel) -> None:
    wanted = _expected_from_model(model)
    wanted.pop("segments")
    text = oracle.encode_raw(wanted | {"segments": _expected_from_model(model)["segments"]})
    assert _expected_from_model(decode(text)) == oracle.decode(text)


def _core_bits(model: TCModel) -> str:
    """The core segment's bits, to break on purpose."""
    segment = encode(model).split(".")[0]
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    return "".join(format(b, "08b") for b in raw)


def _segment(bits: str) -> str:
    bits += "0" * (-len(bits) % 8)
    return base64.urlsafe_b64encode(int(bits, 2).to_bytes(len(bits) // 8, "big")).decode().rstrip("=")


def _rest(model: TCModel) -> str:
    return "." + ".".join(encode(model).split(".")[1:])


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (encode(BASE).split(".")[0], "no disclosed-vendors segment"),
        (encode(BASE)[:20] + _rest(BASE), "cut short"),
        (encode(BASE).replace("C", "*", 1), "not base64url"),
        (_segment("000001" + _core_bits(BASE)[6:]) + _rest(BASE), "version is 1"),
        (_segment("000011" + _core_bits(BASE)[6:]) + _rest(BASE), "version is 3"),
        (encode(BASE) + "." + _segment("010" + "0" * 16 + "0"), "type 2"),
        (encode(BASE) + "." + encode(BASE).split(".")[1], "type 1"),
        (_segment(_core_bits(BASE) + "1" + "0" * 30) + _rest(BASE), "after its last field"),
    ],
)
def test_a_broken_string_is_refused_with_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(BadInput, match=says):
        decode(text)


def test_the_issuer_check_names_each_field_the_service_could_not_have_written() -> None:
    assert issuer_problems(BASE, ISSUER) == []
    wrong = dataclasses.replace(
        BASE,
        cmp_id=301,
        cmp_version=5,
        vendor_list_version=151,
        tcf_policy_version=4,
        is_service_specific=False,
        purpose_consents=frozenset({1, 14}),
        special_feature_optins=frozenset({3}),
    )
    found = " | ".join(issuer_problems(decode(encode(wrong)), ISSUER))
    for field in (
        "cmp_id is 301",
        "cmp_version is 5",
        "vendor_list_version is 151",
        "it has served 150, 152",
        "tcf_policy_version 4",
        "is_service_specific",
        "purpose_consents sets 14",
        "special_feature_optins sets 3",
    ):
        assert field in found


def test_a_lists_policy_version_must_be_the_one_that_list_has() -> None:
    found = issuer_problems(dataclasses.replace(BASE, vendor_list_version=152, tcf_policy_version=4), ISSUER)
    assert found == ["tcf_policy_version is 4; vendor list 152 is for policy version 5"]


def test_an_import_may_carry_an_earlier_cmp_version_never_a_later_one() -> None:
    imported = dataclasses.replace(ISSUER, live=False)
    assert issuer_problems(dataclasses.replace(BASE, cmp_version=2), imported) == []
    assert issuer_problems(dataclasses.replace(BASE, cmp_version=2), ISSUER) != []
    assert issuer_problems(dataclasses.replace(BASE, cmp_version=9), imported) != []


def test_consents_are_listed_by_field_and_nothing_else_counts() -> None:
    none = dataclasses.replace(
        BASE,
        purpose_consents=frozenset(),
        vendor_consents=frozenset(),
        purpose_legitimate_interests=frozenset({2, 7}),
        vendor_legitimate_interests=frozenset({8}),
        publisher_tc=PublisherTC(legitimate_interests=frozenset({7})),
    )
    assert consents_in(none) == []
    some = dataclasses.replace(
        none, special_feature_optins=frozenset({2}), publisher_tc=PublisherTC(frozenset({1}))
    )
    assert consents_in(some) == ["special_feature_optins 2", "publisher_consents 1"]


def test_live_capture_holds_a_string_to_the_policys_tcf_settings() -> None:
    """What tc_model never writes under this policy: another publisher country, a legitimate interest
    the policy does not declare, vendors it does not name or the string does not disclose, publisher
    purposes it does not have. An import, written under the settings of its day, is not held to them."""
    publisher = SETTINGS.model_copy(
        update={"publisher_purposes": [1], "publisher_legitimate_interest_purposes": [7]}
    )
    wrong = dataclasses.replace(
        BASE,
        publisher_cc="FR",
        purpose_legitimate_interests=frozenset({2}),
        vendors_disclosed=frozenset({1, 8, 99}),
        vendor_consents=frozenset({8, 25}),
        publisher_tc=PublisherTC(
            consents=frozenset({1, 2}), legitimate_interests=frozenset({8}), custom_purposes=1
        ),
    )
    found = " | ".join(issuer_problems(wrong, dataclasses.replace(ISSUER, settings=publisher)))
    for field in (
        "publisher_cc is FR",
        "purpose_legitimate_interests sets 2",
        "vendors_disclosed names 99",
        "vendor_consents names 25",
        "publisher_consents sets 2",
        "publisher_legitimate_interests sets 8",
        "1 custom purposes",
    ):
        assert field in found
    assert "publisher-TC segment" in " ".join(
        issuer_problems(BASE, dataclasses.replace(ISSUER, settings=publisher))
    )
    assert "publisher-TC segment" in " ".join(
        issuer_problems(dataclasses.replace(BASE, publisher_tc=PublisherTC()), ISSUER)
    )
    assert issuer_problems(wrong, dataclasses.replace(ISSUER, settings=publisher, live=False)) == []
