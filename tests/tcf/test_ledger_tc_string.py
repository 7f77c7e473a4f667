"""The ledger decodes ``signals.tc_string`` and refuses a string the service could not have written,
naming the field, with nothing stored; on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from consentgate.errors import BadInput, EventError
from consentgate.ledger.store import Ledger
from consentgate.ledger.tcstring import decode, encode
from consentgate.policy import load_policy
from consentgate.policy.tcf import TcfSettings
from consentgate.service import ConsentService
from consentgate.web.tcf.gvl import SNAPSHOT_NAME, shipped_gvl, store_gvl
from consentgate.web.tcf.signals import TcfChoices, tc_model

from .conftest import TCF, write_policy

NOW = datetime.now(UTC)
ALL = frozenset(range(1, 12))
# every purpose and special feature: what the test policy's vendors use (vendor 25 declares them all);
# every vendor the policy discloses, as tcf.js's Accept all sends (the string keeps those a consent reaches)
ACCEPT_ALL = TcfChoices(
    purpose_consents=ALL, special_features=frozenset({1, 2}), vendor_consents=frozenset(TCF["vendors"])
)


@pytest.fixture
def service(ledger_url: str, tcf_policy: Path, gvl_dir: Path) -> Iterator[ConsentService]:
    svc = ConsentService(load_policy(tcf_policy), Ledger.open(ledger_url), gvl_directory=gvl_dir)
    try:
        yield svc
    finally:
        svc.ledger.close()


def _string(svc: ConsentService, choices: TcfChoices, **fields: Any) -> str:
    model = tc_model(choices, svc.policy.web.tcf, shipped_gvl(), language="de", created=NOW, updated=NOW)
    return encode(dataclasses.replace(model, **fields))


def _event(action: str, tc: str, choice: str | None = None, **over: Any) -> dict[str, Any]:
    signals: dict[str, Any] = {"tc_string": tc}
    if choice is not None:
        signals["banner_choice"] = choice
    raw: dict[str, Any] = {
        "subject": "visitor-1",
        "action": action,
        "purposes": ["train_support_chatbot"],
        "occurred_at": NOW.isoformat(),
        "signals": signals,
    }
    if action == "grant":
        raw |= {"notice_id": "ai-training", "notice_version": 2}
    return raw | over


def _refused(svc: ConsentService, *raws: dict[str, Any]) -> str:
    with pytest.raises(EventError) as caught:
        svc.record([(f"event {i}", raw) for i, raw in enumerate(raws)], source="banner")
    assert svc.ledger.count() == 0, "nothing of a refused submission may be stored"
    fields = {where.split(": ")[-1] for where, _ in caught.value.problems}
    assert fields == {"signals.tc_string"}, caught.value.problems
    return " | ".join(message for _, message in caught.value.problems)


def test_the_string_the_service_wrote_is_stored_as_it_came(service: ConsentService) -> None:
    tc = _string(service, ACCEPT_ALL)
    stored = service.record([("", _event("grant", tc, "accept_all"))], source="banner")
    assert [e.signals["tc_string"] for e in stored] == [tc]
    assert decode(stored[0].signals["tc_string"]).purpose_consents == ALL


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"cmp_id": TCF["cmp_id"] + 1}, "cmp_id is 301; this policy's web.tcf.cmp_id is 300"),
        ({"cmp_version": TCF["cmp_version"] - 1}, "cmp_version is 3"),
        ({"vendor_list_version": shipped_gvl().vendorListVersion + 1}, "never served (it has served 150)"),
        ({"tcf_policy_version": 4}, "tcf_policy_version is 4"),
    ],
)
def test_a_string_from_another_cmp_or_list_is_refused(
    service: ConsentService, fields: dict[str, Any], says: str
) -> None:
    tc = _string(service, ACCEPT_ALL, **fields)
    assert says in _refused(service, _event("grant", tc, "accept_all"))


def test_a_refusal_carrying_consents_is_refused(service: ConsentService) -> None:
    consenting = _string(service, TcfChoices(purpose_consents=frozenset({1, 3})))
    said = _refused(service, _event("deny", consenting))
    assert "purpose_consents 1, 3" in said
    assert "grants nothing (deny)" in said
    assert "vendor_consents" not in said  # no vendor consented, none is named
    gpc = {"subject": "visitor-1", "action": "gpc", "occurred_at": NOW.isoformat()}
    vendor = _string(service, TcfChoices(vendor_consents=frozenset({8})))
    assert "vendor_consents 8" in _refused(service, gpc | {"signals": {"tc_string": vendor}})
    assert "reject_all but consents" in _refused(service, _event("deny", consenting, "reject_all"))


def test_accept_all_must_consent_to_every_purpose(service: ConsentService) -> None:
    partial = _string(service, TcfChoices(purpose_consents=ALL - {4, 9}))
    assert "purposes 4, 9 without consent" in _refused(service, _event("grant", partial, "accept_all"))


def test_one_bad_event_refuses_the_whole_batch(service: ConsentService) -> None:
    good = _string(service, ACCEPT_ALL)
    bad = good[:30] + "." + good.split(".")[1]
    said = _refused(
        service, _event("grant", good, "accept_all"), _event("grant", bad, "accept_all", subject="v-2")
    )
    assert "cut short" in said


def test_a_save_may_refuse_policy_purposes_and_consent_to_tcf_purposes(service: ConsentService) -> None:
    """The TCF switches are separate from the policy's purposes: a Save records both as chosen."""
    tc = _string(service, TcfChoices(purpose_consents=frozenset({1}), vendor_consents=frozenset({8})))
    mixed = [_event("grant", tc, "custom"), _event("deny", tc, "custom", purposes=["finetune_recommender"])]
    assert len(service.record([("", raw) for raw in mixed], source="banner")) == 2
    later = (NOW + timedelta(seconds=1)).isoformat()
    assert len(service.record([("", _event("deny", tc, "custom", occurred_at=later))], source="banner")) == 1


