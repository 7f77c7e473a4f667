"""Scheduled scans: the service re-scans the policy's sites (``web.scan``) and says what is new.

One background thread per service: it sleeps until the next start URL is due, scans it (the
Chromium crawl of :func:`consentgate.scan.scan_site`), keeps the scan in the history
(:mod:`consentgate.scan.history`, which ``/v1/declaration`` reads), compares it with the scan before
(:func:`consentgate.scan.diff.diff_scans`) and reports new violations and new uncategorised trackers
as a WARNING log line and, if configured, a signed webhook (:mod:`consentgate.scan.webhook`). A
failed scan is an ERROR line (and a ``scan.failed`` webhook) and is retried after ``retry``.

Why a thread and not a scheduler library: there is one job, and its due time must come from the
history on disk (the last scan may be 29 days old when the service restarts), which an in-memory
job store would forget; an ``Event.wait`` loop is the whole scheduler. Several server processes on
one history share it through a file lock: only the holder scans.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from consentgate.policy.models import Policy, ScanSchedule
from consentgate.scan.diff import diff_scans
from consentgate.scan.history import ScanHistory
from consentgate.scan.results import SCHEMA
from consentgate.scan.webhook import deliver
from consentgate.settings import Settings

log = logging.getLogger("consentgate.scan.schedule")

Clock = Callable[[], datetime]
RunScan = Callable[[str], dict[str, Any]]
LOCK_FILE = ".scheduler.lock"
NEVER = datetime.min.replace(tzinfo=UTC)
EMPTY_SCAN: dict[str, Any] = {"schema": SCHEMA, "cookies": [], "hosts": [], "storage": [], "violations": []}


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ScanOutcome:
    """One scheduled scan: where it was kept and what it found that the scan before did not."""

    url: str
    path: Path
    violations_added: list[dict[str, Any]]
    uncategorised_trackers: list[dict[str, Any]]

    @property
    def news(self) -> bool:
        return bool(self.violations_added or self.uncategorised_trackers)


def chromium_scan(policy: Policy, max_pages: int, options: Any = None) -> RunScan:
    """The real scan (Playwright and Chromium; ``options`` a :class:`consentgate.scan.ScanOptions`)."""

    def run(url: str) -> dict[str, Any]:
        from consentgate.scan import ScanOptions, scan_site

        return scan_site(url, replace(options or ScanOptions(), max_pages=max_pages), policy=policy)

    return run


class ScanScheduler:
    def __init__(
        self,
        schedule: ScanSchedule,
        history: ScanHistory,
        run_scan: RunScan,
        *,
        clock: Clock = utcnow,
        interval: timedelta | None = None,
        retry: timedelta = timedelta(hours=1),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.schedule = schedule
        self.history = history
        self.run_scan = run_scan
        self.clock = clock
        self.interval = interval or timedelta(days=schedule.interval_days)
        self.retry = retry
        self.env = os.environ if env is None else env
        self._failed_at: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock: IO[bytes] | None = None

    # -- when ---------------------------------------------------------------------------------------
    def due_at(self, url: str) -> datetime:
        """The last scan plus the interval; a failed attempt pushes it to the failure plus ``retry``;
        never scanned: overdue (the earliest time there is)."""
        last = self.history.last_scanned(url)
        due = NEVER if last is None else last + self.interval
        failed = self._failed_at.get(url)
        if failed is not None and (last is None or failed > last):
            due = max(due, failed + self.retry)
        return due

    def next_due(self) -> datetime:
        return min(self.due_at(u) for u in self.schedule.start_urls)

    # -- what ---------------------------------------------------------------------------------------
    def run_due(self) -> list[ScanOutcome]:
        now = self.clock()
        done = []
        for url in self.schedule.start_urls:
            if self._stop.is_set():
                break
            if self.due_at(url) <= now:
                outcome = self.run_once(url)
                if outcome is not None:
                    done.append(outcome)
        return done

    def run_once(self, url: str) -> ScanOutcome | None:
        """Scan ``url`` now, keep it, report what is new; None (and an ERROR line) if the scan failed."""
        started = self.clock()
        before = self.history.latest(url)
        try:
            doc = self.run_scan(url)
        except Exception as exc:  # a crashed browser, a site that is down: report, retry later
            self._failed_at[url] = self.clock()
            log.error("scheduled scan of %s failed: %s: %s", url, type(exc).__name__, exc)
            self._notify({"event": "scan.failed", "site": url, "error": f"{type(exc).__name__}: {exc}"})
            return None
        self._failed_at.pop(url, None)
        path = self.history.save(url, doc, started)
        diff = diff_scans(self.history.load(before) if before else EMPTY_SCAN, doc)
        outcome = ScanOutcome(url, path, diff.violations_added, diff.uncategorised_trackers)
        if outcome.news:
            log.warning(
                "scheduled scan of %s: %d new violation(s), %d new uncategorised tracker(s); see %s",
                url, len(outcome.violations_added), len(outcome.uncategorised_trackers), path,
            )  # fmt: skip
            self._notify(
                {
                    "event": "scan.findings",
                    "site": url,
                    "scan": path.name,
                    "previous_scan": before.name if before else None,
                    "summary": doc.get("summary"),
                    "violations_added": outcome.violations_added,
                    "uncategorised_trackers": outcome.uncategorised_trackers,
                }
            )
        else:
            log.info("scheduled scan of %s: nothing new; kept as %s", url, path)
        return outcome

    def _notify(self, payload: dict[str, Any]) -> None:
        if self.schedule.webhook is not None:
            deliver(self.schedule.webhook, payload, self.env)

    # -- the thread ---------------------------------------------------------------------------------
    def start(self) -> bool:
        """Run in the background; False when another process on this history already does."""
        self.history.root.mkdir(parents=True, exist_ok=True)
        lock = (self.history.root / LOCK_FILE).open("ab")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            log.info("scheduled scans: another process on %s runs them", self.history.root)
            return False
        self._lock = lock
        self._thread = threading.Thread(target=self._loop, name="consentgate-scans", daemon=True)
        self._thread.start()
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            wait = max(0.0, (self.next_due() - self.clock()).total_seconds())
            if self._stop.wait(wait):
                return
            try:
                self.run_due()
            except Exception:  # the history unwritable, say: say so, keep the service up
                log.exception("scheduled scans: a run failed")
                self._stop.wait(self.retry.total_seconds())

    def stop(self, timeout: float | None = None) -> None:
        """Stop the thread (a scan under way finishes first, up to ``timeout``) and free the lock."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def start_scheduled_scans(settings: Settings, policy: Policy) -> ScanScheduler | None:
    """The service's scheduler when the policy asks for scans and there is a history folder."""
    schedule = policy.web.scan
    if schedule is None:
        return None
    if settings.scan_history_dir is None:
        log.warning(
            "the policy's web.scan is set but scan_history_dir (CONSENTGATE_SCAN_HISTORY_DIR) is not: "
            "no scheduled scans run"
        )
        return None
    history = ScanHistory(settings.scan_history_dir)
    scheduler = ScanScheduler(schedule, history, chromium_scan(policy, schedule.max_pages))
    return scheduler if scheduler.start() else None


def declaration_scan(settings: Settings, policy: Policy) -> Path | None:
    """The scan ``/v1/declaration`` serves: the newest scheduled scan of the first start URL, else
    the ``scan_file`` setting."""
    if settings.scan_history_dir is not None and policy.web.scan is not None:
        latest = ScanHistory(settings.scan_history_dir).latest(policy.web.scan.start_urls[0])
        if latest is not None:
            return latest
    return settings.scan_file
