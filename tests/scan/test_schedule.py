"""Scheduled scans: when they run, what they keep, what they report (log, signed webhook), what the
declaration serves — with scan functions injected, and once for real in Chromium against the test shop."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from consentgate.errors import PolicyError
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy, load_policy, parse_policy_text
from consentgate.policy.models import ScanSchedule
from consentgate.scan import ScanOptions
from consentgate.scan.history import ScanHistory
from consentgate.scan.schedule import ScanScheduler, chromium_scan
from consentgate.scan.webhook import SIGNATURE_HEADER, sign, verify
from consentgate.server import create_app
from consentgate.service import ConsentService
from consentgate.settings import Settings

from .conftest import require_chromium
from .docs import cookie, document, host, violation

URL = "https://www.example.com/"
SECRET = "s3cret-for-tests-" + "x" * 20
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Receiver:
    """A loopback webhook receiver that keeps every delivery."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def payloads(self) -> list[dict[str, Any]]:
        out = []
        for headers, body in self.got:
            assert verify(SECRET, body, headers[SIGNATURE_HEADER.lower()])
            out.append(json.loads(body))
        return out


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.httpd.shutdown()
    r.httpd.server_close()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _schedule(receiver: Receiver | None = None, *urls: str) -> ScanSchedule:
    hook = {"url": receiver.url, "secret_env": "HOOK_SECRET"} if receiver else None
    return ScanSchedule.model_validate({"start_urls": list(urls or [URL]), "webhook": hook})


FIRST = document(
    cookies=[cookie("_ga", "analytics", ["no_consent"]), cookie("sid", "necessary")],
    hosts=[host("ads.example.net", "marketing")],
    violations=[violation("cookie", "_ga", "www.example.com")],
)
SECOND = document(
    cookies=[
        cookie("_ga", "analytics", ["no_consent"]),
        cookie("sid", "necessary"),
        cookie("zz_new", "unknown"),
    ],
    hosts=[host("ads.example.net", "marketing")],
    violations=[violation("cookie", "_ga", "www.example.com"), violation("request", None, "ads.example.net")],
)


def test_due_time_comes_from_the_history_and_failures_wait_for_retry(tmp_path: Path) -> None:
    clock = Clock(T0)
    docs = iter([FIRST])

    def scan(url: str) -> dict[str, Any]:
        try:
            return next(docs)
        except StopIteration:
            raise RuntimeError("site down") from None

    history = ScanHistory(tmp_path)
    s = ScanScheduler(_schedule(), history, scan, clock=clock, retry=timedelta(hours=2), env={})
    assert s.due_at(URL) <= T0  # never scanned: overdue
    assert s.run_once(URL) is not None
    assert s.due_at(URL) == T0 + timedelta(days=30)  # the policy's default interval
    # A restarted service (a new scheduler) reads the same due time from the files.
    again = ScanScheduler(_schedule(), history, scan, clock=clock, env={})
    assert again.due_at(URL) == T0 + timedelta(days=30)
    assert again.run_due() == []  # not due yet
    clock.now = T0 + timedelta(days=31)
    assert s.run_due() == []  # due, but the scan fails ...
    assert s.due_at(URL) == clock.now + timedelta(hours=2)  # ... so it waits for the retry delay
    assert len(history.scans(URL)) == 1


