"""Run manifests in the ledger database: training runs (the guard), filter runs and vendor exports.

"Was my data used in model X, and which vendors received it?" needs, per run, the set of identifiers
it used. Storing those identifiers in the clear would make the ledger database a second copy of every
id in every dataset, and would keep identifiers the ledger itself forgets on erasure. So a run stores
**keyed hashes**: the first 16 bytes of ``HMAC-SHA256(key, identifier)`` (hex), one row per
identifier and run in ``run_subjects``. A question about a person hashes each of their identifiers
(the subject and every linked alias, resolved when asked, so links made after the run count too) and
looks the hashes up through the primary key. The hashes cannot be reversed, and without the key they
cannot be tested against a list of likely emails either.

The key is a service secret generated once into ``service_secrets`` (purpose ``run_subjects``) by
``store/secrets.py``, like the subject-token secret (:mod:`consentgate.auth.secrets`): every process
on the database hashes alike, and there is nothing to configure. Whoever can read the database can
test guesses — but can already read every subject id in ``events``. Each run records the key's id
(``subject_key_id``); the key is never rotated, because a new key would make every earlier run
unfindable.

Identifiers are hashed as they appear in the data (strings; integer ids as their decimal text), so
they match the snapshot's keys and the ledger's subjects.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, desc, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from consentgate.errors import BadInput
from consentgate.ledger import schema as t
from consentgate.store.aliases import person
from consentgate.store.engine import writer
from consentgate.store.errors import storage as _storage
from consentgate.store.secrets import service_secret

RunKind = Literal["training", "filter", "export"]
RUN_KINDS: tuple[RunKind, ...] = ("training", "filter", "export")
STATUSES = ("running", "completed", "stopped_by_violation", "failed")
KEY_PURPOSE = "run_subjects"
HASH_BYTES = 16
HASH_NAME = "hmac-sha256/128"
_CHUNK = 900  # IN (...) lists and insert batches under SQLite's bound-parameter limit


class SubjectHasher:
    """``identifier → HMAC-SHA256(key, identifier)[:16]``; the key never leaves the process."""

    __slots__ = ("_key", "key_id")

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise BadInput("a run-subject key needs at least 16 bytes")
        self._key = key
        self.key_id = hashlib.sha256(b"consentgate-run-subjects-key:" + key).hexdigest()[:16]

    def __call__(self, identifier: str) -> bytes:
        return hmac.digest(self._key, identifier.encode("utf-8"), "sha256")[:HASH_BYTES]

    def many(self, identifiers: Iterable[str]) -> set[bytes]:
        key = self._key
        return {hmac.digest(key, i.encode("utf-8"), "sha256")[:HASH_BYTES] for i in identifiers}

    def __repr__(self) -> str:  # never the key
        return f"SubjectHasher(key_id={self.key_id!r})"


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One stored run (training or export), as listed by ``consentgate runs``."""

    run_id: str
    kind: str
    purpose: str
    model: str | None
    vendor: str | None
    status: str
    started_at: datetime
    finished_at: datetime | None
    head_seq_first: int | None
    head_seq_last: int | None
    records: int
    subjects: int
    manifest: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "purpose": self.purpose,
            "model": self.model,
            "vendor": self.vendor,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": None if self.finished_at is None else self.finished_at.isoformat(),
            "records": self.records,
            "subjects": self.subjects,
            "snapshot_head": {"first": self.head_seq_first, "last": self.head_seq_last},
            "manifest": self.manifest,
        }


