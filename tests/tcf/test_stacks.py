"""``web.tcf.stacks``: checked against the served GVL, with errors that name the stack to change (when the
service starts, in ``policy check``, in ``update-gvl``); ``auto`` weighed against a brute force over every
family of stacks; translations that must carry the stacks; what ``GET /v1/tcf/ui`` gives the layers."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from consentgate.cli import app as cli
from consentgate.errors import BadInput, PolicyError
from consentgate.ledger.tcstring import decode
from consentgate.policy.tcf import TcfSettings
from consentgate.server import create_app
from consentgate.web.tcf.gvl import Gvl, GvlStack, parse_gvl, parse_translation, shipped_gvl
from consentgate.web.tcf.stacks import Used, auto_stacks, shown_stacks, used

from .conftest import TCF, tcf_settings, write_policy
from .stacks_gvl import STACKS, VERSION, gvl_with_stacks, serve_from

GVL = parse_gvl(json.dumps(gvl_with_stacks()), "the test list")


def _tcf(**overrides: Any) -> TcfSettings:
    return TcfSettings.model_validate(TCF | overrides)


def test_listed_stacks_are_shown_in_the_policys_order() -> None:
    assert [s.id for s in shown_stacks(_tcf(stacks=[6, 1, 2]), GVL)] == [6, 1, 2]
    assert shown_stacks(_tcf(), GVL) == []  # none unless asked for


@pytest.mark.parametrize(
    ("overrides", "problems"),
    [
        (
            {"stacks": [1, 99]},
            [f"stack 99 is not in GVL {VERSION} (its stacks: 1, 2, 3, 4, 5, 6, 7, 8, 9); remove it, or serve "
             "a list that has it (consentgate tcf update-gvl)"],
        ),
        (
            {"stacks": [2, 6, 4]},
            ["stacks 2 and 4 both hold purpose 2, purpose 7; TCF lets a purpose or special feature appear "
             "in one stack only: drop one of the two"],
        ),
        # vendor 2 uses no special feature, and nor does the publisher
        (
            {"stacks": [1], "vendors": [2]},
            [f"stack 1 ({STACKS['1']['name']}) holds special feature 1, special feature 2, which no vendor "
             "the banner discloses (web.tcf.vendors) and not the publisher uses; choose a stack without "
             "them, or leave it out (its purposes are then listed one by one)"],
        ),
        (
            {"stacks": [9]},
            [f"stack 9 ({STACKS['9']['name']}) holds fewer than two purposes and special features; a "
             "stack stands in for two or more (TCF policy): leave it out"],
        ),
        # vendor 3 declares special purposes only; the publisher uses 1, 2, 7, 8 and 10
        (
            {"stacks": [5, 99, 3, 2], "vendors": [3]},
            ["stack 5 (", "holds purpose 3, purpose 4, purpose 5, purpose 6, which",
             "stack 99 is not in GVL", "stack 3 (", "holds purpose 3, purpose 4, which",
             "stacks 5 and 3 both hold purpose 3, purpose 4;", "stacks 3 and 2 both hold purpose 2;"],
        ),
    ],
)  # fmt: skip
def test_a_stack_list_that_does_not_fit_is_refused_naming_each_stack_to_change(
    overrides: dict[str, Any], problems: list[str]
) -> None:
    with pytest.raises(PolicyError) as caught:
        shown_stacks(_tcf(**overrides), GVL)
    assert caught.value.message.startswith(f"web.tcf.stacks does not fit GVL {VERSION}: ")
    for problem in problems:
        assert problem in caught.value.message
    assert {at for at, _ in caught.value.problems} == {"web.tcf.stacks"}


def test_the_publishers_own_purposes_count_as_used() -> None:
    special_purposes_only = {"vendors": [3], "stacks": [5]}
    with pytest.raises(PolicyError):
        shown_stacks(_tcf(**special_purposes_only), GVL)
    mine = _tcf(**special_purposes_only, publisher_purposes=[3, 4, 5, 6])
    assert [s.id for s in shown_stacks(mine, GVL)] == [5]


def test_a_stack_id_listed_twice_is_refused_when_the_policy_loads() -> None:
    with pytest.raises(ValueError, match="stacks 2 are listed more than once"):
        _tcf(stacks=[2, 1, 2])
    with pytest.raises(ValueError, match="auto"):
        _tcf(stacks="all")


def _members(stack: GvlStack) -> set[tuple[str, int]]:
    return {("p", p) for p in stack.purposes} | {("sf", f) for f in stack.specialFeatures}


def _brute_force(use: Used, gvl: Gvl) -> list[int]:
    """Every family of stacks, weighed as auto promises: most covered, then fewest stacks, then ids."""
    fitting = sorted(
        (s for s in gvl.stacks.values() if len(_members(s)) >= 2 and use.holds(s)), key=lambda s: s.id
    )
    best: tuple[int, int, tuple[int, ...]] | None = None
    for size in range(len(fitting) + 1):
        for family in combinations(fitting, size):
            covered = [m for s in family for m in _members(s)]
            if len(covered) != len(set(covered)):
                continue  # overlapping stacks are never shown together
            key = (-len(covered), size, tuple(s.id for s in family))
            best = key if best is None or key < best else best
    assert best is not None
    return list(best[2])


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"vendors": [2]},
        {"vendors": [8]},
        {"vendors": [755], "publisher_purposes": [], "publisher_legitimate_interest_purposes": []},
        {"vendors": [1, 8]},
        {"vendors": [3], "publisher_purposes": [5, 6, 11], "legitimate_interest_purposes": []},
    ],
)
def test_auto_picks_the_fewest_stacks_covering_the_most_without_overlap(overrides: dict[str, Any]) -> None:
    settings = _tcf(**overrides, stacks="auto")
    chosen = [s.id for s in shown_stacks(settings, GVL)]
    assert chosen == _brute_force(used(settings, GVL), GVL)
    assert shown_stacks(_tcf(**overrides, stacks=chosen), GVL)  # and auto's choice passes the checks


_ids = st.frozensets(st.integers(1, 11), max_size=11)
_features = st.frozensets(st.integers(1, 2), max_size=2)


@settings(max_examples=150, deadline=None)
@given(
    stacks=st.lists(st.tuples(_ids, _features), max_size=9),
    use=st.builds(Used, _ids, _features),
)
def test_auto_matches_the_brute_force_on_any_stacks(
    stacks: list[tuple[frozenset[int], frozenset[int]]], use: Used
) -> None:
    data = gvl_with_stacks(
        {
            str(i): {"id": i, "name": f"Stack {i}", "description": "", "purposes": sorted(p),
                     "specialFeatures": sorted(f)}
            for i, (p, f) in enumerate(stacks, start=1)
        }
    )  # fmt: skip
    gvl = Gvl.model_validate(data)
    assert [s.id for s in auto_stacks(use, gvl)] == _brute_force(use, gvl)


def test_auto_with_every_purpose_used() -> None:
    # Vendor 25 uses everything. No stack holds purpose 1; stack 9 is a single purpose (not a stack's
    # job). {1, 2, 5, 6} and {1, 4, 5, 8} both cover 11 of the 13 items with four stacks: the lower ids win.
    assert [s.id for s in auto_stacks(used(_tcf(), GVL), GVL)] == [1, 2, 5, 6]
    assert auto_stacks(used(_tcf(), GVL), shipped_gvl()) == []  # a list without stacks: none


def test_the_service_does_not_start_and_policy_check_fails_on_a_stack_that_does_not_fit(
    tmp_path: Path, example_policy_path: Path, gvl_dir: Path
) -> None:
    serve_from(gvl_dir)
    policy = write_policy(example_policy_path, tmp_path / "policy.yaml", TCF | {"stacks": [2, 4]})
    with pytest.raises(PolicyError, match="stacks 2 and 4 both hold"):
        create_app(tcf_settings(tmp_path, policy, gvl_dir))
    runner = CliRunner(env={"COLUMNS": "240", "CONSENTGATE_TCF_GVL_DIR": str(gvl_dir)})
    checked = runner.invoke(cli, ["--db", str(tmp_path / "x.db"), "--policy", str(policy), "policy", "check"])
    assert checked.exit_code == 1
    assert "stacks 2 and 4 both hold purpose 2, purpose 7" in checked.output
    fine = write_policy(example_policy_path, tmp_path / "fine.yaml", TCF | {"stacks": [2, 6]})
    ok = runner.invoke(cli, ["--db", str(tmp_path / "x.db"), "--policy", str(fine), "policy", "check"])
    assert ok.exit_code == 0, ok.output
    assert f"TCF stacks on the first layer (listed): 2 ({STACKS['2']['name']}), 6 (" in ok.output
    auto = write_policy(example_policy_path, tmp_path / "auto.yaml", TCF | {"stacks": "auto"})
    chosen = runner.invoke(cli, ["--db", str(tmp_path / "x.db"), "--policy", str(auto), "policy", "check"])
    said = ", ".join(f"{i} ({STACKS[str(i)]['name']})" for i in (1, 2, 5, 6))  # what auto chose
    assert f"TCF stacks on the first layer (auto): {said}" in " ".join(chosen.output.split())


def test_serve_refuses_to_start_naming_the_stack(
    tmp_path: Path, example_policy_path: Path, gvl_dir: Path
) -> None:
    serve_from(gvl_dir)
    policy = write_policy(example_policy_path, tmp_path / "policy.yaml", TCF | {"stacks": [1, 99]})
    runner = CliRunner(env={"COLUMNS": "240", "CONSENTGATE_TCF_GVL_DIR": str(gvl_dir)})
    args = ["--db", str(tmp_path / "x.db"), "--policy", str(policy), "serve", "--port", "9"]
    refused = runner.invoke(cli, args)  # refused before uvicorn would bind the port
    assert refused.exit_code == 1
    assert f"stack 99 is not in GVL {VERSION}" in refused.output


def test_update_gvl_refuses_a_list_without_the_policys_stacks(
    tmp_path: Path, example_policy_path: Path, gvl_dir: Path
) -> None:
    serve_from(gvl_dir)
    policy = write_policy(example_policy_path, tmp_path / "policy.yaml", TCF | {"stacks": [2, 6]})
    without = gvl_with_stacks({k: v for k, v in STACKS.items() if k != "6"}, version=VERSION + 1)
    source = tmp_path / "vendor-list.json"
    source.write_text(json.dumps(without))
    runner = CliRunner(env={"COLUMNS": "240", "CONSENTGATE_TCF_GVL_DIR": str(gvl_dir)})
    args = ["--db", str(tmp_path / "x.db"), "--policy", str(policy), "tcf", "update-gvl", str(source)]
    refused = runner.invoke(cli, args)
    assert refused.exit_code == 1
    assert "was not stored" in refused.output
    assert f"stack 6 is not in GVL {VERSION + 1}" in refused.output
    assert json.loads((gvl_dir / "gvl.json").read_text())["vendorListVersion"] == VERSION
    source.write_text(json.dumps(gvl_with_stacks(version=VERSION + 1)))
    assert runner.invoke(cli, args).exit_code == 0


def _translation(gvl: dict[str, Any], *, stacks: bool = True) -> dict[str, Any]:
    """IAB's shape of ``purposes-de.json``, every text renamed so it is told apart."""
    sections = ["purposes", "specialPurposes", "features", "specialFeatures", "dataCategories"]
    out: dict[str, Any] = {"gvlSpecificationVersion": 3, "tcfPolicyVersion": gvl["tcfPolicyVersion"]}
    for section in [*sections, "stacks"] if stacks else sections:
        out[section] = {k: {**v, "name": f"DE {v['name']}"} for k, v in gvl[section].items()}
    return out


