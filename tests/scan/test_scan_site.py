"""A real scan of the test site in Chromium finds every cookie and storage key, in the right phases,
with the right category, party and cause, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from consentgate.scan import ScanOptions, scan_site

from .conftest import require_chromium
from .site import EXEMPT, EXPECTED, HOSTS_BEFORE_CONSENT, NEVER, POLICY_WEB

pytestmark = pytest.mark.slow


def _items(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {c["name"]: c for c in doc["cookies"]}
    out |= {f"{s['kind']}:{s['key']}": s for s in doc["storage"]}
    return out


def test_finds_exactly_the_expected_items(scanned: dict[str, Any]) -> None:
    found = _items(scanned["doc"])
    assert set(found) == set(EXPECTED), "missing or unexpected items"
    for name, (phases, category, party) in EXPECTED.items():
        item = found[name]
        assert item["phases"] == phases, name
        assert item["category"] == category, name
        assert item["party"] == party, name
    assert not NEVER & set(found)


def test_crawl_covers_links_scripts_sitemap_and_depth_and_respects_robots(scanned: dict[str, Any]) -> None:
    doc = scanned["doc"]
    pages = set(doc["pages"])
    assert {
        "http://shop.test/",
        "http://shop.test/hidden-by-script",  # a link only a script adds
        "http://shop.test/orphan",  # only in sitemap.xml
        "http://shop.test/products/shoes/red",  # three links deep
    } <= pages
    assert not any("/private/" in p for p in pages)
    assert {"url": "http://shop.test/private/admin", "reason": "robots.txt"} in doc["skipped"]
    details = {p["url"]: p for p in doc["page_details"]}
    assert details["http://shop.test/orphan"]["found_via"] == "sitemap"
    assert details["http://shop.test/products/shoes/red"]["depth"] == 3


def test_consentgate_banner_is_used_for_both_choices(scanned: dict[str, Any]) -> None:
    phases = scanned["doc"]["phases"]
    for phase in ("rejected", "accepted"):
        assert phases[phase]["banner"]["via"] == "consentgate"
        assert phases[phase]["banner"]["found"] is True
        assert phases[phase]["banner"]["pressed"] is True
        assert phases[phase]["banner"]["layer"] == 1
    assert 'data-consentgate-action="reject-all"' in phases["rejected"]["banner"]["selector"]


def test_who_set_what(scanned: dict[str, Any]) -> None:
    found = _items(scanned["doc"])
    assert found["_fbp"]["set_by"] == "http://ads.test/pixel.js"  # document.cookie from a script
    assert found["_ga"]["set_by"] == "http://analytics.test/ga.js"
    assert found["IDE"]["set_by"] == "http://ads.test/track.gif?ev=PageView"  # a Set-Cookie header
    assert found["IDE"]["set_by_all"][0]["script"] == "http://ads.test/pixel.js"  # …of an image it made
    assert found["PHPSESSID"]["set_by"] == "http://shop.test/"
    assert found["PHPSESSID"]["http_only"] is True
    assert found["_gcl_au"]["first_seen"] == "http://shop.test/products/shoes/red"
    assert found["localStorage:_hjid"]["set_by"] == "http://analytics.test/ga.js"
    # Chromium refuses SameSite=Lax cookies in cross-site responses over HTTP; the header still counts.
    assert found["IDE"]["in_jar"] is False
    assert found["IDE"]["blocked"]
    assert found["_pk_id.1.a1b2"]["category_source"] == "open-cookie-database"  # the `_pk_id` prefix row
    assert found["sessionStorage:cart_state"]["category_source"] == "policy"
    assert found["widget_state"]["category_source"] == "host:cdn.test (policy)"
    # unknown to the database: inherits its vendor's category, which the vendor's other cookies gave it
    assert found["indexedDB:replay-buffer"]["category_source"] == "host:replay.test"
    assert found["rp_uid"]["set_by"] == "http://replay.test/replay.js"
    assert found["aff_uid"]["set_by_all"][0]["script"] == "http://aff.test/aff.js"
    assert found["_uetsid"]["set_by"] == "http://shop.test/products/shoes/"  # inline: the page itself
    assert found["mystery_id"]["category_source"] == "none"


def test_third_party_hosts_and_requests(scanned: dict[str, Any]) -> None:
    doc = scanned["doc"]
    hosts = {h["host"]: h for h in doc["hosts"]}
    assert set(hosts) == {"analytics.test", *HOSTS_BEFORE_CONSENT}
    for host, category in HOSTS_BEFORE_CONSENT.items():
        assert hosts[host]["category"] == category, host
    assert hosts["replay.test"]["category_source"] == "inferred:cookies"
    assert hosts["analytics.test"]["phases"] == ["accepted"]
    assert hosts["analytics.test"]["category"] == "analytics"
    assert hosts["ads.test"]["phases"] == ["no_consent", "rejected", "accepted"]
    # Not in any list: known by the marketing cookie its iframe sets.
    assert hosts["video.test"]["category"] == "marketing"
    assert hosts["video.test"]["category_source"] == "inferred:cookies"
    urls = {r["url"]: r for r in doc["requests"]}
    beacon = urls["http://analytics.test/collect"]  # query string dropped
    assert beacon["initiator"] == "http://analytics.test/ga.js"
    assert beacon["phases"] == ["accepted"]
    assert urls["http://ads.test/track.gif"]["initiator"] == "http://ads.test/pixel.js"


def test_violations_name_page_phase_and_cause(scanned: dict[str, Any]) -> None:
    doc = scanned["doc"]
    got = {(v["kind"], v["name"] or v["host"], v["phase"]): v for v in doc["violations"]}
    before = {n for n, (phases, _, _) in EXPECTED.items() if {"no_consent", "rejected"} & set(phases)}
    expected_items = {("storage" if ":" in n else "cookie", n.split(":", 1)[-1]) for n in before - EXEMPT}
    expected_hosts = {("request", h) for h, c in HOSTS_BEFORE_CONSENT.items() if c != "necessary"}
    assert {(k, n) for k, n, _ in got} == expected_items | expected_hosts
    assert {p for _, _, p in got} == {"no_consent", "rejected"}
    for v in doc["violations"]:
        assert v["phase"] in ("no_consent", "rejected")
        assert v["cause"], v
        unknown = v["category"] == "unknown"
        assert v["type"] == ("unclassified" if unknown else "needs_consent"), v
    types = [v["type"] for v in doc["violations"]]
    assert types == sorted(types, key=lambda t: t != "unclassified")  # unclassified first
    assert doc["summary"]["unclassified"] == types.count("unclassified") > 0
    replay = got[("cookie", "_hjTLDTest", "no_consent")]
    assert replay["category"] == "functional"
    assert replay["cause"] == "http://replay.test/replay.js"
    assert "third party" in replay["reason"]
    inline = got[("cookie", "_uetsid", "rejected")]
    assert inline["cause"] == inline["page"] == "http://shop.test/products/shoes/"
    aff = got[("request", "aff.test", "no_consent")]
    assert aff["type"] == "unclassified"
    assert aff["page"] == "http://shop.test/products/"
    fbp = got[("cookie", "_fbp", "rejected")]
    assert fbp["page"] == "http://shop.test/"
    assert fbp["cause"] == "http://ads.test/pixel.js"
    ide = got[("cookie", "IDE", "no_consent")]
    assert ide["cause"] == "http://ads.test/pixel.js"
    assert ide["url"] == "http://ads.test/track.gif?ev=PageView"
    deep = got[("cookie", "_gcl_au", "no_consent")]
    assert deep["page"] == deep["cause"] == "http://shop.test/products/shoes/red"
    assert got[("request", "video.test", "no_consent")]["page"] == "http://shop.test/about"


def test_cli_writes_an_html_report_and_prints_a_summary(scanned: dict[str, Any]) -> None:
    html = scanned["out"].with_suffix(".html").read_text()
    assert html.startswith("<!doctype html>")
    assert "<svg" in html
    assert "<script" not in html
    assert "http://shop.test/products/shoes/red" in html
    assert "violations" in scanned["output"]
    assert "mystery_id" in scanned["output"]  # uncategorised items are named
    assert "\nweb:\n  trackers:\n" in scanned["output"]  # --suggest-policy
    assert '- {host: "aff.test", category: "marketing"}' in scanned["output"]
    verdict = scanned["doc"]["verdict"]
    assert verdict["status"] == "violations"
    assert verdict["line"] in scanned["output"].replace("\n", "")


def test_schema_fields(scanned: dict[str, Any]) -> None:
    doc = scanned["doc"]
    assert doc["schema"] == "consentgate.scan/1"
    assert doc["browser"].startswith("Chrom")
    assert doc["knowledge_base"]["source"] == "bundled"
    for c in doc["cookies"]:
        assert set(c) >= {"name", "domain", "party", "category", "phases", "first_seen", "set_by"}
    for s in doc["storage"]:
        assert set(s) >= {"key", "kind", "phases"}
    for r in doc["requests"]:
        assert set(r) >= {"host", "url", "phases", "initiator"}
    for v in doc["violations"]:
        assert set(v) >= {"kind", "name", "host", "page", "phase", "cause"}
    assert doc["summary"]["violations"] == len(doc["violations"])


def test_another_platforms_banner_is_found_by_its_text(site: dict[str, str]) -> None:
    require_chromium()
    options = ScanOptions(max_pages=1, resolve=site, locale="de-DE", settle_ms=300)
    doc = scan_site("http://other.test/", options)
    assert doc["phases"]["accepted"]["banner"]["via"] == "text"
    assert doc["phases"]["accepted"]["banner"]["selector"] == 'text="Alle akzeptieren"'
    assert doc["phases"]["rejected"]["banner"]["selector"] == 'text="Nur notwendige"'
    cookies = {c["name"]: c for c in doc["cookies"]}
    assert cookies["_ga"]["phases"] == ["accepted"]
    assert cookies["cmp_choice"]["phases"] == ["rejected", "accepted"]
    # the platform's record of the choice is in no database: unclassified, so a violation until declared
    got = [(v["type"], v["name"], v["phase"]) for v in doc["violations"]]
    assert got == [("unclassified", "cmp_choice", "rejected")]


def test_suggested_policy_covers_what_was_found_and_never_whitewashes(scanned: dict[str, Any]) -> None:
    from typer.testing import CliRunner

    from consentgate.cli import app
    from consentgate.policy.models import Web

    result = CliRunner().invoke(app, ["scan", "suggest-policy", str(scanned["out"])])
    assert result.exit_code == 0, result.output
    text = result.output
    web = Web.model_validate(yaml.safe_load(text)["web"])  # valid policy, categories included
    doc = scanned["doc"]
    trackers = {t.host: t.category.value for t in web.trackers}
    declared = {t["host"] for t in POLICY_WEB["trackers"]}
    assert set(trackers) == {h["host"] for h in doc["hosts"]} - declared
    assert trackers["aff.test"] == "marketing"  # unknown: blocked until someone says otherwise
    assert trackers["replay.test"] == "functional"
    cookies = {c.name: c.category.value for c in web.cookies}
    assert cookies["aff_uid"] == "marketing"
    assert cookies["YSC"] == "functional"
    assert "cart_state" not in cookies  # the policy declares it already
    assert text.count("# REVIEW: unclassified") == sum(
        1 for x in [*doc["hosts"], *doc["cookies"], *doc["storage"]] if x["category"] == "unknown"
    )
    # nothing that needed consent in this scan is suggested as exempt
    for item in [*doc["cookies"], *doc["storage"]]:
        name = item.get("name") or item["key"]
        if item["verdict"] != "exempt" and name in cookies:
            assert cookies[name] not in ("necessary", "security"), name
