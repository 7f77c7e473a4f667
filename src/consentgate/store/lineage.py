"""Lineage lookups in ``runs``: the filter runs that wrote a given output (by its fingerprint)."""

from __future__ import annotations

from sqlalchemy import Engine, desc, select

from consentgate.ledger import schema as t
from consentgate.store.errors import storage
from consentgate.store.runs import RunRecord, _record


def runs_by_output(engine: Engine, fingerprint: str, *, kind: str = "filter") -> list[RunRecord]:
    """The completed runs of ``kind`` whose output had this fingerprint, newest first (the same
    bytes can be written twice, e.g. a re-run over unchanged data)."""
    c = t.runs.c
    q = (
        select(t.runs)
        .where(c.output_fingerprint == fingerprint, c.kind == kind, c.status == "completed")
        .order_by(desc(c.started_at), c.run_id)
    )
    with storage("read runs"), engine.connect() as conn:
        return [_record(r._mapping) for r in conn.execute(q)]