def test_a_translation_must_carry_the_stacks_of_the_list_served() -> None:
    with pytest.raises(BadInput, match=r"stacks 1, 2, 3, 4, 5, 6, 7, 8, 9 of the list served have no"):
        parse_translation(json.dumps(_translation(gvl_with_stacks(), stacks=False)), "purposes-de.json", GVL)
    kept = parse_translation(json.dumps(_translation(gvl_with_stacks())), "purposes-de.json", GVL)
    assert kept["stacks"]["2"]["name"] == "DE " + STACKS["2"]["name"]


@pytest.mark.anyio
async def test_the_layers_get_the_stacks_in_the_visitors_language(
    tmp_path: Path, example_policy_path: Path, gvl_dir: Path
) -> None:
    serve_from(gvl_dir)
    policy = write_policy(example_policy_path, tmp_path / "policy.yaml", TCF | {"stacks": [1, 2]})
    runner = CliRunner(env={"COLUMNS": "240", "CONSENTGATE_TCF_GVL_DIR": str(gvl_dir)})
    source = tmp_path / "purposes-de.json"
    source.write_text(json.dumps(_translation(gvl_with_stacks())))
    added = runner.invoke(cli, ["--db", str(tmp_path / "x.db"), "tcf", "add-translation", str(source)])
    assert added.exit_code == 0, added.output
    assert "11 purposes and 9 stacks translated" in added.output
    app = create_app(tcf_settings(tmp_path, policy, gvl_dir))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        german = (await c.get("/v1/tcf/ui", params={"locale": "de"})).json()
        english = (await c.get("/v1/tcf/ui", params={"locale": "en"})).json()
        assert german["stacks"] == [
            {**{k: f"DE {STACKS[str(i)][k]}" if k == "name" else STACKS[str(i)][k] for k in STACKS[str(i)]}}
            for i in (1, 2)
        ]
        assert [s["name"] for s in english["stacks"]] == [STACKS["1"]["name"], STACKS["2"]["name"]]
        # a list put in place by hand without the policy's stacks: the layers are refused, saying why
        serve_from(gvl_dir, gvl_with_stacks({"1": STACKS["1"]}, version=VERSION + 1))
        refused = await c.get("/v1/tcf/ui", params={"locale": "en"})
        assert refused.status_code == 409
        assert f"stack 2 is not in GVL {VERSION + 1}" in refused.json()["error"]["message"]


