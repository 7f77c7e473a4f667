"""Conservative verdicts: which cookies, storage keys and third-party hosts needed consent.

The rule is "a violation unless known to be exempt" (issue 14). Before deciding, categories travel
along what the scan saw, both ways and transitively, until nothing changes:

* up: a third-party host takes the most consent-needing category of what it sets (cookies in its
  responses or on its domain, cookies and storage its scripts write) and of the hosts its scripts
  load — unless the policy declares the host, which is the site owner's word;
* down: a cookie or storage key the databases do not know takes the category of the hosts that set
  it, and a host nobody knows takes the category of the hosts whose scripts loaded it.

Then every item gets a ``verdict``: ``exempt`` (strictly necessary or security, first-party and
written by the site itself, or declared necessary by the policy, or consentgate's own consent
record), ``unclassified`` (category unknown: a violation of its own kind, never a silent pass) or
``needs_consent``. Anything written by a third-party script or set by a third-party response needs
consent unless the policy declares it necessary: the database's "necessary" describes the vendor's
view, not this site's. ``functional`` items need consent unless first-party and set by the site.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from consentgate.scan.knowledge import EXEMPT, SEVERITY, Category, domain_matches
from consentgate.scan.sites import host_of, party

CONSENT_PHASES = ("no_consent", "rejected")  # before consent: only exempt items may appear
EXEMPT_VERDICT, UNCLASSIFIED, NEEDS_CONSENT = "exempt", "unclassified", "needs_consent"
_FIXED = ("policy", "open-cookie-database", "consentgate")  # item categories that are not inferred


def _rank(category: str) -> int:
    return SEVERITY.get(Category(category), -1) if category != Category.UNKNOWN else -1


class _Graph:
    """Who set or loaded what: items and hosts linked to the third-party hosts behind them."""

    def __init__(self, site: str, hosts: list[dict[str, Any]]) -> None:
        self.site = site
        self.hosts = {h["host"]: h for h in hosts}

    def host_for(self, name: str | None) -> str | None:
        """The scanned third-party host a URL or cookie domain belongs to (longest match)."""
        if not name:
            return None
        bare = host_of(name) if "://" in name else name.lower().lstrip(".")
        if party(bare, self.site) != "third":
            return None
        if bare in self.hosts:
            return bare
        candidates = [h for h in self.hosts if domain_matches(h, bare) or domain_matches(bare, h)]
        return max(candidates, key=len) if candidates else None

    def setters(self, item: dict[str, Any]) -> set[str]:
        return {h for u in _writers(item) if (h := self.host_for(u)) is not None}


def _writers(item: dict[str, Any]) -> list[str]:
    """URLs and domains behind an item: its setters' responses and scripts, its third-party home."""
    urls: list[str | None] = [item.get("set_by"), item.get("domain")]
    urls += [x.get(k) for x in item.get("set_by_all", []) for k in ("url", "script")]
    if item.get("party") == "third" and "origin" in item:
        urls.append(item["origin"])
    return [u for u in urls if u]


def _declared(source: str) -> bool:
    return source == "policy" or source.endswith("(policy)")


def propagate(
    site: str, cookies: list[dict[str, Any]], storage: list[dict[str, Any]], hosts: list[dict[str, Any]]
) -> None:
    """Spread categories between hosts and what they set, in place (see the module docstring)."""
    graph = _Graph(site, hosts)
    items = [*cookies, *storage]
    setters = [graph.setters(i) for i in items]
    loaders = {h["host"]: {x for u in h.pop("_initiators", ()) if (x := graph.host_for(u))} - {h["host"]}
               for h in hosts}  # fmt: skip
    inferable = [i["category_source"] not in _FIXED for i in items]
    changed = True
    while changed:
        changed = False
        for item, hs in zip(items, setters, strict=True):  # up: a host is what it sets
            for h in hs:
                changed |= _raise(graph.hosts[h], item["category"], "inferred:cookies")
        for h, by in loaders.items():  # up: a host is at least what it loads
            for loader in by:
                changed |= _raise(graph.hosts[loader], graph.hosts[h]["category"], "inferred:loads")
        for item, hs, free in zip(items, setters, inferable, strict=True):  # down: items inherit
            if free:
                for h in hs:
                    host = graph.hosts[h]
                    source = f"host:{h}" + (" (policy)" if _declared(host["category_source"]) else "")
                    changed |= _raise(item, host["category"], source, inherit=True)
        for h, by in loaders.items():  # down: an unknown host is what loaded it
            if graph.hosts[h]["category_source"] in ("none", "inferred:loaded-by"):
                for loader in by:
                    changed |= _raise(graph.hosts[h], graph.hosts[loader]["category"], "inferred:loaded-by",
                                      inherit=True)  # fmt: skip


