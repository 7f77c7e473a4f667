"""What the TCF layers disclose (``web/tcf/used.py``): only the purposes, special purposes, features and
special features the disclosed vendors declare and the publisher's own purposes, weighed against
random vendor declarations; what ``GET /v1/tcf/ui`` and ``tcf.js`` are given from it."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from consentgate.cli import app as cli
from consentgate.ledger.tcstring import PublisherRestriction, RestrictionType, decode
from consentgate.policy.tcf import CONSENT_ONLY_PURPOSES, TcfSettings
from consentgate.server import create_app
from consentgate.web.tcf.gvl import parse_gvl, shipped_gvl
from consentgate.web.tcf.stacks import auto_stacks
from consentgate.web.tcf.ui import layers
from consentgate.web.tcf.used import Used, used

from .conftest import TCF, tcf_settings, write_policy
from .stacks_gvl import gvl_with_stacks

# Vendors 2, 3 and 8 of the shipped list use purposes 1-4 and 7-10, special feature 1, special purposes
# 1 and 2, feature 2: purposes 5, 6 and 11, special feature 2, special purpose 3 and features 1 and 3
# are used by nobody (tests/web/test_tcf_used.py shows the same in Chromium)
FEW = TCF | {"vendors": [2, 3, 8]}
FEW_PURPOSES = frozenset({1, 2, 3, 4, 7, 8, 9, 10})
SHIPPED = json.loads((files("consentgate.web.tcf") / "gvl.json").read_text(encoding="utf-8"))


def _tcf(base: dict[str, Any], **overrides: Any) -> TcfSettings:
    return TcfSettings.model_validate(base | overrides)


def test_a_site_with_three_vendors_uses_what_they_declare_and_the_publisher() -> None:
    use = used(_tcf(FEW), shipped_gvl())
    assert use == Used(
        purposes=FEW_PURPOSES,
        special_features=frozenset({1}),
        special_purposes=frozenset({1, 2}),
        features=frozenset({2}),
        vendors=frozenset({2, 3, 8}),
        # vendor 3 declares only special purposes: no consent reaches it, its legitimate interest does
        consent_vendors=frozenset({2, 8}),
        interest_vendors=frozenset({2, 3, 8}),
        # the policy's restriction on vendor 755, as the string carries it
        restrictions=(PublisherRestriction(2, RestrictionType.REQUIRE_CONSENT, frozenset({755})),),
    )
    # the publisher's own purposes are used even when no vendor declares them
    alone = used(_tcf(FEW, vendors=[3], publisher_purposes=[11]), shipped_gvl())
    assert alone.purposes == {11} | set(TCF["legitimate_interest_purposes"]) | {7}
    assert alone.special_features == frozenset()


def test_a_vendor_the_policy_forbids_a_purpose_does_not_use_it() -> None:
    """A not_allowed restriction takes the purpose from that vendor only (TCF "Publisher Restrictions")."""
    bare = {"legitimate_interest_purposes": [], "publisher_purposes": [], "restrictions": [],
            "publisher_legitimate_interest_purposes": []}  # fmt: skip
    forbid = [{"purpose": 3, "type": "not_allowed", "vendors": [8]}]
    assert 3 not in used(_tcf(TCF | bare, vendors=[8], restrictions=forbid), shipped_gvl()).purposes
    # vendor 1 declares purpose 3 too: still used
    assert 3 in used(_tcf(TCF | bare, vendors=[1, 8], restrictions=forbid), shipped_gvl()).purposes


def test_deleted_and_undisclosed_vendors_use_nothing() -> None:
    # vendor 4 (deleted) declares purposes 1 and 2; vendor 25 declares everything but is not disclosed
    use = used(_tcf(TCF, vendors=[4], legitimate_interest_purposes=[], publisher_purposes=[],
                    publisher_legitimate_interest_purposes=[]), shipped_gvl())  # fmt: skip
    assert (use.purposes, use.special_features, use.vendors, use.consent_vendors) == (frozenset(),) * 4


# -- random vendor declarations ---------------------------------------------------------------------

_purposes = st.lists(st.integers(1, 11), max_size=11, unique=True)
_vendor = st.fixed_dictionaries(
    {
        "purposes": _purposes,
        "legIntPurposes": _purposes,
        "flexiblePurposes": _purposes,
        "specialPurposes": st.lists(st.integers(1, 3), max_size=3, unique=True),
        "features": st.lists(st.integers(1, 3), max_size=3, unique=True),
        "specialFeatures": st.lists(st.integers(1, 2), max_size=2, unique=True),
        "deleted": st.booleans(),
    }
)


@settings(max_examples=200, deadline=None)
@given(
    vendors=st.dictionaries(st.integers(1, 40), _vendor, max_size=8),
    disclosed=st.none() | st.lists(st.integers(1, 45), max_size=10, unique=True),
    publisher=_purposes,
    interests=st.lists(st.sampled_from(sorted(set(range(1, 12)) - CONSENT_ONLY_PURPOSES)), unique=True),
    forbidden=st.lists(st.tuples(st.integers(1, 11), st.integers(1, 40)), max_size=6),
)
def test_used_is_exactly_what_some_disclosed_vendor_or_the_publisher_declares(
    vendors: dict[int, dict[str, Any]],
    disclosed: list[int] | None,
    publisher: list[int],
    interests: list[int],
    forbidden: list[tuple[int, int]],
) -> None:
    data = dict(SHIPPED)
    data["vendors"] = {
        str(vid): {"id": vid, "name": f"Vendor {vid}"}
        | {k: v for k, v in decl.items() if k != "deleted"}
        | ({"deletedDate": "2025-01-01T00:00:00Z"} if decl["deleted"] else {})
        for vid, decl in vendors.items()
    }
    gvl = parse_gvl(json.dumps(data), "random list")
    tcf = _tcf(
        TCF,
        vendors=disclosed,
        publisher_purposes=publisher,
        publisher_legitimate_interest_purposes=[],
        legitimate_interest_purposes=interests,
        restrictions=[{"purpose": p, "type": "not_allowed", "vendors": [v]} for p, v in forbidden],
    )
    use = used(tcf, gvl)
    # the vendors that may get a signal: in the list, not deleted, and named by the policy (or all)
    shown = {
        vid: decl
        for vid, decl in vendors.items()
        if not decl["deleted"] and (disclosed is None or vid in disclosed)
    }
    for p in range(1, 12):
        declared_by = [
            vid
            for vid, decl in shown.items()
            if p in decl["purposes"] + decl["legIntPurposes"] + decl["flexiblePurposes"]
            and (p, vid) not in forbidden
        ]
        assert (p in use.purposes) == (bool(declared_by) or p in publisher or p in interests), p
    for field, name in (
        ("specialFeatures", "special_features"),
        ("specialPurposes", "special_purposes"),
        ("features", "features"),
    ):
        assert getattr(use, name) == {i for decl in shown.values() for i in decl[field]}, field


# -- what the layers and tcf.js are given ------------------------------------------------------------


def test_the_layers_name_only_what_is_used() -> None:
    body = layers(_tcf(FEW), shipped_gvl(), "en")
    assert sorted(map(int, body["purposes"])) == sorted(FEW_PURPOSES)
    assert list(body["specialFeatures"]) == ["1"]
    assert sorted(body["specialPurposes"]) == ["1", "2"]
    assert list(body["features"]) == ["2"]
    gvl = shipped_gvl()
    assert body["purposes"]["9"]["name"] == gvl.purposes["9"]["name"]  # IAB's words, unchanged
    # every vendor's declarations still resolve to a named entry: nothing a vendor uses is left out
    for v in body["vendors"]:
        assert {str(p) for p in v["purposes"] + v["legIntPurposes"]} <= set(body["purposes"])
        assert {str(p) for p in v["specialPurposes"]} <= set(body["specialPurposes"])
        assert {str(f) for f in v["features"]} <= set(body["features"])


def test_auto_stacks_never_hold_an_unused_purpose() -> None:
    gvl = parse_gvl(json.dumps(gvl_with_stacks()), "the test list")
    use = used(_tcf(FEW, stacks="auto"), gvl)
    chosen = auto_stacks(use, gvl)
    assert chosen, "the test list has stacks within purposes 1-4 and 7-10"
    for stack in chosen:
        assert set(stack.purposes) <= FEW_PURPOSES
        assert set(stack.specialFeatures) <= {1}
    body = layers(_tcf(FEW, stacks="auto"), gvl, "en")
    assert [s["id"] for s in body["stacks"]] == [s.id for s in chosen]


@pytest.fixture
def few_client(tmp_path: Path, example_policy_path: Path) -> httpx.AsyncClient:
    policy = write_policy(example_policy_path, tmp_path / "policy.yaml", FEW)
    app = create_app(tcf_settings(tmp_path, policy, tmp_path / "gvl"))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.mark.anyio
async def test_the_service_serves_the_used_set_to_the_layers_and_to_tcf_js(
    few_client: httpx.AsyncClient,
) -> None:
    async with few_client as client:
        ui = (await client.get("/v1/tcf/ui", params={"locale": "en"})).json()
        script = (await client.get("/tcf.js")).text
    assert sorted(map(int, ui["purposes"])) == sorted(FEW_PURPOSES)
    boot = re.search(r"\}\)\((\{.*\})\);?\s*$", script, re.S)
    assert boot is not None, script[-300:]
    compiled = json.loads(boot.group(1))
    assert (compiled["purposes"], compiled["specialFeatures"]) == (sorted(FEW_PURPOSES), [1])
    assert compiled["vendors"] == [2, 3, 8]


@pytest.mark.anyio
async def test_a_consent_to_what_the_layers_do_not_show_is_refused_not_written(
    few_client: httpx.AsyncClient,
) -> None:
    async with few_client as client:
        unused = await client.post("/v1/tcf/tc-string", json={"purpose_consents": [1, 5, 11]})
        feature = await client.post("/v1/tcf/tc-string", json={"special_features": [2]})
        exact = await client.post(
            "/v1/tcf/tc-string",
            json={
                "purpose_consents": sorted(FEW_PURPOSES),
                "special_features": [1],
                "purpose_objections": [5],
            },
        )
    assert unused.status_code == 422
    assert unused.json()["error"]["message"] == (
        "purpose_consents 5, 11: no vendor the banner discloses (web.tcf.vendors) and not the publisher "
        "uses them under GVL 150, so the layers never show them; consent is possible to 1, 2, 3, 4, 7, "
        "8, 9, 10"
    )
    assert feature.status_code == 422
    assert "special_features 2: no vendor" in feature.json()["error"]["message"]
    assert exact.status_code == 200, exact.text
    assert decode(exact.json()["tc_string"]).purpose_consents == FEW_PURPOSES


def test_policy_check_says_what_the_layers_show(tmp_path: Path, example_policy_path: Path) -> None:
    policy = write_policy(example_policy_path, tmp_path / "policy.yaml", FEW)
    runner = CliRunner(env={"COLUMNS": "240", "CONSENTGATE_TCF_GVL_DIR": str(tmp_path / "gvl")})
    checked = runner.invoke(cli, ["--db", str(tmp_path / "x.db"), "--policy", str(policy), "policy", "check"])
    assert checked.exit_code == 0, checked.output
    assert (
        "TCF layers (GVL 150) show, and Accept all consents to: purposes 1, 2, 3, 4, 7, 8, 9, 10; "
        "special features 1"
    ) in " ".join(checked.output.split())