def test_new_findings_are_logged_and_posted_signed_once(
    tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(T0)
    docs = iter([FIRST, FIRST, SECOND])
    s = ScanScheduler(
        _schedule(receiver),
        ScanHistory(tmp_path),
        lambda url: next(docs),
        clock=clock,
        env={"HOOK_SECRET": SECRET},
    )
    with caplog.at_level(logging.INFO, logger="consentgate.scan.schedule"):
        first = s.run_once(URL)
        clock.now += timedelta(seconds=1)
        same = s.run_once(URL)
        clock.now += timedelta(seconds=1)
        second = s.run_once(URL)
    assert first is not None
    assert same is not None
    assert second is not None
    assert len(first.violations_added) == 1  # the first scan: all it found is new
    assert not same.news
    assert [v["host"] for v in second.violations_added] == ["ads.example.net"]
    assert [t["name"] for t in second.uncategorised_trackers] == ["zz_new"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "1 new violation(s), 1 new uncategorised tracker(s)" in warnings[1]
    payloads = receiver.payloads()  # every body verifies against its signature
    assert [p["event"] for p in payloads] == ["scan.findings", "scan.findings"]
    assert payloads[1]["site"] == URL
    assert payloads[1]["previous_scan"] == same.path.name
    assert [v["host"] for v in payloads[1]["violations_added"]] == ["ads.example.net"]
    assert len(ScanHistory(tmp_path).scans(URL)) == 3


def test_signature_is_hmac_sha256_of_the_body() -> None:
    import hashlib
    import hmac

    body = b'{"event": "scan.findings"}'
    assert sign(SECRET, body) == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert not verify(SECRET, body + b" ", sign(SECRET, body))


def test_failures_and_a_missing_secret_are_reported_never_sent_unsigned(
    tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    def down(url: str) -> dict[str, Any]:
        raise ConnectionError("www.example.com refused the connection")

    s = ScanScheduler(_schedule(receiver), ScanHistory(tmp_path), down, env={"HOOK_SECRET": SECRET})
    with caplog.at_level(logging.ERROR, logger="consentgate.scan.schedule"):
        assert s.run_once(URL) is None
    assert "scheduled scan of https://www.example.com/ failed: ConnectionError" in caplog.text
    assert [p["event"] for p in receiver.payloads()] == ["scan.failed"]

    caplog.clear()
    unsigned = ScanScheduler(_schedule(receiver), ScanHistory(tmp_path), lambda u: FIRST, env={})
    with caplog.at_level(logging.ERROR, logger="consentgate.scan.schedule"):
        outcome = unsigned.run_once(URL)
    assert outcome is not None
    assert outcome.news
    assert "HOOK_SECRET" in caplog.text
    assert len(receiver.got) == 1  # still only the failure notice


def test_the_thread_rescans_at_the_interval_and_one_process_holds_the_lock(tmp_path: Path) -> None:
    scans: list[str] = []

    def scan(url: str) -> dict[str, Any]:
        scans.append(url)
        return FIRST

    history = ScanHistory(tmp_path)
    s = ScanScheduler(
        _schedule(None, URL, "https://shop.example.com/"), history, scan, interval=timedelta(seconds=0.2)
    )
    assert s.start()
    other = ScanScheduler(_schedule(), history, scan)
    assert not other.start()  # a second worker on the same history scans nothing
    deadline = time.monotonic() + 30
    while len(history.scans(URL)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    s.stop(timeout=10)
    assert len(history.scans(URL)) >= 3
    assert len(history.scans("https://shop.example.com/")) >= 2
    assert s._thread is not None
    assert not s._thread.is_alive()
    assert other.start()  # the lock is free again
    other.stop()


def test_policy_web_scan_is_declared_and_checked() -> None:
    base = (
        "organization: {name: Example Ltd}\n"
        "purposes: [{id: site, title: Run the site, kind: necessary, basis: {'*': contract}}]\n"
    )
    policy = parse_policy_text(base + "web: {scan: {start_urls: ['https://www.example.com/']}}\n")
    assert policy.web.scan is not None
    assert policy.web.scan.interval_days == 30
    with pytest.raises(PolicyError, match="start_urls"):
        parse_policy_text(base + "web: {scan: {start_urls: ['javascript:alert(1)']}}\n")
    with pytest.raises(PolicyError, match="start_urls"):
        parse_policy_text(base + "web: {scan: {start_urls: []}}\n")
    with pytest.raises(PolicyError, match="interval_days"):
        parse_policy_text(
            base + "web: {scan: {start_urls: ['https://www.example.com/'], interval_days: 0}}\n"
        )


# -- /v1/declaration follows the history --------------------------------------------------------------


def _get(settings: Settings, policy: Policy, url: str) -> httpx.Response:
    async def go() -> httpx.Response:
        with Ledger.open(settings.db) as ledger:
            app = create_app(settings, service=ConsentService(policy, ledger))
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                return await c.get(url)

    return asyncio.run(go())


def _policy_with_scan(example_policy: Policy, **scan: Any) -> Policy:
    data: dict[str, Any] = example_policy.model_dump(mode="json")
    data["web"]["scan"] = {"start_urls": [URL], **scan}
    return Policy.model_validate(data)


def test_declaration_serves_the_newest_scheduled_scan(tmp_path: Path, example_policy: Policy) -> None:
    policy = _policy_with_scan(example_policy)
    old_file = tmp_path / "scan.json"
    old_file.write_text(json.dumps(document(cookies=[cookie("from_scan_file", "necessary")])))
    settings = Settings(db=str(tmp_path / "l.db"), scan_history_dir=tmp_path / "h", scan_file=old_file)
    # No scheduled scan yet: the scan_file still answers.
    assert "from_scan_file" in _get(settings, policy, "/v1/declaration?format=md").text
    history = ScanHistory(tmp_path / "h")
    history.save(URL, document(cookies=[cookie("first_scan", "necessary")]), T0)
    history.save(URL, document(cookies=[cookie("second_scan", "necessary")]), T0 + timedelta(days=30))
    text = _get(settings, policy, "/v1/declaration?format=md").text
    assert "second_scan" in text
    assert "first_scan" not in text
    no_file = Settings(db=str(tmp_path / "l.db"), scan_history_dir=tmp_path / "empty")
    r = _get(no_file, policy, "/v1/declaration")
    assert r.status_code == 404
    assert "no scheduled scan has finished yet" in r.text


# -- for real -----------------------------------------------------------------------------------------


def test_a_scheduled_scan_of_the_shop_in_chromium(
    site: dict[str, str], scan_policy: Path, tmp_path: Path, receiver: Receiver
) -> None:
    require_chromium()
    policy = load_policy(scan_policy)
    schedule = _schedule(receiver, "http://shop.test/")
    run = chromium_scan(policy, 3, ScanOptions(resolve=site, use_sitemap=False, settle_ms=200))
    history = ScanHistory(tmp_path)
    s = ScanScheduler(schedule, history, run, env={"HOOK_SECRET": SECRET})
    assert s.start()  # the scan runs in the scheduler's thread, not in this one
    deadline = time.monotonic() + 120
    while not receiver.got and time.monotonic() < deadline:
        time.sleep(0.1)
    s.stop(timeout=60)
    (kept,) = history.scans("http://shop.test/")
    doc = history.load(kept)
    assert doc["site"] == "shop.test"
    (payload,) = receiver.payloads()
    # The shop's ungated ad pixel is a violation before consent; the first scan reports it as new.
    hosts = {v.get("host") for v in payload["violations_added"]}
    assert "ads.test" in hosts
    # Uncategorised hosts carry "host", cookies "name": the unknown first-party cookie is among them.
    assert "mystery_id" in {t.get("name") for t in payload["uncategorised_trackers"]}
