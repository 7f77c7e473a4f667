"""What the banner's TCF layers are given (``GET /v1/tcf/ui``): their own words in every banner locale,
complete and with the glossary's legal terms, and the served GVL's purposes and disclosed vendors."""

from __future__ import annotations

import json
import re
import string
from importlib.resources import files

import httpx
import pytest

from consentgate.web import i18n
from consentgate.web.tcf.gvl import shipped_gvl
from consentgate.web.tcf.ui import catalogue
from tests.web.test_glossary import TERMS, uses

from .conftest import TCF

ENGLISH = catalogue()["en"]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("locale", i18n.available())
def test_every_banner_locale_has_every_string_with_the_same_placeholders(locale: str) -> None:
    words = catalogue()[locale]
    assert set(words) == set(ENGLISH)
    for key, text in words.items():
        assert text.strip(), f"{locale}.{key} is empty"
        assert _placeholders(text) == _placeholders(ENGLISH[key]), f"{locale}.{key}"
        if locale != "en":
            assert text != ENGLISH[key] or (key == "vendors" and locale in ("de", "nl")), (
                f"{locale}.{key} is English"
            )


def test_the_catalogue_has_no_locale_the_banner_lacks() -> None:
    assert set(catalogue()) == set(i18n.available())


@pytest.mark.parametrize("locale", i18n.available())
def test_consent_and_objection_read_as_the_glossary_says(locale: str) -> None:
    words = catalogue()[locale]
    assert uses(words["consent"], TERMS[locale]["consent"]), words["consent"]
    assert uses(words["li"], TERMS[locale]["object"]), words["li"]


def test_french_puts_a_no_break_space_before_colons() -> None:
    for key, text in catalogue()["fr"].items():
        assert not re.search(r"[^\u00a0]:", text), key


@pytest.mark.anyio
async def test_the_layers_get_the_gvl_and_the_visitors_words(client: httpx.AsyncClient) -> None:
    got = await client.get("/v1/tcf/ui", params={"locale": "de-AT"})
    assert got.status_code == 200, got.text
    assert got.headers["cache-control"] == "public, max-age=300"
    body = got.json()
    assert (body["locale"], body["strings"]) == ("de", catalogue()["de"])
    gvl = shipped_gvl()
    assert body["gvl_version"] == gvl.vendorListVersion
    assert {k: v["name"] for k, v in body["purposes"].items()} == {
        k: v["name"] for k, v in gvl.purposes.items()
    }
    assert [v["id"] for v in body["vendors"]] == [v for v in TCF["vendors"] if gvl.vendor(v) is not None]
    assert body["legitimateInterests"] == sorted(TCF["legitimate_interest_purposes"])
    v8 = next(v for v in body["vendors"] if v["id"] == 8)
    raw = json.loads((files("consentgate.web.tcf") / "gvl.json").read_text())["vendors"]["8"]
    assert v8["retention"] == raw["dataRetention"]["stdRetention"]
    assert v8["data"] == raw["dataDeclaration"]
    assert v8["policy"] == raw["urls"][0]["privacy"]
    assert (v8["purposes"], v8["legIntPurposes"], v8["specialFeatures"]) == (
        raw["purposes"], raw["legIntPurposes"], raw["specialFeatures"]
    )  # fmt: skip
    # Google's providers: in the policy's order, with the words the policy gives and none made up
    given = [{"id": e, "name": None, "policy": None} if isinstance(e, int) else
             {"id": e["id"], "name": e.get("name"), "policy": e.get("privacy_url")}
             for e in TCF["google_ac_vendors"]]  # fmt: skip
    assert body["googleAc"] == given
    browser = await client.get("/v1/tcf/ui", headers={"Accept-Language": "fr-CA,fr;q=0.8"})
    assert browser.json()["locale"] == "fr"
    assert "Accept-Language" in browser.headers["vary"]
