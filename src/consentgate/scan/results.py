"""From what the browser saw to the scan document: merged items, categories, parties, violations.

The document (``consentgate.scan/1``) is the contract that ``scan diff``, the HTML report, the
cookie declaration and ``/v1/declaration`` read; docs/scanner.md describes every field. Items are
merged across pages and phases: a cookie is one entry per (name, domain), a storage key one per
(kind, key, origin), a request one per third-party URL without its query string, a host one per
third-party host. Cookie values are never kept (they are often identifiers).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from consentgate.scan.crawler import PHASES, RawScan
from consentgate.scan.knowledge import Category, KnowledgeBase, Match
from consentgate.scan.observe import Sighting
from consentgate.scan.sites import host_of, party, strip_query
from consentgate.scan.verdict import UNCLASSIFIED, judge, overall, propagate

SCHEMA = "consentgate.scan/1"


def _version() -> str:
    try:
        return version("consentgate")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0.0.0"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


class _Order:
    """Sorts sightings by phase, then by the page's place in the crawl."""

    def __init__(self, pages: list[str]) -> None:
        self.page_index = {u: i for i, u in enumerate(pages)}

    def key(self, s: Sighting) -> tuple[int, int, int]:
        return (PHASES.index(s.phase), self.page_index.get(s.page, len(self.page_index)), s.via == "jar")


def _match_json(m: Match) -> dict[str, Any]:
    return {
        "category": m.category.value,
        "category_source": m.source,
        "platform": m.platform,
        "description": m.description,
    }


def build(raw: RawScan, kb: KnowledgeBase) -> dict[str, Any]:
    site = host_of(raw.start_url)
    pages = [p.url for p in raw.pages]
    order = _Order(pages)
    sightings = sorted(raw.sightings, key=order.key)
    observed_at = raw.finished_at or datetime.now(UTC)

    cookies = _cookies(sightings, kb, site, observed_at)
    storage = _storage(sightings, kb, site)
    requests, hosts = _requests(sightings, kb, site)
    propagate(site, cookies, storage, hosts)
    host_category = {h["host"]: (h["category"], h["category_source"]) for h in hosts}
    for r in requests:
        r["category"], r["category_source"] = host_category[r["host"]]
    violations = judge(site, cookies, storage, hosts)

    per_page = _per_page(raw, cookies, storage, hosts, violations)
    unknown = {
        "cookies": sum(c["category"] == "unknown" for c in cookies),
        "storage": sum(s["category"] == "unknown" for s in storage),
        "hosts": sum(h["category"] == "unknown" for h in hosts),
    }
    phases = {
        name: {
            "action": {"no_consent": None, "rejected": "reject", "accepted": "accept"}[name],
            "banner": (click.as_json() if (click := raw.clicks.get(name)) else None),
            "pages": sum(1 for v in raw.visits if v.phase == name),
        }
        for name in PHASES
    }
    return {
        "schema": SCHEMA,
        "verdict": overall(violations, phases, len(pages)),
        "tool": {"name": "consentgate", "version": _version()},
        "start_url": raw.start_url,
        "site": site,
        "started_at": _iso(raw.started_at),
        "finished_at": _iso(raw.finished_at),
        "duration_s": round(((raw.finished_at or observed_at) - raw.started_at).total_seconds(), 2),
        "browser": raw.browser_version,
        "options": raw.options.as_json(),
        "knowledge_base": kb.provenance.as_json(),
        "robots": raw.robots,
        "phases": phases,
        "pages": pages,
        "page_details": per_page,
        "skipped": raw.skipped,
        "cookies": cookies,
        "storage": storage,
        "requests": requests,
        "hosts": hosts,
        "violations": violations,
        "summary": {
            "pages": len(pages),
            "cookies": len(cookies),
            "storage": len(storage),
            "third_party_hosts": len(hosts),
            "violations": len(violations),
            "unclassified": sum(v["type"] == UNCLASSIFIED for v in violations),
            "unknown": unknown,
            "by_category": _by_category(cookies, storage),
        },
    }


