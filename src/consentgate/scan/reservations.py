"""Publishers' rights reservations against text and data mining, read per origin and per URL.

Three mechanisms, each answered ``yes`` (reserved), ``no`` or ``unknown`` with its evidence (status
code, the matching line or header, when each document was fetched and its sha256):

* ``robots``: robots.txt groups for AI crawlers (:data:`AI_AGENTS`, ``*`` and the crawler names the
  policy declares), RFC 9309 semantics (:mod:`consentgate.scan.robots`). A 5xx answer means complete
  disallow (§2.3.1.4), a 4xx answer no restriction (§2.3.1.3).
* ``tdmrep``: the W3C TDM Reservation Protocol: ``/.well-known/tdmrep.json`` first (its first rule
  whose location matches), then the page's ``tdm-reservation`` header, then its HTML meta tag.
* ``noai``: ``noai`` / ``noimageai`` in ``X-Robots-Tag`` or ``<meta name="robots">`` (or per agent).

A document that could not be read makes its mechanism ``unknown`` with the reason, never "not
reserved" (docs/reservations.md). These are facts about publishers, kept apart from personal consent:
they are stored in their own table (:mod:`consentgate.store.reservations`), never as ledger events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit

import httpx

from consentgate.errors import BadInput
from consentgate.scan.robots import robots_for_agent, robots_groups
from consentgate.scan.tdm import (
    TdmRepError,
    first_matching,
    html_metas,
    noai_in_header,
    noai_in_meta,
    reservation_value,
    tdmrep_rules,
)

# Crawlers that collect for AI training or AI answers, by the product token their operators publish.
AI_AGENTS = (
    "GPTBot", "ChatGPT-User", "OAI-SearchBot", "ClaudeBot", "anthropic-ai", "Google-Extended", "CCBot",
    "PerplexityBot", "Bytespider", "Applebot-Extended", "Meta-ExternalAgent", "Amazonbot", "cohere-ai",
    "Diffbot",
)  # fmt: skip
MECHANISMS = ("robots", "tdmrep", "noai")
TIMEOUT_SECONDS = 15.0
MAX_BYTES = 512 * 1024  # RFC 9309 §2.5: crawlers must parse at least 500 KiB of robots.txt
MAX_REDIRECTS = 5  # RFC 9309 §2.3.1.2: follow at least five


class Verdict(StrEnum):
    YES = "yes"  # reserved
    NO = "no"  # read, and nothing reserved
    UNKNOWN = "unknown"  # not read (the reason is in the evidence)


@dataclass(frozen=True, slots=True)
class Document:
    """One fetch: what was asked, what came back, when, and the sha256 of the bytes read."""

    url: str
    fetched_at: str
    status: int | None = None
    sha256: str | None = None
    error: str | None = None
    truncated: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"url": self.url, "fetched_at": self.fetched_at, "status": self.status}
        out["sha256"] = self.sha256
        if self.error:
            out["error"] = self.error
        if self.truncated:
            out["truncated"] = True
        return out


@dataclass(frozen=True, slots=True)
class Finding:
    """What one mechanism says about one URL (for robots: about one crawler)."""

    mechanism: str
    verdict: Verdict
    evidence: str
    agent: str | None = None
    policy: str | None = None  # a TDMRep tdm-policy URL
    # The verdict stands although a document it depends on was not read (a reservation found lower
    # down is honoured whatever the unread one says); the check is then not complete.
    partial: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mechanism": self.mechanism, "verdict": self.verdict.value}
        if self.agent is not None:
            out["agent"] = self.agent
        out["evidence"] = self.evidence
        if self.policy:
            out["policy"] = self.policy
        if self.partial:
            out["partial"] = True
        return out


def combine(verdicts: Iterable[Verdict]) -> Verdict:
    """Any reservation wins; then anything unread; ``no`` only when every part was read."""
    seen = set(verdicts)
    if Verdict.YES in seen:
        return Verdict.YES
    if Verdict.UNKNOWN in seen or not seen:
        return Verdict.UNKNOWN
    return Verdict.NO


@dataclass(frozen=True, slots=True)
class UrlCheck:
    """Every mechanism's answer for one URL, with the documents they were read from."""

    url: str
    origin: str
    checked_at: str
    agents: tuple[str, ...]
    findings: tuple[Finding, ...]
    documents: tuple[Document, ...]
    crawlers: tuple[str, ...] = ()  # the agents that collect for the checker (the policy's crawlers)

    def verdict(self, mechanism: str) -> Verdict:
        return combine(f.verdict for f in self.findings if f.mechanism == mechanism)

    def reserved_for(self) -> list[str]:
        """The crawlers robots.txt keeps away from this URL."""
        return [
            f.agent for f in self.findings if f.mechanism == "robots" and f.verdict is Verdict.YES and f.agent
        ]

    @property
    def complete(self) -> bool:
        """Every mechanism read: no finding is ``unknown`` or rests on a document that was not read."""
        return all(f.verdict is not Verdict.UNKNOWN and not f.partial for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "origin": self.origin,
            "checked_at": self.checked_at,
            "verdicts": {m: self.verdict(m).value for m in MECHANISMS},
            "agents": list(self.agents),
            "crawlers": list(self.crawlers),
            "findings": [f.to_json() for f in self.findings],
            "documents": [d.to_json() for d in self.documents],
        }