def test_every_list_the_service_served_stays_known(service: ConsentService, gvl_dir: Path) -> None:
    before = service.tcf_issuer()
    assert before is not None
    assert dict(before.lists) == {150: 5}
    data = json.loads(resources.files("consentgate.web.tcf").joinpath(SNAPSHOT_NAME).read_bytes())
    for version in (151, 153):
        store_gvl(json.dumps(data | {"vendorListVersion": version}), "test", gvl_dir)
    assert service.tcf_issuer() is not None
    assert dict(service.tcf_issuer().lists) == {150: 5, 151: 5, 153: 5}  # type: ignore[union-attr]
    for n, version in enumerate((150, 151, 153)):
        tc = _string(service, ACCEPT_ALL, vendor_list_version=version)
        service.record([("", _event("grant", tc, "accept_all", subject=f"v-{n}"))], source="banner")
    never = _string(service, ACCEPT_ALL, vendor_list_version=152)
    with pytest.raises(EventError, match="152, a Global Vendor List this service never served"):
        service.record([("", _event("grant", never, "accept_all"))], source="banner")


def test_without_tcf_in_the_policy_no_tc_string_is_taken(
    ledger_url: str, tmp_path: Path, example_policy_path: Path, gvl_dir: Path
) -> None:
    with_tcf = ConsentService(
        load_policy(write_policy(example_policy_path, tmp_path / "tcf.yaml", TCF)), Ledger.open(ledger_url)
    )
    tc = _string(with_tcf, ACCEPT_ALL)
    with_tcf.ledger.close()
    plain = ConsentService(load_policy(example_policy_path), Ledger.open(ledger_url), gvl_directory=gvl_dir)
    try:
        assert "does not enable web.tcf" in _refused(plain, _event("grant", tc, "accept_all"))
    finally:
        plain.ledger.close()


