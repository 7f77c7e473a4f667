"""Reads of the event chain for the operator reports that are not consent rates: banner outcomes,
GPC share, how often each notice version was answered and the last seal (``reports/banner.py``,
``reports/audit.py``).

Read-only and streaming: rows come in chunks of ``_CHUNK`` ordered by ``seq`` (the primary key), so
memory does not grow with the ledger and no chunk holds a transaction open for long. The reports
aggregate in Python: what they count (which banner button, whether GPC was on) lives in the
``signals`` JSON, which SQLite and PostgreSQL would each need their own JSON functions to read.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, or_, select

from consentgate.ledger import schema as t
from consentgate.store.errors import storage

_CHUNK = 5000
_E = t.events.c


@dataclass(frozen=True, slots=True)
class ActivityRow:
    """One event as the reports see it: no hashes, no wording; ``subject`` is the identifier it was
    recorded under (the erasure pseudonym once erased), used only to tell visitors apart."""

    subject: str
    action: str
    purpose: str | None
    region: str | None
    source: str
    occurred_us: int
    signals: dict[str, Any]


def collection_events(
    engine: Engine, start_us: int, end_us: int, *, sources: Collection[str]
) -> Iterator[ActivityRow]:
    """Events that occurred in ``[start_us, end_us)`` recorded by one of ``sources``, plus every
    ``gpc`` event of the period whatever its source, in recording order."""
    where = (
        (_E.occurred_us >= start_us)
        & (_E.occurred_us < end_us)
        & or_(_E.source.in_(sorted(sources)), _E.action == "gpc")
    )
    columns = (_E.seq, _E.subject, _E.subject_commit, _E.action, _E.purpose, _E.region, _E.source)
    last = 0
    while True:
        q = (
            select(*columns, _E.occurred_us, _E.signals)
            .where(where, _E.seq > last)
            .order_by(_E.seq)
            .limit(_CHUNK)
        )
        with storage("read the ledger's events"), engine.connect() as conn:
            rows = conn.execute(q).all()
        if not rows:
            return
        for r in rows:
            yield ActivityRow(
                subject=r.subject if r.subject is not None else "erased:" + r.subject_commit,
                action=r.action,
                purpose=r.purpose,
                region=r.region,
                source=r.source,
                occurred_us=int(r.occurred_us),
                signals={} if r.signals == "{}" else json.loads(r.signals),
            )
        last = int(rows[-1].seq)


def notice_answers(engine: Engine) -> dict[tuple[str, str], int]:
    """How many events were recorded under each (notice id, notice version)."""
    q = (
        select(_E.notice_id, _E.notice_version, func.count())
        .where(_E.notice_id.is_not(None), _E.notice_version.is_not(None))
        .group_by(_E.notice_id, _E.notice_version)
    )
    with storage("count events per notice version"), engine.connect() as conn:
        return {(str(n), str(v)): int(c) for n, v, c in conn.execute(q)}


def last_seal(engine: Engine) -> dict[str, Any] | None:
    """The newest row of ``ledger_seals`` (the heads it signs, when, with which key), or None."""
    sc = t.ledger_seals.c
    q = select(t.ledger_seals).order_by(sc.id.desc()).limit(1)
    with storage("read the ledger's last seal"), engine.connect() as conn:
        row = conn.execute(q).first()
    return None if row is None else dict(row._mapping)


def chain_heads(engine: Engine) -> dict[str, Any]:
    """Both chain heads as ``ledger_head`` holds them: events (seq, hash) and records (seq, hash)."""
    h = t.ledger_head.c
    q = select(h.seq, h.hash, h.records_seq, h.records_hash).where(h.id == 1)
    with storage("read the ledger head"), engine.connect() as conn:
        row = conn.execute(q).first()
    if row is None:
        return {"events_seq": 0, "events_hash": None, "records_seq": 0, "records_hash": None}
    return {
        "events_seq": int(row.seq),
        "events_hash": str(row.hash),
        "records_seq": int(row.records_seq),
        "records_hash": str(row.records_hash),
    }
