"""``check_reservations`` against websites on loopback: each mechanism, its evidence, its failures."""

from __future__ import annotations

import hashlib

from consentgate.scan.reservations import (
    AI_AGENTS,
    Finding,
    OriginCheck,
    UrlCheck,
    Verdict,
    check_reservations,
)

from .site import Route, Site, closed_origin, page, serve

ROBOTS = """# AI crawlers are kept out of the archive
User-agent: GPTBot
User-agent: CCBot
Disallow: /archive/
Allow: /archive/open$

User-agent: *
Disallow: /admin
"""


def _one(site: Site, path: str = "/", **kw: object) -> UrlCheck:
    (origin,) = check_reservations([site.url(path)], **kw)  # type: ignore[arg-type]
    (url,) = origin.urls
    return url


def _robots(check: UrlCheck) -> dict[str, Verdict]:
    return {f.agent or "": f.verdict for f in check.findings if f.mechanism == "robots"}


def test_robots_txt_is_read_per_ai_crawler_with_the_deciding_line(site: Site) -> None:
    site.routes.update({"/robots.txt": Route(body=ROBOTS), "/archive/2019": page(), "/archive/open": page()})
    check = _one(site, "/archive/2019")
    verdicts = _robots(check)
    assert set(verdicts) == {*AI_AGENTS, "*"}
    assert {a for a, v in verdicts.items() if v is Verdict.YES} == {"GPTBot", "CCBot"}
    assert check.verdict("robots") is Verdict.YES
    assert check.reserved_for() == ["GPTBot", "CCBot"]
    gpt = next(f for f in check.findings if f.agent == "GPTBot")
    assert "line 4: Disallow: /archive/" in gpt.evidence
    # "$" ends the pattern: the longer Allow decides only for the exact path.
    assert _robots(_one(site, "/archive/open"))["GPTBot"] is Verdict.NO
    assert _robots(_one(site, "/archive/openx"))["GPTBot"] is Verdict.YES
    admin = _one(site, "/admin")
    claude = next(f for f in admin.findings if f.agent == "ClaudeBot")
    assert (claude.verdict, claude.evidence) == (Verdict.YES, "line 8: Disallow: /admin (the * group)")
    assert _robots(admin)["GPTBot"] is Verdict.NO  # its own group replaces "*"


def test_the_policy_crawlers_and_extra_agents_are_checked_too(site: Site) -> None:
    site.routes.update({"/robots.txt": Route(body="User-agent: examplebot\nDisallow: /\n"), "/": page()})
    check = _one(site, agents=["ExampleBot"])
    assert _robots(check)["ExampleBot"] is Verdict.YES
    assert _robots(check)["GPTBot"] is Verdict.NO  # no group for it, no "*" group: nothing applies


def test_robots_server_error_is_complete_disallow_and_4xx_no_restriction(site: Site) -> None:
    site.routes.update({"/robots.txt": Route(503, "down"), "/": page()})
    check = _one(site)
    assert set(_robots(check).values()) == {Verdict.YES}
    assert "HTTP 503" in check.findings[0].evidence
    assert "2.3.1.4" in check.findings[0].evidence
    site.routes["/robots.txt"] = Route(403, "no")
    check = _one(site)
    assert set(_robots(check).values()) == {Verdict.NO}
    assert check.complete


def test_robots_that_cannot_be_fetched_is_unknown_never_not_reserved(site: Site) -> None:
    site.routes.update({"/robots.txt": Route(0), "/": page()})
    check = _one(site)
    assert set(_robots(check).values()) == {Verdict.UNKNOWN}
    assert check.verdict("robots") is Verdict.UNKNOWN
    assert not check.complete
    robots_doc = next(d for d in check.documents if d.url.endswith("/robots.txt"))
    assert robots_doc.status is None
    assert robots_doc.error
    assert robots_doc.sha256 is None


