"""Rights reservations of crawled origins, as fields of the AI Act training-content summary.

The Commission's template asks, for crawled data (2.3), how the crawlers behaved towards robots.txt
and other opt-outs, and (3.1) which measures honoured text-and-data-mining reservations. This module
answers from the checks ``consentgate signals check`` stored (:mod:`consentgate.store.reservations`)
and nothing else: an origin never checked, or a mechanism that could not be read, stays
``to_be_completed`` with the sentence that says what would fill it — never "not reserved".

Every field is ``{"value": …, "provenance": "derived" | "to_be_completed", "from": "<in words>"}``;
the two keys hold one such field per origin in their ``value``. A key is ``derived`` only when every
origin's entry is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from consentgate.scan.reservations import Verdict, combine, origin_of
from consentgate.store.reservations import MECHANISMS, ReservationStore, StoredCheck

if TYPE_CHECKING:
    from consentgate.store.engine import Engine

DERIVED = "derived"
TO_BE_COMPLETED = "to_be_completed"
_NAMES = {"robots": "robots.txt", "tdmrep": "TDMRep", "noai": "noai directives"}
_CHECK = "run `consentgate signals check {origin}/` to fill it"


def rights_fields(engine: Engine | None, origins: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``reservations_checked`` (per origin: what each mechanism reserved, and when it was last
    checked) and ``reservations_honoured`` (per origin: what honouring those reservations requires of
    a crawler, as far as the checks show)."""
    wanted = list(dict.fromkeys(origin_of(o) for o in origins))
    if not wanted:
        why = "no crawled origin is known: declare sources[].crawl.origins in the policy to fill it"
        return {
            "reservations_checked": _field({}, TO_BE_COMPLETED, why),
            "reservations_honoured": _field({}, TO_BE_COMPLETED, why),
        }
    latest = ReservationStore(engine).latest(wanted) if engine is not None else {}
    checked = {o: _checked(o, latest.get(o, []), engine is not None) for o in wanted}
    honoured = {o: _honoured(o, latest.get(o, [])) for o in wanted}
    return {
        "reservations_checked": _overall(
            checked,
            "the rights-reservation checks stored by `consentgate signals check` (robots.txt for AI "
            "crawlers, the TDM Reservation Protocol, noai directives)",
        ),
        "reservations_honoured": _overall(
            honoured,
            "what the stored checks require of a crawler that honours them; whether the crawl itself "
            "left the reserved pages out is not recorded by consentgate (the crawler's log of the pages "
            "it fetched after each check would show it)",
        ),
    }


def _field(value: Any, provenance: str, source: str) -> dict[str, Any]:
    return {"value": value, "provenance": provenance, "from": source}


def _overall(per_origin: dict[str, dict[str, Any]], source: str) -> dict[str, Any]:
    done = sum(1 for f in per_origin.values() if f["provenance"] == DERIVED)
    if done == len(per_origin):
        return _field(per_origin, DERIVED, source)
    return _field(
        per_origin,
        TO_BE_COMPLETED,
        f"{source}; {len(per_origin) - done} of {len(per_origin)} origins are to be completed (see each)",
    )


def _checked(origin: str, checks: list[StoredCheck], have_db: bool) -> dict[str, Any]:
    if not checks:
        where = "never checked" if have_db else "no ledger database was given to read the checks from"
        return _field(None, TO_BE_COMPLETED, f"{where}: {_CHECK.format(origin=origin)}")
    last = max(c.checked_at for c in checks)
    value: dict[str, Any] = {"last_checked": last, "urls": [c.url for c in checks]}
    unread: list[str] = []
    for m in MECHANISMS:
        verdict = _combine(c.verdicts[m] for c in checks)
        entry: dict[str, Any] = {"reserved": verdict, "evidence": _evidence(checks, m, verdict)}
        if m == "robots":
            entry["agents"] = sorted({a for c in checks for a in _reserved_agents(c)})
        if m == "tdmrep":
            entry["policies"] = sorted({p for c in checks for p in _policies(c)})
        value[_NAMES[m]] = entry
        if verdict == "unknown":
            unread.append(_NAMES[m])
    source = f"consentgate signals check of {len(checks)} URL(s), last on {last}"
    if unread:
        return _field(
            value,
            TO_BE_COMPLETED,
            f"{source}; {', '.join(unread)} could not be read: {_CHECK.format(origin=origin)} again",
        )
    return _field(value, DERIVED, source)


