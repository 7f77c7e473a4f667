"""Section 2.3 of the summary: crawled and scraped data — crawlers, period, content, domains, and the
publisher rights reservations found on the crawled origins (from :mod:`consentgate.reports.rights`,
kept apart from personal consent)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from consentgate.reports import rights
from consentgate.reports.aiact.common import ANSWER, Fields, declared_by_all, modalities, names_of, unique
from consentgate.reports.aiact.facts import ModelFacts
from consentgate.reports.aiact.fields import PROVENANCES, Field, derived, not_applicable, to_be_completed

if TYPE_CHECKING:
    from consentgate.policy import Source
    from consentgate.store.engine import Engine


def crawled(
    facts: ModelFacts, out: Fields, engine: Engine | None, members: list[Source], used: Field
) -> None:
    """2.3 for the crawled ``members`` of the sources that fed the model; ``used`` is whether any did."""
    p = "sources.crawled."
    out[p + "used"] = used
    keys = ("crawlers", "purposes", "behaviour", "period", "content", "top_domains", "reservations_checked")
    if used.value is False:
        out.update({p + k: not_applicable(p + "used", "crawled data") for k in keys})
        return
    if used.open:
        out.update({p + k: to_be_completed(f"{p}{k} {ANSWER}, once {p}used is known") for k in keys})
        out["processing.tdm_opt_outs.reservations_honoured"] = to_be_completed(
            f"processing.tdm_opt_outs.reservations_honoured {ANSWER}, once {p}used is known"
        )
        return
    ids = names_of(members)
    crawls = [s.crawl for s in members]
    if members and all(c is not None and (c.name or c.agents) for c in crawls):
        known = [c for c in crawls if c is not None]
        where = f"crawl of policy sources {ids}"
        out[p + "crawlers"] = derived(
            unique({"name": c.name or c.agents[0], "user_agents": list(c.agents)} for c in known), where
        )
        out[p + "purposes"] = _all_or_open([c.purpose for c in known], where, p + "purposes")
        out[p + "behaviour"] = _all_or_open([c.behaviour for c in known], where, p + "behaviour")
    else:
        for k in ("crawlers", "purposes", "behaviour"):
            out[p + k] = to_be_completed(
                f"crawl (name or agents) on every crawled policy source ({ids}), or {p}{k} {ANSWER}"
            )
    out[p + "period"] = _period(members, p + "period")
    content = declared_by_all(facts, members, "content_types")
    modal = modalities(facts, members) if members else to_be_completed("modality on the crawled sources")
    out[p + "content"] = (
        derived({"content_types": content.value, "modalities": modal.value}, content.source)
        if not (content.open or modal.open)
        else to_be_completed(
            f"content_types and modality on the crawled policy sources ({ids}), or {p}content {ANSWER}"
        )
    )
    if members and all(s.crawl is not None and s.crawl.origins for s in members):
        out[p + "top_domains"] = derived(
            unique(_host(o) for s in members if s.crawl is not None for o in s.crawl.origins),
            f"crawl.origins of policy sources {ids}, as listed",
        )
    else:
        out[p + "top_domains"] = to_be_completed(
            f"crawl.origins on the crawled policy sources ({ids}), or {p}top_domains {ANSWER}"
        )
    found = rights.rights_fields(engine, _origins(members))
    out[p + "reservations_checked"] = _field(found["reservations_checked"])
    out["processing.tdm_opt_outs.reservations_honoured"] = _field(found["reservations_honoured"])


def _period(members: list[Source], path: str) -> Field:
    periods = [s.collected for s in members]
    if not members or any(c is None for c in periods):
        return to_be_completed(
            f"collected on every crawled policy source ({names_of(members)}), or {path} {ANSWER}"
        )
    first = min(c.from_ for c in periods if c is not None)
    ends: list[date | None] = [c.to for c in periods if c is not None]
    last = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    value = {"from": first.isoformat(), "to": last.isoformat() if last else "ongoing"}
    return derived(value, f"collected of policy sources {names_of(members)}")


def _all_or_open(values: list[str | None], where: str, path: str) -> Field:
    if all(values):
        return derived(unique(v for v in values if v), where)
    return to_be_completed(f"{path.rsplit('.', 1)[-1]} of every crawler ({where}), or {path} {ANSWER}")


def _origins(members: list[Source]) -> list[str]:
    found = {o for s in members if s.crawl is not None for o in s.crawl.origins}
    for s in members:
        if s.url:
            parts = urlsplit(s.url)
            found.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(found)


def _host(origin: str) -> str:
    return urlsplit(origin).netloc


def _field(raw: dict[str, Any]) -> Field:
    """A field object another module built (reports/rights.py), checked for shape."""
    provenance = raw.get("provenance")
    if provenance not in PROVENANCES or not isinstance(raw.get("from"), str):
        raise ValueError(f"not a field object: {raw!r}")
    return Field(raw.get("value"), provenance, raw["from"])
