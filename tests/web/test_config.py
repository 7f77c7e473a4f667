"""The banner's server side in-process: configuration per region and locale, static files, the demo."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import re
import shutil
import threading
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI

from consentgate.errors import PolicyError
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy, parse_policy_text
from consentgate.policy.models import AcceptSettings
from consentgate.server import create_app
from consentgate.server.routers.web import compiled_banner
from consentgate.settings import Settings
from consentgate.web.config import boot_data
from tests.conftest import EXAMPLE_POLICY

T = TypeVar("T")
DEMO_KEY = 'cg_collect_0123456789ab_demo"<key>'


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated ledger: copying it is much cheaper than migrating one per test."""
    path = tmp_path_factory.mktemp("template") / "ledger.db"
    Ledger.open(str(path)).close()
    return path


def make_app(template: Path, folder: Path, **settings: Any) -> FastAPI:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, folder / "ledger.db")
    return create_app(Settings(db=str(folder / "ledger.db"), policy=EXAMPLE_POLICY, **settings))


class AppClient:
    """httpx over ASGI, driven from a thread of its own.

    The browser tests in this package keep Playwright's event loop marked as running in the main
    thread (its sync API does so between calls), so an in-process async client runs its loop here.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        transport = httpx.ASGITransport(app=app)
        self._client = self._run(self._make(transport))

    async def _make(self, transport: httpx.ASGITransport) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._client.cookies

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._run(self._client.get(url, **kwargs))

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._run(self._client.post(url, **kwargs))

    def head(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._run(self._client.head(url, **kwargs))

    def close(self) -> None:
        self._run(self._client.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self.app.state.consentgate.service.ledger.close()


@pytest.fixture
def client(template_db: Path, tmp_path: Path) -> Iterator[AppClient]:
    c = AppClient(make_app(template_db, tmp_path, country_header="X-Country", demo_key=DEMO_KEY))
    yield c
    c.close()


def config(client: AppClient, headers: dict[str, str] | None = None, **params: str) -> dict[str, Any]:
    response = client.get("/v1/banner/config", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    assert_shared_cacheable(response, params)
    body: dict[str, Any] = response.json()
    return body


def assert_shared_cacheable(response: httpx.Response, params: dict[str, str]) -> None:
    """Public for a CDN, briefly, with a strong ETag, varying on each request header it depends on:
    GPC always, the language when no locale is asked, the country header when no region is."""
    scope, max_age = response.headers["cache-control"].split(", ")
    assert scope == "public"
    assert 0 <= int(max_age.removeprefix("max-age=")) <= 300
    assert response.headers["etag"].startswith('"')
    vary = {v.strip().lower() for v in response.headers["vary"].split(",")}
    assert "sec-gpc" in vary
    assert ("accept-language" in vary) == ("locale" not in params)
    assert ("x-country" in vary) == ("region" not in params)


def test_a_cache_that_holds_the_configuration_gets_304_and_others_the_body(client: AppClient) -> None:
    de = {"region": "DE", "locale": "en"}
    first = client.get("/v1/banner/config", params=de)
    etag = first.headers["etag"]
    again = client.get("/v1/banner/config", params=de, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == first.headers["cache-control"]
    other = client.get(
        "/v1/banner/config", params={"region": "US-CA", "locale": "en"}, headers={"If-None-Match": etag}
    )
    assert other.status_code == 200
    assert other.headers["etag"] != etag
    gpc = client.get("/v1/banner/config", params=de, headers={"Sec-GPC": "1"})
    assert gpc.headers["etag"] != etag  # gpc.signal differs: a different body, a different tag


def test_shared_caches_keep_the_configuration_only_until_the_next_notice_version(
    template_db: Path, tmp_path: Path
) -> None:
    """A version taking effect in 100 s changes the wording in force: max-age must not outlive it."""
    soon = datetime.now(UTC) + timedelta(seconds=100)
    text = EXAMPLE_POLICY.read_text()
    marker = "  - id: cookies\n"
    version_3 = (
        f"      - version: 3\n        effective_from: {soon.isoformat()}\n        reconsent: true\n"
        '        text:\n          en: "Use my support conversations to train our models, also for voice."\n'
    )
    policy = tmp_path / "soon.yaml"
    policy.write_text(text.replace(marker, version_3 + marker))
    shutil.copyfile(template_db, tmp_path / "ledger.db")
    c = AppClient(create_app(Settings(db=str(tmp_path / "ledger.db"), policy=policy)))
    try:
        response = c.get("/v1/banner/config", params={"region": "DE", "locale": "en"})
        assert response.status_code == 200
        max_age = int(response.headers["cache-control"].split("max-age=")[1])
        assert 0 <= max_age <= 100
    finally:
        c.close()


def by_id(cfg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in cfg["purposes"]}


def test_eu_visitor_gets_the_opt_in_flow_with_the_wording_in_force(
    client: AppClient, example_policy: Policy
) -> None:
    cfg = config(client, {"X-Country": "DE"})
    assert (cfg["region"], cfg["group"], cfg["flow"], cfg["locale"], cfg["dir"]) == (
        "DE",
        "EU",
        "opt_in",
        "en",
        "ltr",
    )
    purposes = by_id(cfg)
    asked = sorted(p for p, v in purposes.items() if v["ask"])
    assert asked == sorted(
        ["train_support_chatbot", "finetune_recommender", "product_analytics", "personalisation", "marketing"]
    )
    assert purposes["service_delivery"]["basis"] == "contract"
    assert purposes["service_delivery"]["ask"] is False
    assert purposes["security"]["ask"] is False  # legitimate interest, but no notice to ask under
    assert [p for p, v in purposes.items() if v["ai"]] == ["train_support_chatbot", "finetune_recommender"]
    ai = cfg["notices"]["ai-training"]
    assert ai["version"] == "2"  # v2 took effect 2026-06-01
    assert ai["accepts"] == ["2"]  # v2 is material: v1 grants no longer count
    assert ai["wording_hash"] == hashlib.sha256(ai["text"].encode()).hexdigest()
    assert ai["text"] == example_policy.notice_version("ai-training", "2").text["en"]  # type: ignore[union-attr]
    assert cfg["notices"]["cookies"]["accepts"] == ["1"]
    assert cfg["gpc"] == {"signal": False, "honoured": False}
    assert cfg["strings"]["accept_all"] == "Accept all"
    assert cfg["translations"] == "/i18n/en.json"
    assert cfg["privacy_center"] == "/privacy-center"
    assert cfg["cookie"] == "cg_consent"


def test_region_parameter_overrides_the_country_and_gpc_is_reported(client: AppClient) -> None:
    cfg = config(client, {"X-Country": "DE", "Sec-GPC": "1"}, region="us-ca")
    assert (cfg["region"], cfg["group"], cfg["flow"]) == ("US-CA", "US-OPTOUT", "opt_out")
    assert cfg["gpc"] == {"signal": True, "honoured": True}
    assert {p["basis"] for p in cfg["purposes"] if p["ask"]} == {"opt_out"}
    # Only the exact value "1" means GPC (w3c/gpc); anything else is ignored.
    assert (config(client, {"Sec-GPC": "true"}, region="US-CA"))["gpc"]["signal"] is False


def test_unknown_region_uses_the_policy_default(client: AppClient) -> None:
    cfg = config(client)
    assert (cfg["region"], cfg["group"], cfg["flow"]) == (None, "*", "opt_in")
    cfg = config(client, {"X-Country": "XX"})  # "unknown" from a CDN is not a country
    assert cfg["region"] is None


def test_locale_picks_interface_strings_and_notice_wording(client: AppClient) -> None:
    cfg = config(client, locale="de-AT")
    assert cfg["locale"] == "de"
    assert cfg["strings"]["accept_all"] == "Alle akzeptieren"
    assert cfg["notices"]["ai-training"]["locale"] == "de"
    assert cfg["notices"]["ai-training"]["text"].startswith("Meine Support-Gespräche")
    assert cfg["notices"]["marketing"]["locale"] == "en"  # the policy has no German wording for it
    french = config(client, {"Accept-Language": "fr-CH, fr;q=0.9"})
    assert french["strings"]["reject_all"] == "Tout refuser"
    arabic = config(client, locale="ar")
    assert (arabic["locale"], arabic["dir"]) == ("ar", "rtl")


def test_consent_mode_types_and_cookie_patterns_come_from_the_policy(client: AppClient) -> None:
    purposes = by_id(config(client, {"X-Country": "DE"}))
    assert purposes["marketing"]["consent_mode"] == ["ad_storage", "ad_user_data", "ad_personalization"]
    assert purposes["product_analytics"]["consent_mode"] == ["analytics_storage"]
    assert purposes["personalisation"]["consent_mode"] == ["functionality_storage", "personalization_storage"]
    assert purposes["train_support_chatbot"]["consent_mode"] == []
    patterns = [re.compile(p) for p in purposes["product_analytics"]["cookies"]]
    cases = [("_demo_analytics", True), ("_demo_analytics_id", True), ("_demo_replay", True),
             ("_demo_replay2", False), ("x_demo_analytics", False), ("_demo_chat", False)]  # fmt: skip
    for name, deleted in cases:
        assert any(p.match(name) for p in patterns) is deleted, name
    assert purposes["personalisation"]["cookies"] == ["^_demo_chat$"]


@pytest.mark.parametrize(
    ("params", "at"),
    [({"locale": "<script>"}, "locale"), ({"region": "Germany"}, "region"), ({"regoin": "DE"}, "regoin")],
)
def test_bad_parameters_get_the_one_error_shape(client: AppClient, params: dict[str, str], at: str) -> None:
    response = client.get("/v1/banner/config", params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [p["at"] for p in error["problems"]] == [at]


def test_banner_js_carries_the_policys_consent_mode_defaults_and_caches_well(
    client: AppClient, example_policy: Policy
) -> None:
    response = client.get("/banner.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=300"
    code = response.text
    assert "/*BOOT*/" not in code
    boot = json.dumps(boot_data(example_policy), separators=(",", ":"))
    assert code.rstrip().endswith(f"({boot});")
    etag = response.headers["etag"]
    assert client.get("/banner.js", headers={"If-None-Match": etag}).status_code == 304
    zipped = client.get("/banner.js", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == code.encode()  # httpx decodes; same bytes either way
    assert len(gzip.compress(code.encode())) < len(code) / 2


def test_boot_data_defaults_per_region(example_policy: Policy) -> None:
    boot = boot_data(example_policy)
    rows = {tuple(r.get("region", ["*"]))[:1]: r for r in boot["cm"]}
    assert rows[("AT",)]["granted"] == ["security_storage"]  # EU: all consent
    assert "analytics_storage" in rows[("US-CA",)]["granted"]  # opt_out: granted until opted out
    assert rows[("US-CA",)]["gpc"] is True
    assert rows[("BR",)]["granted"] == ["analytics_storage", "security_storage"]  # analytics: legit. interest
    assert "region" not in boot["cm"][-1]  # the global fallback comes last
    assert boot["hosts"] == {}


def test_banner_js_preloads_tags_only_where_the_policy_says_so(example_policy: Policy) -> None:
    web = example_policy.web.model_copy(update={"accept": AcceptSettings(fetch_tags_while_recording=True)})
    on = compiled_banner(example_policy.model_copy(update={"web": web})).decode()
    off = compiled_banner(example_policy).decode()
    assert "rel: s.dataset.type == 'module' ? 'modulepreload' : 'preload'" in on
    assert "preload" not in off  # not even as dead code: the default banner carries none of it
    for marker in ("only with", "end of"):  # the markers never ship
        assert marker not in on + off
    assert len(on) > len(off)


@pytest.mark.parametrize(
    ("path", "media"),
    [
        ("/banner.css", "text/css; charset=utf-8"),
        ("/privacy-center.js", "text/javascript; charset=utf-8"),
        ("/privacy-center.css", "text/css; charset=utf-8"),
        ("/i18n/de.json", "application/json"),
    ],
)
def test_static_files(client: AppClient, path: str, media: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == media


@pytest.mark.parametrize(
    "path",
    [
        "/banner.js",
        "/banner.css",
        "/i18n/de.json",
        "/privacy-center",
        "/privacy-center.js",
        "/privacy-center.css",
        "/demo/",
        "/demo/demo.css",
        "/console/static/console.css",
    ],
)
@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_head_answers_every_static_file_as_get_would_without_the_body(
    client: AppClient, path: str, encoding: str
) -> None:
    """Link checkers, uptime probes and CDNs ask with HEAD; a 405 there reads as a broken file."""
    headers = {"Accept-Encoding": encoding}
    got, head = client.get(path, headers=headers), client.head(path, headers=headers)
    assert got.status_code == 200, got.text
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-encoding", "etag", "cache-control", "vary"):
        assert head.headers.get(name) == got.headers.get(name), name
    assert int(head.headers["content-length"]) == int(got.headers["content-length"]) > 0
    assert client.head(path, headers={**headers, "If-None-Match": got.headers["etag"]}).status_code == 304


@pytest.mark.parametrize(
    "path", ["/i18n/xx.json", "/i18n/en.txt", "/i18n/..%2Fbanner.js", "/demo/..%2Fbanner.js"]
)
def test_unknown_files_are_404_in_the_error_shape(client: AppClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_privacy_center_page_is_strict(client: AppClient) -> None:
    response = client.get("/privacy-center")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "unsafe" not in csp
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.text), "no inline script"
    assert " style=" not in response.text


def test_demo_site_only_when_configured(client: AppClient, template_db: Path, tmp_path: Path) -> None:
    page = client.get("/demo/")
    assert page.status_code == 200
    assert 'data-key="cg_collect_0123456789ab_demo&quot;&lt;key&gt;"' in page.text  # escaped
    assert "unsafe" not in page.headers["content-security-policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text), "no inline script"
    assert client.get("/demo").headers["location"] == "/demo/"
    assert client.get("/demo/analytics.js").status_code == 200
    assert client.get("/demo/nope.js").status_code == 404
    session = client.post("/demo/session")
    assert session.status_code == 200
    body = session.json()
    keyring = client.app.state.consentgate.tokens
    assert keyring.is_visitor_id(body["subject"])
    assert keyring.verify(body["token"]).subject == body["subject"]
    assert client.cookies.get("cg_vid") == body["subject"]
    again = client.post("/demo/session")
    assert again.json()["subject"] == body["subject"]  # same browser, same id

    off = AppClient(make_app(template_db, tmp_path / "off"))
    try:
        for path in ("/demo/", "/demo/analytics.js"):
            assert off.get(path).status_code == 404
        assert off.post("/demo/session").status_code == 404
    finally:
        off.close()


def test_policy_web_keys_are_checked() -> None:
    text = EXAMPLE_POLICY.read_text(encoding="utf-8")
    bad_purpose = text.replace(
        "  default_locale: en\n", "  default_locale: en\n  consent_mode: {nope: [ad_storage]}\n"
    )
    with pytest.raises(
        PolicyError, match=r"web\.consent_mode\.nope \(line \d+, column \d+\): 'nope' is not a purpose id"
    ):
        parse_policy_text(bad_purpose)
    bad_type = text.replace(
        "  default_locale: en\n", "  default_locale: en\n  consent_mode: {marketing: [ads]}\n"
    )
    with pytest.raises(PolicyError, match="consent_mode"):
        parse_policy_text(bad_type)
    bad_url = text.replace(
        "  default_locale: en\n", "  default_locale: en\n  requests_url: javascript:alert(1)\n"
    )
    with pytest.raises(PolicyError, match="not an http"):
        parse_policy_text(bad_url)
    ok = text.replace(
        "  default_locale: en\n",
        "  default_locale: en\n  consent_mode: {train_support_chatbot: [functionality_storage]}\n",
    )
    policy = parse_policy_text(ok)
    assert policy.web.consent_mode == {"train_support_chatbot": ["functionality_storage"]}


def test_functional_trackers_are_blocked_until_personalisation_is_allowed() -> None:
    from consentgate.policy.models import Policy
    from consentgate.web.config import blocked_hosts, cookie_patterns

    policy = Policy.model_validate(
        {
            "organization": {"name": "Example Ltd", "contact": "privacy@example.com"},
            "web": {
                "trackers": [{"host": "replay.example.net", "category": "functional"}],
                "cookies": [{"name": "_hjTLDTest", "category": "functional"}],
            },
            "purposes": [
                {"id": "prefs", "title": "Preferences", "kind": "personalisation", "basis": {"*": "opt_out"}},
                {"id": "stats", "title": "Statistics", "kind": "analytics", "basis": {"*": "opt_out"}},
            ],
        }
    )
    prefs, stats = policy.purposes
    assert blocked_hosts(policy, prefs) == ["replay.example.net"]
    assert blocked_hosts(policy, stats) == []
    assert cookie_patterns(policy, prefs) == ["^_hjTLDTest$"]