def _honoured(origin: str, checks: list[StoredCheck]) -> dict[str, Any]:
    if not checks:
        return _field(
            None,
            TO_BE_COMPLETED,
            f"never checked, so what was reserved is not known: {_CHECK.format(origin=origin)}",
        )
    last = max(c.checked_at for c in checks)
    reservations = [text for m in MECHANISMS if (text := _reservation(checks, m)) is not None]
    unread = [_NAMES[m] for m in MECHANISMS if _combine(c.verdicts[m] for c in checks) == "unknown"]
    if reservations:
        value: dict[str, Any] = {"handling": "exclude", "under": reservations, "checked_at": last}
        own = _own_crawlers(checks)
        if own:
            disallowed = sorted({a for c in checks for a in _reserved_agents(c)} & set(own))
            value["own_crawlers"] = {"names": own, "disallowed_by_robots_txt": disallowed}
        return _field(
            value,
            DERIVED,
            f"reservations found by the check on {last}: the reserved pages are to be left out of "
            "training data",
        )
    if unread:
        return _field(
            None,
            TO_BE_COMPLETED,
            f"the check on {last} could not read {', '.join(unread)}: {_CHECK.format(origin=origin)} again",
        )
    value = {"handling": "may be kept", "under": [], "checked_at": last}
    return _field(value, DERIVED, f"no mechanism reserved rights at the check on {last}")


def _combine(verdicts: Iterable[str]) -> str:
    return combine(Verdict(v) for v in verdicts).value


def _findings(check: StoredCheck, mechanism: str) -> list[dict[str, Any]]:
    return [f for f in check.detail.get("findings", []) if f.get("mechanism") == mechanism]


def _evidence(checks: list[StoredCheck], mechanism: str, verdict: str) -> list[str]:
    lines = [
        f"{c.url}: {f['evidence']}"
        for c in checks
        for f in _findings(c, mechanism)
        if f.get("verdict") == verdict
    ]
    return list(dict.fromkeys(lines))


def _reserved_agents(check: StoredCheck) -> list[str]:
    return [f["agent"] for f in _findings(check, "robots") if f.get("verdict") == "yes" and f.get("agent")]


def _own_crawlers(checks: list[StoredCheck]) -> list[str]:
    """The names the checker's own crawler uses, as the checks recorded them (the policy's)."""
    return sorted({a for c in checks for a in c.detail.get("crawlers", [])})


def _policies(check: StoredCheck) -> list[str]:
    return [f["policy"] for f in _findings(check, "tdmrep") if f.get("policy")]


def _reservation(checks: list[StoredCheck], mechanism: str) -> str | None:
    urls = [c.url for c in checks if c.verdicts[mechanism] == "yes"]
    if not urls:
        return None
    scope = "every URL checked" if len(urls) == len(checks) else ", ".join(urls)
    if mechanism == "robots":
        agents = sorted({a for c in checks for a in _reserved_agents(c)})
        own = _own_crawlers(checks)
        mine = [a for a in own if a in agents]
        whose = (
            f"; your crawler {', '.join(mine)} among them"
            if mine
            else f"; not your crawler {', '.join(own)}"
            if own
            else ""
        )
        return f"robots.txt disallows {', '.join(agents)} ({scope}){whose}"
    if mechanism == "tdmrep":
        policies = sorted({p for c in checks for p in _policies(c)})
        terms = f"; licensing terms at {', '.join(policies)}" if policies else ""
        return f"TDMRep tdm-reservation 1 ({scope}){terms}"
    return f"noai / noimageai directives ({scope})"
