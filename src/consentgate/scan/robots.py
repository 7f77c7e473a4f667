"""robots.txt (RFC 9309) and sitemap.xml, read without a network library of their own.

The crawler fetches both through the browser (so host mappings and proxies apply) and hands the
text here; ``scan/reservations.py`` reads the groups of AI crawlers from the same parse.
``urllib.robotparser`` is not used: it matches plain prefixes only, while RFC 9309 rules
have ``*`` and ``$`` and the longest match wins (an ``allow`` on a tie).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

PRODUCT_TOKEN = "consentgate"  # the user-agent token robots.txt groups may name


@dataclass(frozen=True)
class Rule:
    allow: bool
    path: str
    line: int = field(default=0, compare=False)  # 1-based line in the file, for evidence

    def pattern(self) -> re.Pattern[str]:
        # RFC 9309 §2.2.2: compare percent-decoded forms, so "/%7Ea" and "/~a" are one path.
        body = re.escape(unquote(self.path)).replace(r"\*", ".*")
        if body.endswith(r"\$"):
            body = body[:-2] + "$"
        return re.compile(body)


@dataclass
class Robots:
    """The rules that apply to consentgate's scanner, and the sitemaps the file lists."""

    rules: list[Rule] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    disallow_all: bool = False  # the server failed (5xx): RFC 9309 says assume complete disallow

    def allowed(self, url: str) -> bool:
        if self.disallow_all:
            return False
        best = self.deciding_rule(url)
        return best is None or best.allow

    def deciding_rule(self, url: str) -> Rule | None:
        """The rule that decides ``url``: the longest matching path, ``allow`` on a tie; None when
        no rule matches (the URL is allowed)."""
        parts = urlsplit(url)
        target = unquote(parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        best: Rule | None = None
        for rule in self.rules:
            if not rule.path:
                continue  # "Disallow:" with nothing allows everything
            if rule.pattern().match(target):
                longer = best is None or len(rule.path) > len(best.path)
                tie_allow = best is not None and len(rule.path) == len(best.path) and rule.allow
                if longer or tie_allow:
                    best = rule
        return best


def parse_robots(text: str, token: str = PRODUCT_TOKEN) -> Robots:
    """Rules of the group for ``token`` (case-insensitive), else of the ``*`` group."""
    groups, sitemaps = robots_groups(text)
    token = token.lower()
    chosen = next((rules for agent, rules in groups.items() if agent != "*" and agent in token), None)
    if chosen is None:
        chosen = groups.get("*", [])
    return Robots(rules=chosen, sitemaps=sitemaps)


def robots_for_agent(groups: dict[str, list[Rule]], agent: str) -> tuple[Robots, str]:
    """The rules for one crawler's product token and the group they came from: the group naming
    it exactly (case-insensitive; RFC 9309 §2.2.1), else ``*``, else none (everything allowed)."""
    name = agent.lower()
    if name in groups:
        return Robots(rules=groups[name]), name
    if "*" in groups:
        return Robots(rules=groups["*"]), "*"
    return Robots(), ""


def robots_groups(text: str) -> tuple[dict[str, list[Rule]], list[str]]:
    """Every group's rules by lower-cased user agent, and the sitemaps listed.

    Groups naming the same agent are merged (RFC 9309 §2.2.1); consecutive ``user-agent`` lines
    share the rules that follow them."""
    groups: dict[str, list[Rule]] = {}
    sitemaps: list[str] = []
    agents: list[str] = []
    in_rules = False
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (p.strip() for p in line.split(":", 1))
        key = key.lower()
        if key == "sitemap":
            if value:
                sitemaps.append(value)
            continue
        if key == "user-agent":
            if in_rules:
                agents, in_rules = [], False
            agents.append(value.lower())
            for a in agents:
                groups.setdefault(a, [])
        elif key in ("allow", "disallow"):
            in_rules = True
            for a in agents:
                groups.setdefault(a, []).append(Rule(key == "allow", value, number))
    return groups, sitemaps


_LOC = re.compile(r"<loc>\s*(.*?)\s*</loc>", re.IGNORECASE | re.DOTALL)
MAX_SITEMAP_BYTES = 10 * 1024 * 1024


def sitemap_locations(text: str) -> tuple[list[str], bool]:
    """The ``<loc>`` URLs of a sitemap and whether it is a sitemap index (whose locs are sitemaps).

    A regular expression, not an XML parser: a sitemap from the site being audited is untrusted
    input, and this reads the one element that matters without entity expansion of any kind.
    """
    text = text[:MAX_SITEMAP_BYTES]
    locs = [_unescape(m) for m in _LOC.findall(text)]
    return locs, "<sitemapindex" in text[:2000].lower()


def _unescape(value: str) -> str:
    if value.startswith("<![CDATA[") and value.endswith("]]>"):
        value = value[9:-3]
    return (
        value.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
        .strip()
    )