class RunStore:
    """Runs and the keyed hashes of the identifiers they used, in the ledger database.

    ``key``: hash with this key instead of the database's generated one (it must then be the same for
    every writer and reader, or runs become unfindable).
    """

    def __init__(self, engine: Engine, *, key: bytes | None = None) -> None:
        self.engine = engine
        self._writer = writer(engine)
        self._hasher = SubjectHasher(key) if key is not None else None

    @property
    def hasher(self) -> SubjectHasher:
        if self._hasher is None:
            self._hasher = SubjectHasher(_load_key(self.engine))
        return self._hasher

    # -- writing -----------------------------------------------------------------------------------

    def start(
        self,
        *,
        run_id: str,
        kind: RunKind,
        purpose: str,
        started_at: datetime,
        manifest: dict[str, Any],
        model: str | None = None,
        vendor: str | None = None,
        head_seq: int | None = None,
    ) -> None:
        """Record a run as ``running`` before it uses any data, so a run that dies leaves a trace."""
        row = self._row(run_id, kind, purpose, started_at, manifest, model, vendor, head_seq)
        with _storage("record the run"), self._writer.begin() as conn:
            conn.execute(insert(t.runs).values(**row))

    def record(
        self,
        *,
        run_id: str,
        kind: RunKind,
        purpose: str,
        started_at: datetime,
        finished_at: datetime,
        records: int,
        hashes: Collection[bytes],
        manifest: dict[str, Any],
        model: str | None = None,
        vendor: str | None = None,
        head_seq: int | None = None,
        output_fingerprint: str | None = None,
    ) -> None:
        """Store a run that is already over (a filter run, an export) with its identifiers, in one
        transaction; ``output_fingerprint`` (sha256 of what it wrote) lets later runs find it."""
        row = self._row(run_id, kind, purpose, started_at, manifest, model, vendor, head_seq)
        row.update(status="completed", finished_at=_utc(finished_at), records=records)
        row["output_fingerprint"] = output_fingerprint
        row["subjects"] = len(hashes)
        with _storage("record the run"), self._writer.begin() as conn:
            conn.execute(insert(t.runs).values(**row))
            _insert_hashes(conn, run_id, hashes)

    def _row(
        self,
        run_id: str,
        kind: RunKind,
        purpose: str,
        started_at: datetime,
        manifest: dict[str, Any],
        model: str | None,
        vendor: str | None,
        head_seq: int | None,
    ) -> dict[str, Any]:
        if kind not in RUN_KINDS:
            raise ValueError(f"kind must be one of {RUN_KINDS}, not {kind!r}")
        return {
            "run_id": run_id,
            "kind": kind,
            "purpose": purpose,
            "model": model,
            "vendor": vendor,
            "status": "running",
            "started_at": _utc(started_at),
            "finished_at": None,
            "head_seq_first": head_seq,
            "head_seq_last": head_seq,
            "records": 0,
            "subjects": 0,
            "subject_key_id": self.hasher.key_id,
            "manifest": _dump(manifest),
        }

    def add_subjects(self, run_id: str, hashes: Collection[bytes] | Mapping[bytes, int]) -> None:
        """Store more identifiers the run used (hashes from :attr:`hasher`, or hash -> the batch that
        first used it); one already stored for the run is left as it is (its first use stays)."""
        if not hashes:
            return
        with _storage("record the run's subjects"), self._writer.begin() as conn:
            _insert_hashes(conn, run_id, hashes)

    def finish(
        self,
        run_id: str,
        *,
        status: str,
        finished_at: datetime,
        records: int,
        subjects: int,
        manifest: dict[str, Any],
        head_seq: int | None = None,
    ) -> None:
        if status not in STATUSES or status == "running":
            raise ValueError(f"a finished run's status is one of {STATUSES[1:]}, not {status!r}")
        values: dict[str, Any] = {
            "status": status,
            "finished_at": _utc(finished_at),
            "records": records,
            "subjects": subjects,
            "manifest": _dump(manifest),
        }
        if head_seq is not None:
            values["head_seq_last"] = head_seq
        with _storage("record the run's outcome"), self._writer.begin() as conn:
            conn.execute(update(t.runs).where(t.runs.c.run_id == run_id).values(**values))

    # -- reading -----------------------------------------------------------------------------------

    def get(self, run_id: str) -> RunRecord | None:
        with _storage("read runs"), self.engine.connect() as conn:
            row = conn.execute(select(t.runs).where(t.runs.c.run_id == run_id)).first()
        return None if row is None else _record(row._mapping)

    def runs(self, *, kind: str | None = None) -> list[RunRecord]:
        """Every run, newest first."""
        q = select(t.runs).order_by(desc(t.runs.c.started_at), t.runs.c.run_id)
        if kind is not None:
            q = q.where(t.runs.c.kind == kind)
        with _storage("read runs"), self.engine.connect() as conn:
            return [_record(r._mapping) for r in conn.execute(q)]

    def used(self, identifiers: Collection[str], *, kind: str | None = None) -> list[RunRecord]:
        """The runs that used any of these identifiers (exactly these: resolve aliases first), newest
        first."""
        hashes = sorted(h.hex() for h in self.hasher.many(identifiers))
        run_ids: set[str] = set()
        with _storage("read runs"), self.engine.connect() as conn:
            for i in range(0, len(hashes), _CHUNK):
                q = select(t.run_subjects.c.run_id).where(
                    t.run_subjects.c.subject_hash.in_(hashes[i : i + _CHUNK])
                )
                run_ids.update(conn.execute(q).scalars())
            found: list[RunRecord] = []
            ids = sorted(run_ids)
            for i in range(0, len(ids), _CHUNK):
                q = select(t.runs).where(t.runs.c.run_id.in_(ids[i : i + _CHUNK]))
                if kind is not None:
                    q = q.where(t.runs.c.kind == kind)
                found.extend(_record(r._mapping) for r in conn.execute(q))
        found.sort(key=lambda r: (r.started_at, r.run_id), reverse=True)
        return found

    def used_by(self, subject: str, *, kind: str | None = None) -> tuple[set[str], list[RunRecord]]:
        """The person's identifiers (``subject`` and every linked alias) and the runs that used any."""
        with _storage("resolve the subject's identifiers"):
            ids = person(self.engine, subject)
        return ids, self.used(ids, kind=kind)