@dataclass(frozen=True, slots=True)
class OriginCheck:
    origin: str
    urls: tuple[UrlCheck, ...]

    def verdict(self, mechanism: str) -> Verdict:
        return combine(u.verdict(mechanism) for u in self.urls)

    @property
    def complete(self) -> bool:
        return all(u.complete for u in self.urls)

    def to_json(self) -> dict[str, Any]:
        """The origin's verdicts and the documents read once for it (robots.txt, tdmrep.json), then
        every URL's check."""
        own = (f"{self.origin}/robots.txt", f"{self.origin}/.well-known/tdmrep.json")
        docs = [d.to_json() for d in self.urls[0].documents if d.url in own] if self.urls else []
        return {
            "origin": self.origin,
            "verdicts": {m: self.verdict(m).value for m in MECHANISMS},
            "complete": self.complete,
            "documents": docs,
            "urls": [u.to_json() for u in self.urls],
        }


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an http(s) URL; anything else is refused with what to pass."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"{url!r} is not an http(s) URL; pass a page address such as https://www.example.com/")
    default = {"http": 80, "https": 443}[parts.scheme]
    try:
        port = parts.port
    except ValueError:
        raise BadInput(f"{url!r} has an invalid port") from None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def agents_to_check(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """:data:`AI_AGENTS`, the extra names (the policy's crawlers, ``--agent``) and ``*``, each once."""
    seen: dict[str, str] = {}
    for name in (*AI_AGENTS, *extra, "*"):
        seen.setdefault(name.strip().lower(), name.strip())
    return tuple(v for v in seen.values() if v)


def user_agent() -> str:
    """The User-Agent every fetch sends: names consentgate and what it is doing."""
    try:
        release = version("consentgate")
    except PackageNotFoundError:  # a source tree that was never installed
        release = "0.0.0"
    return f"consentgate/{release} (publisher rights reservation check)"


@dataclass
class _Fetched:
    document: Document
    text: str = ""
    headers: httpx.Headers = field(default_factory=httpx.Headers)


def check_reservations(
    urls: Sequence[str],
    *,
    agents: Iterable[str] = (),
    crawlers: Iterable[str] = (),
    timeout: float = TIMEOUT_SECONDS,
) -> list[OriginCheck]:
    """Read every mechanism for each URL; origin documents are fetched once per origin.

    robots.txt is read for :data:`AI_AGENTS`, ``agents``, ``crawlers`` and ``*``; ``crawlers`` (the
    names your own crawler uses, from the policy's ``sources[].crawl.agents``) are recorded as such,
    so a report can tell a reservation against your crawler from one against others."""
    own = tuple(dict.fromkeys(c.strip() for c in crawlers if c.strip()))
    names = agents_to_check([*own, *agents])
    by_origin: dict[str, list[str]] = {}
    for url in urls:
        by_origin.setdefault(origin_of(url), []).append(url.strip())
    checks: list[OriginCheck] = []
    with httpx.Client(
        timeout=timeout,
        headers={"User-Agent": user_agent()},
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
    ) as client:
        for origin, pages in by_origin.items():
            robots = _fetch(client, f"{origin}/robots.txt")
            tdmrep = _fetch(client, f"{origin}/.well-known/tdmrep.json")
            results = []
            for url in dict.fromkeys(pages):
                page = _fetch(client, url)
                results.append(_check_url(url, origin, names, own, robots, tdmrep, page))
            checks.append(OriginCheck(origin, tuple(results)))
    return checks


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _fetch(client: httpx.Client, url: str) -> _Fetched:
    at = _now()
    try:
        with client.stream("GET", url) as response:
            body = bytearray()
            truncated = False
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > MAX_BYTES:
                    del body[MAX_BYTES:]
                    truncated = True
                    break
            text = _decode(bytes(body), response.charset_encoding)
            doc = Document(url, at, response.status_code, hashlib.sha256(body).hexdigest(), None, truncated)
            return _Fetched(doc, text, response.headers)
    except httpx.TooManyRedirects:
        return _Fetched(Document(url, at, error=f"more than {MAX_REDIRECTS} redirects"))
    except httpx.TimeoutException:
        return _Fetched(Document(url, at, error=f"no answer within {client.timeout.read or 0:g} s"))
    except httpx.HTTPError as exc:
        return _Fetched(Document(url, at, error=f"could not fetch: {exc or type(exc).__name__}"))


def _decode(body: bytes, charset: str | None) -> str:
    """The body as text in its declared charset (UTF-8 when none or an unknown one is declared)."""
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _failure(doc: Document) -> str | None:
    """Why a document's answer cannot be used, or None when it can (2xx)."""
    if doc.error:
        return doc.error
    if doc.status is not None and not 200 <= doc.status < 300:
        return f"HTTP {doc.status}"
    return None


def _check_url(
    url: str,
    origin: str,
    agents: tuple[str, ...],
    crawlers: tuple[str, ...],
    robots: _Fetched,
    tdmrep: _Fetched,
    page: _Fetched,
) -> UrlCheck:
    findings = [*_robots(url, agents, robots), _tdmrep(url, tdmrep, page), *_noai(page)]
    docs = (robots.document, tdmrep.document, page.document)
    return UrlCheck(url, origin, page.document.fetched_at, agents, tuple(findings), docs, crawlers)


def _robots(url: str, agents: tuple[str, ...], fetched: _Fetched) -> list[Finding]:
    doc = fetched.document
    if doc.error or doc.status is None:
        why = f"robots.txt not read ({doc.error}); RFC 9309 §2.3.1.4 has crawlers assume complete disallow"
        return [Finding("robots", Verdict.UNKNOWN, why, a) for a in agents]
    if 500 <= doc.status < 600:
        why = f"robots.txt answered HTTP {doc.status}: complete disallow (RFC 9309 §2.3.1.4)"
        return [Finding("robots", Verdict.YES, why, a) for a in agents]
    if 400 <= doc.status < 500:
        why = f"robots.txt answered HTTP {doc.status}: no restriction (RFC 9309 §2.3.1.3)"
        return [Finding("robots", Verdict.NO, why, a) for a in agents]
    if not 200 <= doc.status < 300:
        why = f"robots.txt answered HTTP {doc.status}, which RFC 9309 does not define"
        return [Finding("robots", Verdict.UNKNOWN, why, a) for a in agents]
    groups, _ = robots_groups(fetched.text)
    out = []
    for agent in agents:
        rules, group = robots_for_agent(groups, agent)
        rule = rules.deciding_rule(url)
        # The finding names its agent; only a fallback to the "*" group needs saying.
        star = " (the * group)" if group == "*" and agent != "*" else ""
        if rule is None:
            why = f"no rule matches{star}" if group else "no group names it and there is no * group"
            out.append(Finding("robots", Verdict.NO, why, agent))
            continue
        line = f"line {rule.line}: {'Allow' if rule.allow else 'Disallow'}: {rule.path}{star}"
        out.append(Finding("robots", Verdict.NO if rule.allow else Verdict.YES, line, agent))
    return out


def _tdmrep(url: str, well_known: _Fetched, page: _Fetched) -> Finding:
    """The protocol's order: the well-known file, then the page's header, then its meta tag; the
    first that states a value decides. An unread higher source leaves ``unknown`` unless a lower one
    reserves (a reservation is honoured whatever the file might have said)."""
    said: list[tuple[Verdict, str, str | None]] = []  # in priority order
    doc = well_known.document
    if doc.status == 404 or doc.status == 410:
        pass  # no file: the protocol moves on to the headers
    elif (why := _failure(doc)) is not None:
        said.append((Verdict.UNKNOWN, f"tdmrep.json not read ({why})", None))
    else:
        try:
            rule = first_matching(tdmrep_rules(well_known.text), urlsplit(url).path or "/")
        except TdmRepError as exc:
            said.append((Verdict.UNKNOWN, f"tdmrep.json unreadable: {exc}", None))
        else:
            if rule is not None:
                verdict = Verdict.YES if rule.reservation else Verdict.NO
                said.append((verdict, f"tdmrep.json {rule.describe()}", rule.policy))
    if (why := _failure(page.document)) is not None:
        said.append((Verdict.UNKNOWN, f"page not read ({why}): its header and meta tag are unknown", None))
    else:
        header = page.headers.get("tdm-reservation")
        policy = page.headers.get("tdm-policy")
        if header is not None:
            value = reservation_value(header)
            if value is None:
                said.append((Verdict.UNKNOWN, f"header tdm-reservation: {header} is neither 0 nor 1", None))
            else:
                said.append((Verdict(("no", "yes")[value]), f"header tdm-reservation: {header}", policy))
        metas = {n.lower(): c for n, c in html_metas(page.text)} if _is_html(page) else {}
        if "tdm-reservation" in metas:
            value = reservation_value(metas["tdm-reservation"])
            text = f'<meta name="tdm-reservation" content="{metas["tdm-reservation"]}">'
            if value is None:
                said.append((Verdict.UNKNOWN, f"{text} is neither 0 nor 1", None))
            else:
                said.append((Verdict(("no", "yes")[value]), text, metas.get("tdm-policy")))
    for i, (verdict, evidence, policy) in enumerate(said):
        if verdict is not Verdict.UNKNOWN:
            return Finding("tdmrep", verdict, evidence, policy=policy)
        reserving = next((s for s in said[i + 1 :] if s[0] is Verdict.YES), None)
        if reserving is not None:
            evidence = f"{reserving[1]}; {evidence}"
            return Finding("tdmrep", Verdict.YES, evidence, policy=reserving[2], partial=True)
        return Finding("tdmrep", Verdict.UNKNOWN, evidence)
    return Finding("tdmrep", Verdict.NO, "no tdmrep.json rule, header or meta tag states a reservation")


def _noai(page: _Fetched) -> list[Finding]:
    if (why := _failure(page.document)) is not None:
        return [Finding("noai", Verdict.UNKNOWN, f"page not read ({why})")]
    found = noai_in_header(page.headers.get_list("x-robots-tag"))
    if _is_html(page):
        found += noai_in_meta([(n, c) for n, c in html_metas(page.text) if n.lower() != "tdm-reservation"])
    if not found:
        return [Finding("noai", Verdict.NO, "no noai or noimageai in X-Robots-Tag or meta robots")]
    return [Finding("noai", Verdict.YES, f"{f.directive}: {f.where}", f.agent) for f in found]


def _is_html(page: _Fetched) -> bool:
    return "html" in page.headers.get("content-type", "").lower()
