"""How far a recorded ledger head (a snapshot's, a filter manifest's) is behind the ledger now.

A snapshot or a filtered file reflects the ledger up to one event (``head_seq``, ``head_hash``).
Every event recorded after it — a withdrawal, an objection, an erasure — is invisible to whoever
uses that data; this module counts those events and says since when the data has been out of date.
A head the ledger does not hold (another database, a rewritten chain) is reported as *unknown*,
never as "0 behind".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from consentgate.ledger import schema as t
from consentgate.ledger.chain import GENESIS
from consentgate.ledger.store import Ledger


@dataclass(frozen=True, slots=True)
class Lag:
    """``events`` recorded after ``head_seq``, the first of them at ``since`` (the moment the data
    went out of date); ``known`` is False when this ledger does not hold the head at all."""

    head_seq: int
    ledger_seq: int
    known: bool
    events: int = 0
    since: datetime | None = None


def lag(ledger: Ledger, head_seq: int, head_hash: str) -> Lag:
    """Compare a recorded head with ``ledger``: cheap (two indexed reads on ``events.seq``)."""
    ledger_seq, _ = ledger.head()
    ev = t.events.c
    with ledger.engine.connect() as conn:
        found: str | None = GENESIS
        if head_seq > 0:
            found = conn.execute(select(ev.hash).where(ev.seq == head_seq)).scalar()
        if found != head_hash or head_seq > ledger_seq:
            return Lag(head_seq=head_seq, ledger_seq=ledger_seq, known=False)
        after = select(func.count()).select_from(t.events).where(ev.seq > head_seq)
        count = int(conn.execute(after).scalar_one())
        first = None
        if count:
            first = conn.execute(
                select(ev.recorded_at).where(ev.seq > head_seq).order_by(ev.seq).limit(1)
            ).scalar_one()
    since = None if first is None else datetime.fromisoformat(str(first))
    return Lag(head_seq=head_seq, ledger_seq=ledger_seq, known=True, events=count, since=since)
