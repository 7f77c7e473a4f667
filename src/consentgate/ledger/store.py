"""The ledger store: append events to the hash chain, read them back, verify the chain.

One writer at a time extends the chain: SQLite takes its write lock with ``BEGIN IMMEDIATE``,
PostgreSQL locks the single ``ledger_head`` row ``FOR UPDATE``. Several processes can therefore
share one database and still produce one chain without forks or gaps.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from consentgate.errors import TerminalStorageError, TransientStorageError
from consentgate.ledger import schema as t
from consentgate.ledger.chain import GENESIS, commit_subject, event_hash, new_salt, wording_hash
from consentgate.ledger.db import make_engine, migrate, retry_locked
from consentgate.ledger.events import Action, ConsentEvent, NewEvent, NoticeText

_CHUNK = 900  # stays under SQLite's bound-parameter limit for IN (...) lists


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    bad_seq: int | None = None
    bad_event: str | None = None
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "first_bad": None
            if self.ok
            else {"seq": self.bad_seq, "event_id": self.bad_event, "problem": self.problem},
        }


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")


class Ledger:
    """Append-only, hash-chained consent events in SQLite or PostgreSQL."""

    def __init__(self, engine: Engine, *, url: str = "") -> None:
        self.engine = engine
        self.url = url
        self._writer = engine.execution_options(ledger_write=True)
        self.is_postgres = engine.dialect.name == "postgresql"

    @classmethod
    def open(cls, url: str, *, migrate_schema: bool = True) -> Ledger:
        engine = make_engine(url)
        try:
            if migrate_schema:
                if engine.dialect.name == "sqlite":
                    retry_locked(lambda: migrate(engine))
                else:
                    migrate(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise _storage_error(exc, "open the ledger") from exc
        return cls(engine, url=url)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------------------

    def append(self, new: Sequence[NewEvent], texts: Iterable[NoticeText] = ()) -> list[ConsentEvent]:
        """Store events atomically, in order, extending the chain; return them as stored.

        The transaction commits (and SQLite/PostgreSQL flush it to disk) before this returns, so a
        caller may acknowledge the events as soon as it has the result.
        """
        if not new:
            return []
        try:
            with self._writer.begin() as conn:
                q = select(t.ledger_head.c.seq, t.ledger_head.c.hash).where(t.ledger_head.c.id == 1)
                if self.is_postgres:
                    q = q.with_for_update()
                seq, prev = conn.execute(q).one()
                # Under the head lock: two writers that both find a wording missing would otherwise
                # both insert it, and the second would fail on the primary key.
                self._store_texts(conn, texts)
                now = utc_now()
                rows, stored = [], []
                for ev in new:
                    seq += 1
                    recorded = ev.recorded_at or now
                    salt = new_salt()
                    row: dict[str, Any] = {
                        "seq": seq,
                        "event_id": str(uuid.uuid4()),
                        "subject": ev.subject,
                        "subject_salt": salt,
                        "subject_commit": commit_subject(ev.subject, salt),
                        "action": ev.action.value,
                        "purpose": ev.purpose,
                        "notice_id": ev.notice_id,
                        "notice_version": ev.notice_version,
                        "wording_hash": ev.wording_hash,
                        "region": ev.region,
                        "locale": ev.locale,
                        "source": ev.source,
                        "occurred_at": ev.occurred_at.isoformat(),
                        "recorded_at": iso(recorded),
                        "signals": dict(ev.signals),
                    }
                    row["hash"] = event_hash(prev, row)
                    row["prev_hash"] = prev
                    prev = row["hash"]
                    stored.append(_to_event(row))
                    row["signals"] = _dump(row["signals"])
                    row["occurred_us"] = stored[-1].occurred_us
                    row["recorded_us"] = stored[-1].recorded_us
                    rows.append(row)
                conn.execute(insert(t.events), rows)
                conn.execute(update(t.ledger_head).where(t.ledger_head.c.id == 1).values(seq=seq, hash=prev))
        except SQLAlchemyError as exc:
            raise _storage_error(exc, "append to the ledger") from exc
        return stored

    def _store_texts(self, conn: Any, texts: Iterable[NoticeText]) -> None:
        wanted = {nt.text_hash: nt for nt in texts}
        if not wanted:
            return
        have = set(
            conn.execute(
                select(t.notice_texts.c.text_hash).where(t.notice_texts.c.text_hash.in_(wanted))
            ).scalars()
        )
        missing = [nt for h, nt in wanted.items() if h not in have]
        if missing:
            now = iso(utc_now())
            conn.execute(
                insert(t.notice_texts),
                [
                    {
                        "text_hash": nt.text_hash,
                        "notice_id": nt.notice_id,
                        "notice_version": nt.notice_version,
                        "locale": nt.locale,
                        "text": nt.text,
                        "first_recorded_at": now,
                    }
                    for nt in missing
                ],
            )

    # -- reading -----------------------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        with self.engine.connect() as conn:
            seq, h = conn.execute(select(t.ledger_head.c.seq, t.ledger_head.c.hash)).one()
        return int(seq), str(h)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.events)).scalar_one())

    def events_of(self, subjects: Collection[str]) -> list[ConsentEvent]:
        """Every event recorded under any of these identifiers, in recording order."""
        out: list[ConsentEvent] = []
        ids = list(subjects)
        with self.engine.connect() as conn:
            for i in range(0, len(ids), _CHUNK):
                q = select(t.events).where(t.events.c.subject.in_(ids[i : i + _CHUNK]))
                out.extend(_row_event(r._mapping) for r in conn.execute(q))
        out.sort(key=lambda e: e.seq)
        return out

    def iter_events(self, after_seq: int = 0, chunk: int = 5000) -> Iterator[ConsentEvent]:
        for row in self._iter_rows(after_seq, chunk):
            yield _row_event(row)

    def _iter_rows(self, after_seq: int, chunk: int) -> Iterator[Any]:
        last = after_seq
        while True:
            with self.engine.connect() as conn:
                rows = [
                    r._mapping
                    for r in conn.execute(
                        select(t.events).where(t.events.c.seq > last).order_by(t.events.c.seq).limit(chunk)
                    )
                ]
            if not rows:
                return
            yield from rows
            last = rows[-1]["seq"]

    def event(self, event_id: str) -> ConsentEvent | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.events).where(t.events.c.event_id == event_id)).first()
        return None if row is None else _row_event(row._mapping)

    def texts(self, hashes: Collection[str]) -> dict[str, NoticeText]:
        out: dict[str, NoticeText] = {}
        hs = [h for h in set(hashes) if h]
        with self.engine.connect() as conn:
            for i in range(0, len(hs), _CHUNK):
                q = select(t.notice_texts).where(t.notice_texts.c.text_hash.in_(hs[i : i + _CHUNK]))
                for r in conn.execute(q):
                    m = r._mapping
                    out[m["text_hash"]] = NoticeText(
                        m["notice_id"], m["notice_version"], m["locale"], m["text"], m["text_hash"]
                    )
        return out

    # -- verification ------------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Walk the whole chain; report the first event that was altered, deleted or reordered."""
        head_seq, head_hash = self.head()
        expected_seq, prev, checked = 1, GENESIS, 0
        for row in self._iter_rows(0, 5000):
            problem = _check_row(row, expected_seq, prev)
            if problem:
                return VerifyReport(False, checked, head_seq, head_hash, row["seq"], row["event_id"], problem)
            prev = row["hash"]
            expected_seq += 1
            checked += 1
        if checked != head_seq or prev != head_hash:
            return VerifyReport(
                False, checked, head_seq, head_hash, checked + 1, None,
                f"the ledger head records {head_seq} events ending in {head_hash[:12]}…, but the chain "
                f"ends after {checked} events in {prev[:12]}…: events were deleted from the end",
            )  # fmt: skip
        bad_text = self._check_texts()
        if bad_text:
            return VerifyReport(False, checked, head_seq, head_hash, None, None, bad_text)
        return VerifyReport(True, checked, head_seq, head_hash)

    def verify_events(self, events: Sequence[ConsentEvent]) -> tuple[bool, str | None]:
        """Check that these events are intact links of the chain (each, its predecessor and successor)."""
        if not events:
            return True, None
        seqs = {e.seq for e in events}
        want = seqs | {s - 1 for s in seqs} | {s + 1 for s in seqs}
        rows: dict[int, Any] = {}
        ids = sorted(s for s in want if s > 0)
        with self.engine.connect() as conn:
            for i in range(0, len(ids), _CHUNK):
                for r in conn.execute(select(t.events).where(t.events.c.seq.in_(ids[i : i + _CHUNK]))):
                    rows[r._mapping["seq"]] = r._mapping
        head_seq, _ = self.head()
        for s in sorted(seqs):
            row = rows.get(s)
            if row is None:
                return False, f"event seq {s} is no longer in the ledger"
            prev = GENESIS if s == 1 else (rows[s - 1]["hash"] if s - 1 in rows else None)
            if prev is None:
                return False, f"event seq {s - 1}, before seq {s}, is missing (deleted)"
            problem = _check_row(row, s, prev)
            if problem:
                return False, f"event seq {s}: {problem}"
            nxt = rows.get(s + 1)
            if s < head_seq and (nxt is None or nxt["prev_hash"] != row["hash"]):
                return False, f"event seq {s + 1}, after seq {s}, is missing or does not link to it"
        return True, None

    def _check_texts(self) -> str | None:
        with self.engine.connect() as conn:
            for r in conn.execute(select(t.notice_texts.c.text_hash, t.notice_texts.c.text)):
                if wording_hash(r.text) != r.text_hash:
                    return (
                        f"stored wording {r.text_hash[:12]}… was altered (its text no longer has that hash)"
                    )
        return None


