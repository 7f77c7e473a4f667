"""The ledger store: append events to the hash chain, read them back, verify the chain.

One writer at a time extends the chain: SQLite takes its write lock with ``BEGIN IMMEDIATE``,
PostgreSQL locks the single ``ledger_head`` row ``FOR UPDATE``. Several processes can therefore
share one database and still produce one chain without forks or gaps.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from consentgate.errors import BadInput
from consentgate.ledger import schema as t
from consentgate.ledger.chain import GENESIS, commit_subject, event_hash, seal_message
from consentgate.ledger.db import connected, make_engine, migrate, retry_locked, storage_error
from consentgate.ledger.erasure import KEY_PURPOSE, ErasureKey, is_pseudonym
from consentgate.ledger.events import Action, ConsentEvent, NewEvent, NoticeText
from consentgate.ledger.records import (
    ChainSQL,
    Head,
    add_records,
    finish,
    head_problem,
    read_head,
    text_record,
    write_records,
)
from consentgate.ledger.rows import row_event as _row_event
from consentgate.ledger.rows import sqlite_error as _sqlite_error
from consentgate.ledger.signing import PublicKeys, Signer
from consentgate.ledger.verify import Checkpoint, Verification, VerifyReport, check_event_row

_CHUNK = 900  # stays under SQLite's bound-parameter limit for IN (...) lists
_EVENT_COLUMNS = tuple(c.name for c in t.events.columns)
_ROWS_PER_INSERT = _CHUNK // len(_EVENT_COLUMNS)  # one multi-row INSERT, under the same limit
_KNOWN_TEXTS_MAX = 100_000


class _AppendSQL(ChainSQL):
    """The append path's statements as driver SQL, in the driver's placeholder style."""

    def __init__(self, postgres: bool) -> None:
        super().__init__(postgres)
        self._row = "(" + ", ".join([self.mark] * len(_EVENT_COLUMNS)) + ")"
        self._inserts: dict[int, str] = {}
        text_columns = "text_hash, notice_id, notice_version, locale, text, first_recorded_at"
        self.insert_text = f"INSERT INTO notice_texts ({text_columns}) VALUES ({', '.join([self.mark] * 6)})"

        self.erasure_key = (
            f"SELECT secret FROM service_secrets WHERE purpose = '{KEY_PURPOSE}' ORDER BY generation LIMIT 1"
        )

    def suppressed(self, n: int) -> str:
        return f"SELECT id_hash FROM suppressions WHERE id_hash IN ({', '.join([self.mark] * n)})"

    def known_texts(self, n: int) -> str:
        return f"SELECT text_hash FROM notice_texts WHERE text_hash IN ({', '.join([self.mark] * n)})"

    def insert(self, rows: int) -> str:
        sql = self._inserts.get(rows)
        if sql is None:
            sql = f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)}) VALUES " + ", ".join([self._row] * rows)
            self._inserts[rows] = sql
        return sql


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")


class Ledger:
    """Append-only, hash-chained consent events in SQLite or PostgreSQL."""

    def __init__(self, engine: Engine, *, url: str = "", signer: Signer | None = None) -> None:
        self.engine = engine
        self.url = url
        # The ledger key (ledger/signing.py): every write seals both heads with it. None: writes are
        # unsigned and `verify` says so instead of calling the ledger intact.
        self.signer = signer
        self._writer = engine.execution_options(ledger_write=True)
        self.is_postgres = engine.dialect.name == "postgresql"
        self._sql = _AppendSQL(self.is_postgres)
        self._sqlite3 = engine.dialect.name == "sqlite" and engine.dialect.driver == "pysqlite"
        # Found by the first append after the first erasure, then kept: the key is never rotated.
        self._erasure_key: ErasureKey | None = None
        # Wordings this process has seen committed. Stored wordings are never deleted, so an append
        # whose wordings are all here skips looking them up; any other still checks under the lock.
        self._known_texts: set[str] = set()

    @classmethod
    def open(cls, url: str, *, migrate_schema: bool = True, signer: Signer | None = None) -> Ledger:
        engine = make_engine(url)
        try:
            if migrate_schema:
                if engine.dialect.name == "sqlite":
                    retry_locked(lambda: migrate(engine))
                else:
                    migrate(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise storage_error(exc, "open the ledger") from exc
        return cls(engine, url=url, signer=signer)

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

        The hot path of every submission (the group committer calls it once per shared transaction),
        so it sends ready-made driver SQL — three statements between BEGIN and COMMIT, the same ones
        SQLAlchemy would compile from :mod:`consentgate.ledger.schema` — and on SQLite goes straight
        to the pooled ``sqlite3`` connection, skipping SQLAlchemy's per-statement machinery.
        """
        if not new:
            return []
        wanted = {nt.text_hash: nt for nt in texts}
        # One getrandom() per append instead of two per event (salt and event id); each call
        # releases the GIL, and on a busy server taking it back is a wait.
        noise = os.urandom(32 * len(new))
        if self._sqlite3:
            stored = self._append_sqlite(new, wanted, noise)
        else:
            try:
                with self._writer.begin() as conn:

                    def execute(sql: str, params: Sequence[Any] | None = None) -> Any:
                        return conn.exec_driver_sql(sql, tuple(params) if params is not None else None)

                    stored = self._extend(execute, new, wanted, noise)
            except SQLAlchemyError as exc:
                raise storage_error(exc, "append to the ledger") from exc
        if wanted:  # committed: no need to look these up again (bounded, whatever callers send)
            if len(self._known_texts) > _KNOWN_TEXTS_MAX:
                self._known_texts.clear()
            self._known_texts.update(wanted)
        return stored

    def _append_sqlite(
        self, new: Sequence[NewEvent], wanted: dict[str, NoticeText], noise: bytes
    ) -> list[ConsentEvent]:
        """One durable transaction on a pooled ``sqlite3`` connection (autocommit mode, WAL,
        ``synchronous=FULL``: see :func:`consentgate.ledger.db.make_engine`)."""
        try:
            pooled = self.engine.raw_connection()
        except SQLAlchemyError as exc:
            raise storage_error(exc, "append to the ledger") from exc
        try:
            db = cast(sqlite3.Connection, pooled.driver_connection)
            # The write lock up front, as ledger.db's begin hook does for every ledger write, so the
            # head read below is the one this transaction extends.
            db.execute("BEGIN IMMEDIATE")
            try:
                stored = self._extend(db.execute, new, wanted, noise)
                db.commit()  # COMMIT, flushed to disk (synchronous=FULL) before it returns
            except BaseException:
                try:
                    db.rollback()
                except sqlite3.Error:
                    pooled.invalidate()  # in an unknown state: the pool must not hand it out again
                raise
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, "append to the ledger") from exc
        finally:
            pooled.close()  # back to the pool
        return stored

    def _extend(
        self,
        execute: Callable[..., Any],
        new: Sequence[NewEvent],
        wanted: dict[str, NoticeText],
        noise: bytes,
    ) -> list[ConsentEvent]:
        """The body of an append's transaction: read (and check) the head, store the rows, move the
        head, seal it."""
        sql = self._sql
        head = read_head(execute, sql)
        seq, prev = head.seq, head.hash
        now = utc_now()
        new = self._under_pseudonyms(execute, new)
        # Under the head lock: two writers that both find a wording missing would otherwise both
        # insert it, and the second would fail on the primary key.
        if wanted.keys() - self._known_texts:
            head = self._store_texts(execute, wanted, head, iso(now))
        rows: list[tuple[Any, ...]] = []
        stored: list[ConsentEvent] = []
        for i, ev in enumerate(new):
            seq += 1
            recorded = ev.recorded_at or now
            salt = noise[32 * i : 32 * i + 16].hex()  # as chain.new_salt(): 16 random bytes
            row: dict[str, Any] = {
                "seq": seq,
                "event_id": str(uuid.UUID(bytes=noise[32 * i + 16 : 32 * i + 32], version=4)),  # uuid4()
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
            event = _to_event(row)
            stored.append(event)
            row["signals"] = _dump(row["signals"])
            row["occurred_us"] = event.occurred_us
            row["recorded_us"] = event.recorded_us
            rows.append(tuple(row[c] for c in _EVENT_COLUMNS))
        for i in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[i : i + _ROWS_PER_INSERT]
            execute(sql.insert(len(chunk)), [v for r in chunk for v in r])
        finish(execute, sql, replace(head, seq=seq, hash=prev), self.signer)
        return stored

    def _under_pseudonyms(self, execute: Callable[..., Any], new: Sequence[NewEvent]) -> Sequence[NewEvent]:
        """Events for an erased identifier, stored under its pseudonym instead.

        An erased person's events, aliases and requests hold only the pseudonym; an event recorded
        under the raw identifier later (an old cookie, a retried upload) would otherwise bring it back,
        and ``snapshot`` would list it with a decision of its own. Under the pseudonym it joins the
        erase event, so every decision stays denied with that event as evidence. Looked up here, under
        the write lock, so an erasure committing meanwhile cannot slip between the look-up and the
        insert: one indexed query per transaction (the group committer's, shared by many submissions).
        A refusal instead would tell whoever holds a collect key that this person asked for erasure.
        """
        key = self._erasure_key
        if key is None:
            found = execute(self._sql.erasure_key).fetchone()
            if found is None:
                return new  # no erasure ever: nothing can be suppressed
            key = self._erasure_key = ErasureKey(str(found[0]).encode())
        by_hash = {key.hash(s): s for s in {ev.subject for ev in new} if not is_pseudonym(s)}
        hashes = list(by_hash)
        erased: set[str] = set()
        for i in range(0, len(hashes), _CHUNK):
            part = hashes[i : i + _CHUNK]
            erased.update(by_hash[h] for (h,) in execute(self._sql.suppressed(len(part)), part).fetchall())
        if not erased:
            return new
        return [replace(ev, subject=key.pseudonym(ev.subject)) if ev.subject in erased else ev for ev in new]

    def _store_texts(
        self, execute: Callable[..., Any], wanted: dict[str, NoticeText], head: Head, now: str
    ) -> Head:
        """Store wordings not yet held, each with a ``text`` record committing to its row."""
        hashes = list(wanted)
        have = {r[0] for r in execute(self._sql.known_texts(len(hashes)), hashes).fetchall()}
        records = []
        for h, nt in wanted.items():
            if h not in have:
                execute(
                    self._sql.insert_text,
                    (nt.text_hash, nt.notice_id, nt.notice_version, nt.locale, nt.text, now),
                )
                records.append(
                    ("text", text_record(nt.text_hash, nt.notice_id, nt.notice_version, nt.locale, now))
                )
        return add_records(execute, self._sql, head, records)

    # -- reading -----------------------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        with self.engine.connect() as conn:
            c = t.ledger_head.c
            seq, h = conn.execute(select(c.seq, c.hash).where(c.id == 1)).one()
        return int(seq), str(h)

    def head_problem(self) -> tuple[str | None, int | None]:
        """What is wrong with the head the next append would extend (None when intact), and the
        event seq at fault: the check every append makes under its lock, asked ahead without one.
        Reads at most three rows, whatever the ledger's size."""
        try:
            with self.engine.connect() as conn:

                def execute(sql: str, params: Sequence[Any] | None = None) -> Any:
                    return conn.exec_driver_sql(sql, tuple(params) if params is not None else None)

                _, problem, seq = head_problem(execute, self._sql, lock=False)
        except SQLAlchemyError as exc:
            raise storage_error(exc, "read the ledger head") from exc
        return problem, seq

    def count(self, subjects: Collection[str] | None = None) -> int:
        """How many events the ledger holds; with ``subjects``, how many are recorded under them."""
        q = select(func.count()).select_from(t.events)
        if subjects is not None:
            q = q.where(t.events.c.subject.in_(sorted(subjects)))
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def events_of(self, subjects: Collection[str], conn: Connection | None = None) -> list[ConsentEvent]:
        """Every event recorded under any of these identifiers, in recording order; read over
        ``conn`` when given (a caller's connection that reads more, left open)."""
        out: list[ConsentEvent] = []
        ids = list(subjects)
        with connected(conn if conn is not None else self.engine) as c:
            for i in range(0, len(ids), _CHUNK):
                q = select(t.events).where(t.events.c.subject.in_(ids[i : i + _CHUNK]))
                out.extend(_row_event(r._mapping) for r in c.execute(q))
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

    def verify(
        self,
        *,
        keys: PublicKeys | None = None,
        resume: tuple[int, str] | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> VerifyReport:
        """Check both chains, the side tables and the seals; report the first thing altered.

        Streams (bounded memory). ``keys``: the public keys to check seals with (default: those of
        this ledger's own key, if it has one). ``resume``: a (seq, hash) an earlier report gave as
        ``verified_seq``/``verified_hash``; events up to it are not walked again (everything else is).
        ``checkpoint``: fail unless the ledger still extends it. See :mod:`consentgate.ledger.verify`.
        """
        if keys is None and self.signer is not None:
            keys = self.signer.public_keys()
        return Verification(self.engine, keys, resume, checkpoint).run()

    def seal(self) -> None:
        """Sign the current heads now (after ``init`` or a key rotation), so even an empty ledger, or
        one last written under an older key, is sealed by this key."""
        if self.signer is None:
            raise BadInput("no ledger key to seal with; create one with `consentgate keys ledger`")
        try:
            with self._writer.begin() as conn:
                write_records(conn, self.signer, lambda _seq: (), seal=True)
        except SQLAlchemyError as exc:
            raise storage_error(exc, "seal the ledger") from exc

    def checkpoint(self) -> Checkpoint:
        """Both heads, signed with the ledger key: a file to publish or keep elsewhere."""
        if self.signer is None:
            raise BadInput(
                "no ledger key: a checkpoint must be signed; create one with `consentgate keys ledger` "
                "or set CONSENTGATE_LEDGER_KEY"
            )
        h = t.ledger_head.c
        with self.engine.connect() as conn:
            row = conn.execute(select(h.seq, h.hash, h.records_seq, h.records_hash).where(h.id == 1)).one()
        seq, digest, rseq, rhash = int(row[0]), str(row[1]), int(row[2]), str(row[3])
        signed_at = iso(utc_now())
        signature = self.signer.sign(seal_message(seq, digest, rseq, rhash, signed_at))
        return Checkpoint(seq, digest, rseq, rhash, signed_at, self.signer.key_id, signature)

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


def _check_row(row: Any, expected_seq: int, prev: str) -> str | None:
    """An event row's own checks; a pseudonymised subject is held to its erasure record by ``verify``."""
    problem = check_event_row(row, expected_seq, prev)
    salt = row["subject_salt"]
    if (
        problem is None
        and salt is not None
        and commit_subject(row["subject"] or "", salt) != row["subject_commit"]
    ):
        return "its subject was altered (it no longer matches the chained commitment)"
    return problem


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