def _raise(target: dict[str, Any], category: str, source: str, *, inherit: bool = False) -> bool:
    """Give ``target`` ``category`` if that needs consent more than what it has; declared stays."""
    if category == Category.UNKNOWN or (_declared(target["category_source"]) and not inherit):
        return False
    if _rank(category) <= _rank(target["category"]):
        return False
    target["category"] = category
    target["category_source"] = source
    if "vendor" in target and source.startswith("inferred"):
        target["description"] = "Category inferred from what this host sets or loads."
    return True


def verdict(item: dict[str, Any], writers: Iterable[str]) -> tuple[str, str]:
    """``(verdict, why)`` for one cookie, storage key or host (``writers``: third parties behind it)."""
    category, source = item["category"], str(item["category_source"])
    third = sorted(writers)
    if category == Category.UNKNOWN:
        return UNCLASSIFIED, "category unknown: not in the cookie database, the tracker list or the policy"
    exempt = Category(category) in EXEMPT
    if _declared(source):
        return (EXEMPT_VERDICT if exempt else NEEDS_CONSENT), f"the policy declares it {category}"
    if source == "consentgate":
        return EXEMPT_VERDICT, "consentgate's own record of the visitor's choice"
    if "host" in item:  # a third-party host: only its category can exempt it
        return (EXEMPT_VERDICT if exempt else NEEDS_CONSENT), f"{category} ({source})"
    if third:
        return NEEDS_CONSENT, (
            f"{category}, but set by a third party ({', '.join(third)}); "
            "only the policy can declare it necessary"
        )
    if exempt or category == Category.FUNCTIONAL:
        return EXEMPT_VERDICT, f"{category}, first-party and set by the site itself"
    return NEEDS_CONSENT, f"{category} ({source})"


def judge(
    site: str, cookies: list[dict[str, Any]], storage: list[dict[str, Any]], hosts: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Set ``verdict``/``verdict_reason`` on every item and return the violations, unclassified first."""
    out = []
    items = [("cookie", c["name"], c["domain"], c) for c in cookies]
    items += [("storage", s["key"], s["origin"], s) for s in storage]
    items += [("request", None, h["host"], h) for h in hosts]
    for kind, name, host, item in items:
        evidence = item.pop("_evidence")
        writers = set() if kind == "request" else _third_writers(site, item)
        item["verdict"], item["verdict_reason"] = verdict(item, writers)
        if item["verdict"] == EXEMPT_VERDICT:
            continue
        for phase in CONSENT_PHASES:
            e = evidence.get(phase)
            if e is not None:
                out.append(
                    {
                        "type": item["verdict"],
                        "kind": kind,
                        "name": name,
                        "host": host,
                        "category": item["category"],
                        "category_source": item["category_source"],
                        "phase": phase,
                        "page": e["page"],
                        "cause": e["cause"],
                        "url": e["url"],
                        "reason": item["verdict_reason"],
                    }
                )
    out.sort(key=lambda v: v["type"] != UNCLASSIFIED)  # stable: unclassified first, order kept
    return out


def _third_writers(site: str, item: dict[str, Any]) -> set[str]:
    """Third parties that wrote the item: its domain or origin, a response or a script of theirs."""
    hosts = {host_of(u) if "://" in u else u.lower().lstrip(".") for u in _writers(item)}
    return {h for h in hosts if h and party(h, site) == "third"}


def overall(
    violations: list[dict[str, Any]], phases: dict[str, dict[str, Any]], pages: int
) -> dict[str, Any]:
    """The scan's one-line verdict: ``violations``, ``incomplete`` (no clean verdict possible) or ``clean``.

    A phase whose banner was not found or not pressed saw the site without a choice: its pages prove
    nothing about "after reject" or "after accept", so a scan without violations is then incomplete,
    never clean.
    """
    warnings = []
    for name, info in phases.items():
        banner = info.get("banner") or {}
        if info.get("action") and not banner.get("pressed"):
            what = "found but could not be pressed" if banner.get("found") else "not found"
            warnings.append(f"{name}: the {info['action']} button was {what}; the phase saw no choice")
    unclassified = sum(v["type"] == UNCLASSIFIED for v in violations)
    if violations:
        status = "violations"
        line = (
            f"FAIL: {len(violations)} violation(s) before consent or after reject"
            f" ({unclassified} unclassified) on {pages} page(s)"
        )
    elif warnings:
        status, line = "incomplete", f"INCOMPLETE: no violations seen, but {'; '.join(warnings)}"
    else:
        status = "clean"
        line = f"PASS: only exempt items before consent and after reject on {pages} page(s)"
    if warnings and violations:
        line += "; also " + "; ".join(warnings)
    return {"status": status, "line": line, "warnings": warnings, "unclassified": unclassified}