def test_an_import_may_carry_the_strings_of_an_earlier_cmp_version(service: ConsentService) -> None:
    earlier = _string(service, ACCEPT_ALL, cmp_version=TCF["cmp_version"] - 1)
    service.record([("", _event("grant", earlier, "accept_all"))], source="import", strict=False)
    later = _string(service, ACCEPT_ALL, cmp_version=TCF["cmp_version"] + 1)
    with pytest.raises(EventError, match="cmp_version is 5"):
        service.record(
            [("", _event("grant", later, "accept_all", subject="v-2"))], source="import", strict=False
        )


def test_a_damaged_history_is_reported_not_guessed(service: ConsentService, gvl_dir: Path) -> None:
    """Which lists were served cannot be known from a history that is not JSON: say so, store nothing."""
    gvl_dir.mkdir(parents=True)
    (gvl_dir / "gvl-history.json").write_text("{not json")
    tc = _string(service, ACCEPT_ALL)
    with pytest.raises(BadInput, match=r"gvl-history\.json is not JSON"):
        service.record([("", _event("grant", tc, "accept_all"))], source="banner")
    assert service.ledger.count() == 0


# -- Google's Additional Consent string (signals.addtl_consent) ---------------------------------------


def _with_ac(svc: ConsentService, ac: str, choice: str, **over: Any) -> dict[str, Any]:
    tc = _string(svc, ACCEPT_ALL if choice == "accept_all" else TcfChoices())
    raw = _event("grant" if choice != "reject_all" else "deny", tc, choice, **over)
    raw["signals"]["addtl_consent"] = ac
    return raw


def _ac_refused(svc: ConsentService, raw: dict[str, Any], source: str = "banner") -> str:
    with pytest.raises(EventError) as caught:
        svc.record([("", raw)], source=source, strict=source != "import")
    assert svc.ledger.count() == 0, "nothing of a refused submission may be stored"
    assert {where.split(": ")[-1] for where, _ in caught.value.problems} == {"signals.addtl_consent"}
    return " | ".join(message for _, message in caught.value.problems)


def test_the_ac_string_the_service_wrote_is_stored(service: ConsentService) -> None:
    named, bare = 1301, 89  # tests/tcf/conftest.py: one provider with a name, one by id
    stored = service.record([("", _with_ac(service, f"2~{named}~dv.{bare}", "custom"))], source="banner")
    assert [e.signals["addtl_consent"] for e in stored] == [f"2~{named}~dv.{bare}"]


@pytest.mark.parametrize(
    ("ac", "choice", "says"),
    [
        ("2~89.1301.7~dv.", "custom", "names providers 7, which web.tcf.google_ac_vendors does not list"),
        ("2~89~dv.", "custom", "leaves out providers 1301 of web.tcf.google_ac_vendors"),
        ("2~89~dv.89.1301", "custom", "names providers 89 more than once"),
        ("2~89..1301~dv.", "custom", "where provider ids 1 and up"),
        ("2~89~dv.1301", "accept_all", "accept_all but refuses providers 1301"),
        ("2~1301~dv.89", "reject_all", "reject_all but consents to providers 1301"),
    ],
)
def test_an_ac_string_the_service_could_not_have_written_is_refused(
    service: ConsentService, ac: str, choice: str, says: str
) -> None:
    assert says in _ac_refused(service, _with_ac(service, ac, choice))


def test_an_imported_ac_string_is_checked_for_its_shape_only(service: ConsentService) -> None:
    """Written under the providers of its day: another list than today's is kept, a broken one is not."""
    earlier = service.record([("", _with_ac(service, "2~7~dv.89", "custom"))], source="import", strict=False)
    assert [e.signals["addtl_consent"] for e in earlier] == ["2~7~dv.89"]
    twice = _with_ac(service, "2~7~dv.7", "custom", subject="v-2")
    with pytest.raises(EventError, match="names providers 7 more than once"):
        service.record([("", twice)], source="import", strict=False)


# -- only what the layers disclosed (web/tcf/used.py) --------------------------------------------------

# vendors 2, 3 and 8 of the shipped list use purposes 1-4 and 7-10 and special feature 1 (test_used.py)
FEW = TCF | {"vendors": [2, 3, 8]}
USED = frozenset({1, 2, 3, 4, 7, 8, 9, 10})
FEW_VENDORS = frozenset({2, 3, 8})


