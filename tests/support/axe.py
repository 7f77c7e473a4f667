"""axe-core in a real page: the accessibility rules people rely on, run in Chromium (issue 17 item 5).

The vendored ``axe/axe.min.js`` (see its README) is evaluated through the DevTools protocol, which the
page's Content-Security-Policy does not govern, so the page is checked exactly as it ships.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).with_name("axe") / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"  # axe-core 4.14.1

RUN = """async (include) => {
  const result = await axe.run(include ? {include: [include]} : document, {resultTypes: ['violations']});
  return result.violations.map((v) => ({
    rule: v.id, impact: v.impact, help: v.help,
    where: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': ' + n.failureSummary),
  }));
}"""


@cache
def _source() -> str:
    source = AXE.read_text(encoding="utf-8")
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert digest == AXE_SHA256, f"{AXE} changed (sha256 {digest}); update it as its README says"
    return source


def violations(page: Page, include: str | None = None) -> list[dict[str, Any]]:
    """Every axe-core violation in the page, or inside the element ``include`` selects."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_source())
    found: list[dict[str, Any]] = page.evaluate(RUN, include)
    return found
