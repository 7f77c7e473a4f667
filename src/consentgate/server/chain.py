"""Is the ledger's hash chain intact? The service checks at start-up and on an interval, and acts on it.

A service that decides from an altered row and acknowledges new writes on top of it lends the altered
history its own credibility. So :class:`ChainMonitor` runs ``Ledger.verify()`` in a worker thread when
the app starts and every ``chain_check_seconds`` after, and holds the answer:

* **intact**: writes go ahead; decisions and evidence carry ``ledger_intact: true``.
* **broken**: every endpoint that appends answers 503 ``ledger_broken`` (the message names the first
  bad event), ``/healthz`` answers 503 with where the chain breaks, decisions and evidence carry
  ``ledger_intact: false``, and an error is logged. Reads still answer: an operator needs them to
  find out what happened. It stays broken until a check passes again (after a restore).
* **unverified** (the first check has not finished; a large ledger takes a while, docs/benchmarks.md):
  writes answer 503 ``ledger_unverified`` with ``Retry-After``, never a receipt on a chain nobody has
  checked; ``/healthz`` answers 503 ``verifying``; decisions carry ``ledger_intact: null`` — unknown,
  not true. Start-up itself is not blocked, so the process answers health checks at once.

When nothing started the background check (the app used in-process, without its lifespan), the first
request that needs the answer runs the check itself and waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from fastapi.concurrency import run_in_threadpool

from consentgate.ledger.verify import VerifyReport
from consentgate.server.errors import RequestProblems

log = logging.getLogger("consentgate.server")

State = Literal["unverified", "intact", "broken"]
UNVERIFIED_RETRY_SECONDS = 2
FIRST_CHECK_WAIT = 1.0
# Interval checks walk only the events appended since the last verified one (the records, side tables
# and seals are checked in full every time); every FULL_CHECK_EVERY-th check walks every event again,
# so an old row altered later is caught too without a full walk of a large ledger every minute.
FULL_CHECK_EVERY = 60


class Verifiable(Protocol):
    """What the monitor needs of a ledger."""

    def verify(self, *, resume: tuple[int, str] | None = None) -> VerifyReport: ...


@dataclass(frozen=True, slots=True)
class ChainStatus:
    state: State
    checked_events: int = 0
    head_seq: int | None = None
    bad_seq: int | None = None
    bad_event: str | None = None
    problem: str | None = None
    checked_at: datetime | None = None
    signed: bool | None = None
    signature_note: str | None = None

    @property
    def intact(self) -> bool | None:
        """True or False once checked; None while nobody knows yet."""
        return None if self.state == "unverified" else self.state == "intact"

    def where(self) -> str:
        """Where the chain breaks, in words, for messages and logs."""
        at = f"at event seq {self.bad_seq}" if self.bad_seq is not None else "in its side tables"
        return f"{at}: {self.problem or 'it does not verify'}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "state": self.state,
            "intact": self.intact,
            "checked_events": self.checked_events,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            # Hashes that agree prove nothing to someone who could rewrite them: say whether a
            # signature with the ledger key vouches for the head (docs/ledger.md, threat model).
            "signed": self.signed,
        }
        if self.signature_note:
            out["signature_note"] = self.signature_note
        if self.state == "broken":
            out["first_bad"] = {"seq": self.bad_seq, "event_id": self.bad_event, "problem": self.problem}
        return out


class ChainMonitor:
    """The latest verdict on the chain; ``check`` is thread-safe and one runs at a time."""

    def __init__(self, ledger: Verifiable, *, interval: float) -> None:
        self.ledger = ledger
        self.interval = interval
        self.status = ChainStatus("unverified")
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        self._resume: tuple[int, str] | None = None
        self._checks = 0

    def check(self, *, full: bool = False) -> ChainStatus:
        """Verify the chain now (blocking) and remember the answer: from the last verified event on,
        or every event when ``full`` or when every ``FULL_CHECK_EVERY``-th check comes round."""
        with self._lock:
            full = full or self._resume is None or self._checks % FULL_CHECK_EVERY == 0
            self._checks += 1
            report = self.ledger.verify(resume=None if full else self._resume)
            now = datetime.now(UTC)
            if report.ok:
                self._resume = (report.verified_seq, report.verified_hash)
                status = ChainStatus(
                    "intact", report.checked, report.head_seq, checked_at=now, signed=report.signed,
                    signature_note=report.signature_note or None,
                )  # fmt: skip
            else:
                status = ChainStatus(
                    "broken", report.checked, report.head_seq, report.bad_seq, report.bad_event,
                    report.problem, now, report.signed,
                )  # fmt: skip
                self._resume = None
            if status.state == "broken" and self.status.state != "broken":
                log.error(
                    "the ledger's hash chain is broken %s; writes are refused until it verifies again",
                    status.where(),
                )
            elif status.state == "intact" and self.status.state == "broken":
                log.warning("the ledger's hash chain verifies again; writes are accepted")
            self.status = status
            return status

    # -- in the app --------------------------------------------------------------------------------

    def start(self) -> None:
        """Check now and then every ``interval`` seconds, in the background (call from the loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await run_in_threadpool(self.check)
            except Exception:  # a database that is down now may be up at the next check
                log.exception("could not verify the ledger's hash chain; trying again in %g s", self.interval)
            await asyncio.sleep(self.interval)

    @property
    def checking(self) -> bool:
        return self._lock.locked()

    async def current(self) -> ChainStatus:
        """The verdict for a request: checked here first if no check ever ran or is running; while the
        first check runs, waited for up to ``FIRST_CHECK_WAIT`` seconds (a small ledger's whole check)."""
        if self.status.state == "unverified" and not self.checking:
            return await run_in_threadpool(self.check)
        for _ in range(int(FIRST_CHECK_WAIT / 0.05)):
            if self.status.state != "unverified":
                break
            await asyncio.sleep(0.05)
        return self.status

    async def require_intact(self) -> ChainStatus:
        """For endpoints that append: refuse unless the chain is known to be intact."""
        status = await self.current()
        if status.state == "broken":
            message = (
                f"the ledger's hash chain is broken {status.where()}; nothing can be recorded on top "
                "of altered history. An operator must run `consentgate ledger verify` and restore the "
                "ledger (docs/ledger.md)"
            )
            where = "ledger" if status.bad_seq is None else f"ledger.seq[{status.bad_seq}]"
            raise RequestProblems("ledger_broken", message, [(where, status.problem or message)], status=503)
        if status.state == "unverified":
            message = "the ledger's hash chain is still being verified after start-up; retry shortly"
            raise RequestProblems(
                "ledger_unverified",
                message,
                [],
                status=503,
                headers={"Retry-After": str(UNVERIFIED_RETRY_SECONDS)},
            )
        return status
