"""The GVL the service hosts: `consentgate tcf update-gvl`, `GET /v1/tcf/gvl`, `POST /v1/tcf/tc-string`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from consentgate.cli import app as cli
from consentgate.server import create_app
from consentgate.web.tcf.gvl import shipped_gvl

from . import oracle
from .conftest import AC_IDS, TCF, tcf_settings, write_policy


def _gvl(version: int, *, policy_version: int = 5, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    data = json.loads(shipped_gvl().model_dump_json(exclude_none=True))
    data["vendorListVersion"] = version
    data["tcfPolicyVersion"] = policy_version
    for key in drop:
        data["vendors"].pop(key)
    return data


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / f"list-{data['vendorListVersion']}.json"
    path.write_text(json.dumps(data))
    return path


def _update(tmp_path: Path, gvl_dir: Path, source: str, policy: Path | None = None) -> Any:
    runner = CliRunner(env={"COLUMNS": "240", "CONSENTGATE_TCF_GVL_DIR": str(gvl_dir)})
    where = ["--policy", str(policy)] if policy else ["--policy", str(tmp_path / "no-policy.yaml")]
    return runner.invoke(cli, ["--db", str(tmp_path / "x.db"), *where, "tcf", "update-gvl", source])


def test_a_newer_list_is_stored_and_served(tmp_path: Path, gvl_dir: Path, tcf_policy: Path) -> None:
    served = shipped_gvl().vendorListVersion
    newer = tmp_path / "vendor-list.json"
    newer.write_text(json.dumps(_gvl(served + 3, drop=("25",))))
    result = _update(tmp_path, gvl_dir, str(newer), tcf_policy)
    assert result.exit_code == 0, result.output
    assert f"vendorListVersion {served + 3}" in result.output
    assert f"replaces {served}" in result.output
    # the policy names vendor 25, which the new list dropped, and 4, deleted: said, not hidden
    assert "web.tcf names vendors 4, 25, which GVL" in result.output
    # without vendor 25 nobody uses purposes 5, 6, 11 or special feature 2: the layers drop them
    assert (
        "the TCF layers now show, and Accept all consents to, purposes 1, 2, 3, 4, 7, 8, 9, 10; special "
        "features 1 (before: purposes 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11; special features 1, 2)"
    ) in " ".join(result.output.split())

    app = create_app(tcf_settings(tmp_path, tcf_policy, gvl_dir))
    with TestClient(app) as c:
        got = c.get("/v1/tcf/gvl")
        assert got.status_code == 200
        assert got.json()["vendorListVersion"] == served + 3
        assert got.headers["x-vendor-list-version"] == str(served + 3)
        assert "25" not in got.json()["vendors"]
        # strings are written against the served list: its version, and no vendor it dropped
        answer = c.post("/v1/tcf/tc-string", json={"vendor_consents": [25, 8], "purpose_consents": [1]})
        assert answer.status_code == 200, answer.text
        # a list stored while the service runs is served from the next request on
        assert _update(tmp_path, gvl_dir, str(_write(tmp_path, _gvl(served + 4)))).exit_code == 0
        assert c.get("/v1/tcf/gvl").headers["x-vendor-list-version"] == str(served + 4)
        later = c.post("/v1/tcf/tc-string", json={}).json()
        assert later["vendor_list_version"] == served + 4
    oracle.require_oracle()
    decoded = oracle.decode(answer.json()["tc_string"])
    assert decoded["vendorListVersion"] == served + 3
    assert decoded["vendorConsents"] == [8]
    assert 25 not in decoded["vendorsDisclosed"]


@pytest.mark.parametrize("offset", [0, -1])
def test_an_older_or_equal_list_is_refused_and_the_served_one_stays(
    tmp_path: Path, gvl_dir: Path, offset: int
) -> None:
    served = shipped_gvl().vendorListVersion
    older = tmp_path / "old.json"
    older.write_text(json.dumps(_gvl(served + offset)))
    result = _update(tmp_path, gvl_dir, str(older))
    assert result.exit_code == 1
    assert f"vendorListVersion {served + offset}" in result.output
    assert f"already serves {served}" in result.output
    assert not gvl_dir.exists()


def test_a_list_for_an_older_policy_version_is_refused(tmp_path: Path, gvl_dir: Path) -> None:
    served = shipped_gvl()
    bad = tmp_path / "old-policy.json"
    bad.write_text(json.dumps(_gvl(served.vendorListVersion + 1, policy_version=served.tcfPolicyVersion - 1)))
    result = _update(tmp_path, gvl_dir, str(bad))
    assert result.exit_code == 1
    assert "older than" in result.output
    assert not gvl_dir.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"vendorListVersion": 900}', "is not a Global Vendor List"),
    ],
)
def test_what_is_not_a_gvl_is_refused(tmp_path: Path, gvl_dir: Path, text: str, message: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text)
    result = _update(tmp_path, gvl_dir, str(path))
    assert result.exit_code == 1
    assert message in result.output
    assert not gvl_dir.exists()


def test_a_mismatched_vendor_key_is_refused(tmp_path: Path, gvl_dir: Path) -> None:
    data = _gvl(shipped_gvl().vendorListVersion + 1)
    data["vendors"]["9"] = data["vendors"].pop("8")
    path = tmp_path / "mismatch.json"
    path.write_text(json.dumps(data))
    result = _update(tmp_path, gvl_dir, str(path))
    assert result.exit_code == 1
    assert "vendors.9 has id 8" in result.output


@pytest.mark.anyio
async def test_tc_string_answers_with_the_policy_and_choices(client: httpx.AsyncClient) -> None:
    oracle.require_oracle()
    body = {
        "purpose_consents": [1, 2, 3],
        "purpose_objections": [7],
        "special_features": [1],
        "vendor_consents": [1, 8, 755],
        "vendor_objections": [2],
        "google_ac_consents": [1301],
        "locale": "de-AT",
        "created": "2026-01-02T10:00:00Z",
    }
    answer = await client.post("/v1/tcf/tc-string", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    got = answer.json()
    assert got["addtl_consent"] == "2~1301~dv.89"
    decoded = oracle.decode(got["tc_string"])
    assert decoded["created"] == "2026-01-02T00:00:00.000Z"
    assert decoded["lastUpdated"] >= decoded["created"]
    assert (decoded["cmpId"], decoded["cmpVersion"]) == (TCF["cmp_id"], TCF["cmp_version"])
    # The purposes' texts were the GVL's English ones, whatever the banner's buttons spoke.
    assert decoded["consentLanguage"] == "EN"
    assert decoded["publisherCountryCode"] == "DE"
    assert decoded["purposeConsents"] == [1, 2, 3]
    assert decoded["purposeLegitimateInterests"] == [2, 8, 10]
    assert decoded["specialFeatureOptins"] == [1]
    assert decoded["vendorsDisclosed"] == [1, 2, 3, 8, 25, 755]  # 4 is deleted in the GVL
    assert decoded["vendorConsents"] == [1, 8, 755]
    assert 2 not in decoded["vendorLegitimateInterests"]
    assert decoded["publisherRestrictions"] == [{"purposeId": 2, "restrictionType": 1, "vendorIds": [755]}]
    assert decoded["vendorListVersion"] == got["vendor_list_version"]
    # the publisher's own purposes: none consented to in this body, LI 7 not objected to
    assert decoded["segments"] == ["core", "vendorsDisclosed", "publisherTC"]
    assert (decoded["publisherConsents"], decoded["publisherLegitimateInterests"]) == ([], [7])
    mine = await client.post(
        "/v1/tcf/tc-string", json={"publisher_consents": [10, 2], "publisher_objections": [7]}
    )
    again = oracle.decode(mine.json()["tc_string"])
    assert (again["publisherConsents"], again["publisherLegitimateInterests"]) == ([10], [])


@pytest.mark.anyio
async def test_out_of_range_choices_are_refused(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/tcf/tc-string", json={"purpose_consents": [12]})
    assert answer.status_code == 422
    assert "purpose_consents: 12 outside 1-11" in answer.json()["error"]["message"]
    unknown = await client.post("/v1/tcf/tc-string", json={"purposes": [1]})
    assert unknown.status_code == 422


def test_nothing_is_served_while_tcf_is_off(tmp_path: Path, example_policy_path: Path, gvl_dir: Path) -> None:
    policy = write_policy(example_policy_path, tmp_path / "off.yaml", {**TCF, "enabled": False})
    with TestClient(create_app(tcf_settings(tmp_path, policy, gvl_dir))) as c:
        for got in (c.get("/v1/tcf/gvl"), c.get("/v1/tcf/ui"), c.post("/v1/tcf/tc-string", json={})):
            assert got.status_code == 404
            assert "web.tcf.enabled" in got.json()["error"]["message"]


@pytest.mark.anyio
async def test_tcf_js_comes_separately_with_the_cmp_compiled_in(client: httpx.AsyncClient) -> None:
    """The CMP API is its own file: the default banner (8 KB gzip budget, tests/web/test_assets.py)
    carries none of it, and tcf.js knows its ids before any request so ``ping`` answers at once."""
    banner = (await client.get("/banner.js")).text
    assert "__tcfapi" not in banner
    code = await client.get("/tcf.js")
    assert code.status_code == 200
    assert code.headers["content-type"].startswith("text/javascript")
    boot = json.loads(code.text.rsplit("(", 1)[1].rsplit(")", 1)[0])
    assert boot["cmpId"] == TCF["cmp_id"]
    assert boot["cmpVersion"] == TCF["cmp_version"]
    assert boot["gvlVersion"] == shipped_gvl().vendorListVersion
    assert boot["vendors"] == [1, 2, 3, 8, 25, 755]
    assert boot["ac"] == AC_IDS
    assert "__tcfapi" in code.text
    head = await client.head("/tcf.js")  # like every static asset (tests/web/test_config.py)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == code.headers["etag"]


def test_a_list_is_fetched_from_an_address(tmp_path: Path, gvl_dir: Path) -> None:
    """IAB publishes the list at an address; update-gvl downloads it (here from a loopback server)."""
    from tests.browser import serve_static

    served = shipped_gvl().vendorListVersion
    folder = tmp_path / "www"
    folder.mkdir()
    (folder / "vendor-list.json").write_text(json.dumps(_gvl(served + 1)))
    base, httpd = serve_static(folder)
    try:
        missing = _update(tmp_path, gvl_dir, f"{base}/v3/none.json")
        assert missing.exit_code == 1
        assert "HTTP 404" in missing.output
        assert not gvl_dir.exists()
        result = _update(tmp_path, gvl_dir, f"{base}/vendor-list.json")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.exit_code == 0, result.output
    assert "web.tcf was not checked against the new list" in result.output
    assert json.loads((gvl_dir / "gvl.json").read_text())["vendorListVersion"] == served + 1


def _translation(*, drop: str | None = None, policy_version: int | None = None) -> dict[str, Any]:
    """IAB's shape of ``purposes-de.json``: every text of the served list, renamed so it is told apart."""
    gvl = json.loads(shipped_gvl().model_dump_json(exclude_none=True))
    out: dict[str, Any] = {
        "gvlSpecificationVersion": 3,
        "tcfPolicyVersion": policy_version or gvl["tcfPolicyVersion"],
    }
    for section in ("purposes", "specialPurposes", "features", "specialFeatures", "dataCategories"):
        out[section] = {
            k: {**v, "name": f"DE {v['name']}"} for k, v in (gvl.get(section) or {}).items() if k != drop
        }
    return out