@pytest.mark.anyio
@pytest.mark.parametrize(("stacks", "shown"), [([], "de"), ([1, 2], "en"), ("auto", "en")])
async def test_a_translation_stored_without_stacks_serves_only_layers_without_stacks(
    tmp_path: Path, example_policy_path: Path, gvl_dir: Path, stacks: list[int] | str, shown: str
) -> None:
    """One stored by an earlier consentgate kept no stacks: it still serves layers that show none, and
    layers with stacks fall back to IAB's English rather than mix languages (ConsentLanguage says so)."""
    serve_from(gvl_dir)
    old = _translation(gvl_with_stacks(), stacks=False)
    (gvl_dir / "purposes-de.json").write_text(json.dumps(old))
    policy = write_policy(example_policy_path, tmp_path / "policy.yaml", TCF | {"stacks": stacks})
    app = create_app(tcf_settings(tmp_path, policy, gvl_dir))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        layers = (await c.get("/v1/tcf/ui", params={"locale": "de"})).json()
        written = (await c.post("/v1/tcf/tc-string", json={"purpose_consents": [1], "locale": "de"})).json()
    assert layers["language"] == shown
    assert layers["purposes"]["1"]["name"].startswith("DE ") == (shown == "de")
    assert decode(written["tc_string"]).consent_language == shown.upper()