def _check_row(row: Any, expected_seq: int, prev: str) -> str | None:
    if row["seq"] != expected_seq:
        return (
            f"expected event seq {expected_seq} next but found seq {row['seq']}: "
            f"event(s) {expected_seq}..{row['seq'] - 1} were deleted"
        )
    if row["prev_hash"] != prev:
        return (
            "its prev_hash does not match the previous event's hash: "
            "events were deleted, reordered or rewritten"
        )
    record = dict(row)
    record["signals"] = json.loads(row["signals"])
    if event_hash(prev, record) != row["hash"]:
        return "its content no longer matches its hash: the row was altered"
    subject, salt = row["subject"], row["subject_salt"]
    erased = subject is None or (salt is None and subject.startswith("erased:"))
    if not erased and commit_subject(subject, salt or "") != row["subject_commit"]:
        return "its subject was altered (it no longer matches the chained commitment)"
    return None


def _dump(signals: Any) -> str:
    return json.dumps(signals, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _to_event(row: dict[str, Any]) -> ConsentEvent:
    return ConsentEvent(
        subject=row["subject"] if row["subject"] is not None else f"erased:{row['subject_commit'][:16]}",
        action=Action(row["action"]),
        occurred_at=datetime.fromisoformat(row["occurred_at"]),
        recorded_at=datetime.fromisoformat(row["recorded_at"]),
        purpose=row["purpose"],
        notice_id=row["notice_id"],
        notice_version=row["notice_version"],
        wording_hash=row["wording_hash"],
        region=row["region"],
        locale=row["locale"],
        source=row["source"],
        signals=row["signals"],
        seq=row["seq"],
        event_id=row["event_id"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def _row_event(row: Any) -> ConsentEvent:
    """A stored row as an event; the hot path of every decision that reads the ledger."""
    subject = row["subject"]
    signals = row["signals"]
    return ConsentEvent(
        subject if subject is not None else f"erased:{row['subject_commit'][:16]}",
        _ACTIONS[row["action"]],
        datetime.fromisoformat(row["occurred_at"]),
        datetime.fromisoformat(row["recorded_at"]),
        row["purpose"],
        row["notice_id"],
        row["notice_version"],
        row["wording_hash"],
        row["region"],
        row["locale"],
        row["source"],
        {} if signals == "{}" else json.loads(signals),
        row["seq"],
        row["event_id"],
        row["prev_hash"],
        row["hash"],
        row["occurred_us"],
        row["recorded_us"],
    )


_ACTIONS = {a.value: a for a in Action}


def _storage_error(exc: SQLAlchemyError, doing: str) -> Exception:
    text = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, OperationalError):
        return TransientStorageError(f"could not {doing}: {text}")
    return TerminalStorageError(f"could not {doing}: {text}")
