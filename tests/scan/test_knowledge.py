"""The cookie knowledge base: Open Cookie Database rows, wildcards, domains, hosts, policy overrides."""

from __future__ import annotations

import pytest

from consentgate.errors import BadInput, PolicyError
from consentgate.policy import parse_policy_text
from consentgate.scan.knowledge import Category, KnowledgeBase, parse_retention

HEADER = (
    "ID,Platform,Category,Cookie / Data Key name,Domain,Description,Retention period,Data Controller,"
    "User Privacy & GDPR Rights Portals,Wildcard match\n"
)
ROWS = [
    "1,Google Analytics,Analytics,_ga,,ID used to identify users,2 years,Google,https://example.com,0",
    "2,Google Analytics,Analytics,_ga_,,Session state,2 years,Google,https://example.com,1",
    "3,Example,Marketing,_ga_x,,Longer prefix,1 Year,Ex,https://example.com,1",
    "4,Shopify,Analytics,_s,shopify.com,Shopify session,30 minutes,Shopify,https://example.com,0",
    "5,Marfeel,Marketing,_s,events.newsroom.example (3rd party),Marfeel,Session,M,https://example.com,0",
    "6,DoubleClick,Marketing,IDE,doubleclick.net (3rd party),Ads,2 years,Google,https://example.com,0",
    "7,Rails,Necessary,_app_session,,Rails session,Session,Rails,https://example.com,0",
    "8,Odd,Tracking,odd,,Odd category,,Odd,https://example.com,0",
    "9,Cloudflare,Security,__cf_bm,,Bot management,30 minutes,Cloudflare,https://example.com,0",
    "10,Hotjar,Personalization,_hjPref,,Prefs,1 day,Hotjar,https://example.com,0",
]


@pytest.fixture
def kb() -> KnowledgeBase:
    return KnowledgeBase.from_csv_text(HEADER + "\n".join(ROWS) + "\n")


def test_categories_map_to_purpose_kinds_and_unknown_ones_are_reported(kb: KnowledgeBase) -> None:
    assert kb.cookie("_ga").category is Category.ANALYTICS
    assert kb.cookie("IDE").category is Category.MARKETING
    assert kb.cookie("_app_session").category is Category.NECESSARY  # "Necessary" rows too
    assert kb.cookie("__cf_bm").category is Category.SECURITY
    assert kb.cookie("_hjPref").category is Category.PERSONALISATION
    assert kb.cookie("odd").category is Category.UNKNOWN
    assert any("unknown category 'Tracking'" in w for w in kb.warnings)


def test_exact_names_then_longest_wildcard_prefix(kb: KnowledgeBase) -> None:
    assert kb.cookie("_ga").rule == "_ga"
    assert kb.cookie("_ga_ABC123").rule == "_ga_"
    assert kb.cookie("_ga_x1").category is Category.MARKETING  # "_ga_x" is longer than "_ga_"
    assert kb.cookie("_gax").category is Category.UNKNOWN  # prefixes only match wildcard rows
    m = kb.cookie("nothing-like-it")
    assert (m.category, m.source) == (Category.UNKNOWN, "none")


def test_rows_for_the_cookies_domain_win(kb: KnowledgeBase) -> None:
    assert kb.cookie("_s", "shop.shopify.com").platform == "Shopify"
    assert kb.cookie("_s", "events.newsroom.example").platform == "Marfeel"
    assert kb.cookie("IDE", "127.0.0.3").category is Category.MARKETING  # name alone still counts


def test_hosts_from_the_tracker_list_and_the_database(kb: KnowledgeBase) -> None:
    bundled = KnowledgeBase.load()
    assert bundled.host("www.google-analytics.com").category is Category.ANALYTICS
    assert bundled.host("stats.g.doubleclick.net").category is Category.MARKETING
    assert kb.host("ad.doubleclick.net").source == "open-cookie-database"  # from IDE's "(3rd party)"
    assert kb.host("cdn.example.net").category is Category.UNKNOWN


def test_policy_overrides_come_first(kb: KnowledgeBase) -> None:
    policy = parse_policy_text(
        """
organization: {name: Example Ltd}
web:
  cookies:
    - {name: _ga, category: necessary, description: We say so.}
    - {pattern: "ab_*", category: personalisation}
  trackers:
    - {host: cdn.example.net, category: necessary, vendor: Example CDN}
purposes:
  - {id: site, title: Site, kind: necessary, basis: {"*": contract}}
"""
    )
    kb = kb.with_policy(policy)
    m = kb.cookie("_ga")
    assert (m.category, m.source, m.description) == (Category.NECESSARY, "policy", "We say so.")
    assert kb.cookie("ab_test_7").category is Category.PERSONALISATION
    assert kb.host("img.cdn.example.net").platform == "Example CDN"


def test_policy_cookie_rules_need_a_name_or_a_pattern() -> None:
    text = """
organization: {name: Example Ltd}
web: {cookies: [{category: analytics}]}
purposes: [{id: site, title: Site, kind: necessary, basis: {"*": contract}}]
"""
    with pytest.raises(PolicyError, match="exactly one of 'name' or 'pattern'"):
        parse_policy_text(text)


def test_consentgates_own_cookies_are_necessary() -> None:
    kb = KnowledgeBase.load()
    for name in ("cg_consent", "cg_vid", "consentgate_consent"):
        assert kb.cookie(name).category is Category.NECESSARY
        assert kb.cookie(name).source == "consentgate"


def test_bundled_database_loads_completely() -> None:
    kb = KnowledgeBase.load()
    assert kb.provenance.source == "bundled"
    assert kb.provenance.entries == 2264
    assert kb.warnings == []
    assert kb.cookie("_ga").category is Category.ANALYTICS
    assert kb.cookie("_hjSessionUser_1234").platform == "Hotjar"


def test_a_csv_without_the_columns_is_refused() -> None:
    with pytest.raises(BadInput, match="missing column"):
        KnowledgeBase.from_csv_text("name,category\n_ga,Analytics\n")


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2 years", "P2Y"), ("1 Year", "P1Y"), ("30 minutes", "PT30M"), ("24 hours", "PT24H"),
        ("13 months", "P13M"), ("session", "session"), ("End of session (browser)", "session"),
        ("30 mins", "PT30M"), ("2 weeks", "P2W"), ("Local Storage", None), ("", None),
    ],
)  # fmt: skip
def test_retention_is_parsed(text: str, iso: str | None) -> None:
    assert parse_retention(text) == iso