def _add(tmp_path: Path, gvl_dir: Path, source: Path, *extra: str) -> Any:
    runner = CliRunner(env={"COLUMNS": "240", "CONSENTGATE_TCF_GVL_DIR": str(gvl_dir)})
    where = ["--policy", str(tmp_path / "no-policy.yaml")]
    return runner.invoke(
        cli, ["--db", str(tmp_path / "x.db"), *where, "tcf", "add-translation", str(source), *extra]
    )


@pytest.mark.anyio
async def test_a_stored_translation_is_shown_and_named_by_consent_language(
    client: httpx.AsyncClient, tmp_path: Path, gvl_dir: Path
) -> None:
    from consentgate.ledger.tcstring import decode

    english = await client.get("/v1/tcf/ui", params={"locale": "de"})
    assert english.json()["language"] == "en"  # nothing stored yet: the GVL's own English
    before = await client.post("/v1/tcf/tc-string", json={"purpose_consents": [1], "locale": "de-AT"})
    assert decode(before.json()["tc_string"]).consent_language == "EN"

    source = tmp_path / "purposes-de.json"
    source.write_text(json.dumps(_translation()))
    added = _add(tmp_path, gvl_dir, source)
    assert added.exit_code == 0, added.output
    assert "de: " in added.output

    german = (await client.get("/v1/tcf/ui", params={"locale": "de"})).json()
    assert german["language"] == "de"
    assert german["purposes"]["1"]["name"] == "DE " + shipped_gvl().purposes["1"]["name"]
    assert all(f["name"].startswith("DE ") for f in german["specialFeatures"].values())
    after = await client.post("/v1/tcf/tc-string", json={"purpose_consents": [1], "locale": "de-AT"})
    assert decode(after.json()["tc_string"]).consent_language == "DE"
    # A language without a stored translation still shows, and names, the GVL's English.
    french = (await client.get("/v1/tcf/ui", params={"locale": "fr"})).json()
    assert french["language"] == "en"
    assert french["purposes"]["1"]["name"] == shipped_gvl().purposes["1"]["name"]
    other = await client.post("/v1/tcf/tc-string", json={"purpose_consents": [1], "locale": "fr"})
    assert decode(other.json()["tc_string"]).consent_language == "EN"


