"""robots.txt per RFC 9309, sitemaps, and URL/party helpers."""

from __future__ import annotations

import pytest

from consentgate.scan.robots import parse_robots, sitemap_locations
from consentgate.scan.sites import normalise, party, site_of

ROBOTS = """
# comment
User-agent: googlebot
Disallow: /

User-agent: *
Disallow: /private/
Disallow: /*.pdf$
Allow: /private/public
Disallow: /tmp
Allow: /drafts

Sitemap: https://www.example.com/sitemap_index.xml
"""


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/", True), ("/private/", False), ("/private/x", False), ("/private/public/page", True),
        ("/doc.pdf", False), ("/doc.pdf?x=1", True), ("/drafts/x", True), ("/other", True),
    ],
)  # fmt: skip
def test_longest_match_wins_and_allow_wins_ties(path: str, allowed: bool) -> None:
    robots = parse_robots(ROBOTS)
    assert robots.allowed(f"https://www.example.com{path}") is allowed
    assert robots.sitemaps == ["https://www.example.com/sitemap_index.xml"]


def test_a_group_for_consentgate_beats_the_star_group() -> None:
    robots = parse_robots("User-agent: *\nDisallow: /\n\nUser-agent: consentgate\nAllow: /\n")
    assert robots.allowed("https://www.example.com/a")
    assert not parse_robots("User-agent: *\nDisallow: /\n").allowed("https://www.example.com/a")
    assert parse_robots("User-agent: *\nDisallow:\n").allowed("https://www.example.com/a")


def test_sitemaps_and_sitemap_indexes() -> None:
    locs, index = sitemap_locations(
        '<?xml version="1.0"?><urlset><url><loc> https://www.example.com/a?x=1&amp;y=2 </loc></url>'
        "<url><loc><![CDATA[https://www.example.com/b]]></loc></url></urlset>"
    )
    assert (locs, index) == (["https://www.example.com/a?x=1&y=2", "https://www.example.com/b"], False)
    _, index = sitemap_locations("<sitemapindex><sitemap><loc>https://www.example.com/s1.xml</loc></sitemap>")
    assert index


def test_urls_are_normalised() -> None:
    assert normalise("HTTP://WWW.Example.com:80") == "http://www.example.com/"
    assert normalise("/a#frag", "https://www.example.com/x/") == "https://www.example.com/a"
    assert normalise("https://www.example.com:8443/p?q=1") == "https://www.example.com:8443/p?q=1"
    assert normalise("mailto:privacy@example.com") is None
    assert normalise("javascript:void(0)") is None


def test_parties_follow_the_public_suffix_list() -> None:
    assert site_of("shop.example.co.uk") == "example.co.uk"
    assert party("static.example.co.uk", "www.example.co.uk") == "first"
    assert party("other.co.uk", "www.example.co.uk") == "third"
    assert party("127.0.0.2", "127.0.0.1") == "third"
    assert party("127.0.0.1", "127.0.0.1") == "first"