def test_a_redirect_loop_is_unknown(site: Site) -> None:
    site.routes.update({"/robots.txt": Route(302, headers=[("Location", "/robots.txt")]), "/": page()})
    check = _one(site)
    assert check.verdict("robots") is Verdict.UNKNOWN
    assert "redirects" in check.findings[0].evidence


def test_evidence_names_status_time_and_sha256_of_what_was_read(site: Site) -> None:
    site.routes.update({"/robots.txt": Route(body=ROBOTS), "/": page()})
    check = _one(site)
    docs = {d.url: d for d in check.documents}
    robots = docs[site.url("/robots.txt")]
    assert robots.status == 200
    assert robots.sha256 == hashlib.sha256(ROBOTS.encode()).hexdigest()
    assert robots.fetched_at.endswith("+00:00")
    assert docs[site.url("/.well-known/tdmrep.json")].status == 404
    assert all(ua.startswith("consentgate/") for _, ua in site.seen)


TDMREP = """[
  {"location": "/free/*", "tdm-reservation": 0},
  {"location": "/*", "tdm-reservation": 1, "tdm-policy": "https://www.example.com/tdm-policy.json"}
]"""


def test_tdmrep_json_first_matching_rule_decides(site: Site) -> None:
    site.routes.update({"/.well-known/tdmrep.json": Route(body=TDMREP), "/free/a": page(), "/news/b": page()})
    free, news = _tdm(site, "/free/a"), _tdm(site, "/news/b")
    assert free.verdict is Verdict.NO
    assert "rule 1" in free.evidence
    assert news.verdict is Verdict.YES
    assert "rule 2" in news.evidence
    assert news.policy == "https://www.example.com/tdm-policy.json"


def _tdm(site: Site, path: str = "/") -> Finding:
    return next(f for f in _one(site, path).findings if f.mechanism == "tdmrep")


def test_tdmrep_header_and_meta_when_the_file_is_absent(site: Site) -> None:
    site.routes["/h"] = page(headers=[("tdm-reservation", "1"), ("tdm-policy", "https://www.example.com/p")])
    site.routes["/m"] = page('<html><head><meta name="TDM-Reservation" content="1"></head></html>')
    site.routes["/none"] = page()
    h, m, none = _tdm(site, "/h"), _tdm(site, "/m"), _tdm(site, "/none")
    assert h.verdict is Verdict.YES
    assert h.policy == "https://www.example.com/p"
    assert m.verdict is Verdict.YES
    assert "meta" in m.evidence
    assert none.verdict is Verdict.NO


def test_the_file_takes_precedence_over_header_and_meta(site: Site) -> None:
    site.routes["/.well-known/tdmrep.json"] = Route(body='[{"location": "/", "tdm-reservation": 0}]')
    site.routes["/"] = page(headers=[("tdm-reservation", "1")])
    finding = _tdm(site)
    assert finding.verdict is Verdict.NO
    assert "tdmrep.json" in finding.evidence


def test_an_unreadable_file_is_unknown_unless_the_page_reserves(site: Site) -> None:
    site.routes["/.well-known/tdmrep.json"] = Route(body="{not json")
    site.routes["/"] = page()
    site.routes["/r"] = page(headers=[("tdm-reservation", "1")])
    unknown = _tdm(site)
    assert unknown.verdict is Verdict.UNKNOWN
    assert "not JSON" in unknown.evidence
    reserving = _one(site, "/r")
    finding = next(f for f in reserving.findings if f.mechanism == "tdmrep")
    assert finding.verdict is Verdict.YES
    assert finding.partial  # reserved whatever the file says, but the file was not read:
    assert not reserving.complete  # so the check is not complete (exit 3)
    site.routes["/.well-known/tdmrep.json"] = Route(500, "oops")
    assert _tdm(site).verdict is Verdict.UNKNOWN
    site.routes["/.well-known/tdmrep.json"] = Route(body='[{"location": "/", "tdm-reservation": "yes"}]')
    assert "must be 0 or 1" in _tdm(site).evidence


