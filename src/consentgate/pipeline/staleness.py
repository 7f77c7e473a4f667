"""Stale data is visible: how far a snapshot or a filtered input is behind the ledger, and a limit.

A snapshot, and every file filtered with it, reflects the ledger up to one head. Events recorded
since — a withdrawal, an erasure — are invisible to it, so a gate that uses old data without a word
gives false assurance. :func:`check_staleness` compares the head with the ledger and

- warns (:class:`~consentgate.errors.StaleDataWarning`) with how many events and how long the data
  is behind, and how many of a snapshot's decisions have passed their ``valid_until``;
- refuses (:class:`~consentgate.errors.StaleData`, CLI exit 7) beyond a :class:`MaxStaleness`
  (``--max-staleness 100`` events, ``10m`` of time, or both: ``100,10m``), and when the head is not
  this ledger's at all (another database, a rewritten chain): then nobody can tell how old it is.

Without a limit, unknown heads are warned about, never passed off as fresh.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from consentgate.errors import BadInput, StaleData, StaleDataWarning
from consentgate.ledger.lag import Lag, lag
from consentgate.ledger.store import Ledger
from consentgate.pipeline.snapshot import Snapshot

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")


@dataclass(frozen=True, slots=True)
class MaxStaleness:
    """How far behind the ledger data may be: at most ``events`` events, and/or out of date for at
    most ``seconds``. Exceeding either refuses."""

    events: int | None = None
    seconds: float | None = None

    @classmethod
    def parse(cls, text: str) -> MaxStaleness:
        """``100`` (events), ``90s`` / ``10m`` / ``2h`` / ``1d`` (time), or both: ``100,10m``."""
        events: int | None = None
        seconds: float | None = None
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise BadInput(_syntax(text))
        for part in parts:
            if part.isdigit():
                if events is not None:
                    raise BadInput(_syntax(text))
                events = int(part)
            elif (m := _DURATION.match(part)) is not None:
                if seconds is not None:
                    raise BadInput(_syntax(text))
                seconds = float(m.group(1)) * _UNITS[m.group(2)]
            else:
                raise BadInput(_syntax(text))
        return cls(events=events, seconds=seconds)

    def describe(self) -> str:
        parts = []
        if self.events is not None:
            parts.append(f"{self.events} event{'' if self.events == 1 else 's'}")
        if self.seconds is not None:
            parts.append(_duration(self.seconds))
        return " or ".join(parts)


@dataclass(frozen=True, slots=True)
class Staleness:
    """``what`` (e.g. ``snapshot consent.parquet``) against the ledger at ``checked_at``."""

    what: str
    lag: Lag
    checked_at: datetime
    expired: int = 0  # a snapshot's decisions whose valid_until has passed (0 for filtered files)

    @property
    def events(self) -> int | None:
        return self.lag.events if self.lag.known else None

    @property
    def seconds(self) -> float | None:
        """How long the data has been out of date (since the first event it misses); None: unknown."""
        if not self.lag.known:
            return None
        if self.lag.since is None:
            return 0.0
        return max(0.0, (self.checked_at - self.lag.since).total_seconds())

    @property
    def stale(self) -> bool:
        return not self.lag.known or self.lag.events > 0 or self.expired > 0

    def message(self) -> str:
        lg = self.lag
        if not lg.known:
            return (
                f"{self.what} reflects ledger head {lg.head_seq}, which this ledger (head {lg.ledger_seq}) "
                "does not hold: it was made from another ledger or before the chain was rewritten, so how "
                "far behind it is cannot be known; rebuild it from this ledger"
            )
        parts = []
        if lg.events:
            seconds = self.seconds or 0.0
            parts.append(
                f"{lg.events} ledger event{'' if lg.events == 1 else 's'} behind (head {lg.head_seq}, "
                f"ledger {lg.ledger_seq}), out of date for {_duration(seconds)}"
            )
        if self.expired:
            parts.append(
                f"out of date in {self.expired} of its decisions, whose valid_until has passed (a "
                "consent expired or a new notice version took effect)"
            )
        if not parts:
            return f"{self.what} is at the ledger's head ({lg.ledger_seq})"
        return f"{self.what} is " + " and ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """What a manifest records: ``events`` and ``seconds`` are null when unknown."""
        return {
            "head_seq": self.lag.head_seq,
            "ledger_head_seq": self.lag.ledger_seq,
            "known": self.lag.known,
            "events": self.events,
            "seconds": None if self.seconds is None else round(self.seconds, 3),
            "expired_decisions": self.expired,
            "checked_at": self.checked_at.isoformat(),
        }

    def beyond(self, limit: MaxStaleness) -> bool:
        if not self.lag.known:
            return True
        if limit.events is not None and self.lag.events > limit.events:
            return True
        return limit.seconds is not None and (self.seconds or 0.0) > limit.seconds


def staleness_of(
    ledger: Ledger, head_seq: int, head_hash: str, *, what: str, now: datetime | None = None
) -> Staleness:
    """How far a recorded head is behind ``ledger`` (no warning, no refusal: see :func:`enforce`)."""
    return Staleness(what, lag(ledger, head_seq, head_hash), now or datetime.now(UTC))


def snapshot_staleness(
    ledger: Ledger, snapshot: Snapshot, *, what: str = "the snapshot", now: datetime | None = None
) -> Staleness:
    """A snapshot against the ledger, counting also its decisions whose ``valid_until`` has passed."""
    when = now or datetime.now(UTC)
    found = staleness_of(ledger, snapshot.meta.head_seq, snapshot.meta.head_hash, what=what, now=when)
    until = snapshot.table.column("valid_until")
    expired = int(pc.sum(pc.less_equal(until, pa.scalar(when, type=until.type))).as_py() or 0)
    return Staleness(found.what, found.lag, found.checked_at, expired)


def enforce(found: Staleness, limit: MaxStaleness | None, *, purpose: str | None = None) -> Staleness:
    """Refuse beyond ``limit`` (:class:`StaleData`), else warn when the data is behind; return it."""
    if limit is not None and found.beyond(limit):
        raise StaleData(
            f"{found.message()}; refused: the staleness limit allows {limit.describe()}. Rebuild it "
            "(`consentgate snapshot --from FILE --out FILE` brings a snapshot up to date in seconds; "
            "a filtered file: filter again, or TrainingRun(..., refilter=True))",
            events=found.events,
            seconds=found.seconds,
            purpose=purpose,
        )
    if found.stale:
        warnings.warn(found.message(), StaleDataWarning, stacklevel=2)
    return found


def _duration(seconds: float) -> str:
    s = int(seconds)
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} days"


def _syntax(text: str) -> str:
    return (
        f"--max-staleness {text!r}: give a number of ledger events (`100`), a duration with a unit "
        "s, m, h or d (`10m`), or both separated by a comma (`100,10m`)"
    )