def _phases(items: Iterable[Sighting]) -> list[str]:
    present = {s.phase for s in items}
    return [p for p in PHASES if p in present]


def _setters(items: list[Sighting]) -> list[dict[str, Any]]:
    out: dict[tuple[str, str | None, str | None], dict[str, Any]] = {}
    for s in items:
        if s.via in ("jar", "snapshot"):
            continue
        out.setdefault((s.via, s.url, s.script), {"via": s.via, "url": s.url, "script": s.script})
    return list(out.values())


def _first(items: list[Sighting]) -> Sighting:
    """The earliest sighting that says who set the item, else the earliest of all."""
    return next((s for s in items if s.via not in ("jar", "snapshot")), items[0])


def _categorise(kb: KnowledgeBase, name: str, host: str) -> Match:
    """What the databases and the policy know of the name; hosts add theirs later (verdict.py)."""
    return kb.cookie(name, host)


def _cookies(
    sightings: list[Sighting], kb: KnowledgeBase, site: str, observed_at: datetime
) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[Sighting]] = defaultdict(list)
    for s in sightings:
        if s.kind == "cookie" and not s.attrs.get("deleted"):
            groups[(s.name, s.host)].append(s)
    out = []
    for (name, domain), items in groups.items():
        first = _first(items)
        jar = next((s for s in items if s.via == "jar"), None)
        attrs = (jar or first).attrs
        expires: datetime | None = attrs.get("expires")
        match = _categorise(kb, name, domain)
        blocked = sorted({r for s in items for r in s.attrs.get("blocked", [])}) if jar is None else []
        out.append(
            {
                "name": name,
                "domain": domain,
                "path": attrs.get("path", "/"),
                "party": party(domain, site),
                **_match_json(match),
                "phases": _phases(items),
                "first_seen": first.page,
                "first_seen_phase": first.phase,
                "set_by": first.url if first.via != "jar" else None,
                "set_by_all": _setters(items),
                "expires": _iso(expires),
                "session": expires is None,
                "lifetime_s": (
                    max(0, int((expires - observed_at).total_seconds())) if expires is not None else None
                ),
                "retention": match.retention,
                "secure": bool(attrs.get("secure")),
                "http_only": bool(attrs.get("http_only")),
                "same_site": attrs.get("same_site"),
                "host_only": bool(attrs.get("host_only")),
                "in_jar": jar is not None,
                "blocked": blocked,
                "pages": len({s.page for s in items}),
                "_evidence": _evidence(items),
            }
        )
    out.sort(key=lambda c: (c["party"], c["domain"], c["name"]))
    return out


def _storage(sightings: list[Sighting], kb: KnowledgeBase, site: str) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str, str], list[Sighting]] = defaultdict(list)
    for s in sightings:
        if s.kind == "storage":
            kind = s.attrs.get("kind", "localStorage")
            kind = "localStorage" if kind == "storage" else kind
            groups[(kind, s.name, s.attrs.get("origin", ""))].append(s)
    out = []
    for (kind, key, origin), items in groups.items():
        first = _first(items)
        host = host_of(origin)
        match = _categorise(kb, key, host)
        out.append(
            {
                "key": key,
                "kind": kind,
                "origin": origin,
                "party": party(host, site),
                **_match_json(match),
                "phases": _phases(items),
                "first_seen": first.page,
                "first_seen_phase": first.phase,
                "set_by": first.script if first.via == "script" else None,
                "set_by_all": _setters(items),
                "pages": len({s.page for s in items}),
                "_evidence": _evidence(items),
            }
        )
    out.sort(key=lambda s: (s["party"], s["origin"], s["kind"], s["key"]))
    return out


