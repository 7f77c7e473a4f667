"""The reservation formats parsed alone: tdmrep.json rules, X-Robots-Tag and meta directives."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentgate.errors import BadInput
from consentgate.scan.reservations import origin_of
from consentgate.scan.tdm import NoAi, TdmRepError, first_matching, html_metas, noai_in_header, tdmrep_rules

locations = st.lists(st.text(alphabet="abc/-*", min_size=0, max_size=6), min_size=1, max_size=3).map(
    lambda parts: "/" + "/".join(parts)
)
rules = st.lists(st.tuples(locations, st.sampled_from([0, 1])), max_size=6)
paths = st.text(alphabet="abc/-", max_size=12).map(lambda p: "/" + p)


def _file(pairs: list[tuple[str, int]]) -> str:
    return json.dumps([{"location": loc, "tdm-reservation": r} for loc, r in pairs])


@given(rules, rules, paths, st.sampled_from([0, 1]))
def test_a_catch_all_rule_decides_everything_after_it(
    before: list[tuple[str, int]], after: list[tuple[str, int]], path: str, value: int
) -> None:
    parsed = tdmrep_rules(_file([*before, ("/*", value), *after]))
    found = first_matching(parsed, path)
    assert found is not None
    if first_matching(tdmrep_rules(_file(before)), path) is None:
        assert (found.location, found.reservation, found.index) == ("/*", value, len(before) + 1)
    else:
        assert found.index <= len(before)  # an earlier rule that matches keeps deciding


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{}", "not a JSON array"), ("[1]", "rule 1 is not an object"),
        ('[{"tdm-reservation": 1}]', "rule 1 has no location"),
        ('[{"location": "/", "tdm-reservation": true}]', "must be 0 or 1"),
        ('[{"location": "/", "tdm-reservation": 2}]', "must be 0 or 1"), ("[", "not JSON"),
    ],
)  # fmt: skip
def test_a_malformed_file_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(TdmRepError, match=message):
        tdmrep_rules(text)


def test_x_robots_tag_agents_apply_to_the_directives_after_them() -> None:
    assert noai_in_header(["googlebot: noindex, GPTBot: noai, noimageai", "noai"]) == [
        NoAi("noai", "GPTBot", "X-Robots-Tag: googlebot: noindex, GPTBot: noai, noimageai"),
        NoAi("noimageai", "GPTBot", "X-Robots-Tag: googlebot: noindex, GPTBot: noai, noimageai"),
        NoAi("noai", None, "X-Robots-Tag: noai"),
    ]
    assert [n.agent for n in noai_in_header(["max-snippet: 20, NOAI"])] == [None]
    assert noai_in_header(["noindex, nofollow", "noairline"]) == []


def test_meta_tags_are_read_wherever_they_stand() -> None:
    html = (
        '<html><head><META NAME="Robots" CONTENT="noai">'
        '<meta content="1" name="tdm-reservation"></head></html>'
    )
    assert html_metas(html) == [("Robots", "noai"), ("tdm-reservation", "1")]


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("HTTP://News.Example.com:80/a?b=1", "http://news.example.com"),
        ("https://news.example.com:8443/", "https://news.example.com:8443"),
        ("https://[2001:db8::1]:443/x", "https://[2001:db8::1]"),
        ("http://192.0.2.10:8080", "http://192.0.2.10:8080"),
    ],
)
def test_origins_are_scheme_host_and_a_port_other_than_the_default(url: str, origin: str) -> None:
    assert origin_of(url) == origin


@pytest.mark.parametrize(
    "url", ["news.example.com", "ftp://news.example.com/", "https://", "http://x:99999/"]
)
def test_what_is_not_an_http_url_is_refused(url: str) -> None:
    with pytest.raises(BadInput):
        origin_of(url)
