"""RFC 9309 as the reservation check reads it: per-agent groups, merging, longest match, ties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentgate.scan.robots import robots_for_agent, robots_groups

URL = "https://news.example.com"
segment = st.text(alphabet="abcxyz0129-_.", min_size=1, max_size=6)
paths = st.lists(segment, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))
rules = st.lists(st.tuples(st.booleans(), paths), max_size=8)
# A group needs a rule: a user-agent line followed directly by another shares that one's rules.
some_rules = st.lists(st.tuples(st.booleans(), paths), min_size=1, max_size=8)


def _allowed(text: str, agent: str, path: str) -> bool:
    groups, _ = robots_groups(text)
    return robots_for_agent(groups, agent)[0].allowed(URL + path)


def _group(agent: str, body: list[tuple[bool, str]]) -> str:
    lines = [f"User-agent: {agent}"] + [f"{'Allow' if a else 'Disallow'}: {p}" for a, p in body]
    return "\n".join(lines) + "\n"


@given(paths, paths)
def test_allow_wins_a_tie_of_equal_paths(rule: str, suffix: str) -> None:
    text = f"User-agent: GPTBot\nDisallow: {rule}\nAllow: {rule}\n"
    assert _allowed(text, "GPTBot", rule + suffix)
    reordered = f"User-agent: GPTBot\nAllow: {rule}\nDisallow: {rule}\n"
    assert _allowed(reordered, "GPTBot", rule + suffix)  # the order of the lines does not matter


@given(paths, segment)
def test_the_longest_match_decides(prefix: str, deeper: str) -> None:
    longer = f"{prefix}/{deeper}"
    text = f"User-agent: CCBot\nAllow: {longer}\nDisallow: {prefix}\n"
    assert _allowed(text, "CCBot", longer + "/page")
    assert not _allowed(text, "CCBot", prefix + "/other-" + deeper)
    flipped = f"User-agent: CCBot\nDisallow: {longer}\nAllow: {prefix}\n"
    assert not _allowed(flipped, "CCBot", longer)


@given(some_rules, rules, paths)
def test_groups_of_the_same_agent_are_merged(
    first: list[tuple[bool, str]], second: list[tuple[bool, str]], path: str
) -> None:
    split = _group("ClaudeBot", first) + "\nUser-agent: *\nDisallow: /\n\n" + _group("claudebot", second)
    merged = _group("ClaudeBot", first + second)
    assert _allowed(split, "ClaudeBot", path) == _allowed(merged, "ClaudeBot", path)


@given(rules, paths, st.sampled_from(["GPTBot", "gptbot", "GPTBOT"]))
def test_agent_names_match_case_insensitively(body: list[tuple[bool, str]], path: str, written: str) -> None:
    assert _allowed(_group(written, body), "GPTBot", path) == _allowed(_group("GPTBot", body), "GPTBot", path)


def test_a_named_group_replaces_the_star_group_entirely() -> None:
    text = "User-agent: *\nDisallow: /\n\nUser-agent: GPTBot\nDisallow: /private\n"
    assert _allowed(text, "GPTBot", "/news")  # its own group, not "*", applies
    assert not _allowed(text, "CCBot", "/news")
    assert _allowed("User-agent: GPTBot\nDisallow: /\n", "CCBot", "/news")  # no group at all


def test_consecutive_user_agent_lines_share_their_rules_and_an_empty_disallow_allows() -> None:
    text = "User-agent: GPTBot\n\nUser-agent: CCBot\nDisallow: /x\n\nUser-agent: Diffbot\nDisallow:\n"
    assert not _allowed(text, "GPTBot", "/x/1")
    assert not _allowed(text, "CCBot", "/x/1")
    assert _allowed(text, "Diffbot", "/x/1")


@pytest.mark.parametrize(
    ("rule", "path", "allowed"),
    [
        ("/*.pdf$", "/a/b.pdf", False), ("/*.pdf$", "/a/b.pdf?x=1", True), ("/fish*", "/fish.html", False),
        ("/fish", "/Fish", True), ("/%7Ejoe", "/~joe/a", False), ("/~joe", "/%7Ejoe/a", False),
        ("/a$", "/a", False), ("/a$", "/ab", True), ("/*/b", "/x/y/b", False),
    ],
)  # fmt: skip
def test_wildcards_end_anchor_case_and_percent_encoding(rule: str, path: str, allowed: bool) -> None:
    assert _allowed(f"User-agent: *\nDisallow: {rule}\n", "Bytespider", path) is allowed


def test_the_deciding_rule_carries_its_line_number() -> None:
    groups, _ = robots_groups("# header\nUser-agent: *\n\nAllow: /a\nDisallow: /a/b\n")
    rule = robots_for_agent(groups, "anything")[0].deciding_rule(URL + "/a/b/c")
    assert rule is not None
    assert (rule.allow, rule.path, rule.line) == (False, "/a/b", 5)


def test_a_byte_order_mark_does_not_hide_the_first_group() -> None:
    assert not _allowed("\ufeffUser-agent: GPTBot\nDisallow: /\n", "GPTBot", "/news")
