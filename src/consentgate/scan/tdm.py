"""The text-and-data-mining reservation formats a publisher writes, parsed without any network.

* W3C TDM Reservation Protocol (TDMRep, Community Group final report, 2024): the
  ``/.well-known/tdmrep.json`` rules, the ``tdm-reservation`` / ``tdm-policy`` HTTP headers and
  the HTML ``<meta name="tdm-reservation">`` / ``tdm-policy``.
* ``noai`` / ``noimageai`` in ``X-Robots-Tag`` headers and ``<meta name="robots">`` (DeviantArt's
  proposal, honoured by several crawlers), also in their per-agent forms (``GPTBot: noai`` and
  ``<meta name="GPTBot" content="noai">``).

:mod:`consentgate.scan.reservations` fetches the documents and turns these into verdicts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from consentgate.scan.robots import Rule

NOAI_DIRECTIVES = ("noai", "noimageai")
# X-Robots-Tag directives that carry a value after a colon: "unavailable_after: …" names no agent.
_VALUED_DIRECTIVES = frozenset({"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"})


class TdmRepError(ValueError):
    """A tdmrep.json the protocol cannot read; the message says what is wrong with it."""


@dataclass(frozen=True, slots=True)
class TdmRule:
    """One rule of a tdmrep.json, in file order (the first rule whose location matches applies)."""

    index: int  # 1-based position in the file, for evidence
    location: str
    reservation: int
    policy: str | None

    def matches(self, path: str) -> bool:
        """The location as a path pattern, as robots.txt writes them: ``*`` any run of characters,
        a final ``$`` the end, compared percent-decoded."""
        where = urlsplit(self.location).path if "://" in self.location else self.location
        return Rule(allow=False, path=where).pattern().match(unquote(path)) is not None

    def describe(self) -> str:
        policy = f", tdm-policy {self.policy}" if self.policy else ""
        return f"rule {self.index}: location {self.location}, tdm-reservation {self.reservation}{policy}"


def tdmrep_rules(text: str) -> list[TdmRule]:
    """The rules of a ``/.well-known/tdmrep.json``: a JSON array of objects with ``location``,
    ``tdm-reservation`` (0 or 1) and an optional ``tdm-policy`` URL."""
    try:
        data = json.loads(text.removeprefix("\ufeff"))  # a byte-order mark is not an error
    except json.JSONDecodeError as exc:
        raise TdmRepError(f"not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, list):
        raise TdmRepError("not a JSON array of rules")
    rules: list[TdmRule] = []
    for index, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise TdmRepError(f"rule {index} is not an object")
        location, reservation = item.get("location"), item.get("tdm-reservation")
        if not isinstance(location, str) or not location:
            raise TdmRepError(f"rule {index} has no location")
        if reservation not in (0, 1) or isinstance(reservation, bool):
            raise TdmRepError(f"rule {index}: tdm-reservation must be 0 or 1, not {reservation!r}")
        policy = item.get("tdm-policy")
        rules.append(TdmRule(index, location, int(reservation), policy if isinstance(policy, str) else None))
    return rules


def first_matching(rules: list[TdmRule], path: str) -> TdmRule | None:
    return next((r for r in rules if r.matches(path)), None)


def reservation_value(value: str) -> int | None:
    """A ``tdm-reservation`` header or meta value: 0 or 1, None when it is anything else."""
    value = value.strip()
    return int(value) if value in ("0", "1") else None


@dataclass(frozen=True, slots=True)
class NoAi:
    """One ``noai``-style directive found: for every crawler (``agent`` None) or for one."""

    directive: str
    agent: str | None
    where: str  # "X-Robots-Tag: …" or "<meta name=… content=…>"


def noai_in_header(values: list[str]) -> list[NoAi]:
    """``noai``/``noimageai`` in ``X-Robots-Tag`` values, with the agent a ``name:`` prefix names
    (it applies to the directives after it in the same value)."""
    found: list[NoAi] = []
    for value in values:
        agent: str | None = None
        for part in value.split(","):
            token = part.strip()
            head, sep, rest = token.partition(":")
            if sep and head.strip().lower() not in _VALUED_DIRECTIVES:
                agent, token = head.strip(), rest.strip()
            for word in token.lower().split():
                if word in NOAI_DIRECTIVES:
                    found.append(NoAi(word, agent, f"X-Robots-Tag: {value.strip()}"))
    return found


def noai_in_meta(metas: list[tuple[str, str]]) -> list[NoAi]:
    """``noai``/``noimageai`` in ``<meta name="robots">`` (every crawler) or ``<meta name=AGENT>``."""
    found: list[NoAi] = []
    for name, content in metas:
        words = [w.strip().lower() for w in content.split(",")]
        for word in words:
            if word in NOAI_DIRECTIVES:
                agent = None if name.lower() == "robots" else name
                found.append(NoAi(word, agent, f'<meta name="{name}" content="{content}">'))
    return found


class _MetaReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.metas: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            return
        values = {k.lower(): v for k, v in attrs if v is not None}
        if "name" in values and "content" in values:
            self.metas.append((values["name"].strip(), values["content"].strip()))


def html_metas(html: str) -> list[tuple[str, str]]:
    """Every ``<meta name content>`` pair of a page, in document order (names as written)."""
    reader = _MetaReader()
    reader.feed(html)
    reader.close()
    return reader.metas