# -- internals -------------------------------------------------------------------------------------


def _insert_hashes(conn: Connection, run_id: str, hashes: Collection[bytes] | Mapping[bytes, int]) -> None:
    """Insert-or-ignore: a subject recorded twice for a run (two flushes, a retried write) is one row
    and keeps its first use, never a UNIQUE failure that loses the rest of the batch (issue 15)."""
    first = hashes if isinstance(hashes, Mapping) else {}
    rows = [{"subject_hash": h.hex(), "run_id": run_id, "first_batch": first.get(h)} for h in sorted(hashes)]
    ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = ins(t.run_subjects).on_conflict_do_nothing(index_elements=["subject_hash", "run_id"])
    step = _CHUNK // 3  # three bound parameters a row
    for i in range(0, len(rows), step):
        conn.execute(stmt, rows[i : i + step])


def _load_key(engine: Engine) -> bytes:
    return service_secret(engine, KEY_PURPOSE, lambda s: SubjectHasher(s.encode()).key_id).encode()


def _record(m: Any) -> RunRecord:
    return RunRecord(
        run_id=m["run_id"],
        kind=m["kind"],
        purpose=m["purpose"],
        model=m["model"],
        vendor=m["vendor"],
        status=m["status"],
        started_at=datetime.fromisoformat(m["started_at"]),
        finished_at=None if m["finished_at"] is None else datetime.fromisoformat(m["finished_at"]),
        head_seq_first=m["head_seq_first"],
        head_seq_last=m["head_seq_last"],
        records=int(m["records"]),
        subjects=int(m["subjects"]),
        manifest=json.loads(m["manifest"]),
    )


def _utc(when: datetime) -> str:
    """UTC, so that the text columns sort in time order (listings order by ``started_at``)."""
    if when.tzinfo is None:
        raise ValueError("run times need a time zone")
    return when.astimezone(UTC).isoformat()


def _dump(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