@pytest.fixture
def few(
    ledger_url: str, tmp_path: Path, example_policy_path: Path, gvl_dir: Path
) -> Iterator[ConsentService]:
    policy = load_policy(write_policy(example_policy_path, tmp_path / "few.yaml", FEW))
    svc = ConsentService(policy, Ledger.open(ledger_url), gvl_directory=gvl_dir)
    try:
        yield svc
    finally:
        svc.ledger.close()


def test_accept_all_consents_to_exactly_what_was_disclosed(few: ConsentService) -> None:
    exact = _string(few, TcfChoices(USED, special_features=frozenset({1}), vendor_consents=FEW_VENDORS))
    stored = few.record([("", _event("grant", exact, "accept_all"))], source="banner")
    assert decode(stored[0].signals["tc_string"]).purpose_consents == USED
    some = _string(few, TcfChoices(purpose_consents=frozenset({1, 9})))
    assert len(few.record([("", _event("grant", some, "custom", subject="v-2"))], source="banner")) == 1


@pytest.mark.parametrize(
    ("choices", "choice", "says"),
    [
        (TcfChoices(purpose_consents=USED | {5, 11}, special_features=frozenset({1})), "accept_all",
         "consents to purposes 5, 11, which no vendor the banner discloses and not the publisher uses "
         "under GVL 150 (it disclosed purposes 1, 2, 3, 4, 7, 8, 9, 10)"),
        (TcfChoices(purpose_consents=frozenset({6})), "custom", "consents to purposes 6, which no vendor"),
        (TcfChoices(purpose_consents=USED, special_features=frozenset({1, 2})), "accept_all",
         "consents to special features 2, which no vendor"),
        (TcfChoices(purpose_consents=USED - {9}, special_features=frozenset({1})), "accept_all",
         "accept_all but leaves purposes 9 without consent"),
        (TcfChoices(purpose_consents=USED), "accept_all", "accept_all but leaves special features 1 without"),
    ],
)  # fmt: skip
def test_a_consent_the_layers_never_showed_is_refused(
    few: ConsentService, choices: TcfChoices, choice: str, says: str
) -> None:
    assert says in _refused(few, _event("grant", _string(few, choices), choice))


def _list_using(version: int, purposes_of_8: list[int]) -> str:
    data = json.loads(resources.files("consentgate.web.tcf").joinpath(SNAPSHOT_NAME).read_bytes())
    data["vendorListVersion"] = version
    data["vendors"]["8"] = data["vendors"]["8"] | {"purposes": purposes_of_8}
    return json.dumps(data)


def test_a_string_is_checked_against_the_list_it_names(few: ConsentService, gvl_dir: Path) -> None:
    """Vendor 8 adds purpose 5 in list 151 and drops it in 152: a string written under 151 just before
    the update still holds; the same consent under 152 was never shown. A list replaced before
    consentgate kept replaced lists cannot be checked, and is refused, not taken unchecked."""
    store_gvl(_list_using(151, [1, 2, 3, 4, 5]), "test", gvl_dir)
    store_gvl(_list_using(152, [1, 2, 3, 4]), "test", gvl_dir)
    assert (gvl_dir / "gvl-151.json").exists()
    with_5 = TcfChoices(purpose_consents=frozenset({5}))
    under_151 = _string(few, with_5, vendor_list_version=151)
    assert len(few.record([("", _event("grant", under_151, "custom"))], source="banner")) == 1
    under_152 = _string(few, with_5, vendor_list_version=152)
    assert "consents to purposes 5, which no vendor" in _refused_after(
        few, _event("grant", under_152, "custom")
    )
    under_150 = _string(few, with_5, vendor_list_version=150)  # the shipped list: always at hand
    assert "under GVL 150" in _refused_after(few, _event("grant", under_150, "custom"))

    (gvl_dir / "gvl-151.json").unlink()
    assert "served but no longer has" in _refused_after(
        few, _event("grant", under_151, "custom", subject="v-3")
    )