def test_an_incomplete_or_mismatched_translation_is_refused(tmp_path: Path, gvl_dir: Path) -> None:
    missing = tmp_path / "purposes-de.json"
    missing.write_text(json.dumps(_translation(drop="3")))
    result = _add(tmp_path, gvl_dir, missing)
    assert result.exit_code == 1
    assert "purposes 3 of the list served have no translated name" in result.output
    assert not (gvl_dir / "purposes-de.json").exists()

    other_policy = tmp_path / "purposes-fr.json"
    other_policy.write_text(json.dumps(_translation(policy_version=shipped_gvl().tcfPolicyVersion + 1)))
    result = _add(tmp_path, gvl_dir, other_policy)
    assert result.exit_code == 1
    assert "tcfPolicyVersion" in result.output
    assert not (gvl_dir / "purposes-fr.json").exists()

    unnamed = tmp_path / "texts.json"
    unnamed.write_text(json.dumps(_translation()))
    assert "pass --language" in _add(tmp_path, gvl_dir, unnamed).output
    assert _add(tmp_path, gvl_dir, unnamed, "--language", "deu").exit_code == 1
    assert _add(tmp_path, gvl_dir, unnamed, "--language", "it").exit_code == 0
    assert (gvl_dir / "purposes-it.json").exists()
