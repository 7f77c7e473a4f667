"""Checkpoints of training runs, and which of them hold a given person's data.

A checkpoint saved after a run's first use of a person contains that person's data; one saved before
does not. That line is the honest basis for an unlearning or retraining decision after a withdrawal
or an erasure, so it is recorded, not guessed: each checkpoint row carries the number of batches the
run had trained on when it was saved, each ``run_subjects`` row the batch that first used the
identifier (hashed, as :mod:`consentgate.store.runs` stores it).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, and_, func, insert, select

from consentgate.ledger import schema as t

_CHUNK = 900


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One saved checkpoint of a training run."""

    run_id: str
    seq: int
    name: str
    batches: int
    records: int
    saved_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "seq": self.seq,
            "name": self.name,
            "batches": self.batches,
            "records": self.records,
            "saved_at": self.saved_at,
        }


class CheckpointStore:
    """The ``run_checkpoints`` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(ledger_write=True)

    def add(self, run_id: str, name: str, *, batches: int, records: int, saved_at: datetime) -> Checkpoint:
        """Record a checkpoint the run saved after ``batches`` batches (numbered in saving order)."""
        if saved_at.tzinfo is None:
            raise ValueError("checkpoint times need a time zone")
        when = saved_at.astimezone(UTC).isoformat()
        with self._writer.begin() as conn:
            c = t.run_checkpoints.c
            last = conn.execute(select(func.max(c.seq)).where(c.run_id == run_id)).scalar()
            seq = 1 if last is None else int(last) + 1
            row = {"run_id": run_id, "seq": seq, "name": name, "batches": batches, "records": records}
            conn.execute(insert(t.run_checkpoints).values(**row, saved_at=when))
        return Checkpoint(saved_at=when, **row)  # type: ignore[arg-type]

    def of_run(self, run_id: str) -> list[Checkpoint]:
        c = t.run_checkpoints.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.run_checkpoints).where(c.run_id == run_id).order_by(c.seq))
            return [_checkpoint(r._mapping) for r in rows]

    def containing(self, hashes: Collection[bytes]) -> dict[str, list[Checkpoint]]:
        """Per run, the checkpoints saved at or after the run's first use of any of these identifier
        hashes (a person's identifiers, hashed with the run store's key)."""
        firsts: dict[str, int] = {}
        hexes = sorted(h.hex() for h in hashes)
        s, c = t.run_subjects.c, t.run_checkpoints.c
        found: dict[str, list[Checkpoint]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(hexes), _CHUNK):
                q = select(s.run_id, s.first_batch).where(s.subject_hash.in_(hexes[i : i + _CHUNK]))
                for run_id, first in conn.execute(q):
                    # Unknown first use (a run from before checkpoints were recorded): every one counts.
                    at = 0 if first is None else int(first)
                    firsts[run_id] = min(at, firsts.get(run_id, at))
            for run_id, first in sorted(firsts.items()):
                q = (
                    select(t.run_checkpoints)
                    .where(and_(c.run_id == run_id, c.batches >= first))
                    .order_by(c.seq)
                )
                rows = [_checkpoint(r._mapping) for r in conn.execute(q)]
                if rows:
                    found[run_id] = rows
        return found


def _checkpoint(m: Any) -> Checkpoint:
    return Checkpoint(
        run_id=m["run_id"],
        seq=int(m["seq"]),
        name=m["name"],
        batches=int(m["batches"]),
        records=int(m["records"]),
        saved_at=m["saved_at"],
    )