def _refused_after(svc: ConsentService, raw: dict[str, Any]) -> str:
    before = svc.ledger.count()
    with pytest.raises(EventError) as caught:
        svc.record([("", raw)], source="banner")
    assert svc.ledger.count() == before, "nothing of a refused submission may be stored"
    return " | ".join(message for _, message in caught.value.problems)


def test_an_import_is_not_held_to_todays_vendors(few: ConsentService) -> None:
    """Written under the vendors of its day (all 11 purposes, as consentgate's Accept all did before)."""
    earlier = _string(few, ACCEPT_ALL)
    stored = few.record([("", _event("grant", earlier, "accept_all"))], source="import", strict=False)
    assert decode(stored[0].signals["tc_string"]).purpose_consents == ALL


# -- the vendors the layers disclosed ------------------------------------------------------------------

# vendor 4 is deleted in the shipped list; vendor 3 declares only special purposes (no consent reaches it)
FEW_ACCEPT = TcfChoices(USED, special_features=frozenset({1}), vendor_consents=FEW_VENDORS)
WITH_DELETED = FEW | {"vendors": [2, 3, 4, 8]}


def _few_string(fields: dict[str, Any], choices: TcfChoices = FEW_ACCEPT) -> str:
    model = tc_model(choices, TcfSettings.model_validate(FEW), shipped_gvl(), language="de", created=NOW,
                     updated=NOW)  # fmt: skip
    return encode(dataclasses.replace(model, **fields))


@pytest.mark.parametrize(
    ("fields", "choices", "choice", "says"),
    [
        ({"vendors_disclosed": frozenset({2, 8})}, FEW_ACCEPT, "accept_all",
         "leaves vendors 3 out of its disclosed vendors; the layers named them under GVL 150"),
        ({"vendor_consents": frozenset({2, 3, 8})}, FEW_ACCEPT, "accept_all",
         "vendor_consents names 3, vendors with no purpose on consent under GVL 150"),
        ({}, TcfChoices(USED, special_features=frozenset({1}), vendor_consents=frozenset({2})), "accept_all",
         "accept_all but leaves vendors 8 without consent"),
        ({"restrictions": ()}, FEW_ACCEPT, "accept_all",
         "carries publisher restrictions none; this policy's web.tcf.restrictions give require_consent "
         "for purpose 2, vendors 755 under GVL 150"),
    ],
)  # fmt: skip
def test_a_string_naming_other_vendors_than_the_layers_did_is_refused(
    few: ConsentService, fields: dict[str, Any], choices: TcfChoices, choice: str, says: str
) -> None:
    assert says in _refused(few, _event("grant", _few_string(fields, choices), choice))


def test_a_custom_choice_may_leave_vendors_out(few: ConsentService) -> None:
    some = _few_string({}, TcfChoices(frozenset({1}), vendor_consents=frozenset({8})))
    assert len(few.record([("", _event("grant", some, "custom"))], source="banner")) == 1


def test_a_vendor_the_list_no_longer_has_is_refused(
    ledger_url: str, tmp_path: Path, example_policy_path: Path, gvl_dir: Path
) -> None:
    """The policy may still name a vendor IAB deleted; the layers leave it out, so must the string."""
    policy = load_policy(write_policy(example_policy_path, tmp_path / "deleted.yaml", WITH_DELETED))
    svc = ConsentService(policy, Ledger.open(ledger_url), gvl_directory=gvl_dir)
    try:
        written = _few_string({})  # what the service writes: vendor 4 is not disclosed
        assert len(svc.record([("", _event("grant", written, "accept_all"))], source="banner")) == 1
        forged = _few_string({"vendors_disclosed": frozenset({2, 3, 4, 8})})
        said = _refused_after(svc, _event("grant", forged, "accept_all", subject="v-2"))
        assert "discloses vendors 4, which GVL 150 does not list as active" in said
    finally:
        svc.ledger.close()