def _requests(
    sightings: list[Sighting], kb: KnowledgeBase, site: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    by_url: dict[str, list[Sighting]] = defaultdict(list)
    by_host: dict[str, list[Sighting]] = defaultdict(list)
    for s in sightings:
        if s.kind == "request" and s.host and party(s.host, site) == "third":
            by_url[strip_query(s.name)].append(s)
            by_host[s.host].append(s)
    host_match = {h: kb.host(h) for h in by_host}
    requests = []
    for url, items in by_url.items():
        first = items[0]
        m = host_match[first.host]
        requests.append(
            {
                "host": first.host,
                "url": url,
                "type": first.attrs.get("type", "other"),
                "party": "third",
                "category": m.category.value,
                "category_source": m.source,
                "phases": _phases(items),
                "first_seen": first.page,
                "initiator": first.script,
                "count": len(items),
            }
        )
    requests.sort(key=lambda r: (r["host"], r["url"]))
    hosts = []
    for host, items in by_host.items():
        m = host_match[host]
        hosts.append(
            {
                "host": host,
                "party": "third",
                **_match_json(m),
                "vendor": m.platform,
                "phases": _phases(items),
                "first_seen": items[0].page,
                "initiator": items[0].script,
                "requests": len(items),
                "_evidence": _request_evidence(items),
                "_initiators": {s.script for s in items if s.script},
            }
        )
    hosts.sort(key=lambda h: h["host"])
    return requests, hosts


def _request_evidence(items: list[Sighting]) -> dict[str, dict[str, str | None]]:
    out: dict[str, dict[str, str | None]] = {}
    for s in items:
        if s.phase not in out:
            out[s.phase] = {"page": s.page, "url": strip_query(s.name), "cause": s.script or s.page}
    return out


def _evidence(items: list[Sighting]) -> dict[str, dict[str, str | None]]:
    """Per phase: the first page an item appeared on, what set it, and the script behind that."""
    out: dict[str, dict[str, str | None]] = {}
    for phase in PHASES:
        in_phase = [s for s in items if s.phase == phase]
        if in_phase:
            s = _first(in_phase)
            known = s.via not in ("jar", "snapshot")
            out[phase] = {
                "page": s.page,
                "url": s.url if known else None,
                "cause": (s.script or s.url) if known else None,
            }
    return out


def _per_page(
    raw: RawScan,
    cookies: list[dict[str, Any]],
    storage: list[dict[str, Any]],
    hosts: list[dict[str, Any]],
    violations: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    counts: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for s in raw.sightings:
        key = (s.page, s.phase)
        if s.kind == "cookie" and not s.attrs.get("deleted") and s.via != "jar":
            counts[key]["cookies"].add(f"{s.name}@{s.host}")
        elif s.kind == "storage":
            counts[key]["storage"].add(f"{s.name}@{s.host}")
        elif s.kind == "request" and party(s.host, host_of(raw.start_url)) == "third":
            counts[key]["hosts"].add(s.host)
    viol: dict[tuple[str, str], int] = defaultdict(int)
    for v in violations:
        viol[(v["page"], v["phase"])] += 1
    out = []
    for p in raw.pages:
        out.append(
            {
                "url": p.url,
                "depth": p.depth,
                "found_via": p.found_via,
                "status": p.status,
                "title": p.title,
                "error": p.error,
                "phases": {
                    ph: {
                        "cookies": len(counts[(p.url, ph)]["cookies"]),
                        "storage": len(counts[(p.url, ph)]["storage"]),
                        "third_party_hosts": len(counts[(p.url, ph)]["hosts"]),
                        "violations": viol[(p.url, ph)],
                    }
                    for ph in PHASES
                },
            }
        )
    return out


def _by_category(cookies: list[dict[str, Any]], storage: list[dict[str, Any]]) -> dict[str, int]:
    counts = {c.value: 0 for c in Category}
    for item in [*cookies, *storage]:
        counts[item["category"]] += 1
    return counts
