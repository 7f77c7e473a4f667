"""What is running on the sites: per site, what its latest scan found (docs/reports.md).

The sites are the policy's scheduled start URLs (``web.scan``), each with its newest scan in the
scan history folder, plus any scan files named explicitly (``consentgate scan --out scan.json``).
A start URL that was never scanned is listed with ``scanned_at: None`` and no counts — never zeros,
which would read as "nothing found". A file that is missing or not a scan is listed with its problem.

Counts come from the items in the document (not from its ``summary``), so a hand-edited or older
summary cannot disagree with the lists an auditor sees beside it: ``cookies``, ``storage``,
``hosts`` (third-party), ``violations`` (items seen before consent or after reject), ``unclassified``
(violations whose category no rule or database knows) and ``uncategorised`` (items of category
``unknown``, whether or not they broke a rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from consentgate.errors import BadInput
from consentgate.policy import Policy
from consentgate.scan.history import ScanHistory
from consentgate.scan.verdict import UNCLASSIFIED

NEVER_SCANNED = "never scanned"


def inventory(
    policy: Policy, *, history_dir: Path | None = None, scan_files: Sequence[Path] = ()
) -> dict[str, Any]:
    """One row per site with its latest scan's counts, and the scans' items for the audit pack."""
    sites: list[dict[str, Any]] = []
    schedule = policy.web.scan
    if schedule is not None:
        history = ScanHistory(history_dir) if history_dir is not None else None
        for url in schedule.start_urls:
            latest = history.latest(url) if history is not None else None
            if latest is None:
                why = "" if history is not None else " (no scan history folder is configured)"
                sites.append(_unscanned(url, "history", NEVER_SCANNED + why))
            else:
                sites.append(_read(latest, url, "history"))
    sites += [_read(path, None, "file") for path in scan_files]
    return {
        "sites": [s["row"] for s in sites],
        "details": [s["details"] for s in sites if s["details"] is not None],
        "scheduled": schedule is not None,
    }


def read_scan(path: Path, origin: str = "file") -> tuple[dict[str, Any], dict[str, Any] | None]:
    """One scan file's inventory row and its items (None when the file is missing or not a scan,
    with the problem in the row): what a page about that one scan shows, counted as here."""
    found = _read(path, None, origin)
    return found["row"], found["details"]


def _unscanned(url: str | None, origin: str, problem: str, scan: str | None = None) -> dict[str, Any]:
    row = {
        "start_url": url,
        "site": None,
        "origin": origin,
        "scan": scan,
        "scanned_at": None,
        "verdict": None,
        "pages": None,
        "cookies": None,
        "storage": None,
        "hosts": None,
        "violations": None,
        "unclassified": None,
        "uncategorised": None,
        "problem": problem,
    }
    return {"row": row, "details": None}


def _read(path: Path, url: str | None, origin: str) -> dict[str, Any]:
    try:
        doc = ScanHistory.load(path)
    except FileNotFoundError:
        return _unscanned(url, origin, f"the scan file {path} does not exist", str(path))
    except (ValueError, BadInput) as exc:  # not JSON, or JSON that is not a scan
        return _unscanned(url, origin, f"{path} is not a consentgate scan: {exc}", str(path))
    cookies, storage, hosts = doc.get("cookies", []), doc.get("storage", []), doc.get("hosts", [])
    violations = doc.get("violations", [])
    verdict = doc.get("verdict")
    row = {
        "start_url": doc.get("start_url", url),
        "site": doc.get("site"),
        "origin": origin,
        "scan": path.name if origin == "history" else str(path),
        "scanned_at": doc.get("finished_at") or doc.get("started_at"),
        "verdict": verdict.get("status") if isinstance(verdict, dict) else None,
        "pages": len(doc.get("pages", [])),
        "cookies": len(cookies),
        "storage": len(storage),
        "hosts": len(hosts),
        "violations": len(violations),
        "unclassified": sum(v.get("type") == UNCLASSIFIED for v in violations),
        "uncategorised": sum(i.get("category") == "unknown" for i in (*cookies, *storage, *hosts)),
        "problem": None,
    }
    details = {
        "start_url": row["start_url"],
        "cookies": [_pick(c, "name", "domain", "party", "category", "phases") for c in cookies],
        "storage": [_pick(i, "key", "kind", "origin", "category", "phases") for i in storage],
        "hosts": [_pick(h, "host", "category", "vendor", "phases") for h in hosts],
        "violations": [
            _pick(v, "type", "kind", "name", "host", "category", "phase", "page") for v in violations
        ],
    }
    return {"row": row, "details": details}


def _pick(item: dict[str, Any], *keys: str) -> dict[str, Any]:
    out = {k: item.get(k) for k in keys}
    phases = out.get("phases")
    if isinstance(phases, list):
        out["phases"] = " ".join(str(p) for p in phases)
    return out