def test_a_byte_order_mark_and_a_full_url_location_are_read(site: Site) -> None:
    rules = '[{"location": "https://news.example.com/paid/*", "tdm-reservation": 1}]'
    site.routes["/.well-known/tdmrep.json"] = Route(body="\ufeff" + rules)
    site.routes["/paid/a"] = page()
    site.routes["/free"] = page()
    assert _tdm(site, "/paid/a").verdict is Verdict.YES
    free = _tdm(site, "/free")
    assert free.verdict is Verdict.NO  # no rule matches, no header, no meta
    assert not free.partial


def test_a_malformed_header_value_is_unknown(site: Site) -> None:
    site.routes["/"] = page(headers=[("tdm-reservation", "true")])
    assert _tdm(site).verdict is Verdict.UNKNOWN


def _noai(check: UrlCheck) -> list[tuple[Verdict, str | None]]:
    return [(f.verdict, f.agent) for f in check.findings if f.mechanism == "noai"]


def test_noai_in_x_robots_tag_and_meta_with_their_agents(site: Site) -> None:
    site.routes["/all"] = page(headers=[("X-Robots-Tag", "noindex, noai")])
    site.routes["/gpt"] = page(headers=[("X-Robots-Tag", "GPTBot: noai, noimageai")])
    site.routes["/date"] = page(headers=[("X-Robots-Tag", "unavailable_after: 2030-01-01, noimageai")])
    site.routes["/meta"] = page(
        '<html><head><meta name="robots" content="index, noimageai">'
        '<meta name="CCBot" content="noai"></head></html>'
    )
    site.routes["/plain"] = page(headers=[("X-Robots-Tag", "noindex")])
    assert _noai(_one(site, "/all")) == [(Verdict.YES, None)]
    assert _noai(_one(site, "/gpt")) == [(Verdict.YES, "GPTBot"), (Verdict.YES, "GPTBot")]
    assert _noai(_one(site, "/date")) == [(Verdict.YES, None)]
    assert _noai(_one(site, "/meta")) == [(Verdict.YES, None), (Verdict.YES, "CCBot")]
    assert _noai(_one(site, "/plain")) == [(Verdict.NO, None)]


def test_a_page_that_is_not_served_leaves_header_and_meta_unknown(site: Site) -> None:
    check = _one(site, "/missing")  # 404
    assert check.verdict("noai") is Verdict.UNKNOWN
    assert check.verdict("tdmrep") is Verdict.UNKNOWN
    assert "HTTP 404" in next(f.evidence for f in check.findings if f.mechanism == "noai")
    assert not check.complete


def test_an_origin_nobody_answers_for_is_unknown_everywhere() -> None:
    (origin,) = check_reservations([closed_origin() + "/"], timeout=5)
    assert {m: origin.verdict(m) for m in ("robots", "tdmrep", "noai")} == dict.fromkeys(
        ("robots", "tdmrep", "noai"), Verdict.UNKNOWN
    )
    assert not origin.complete
    assert all(d.error and d.status is None for d in origin.urls[0].documents)


def test_urls_are_grouped_by_origin_and_origin_documents_read_once() -> None:
    with (
        serve({"/robots.txt": Route(body=ROBOTS), "/a": page(), "/b": page()}) as one,
        serve({"/": page()}) as two,
    ):
        checks = check_reservations([one.url("/a"), two.url("/"), one.url("/b")])
        assert [c.origin for c in checks] == [one.origin, two.origin]
        assert [u.url for u in checks[0].urls] == [one.url("/a"), one.url("/b")]
        assert [p for p, _ in one.seen].count("/robots.txt") == 1
        assert checks[0].verdict("robots") is Verdict.NO  # neither /a nor /b is under /archive/
        assert checks[1].complete
        assert isinstance(checks[1], OriginCheck)
        body = checks[0].to_json()
        assert [d["url"] for d in body["documents"]] == [
            one.url("/robots.txt"),
            one.url("/.well-known/tdmrep.json"),
        ]
        assert [d["status"] for d in body["documents"]] == [200, 404]
