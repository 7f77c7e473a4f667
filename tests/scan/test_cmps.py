"""The scanner presses "accept" and "reject" on the released npm packages of open-source consent
platforms (not imitations), first and second layer, and says so per phase."""

from __future__ import annotations

from typing import Any

import pytest

from consentgate.scan import ScanOptions, scan_site
from tests.support.npm import require_packages

from .cmps import install_packages
from .conftest import require_chromium

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def packages() -> None:
    require_packages(install_packages(), "CMP TESTS")


def _scan(site: dict[str, str], path: str) -> dict[str, Any]:
    require_chromium()
    options = ScanOptions(max_pages=1, resolve=site, settle_ms=300, use_sitemap=False)
    return scan_site(f"http://cmp.test{path}", options)


@pytest.mark.parametrize(
    ("path", "via", "reject_layer"),
    [
        ("/vanilla/", "vanilla-cookieconsent", 1),  # hides itself from navigator.webdriver by default
        ("/vanilla-second-layer/", "vanilla-cookieconsent", 2),  # reject only in the preferences
        ("/klaro/", "klaro", 1),  # "That's ok" and "I decline"
        ("/cookieconsent/", "cookieconsent", 1),  # Osano's cookieconsent, opt-in
        ("/tarteaucitron/", "tarteaucitron", 1),  # loads its languages and services from its folder
    ],
)
def test_both_choices_are_pressed_on_a_real_cmp(
    packages: None, site: dict[str, str], path: str, via: str, reject_layer: int
) -> None:
    doc = _scan(site, path)
    accepted, rejected = doc["phases"]["accepted"]["banner"], doc["phases"]["rejected"]["banner"]
    for outcome in (accepted, rejected):
        assert outcome["found"], outcome
        assert outcome["pressed"], outcome
    assert accepted["via"] == via
    assert rejected["via"] == via
    assert rejected["layer"] == reject_layer
    assert len(rejected["steps"]) == reject_layer  # the settings button, then the reject button
    cookies = {c["name"]: c for c in doc["cookies"]}
    # the tag the platform releases on consent ran after "accept" only: both presses were real choices
    assert cookies["_ga"]["phases"] == ["accepted"]
    assert doc["verdict"]["warnings"] == []


def test_a_page_without_a_banner_is_incomplete_not_clean(site: dict[str, str]) -> None:
    doc = _scan(site, "/no-such-page")  # a 404 page: nothing set, and no banner to press
    for phase in ("rejected", "accepted"):
        banner = doc["phases"][phase]["banner"]
        assert banner["found"] is False
        assert banner["pressed"] is False
    assert doc["violations"] == []
    assert doc["verdict"]["status"] == "incomplete"
    assert doc["verdict"]["line"].startswith("INCOMPLETE")
