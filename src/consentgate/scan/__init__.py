"""The website scanner: what a site really sets before consent, after "reject all" and after "accept all".

::

    scan_site(url, options)          crawl in real Chromium (crawler.py, observe.py, consent.py)
        → scan document (dict)       merged, categorised (results.py, knowledge.py), with
                                     conservative verdicts and the one-line verdict (verdict.py)
    render_html(doc)                 the human-readable report (report.py)
    declaration_html / _markdown     the cookie declaration, per language (declaration.py)
    diff_scans(old, new)             what changed between two scans; gates CI (diff.py)
    suggest_policy(doc)              web.trackers / web.cookies for what was found (suggest.py)

The browser part needs Playwright (``pip install 'consentgate[scan]'``) and a Chromium; everything
that reads a scan document works without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from consentgate.scan.crawler import PHASES, ScanOptions
from consentgate.scan.declaration import declaration_html, declaration_markdown
from consentgate.scan.diff import ScanDiff, diff_scans
from consentgate.scan.knowledge import Category, KnowledgeBase
from consentgate.scan.report import render_html
from consentgate.scan.results import SCHEMA

if TYPE_CHECKING:
    from consentgate.policy import Policy
    from consentgate.scan.crawler import Progress

__all__ = [
    "PHASES",
    "SCHEMA",
    "Category",
    "KnowledgeBase",
    "ScanDiff",
    "ScanOptions",
    "declaration_html",
    "declaration_markdown",
    "diff_scans",
    "render_html",
    "scan_site",
]


def scan_site(
    url: str,
    options: ScanOptions | None = None,
    *,
    knowledge: KnowledgeBase | None = None,
    policy: Policy | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Scan ``url`` and return the scan document (schema ``consentgate.scan/1``, docs/scanner.md).

    ``knowledge`` defaults to the Open Cookie Database (the copy ``consentgate cookies update``
    fetched, else the bundled one); ``policy`` adds its ``web.cookies`` and ``web.trackers``.
    """
    from consentgate.scan.crawler import crawl
    from consentgate.scan.results import build

    kb = (knowledge or KnowledgeBase.load()).with_policy(policy)
    raw = crawl(url, options or ScanOptions(), progress)
    return build(raw, kb)
