"""The audit pack opened in real headless Chromium: it loads nothing but itself, logs no error, runs
no script (a hostile wording's ``<script>`` stays text), and prints; screenshots and a PDF land in
test-artifacts/reports/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser

from consentgate.ledger.signing import Signer
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.reports.audit import AuditOptions, build_audit_pack
from consentgate.reports.periods import Period
from tests.browser import artifacts, new_context

from .test_audit_pack import HOSTILE_WORDING, hostile, populate

AT = datetime(2026, 12, 1, tzinfo=UTC)


def test_the_pack_opens_offline_with_no_request_no_error_and_no_script(
    browser: Browser, tmp_path: Path, example_policy: Policy, ledger_signer: Signer
) -> None:
    policy = hostile(example_policy)
    with Ledger.open(str(tmp_path / "ledger.db"), signer=ledger_signer) as ledger:
        history = populate(ledger, policy, tmp_path)
        options = AuditOptions(
            period=Period(datetime(2026, 6, 1, tzinfo=UTC), AT),
            at=AT,
            signer=ledger_signer,
            history_dir=history,
        )
        pack = tmp_path / "audit.html"
        pack.write_text(build_audit_pack(ledger.engine, policy, options), encoding="utf-8")

    url = pack.as_uri()
    requests: list[str] = []
    problems: list[str] = []
    with new_context(browser, java_script_enabled=True) as context:
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(url)
        page.wait_for_load_state("load")
        assert requests == [url]
        assert problems == []
        assert page.evaluate("typeof window.__x === 'undefined' && typeof window.__y === 'undefined'")
        assert page.locator("script, img, iframe").count() == 0
        assert HOSTILE_WORDING in page.locator("#notices").inner_text()
        for section in ("overview", "ledger", "notices", "rates", "banner", "requests", "scans", "runs"):
            assert page.locator(f"#{section} h2").is_visible()
        assert page.locator("#ledger").inner_text().count("INTACT") == 1
        page.locator("nav a[href='#requests']").click()
        assert page.evaluate("location.hash") == "#requests"
        out = artifacts("reports")
        page.screenshot(path=str(out / "audit-pack.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(out / "audit-pack-phone.png"))
        page.emulate_media(media="print")
        assert page.locator("nav").is_hidden()
        page.pdf(path=str(out / "audit-pack.pdf"))
    assert (out / "audit-pack.pdf").stat().st_size > 1000
