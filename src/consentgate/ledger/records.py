"""Writing the record chain and the seals, inside a writer's transaction.

Every write that changes what a decision or the evidence reads goes through here: event appends
(their new notice wordings become ``text`` records), ``identity.link`` (``link``), erasure
(``suppress``, ``pseudonymise``). Each one, under the ``ledger_head`` lock:

1. checks that both heads it extends still hash to their stored values (a writer must never chain
   new entries onto a tampered row and so lend it the credibility of later seals);
2. appends its records and moves the head;
3. seals: signs both heads with the ledger key, when one is configured.

The statements are driver SQL run through an ``execute(sql, params)`` callable, so the hot append
path (raw ``sqlite3``) and SQLAlchemy connections share them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from consentgate.errors import ChainBroken
from consentgate.ledger.chain import CHAIN_FIELDS, event_hash, record_hash, seal_message
from consentgate.ledger.signing import Signer

Execute = Callable[..., Any]
_HEAD_COLUMNS = "seq, hash, records_seq, records_hash"


@dataclass(frozen=True, slots=True)
class Head:
    """Both chain heads as ``ledger_head`` stores them."""

    seq: int
    hash: str
    records_seq: int
    records_hash: str


def dump_body(body: Mapping[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class ChainSQL:
    """The statements, in the driver's placeholder style."""

    def __init__(self, postgres: bool) -> None:
        m = self.mark = "%s" if postgres else "?"  # psycopg / sqlite3
        lock = " FOR UPDATE" if postgres else ""  # SQLite: BEGIN IMMEDIATE already holds the lock
        self.head_unlocked = f"SELECT {_HEAD_COLUMNS} FROM ledger_head WHERE id = 1"
        self.head = self.head_unlocked + lock
        self.set_head = (
            f"UPDATE ledger_head SET seq = {m}, hash = {m}, records_seq = {m}, records_hash = {m} "
            "WHERE id = 1"
        )
        self.last_event = f"SELECT prev_hash, hash, {', '.join(CHAIN_FIELDS)} FROM events WHERE seq = {m}"
        self.last_record = f"SELECT prev_hash, hash, kind, body FROM ledger_records WHERE seq = {m}"
        self.insert_record = (
            f"INSERT INTO ledger_records (seq, kind, body, prev_hash, hash) VALUES ({m}, {m}, {m}, {m}, {m})"
        )
        self.last_seal = "SELECT COALESCE(MAX(id), 0) FROM ledger_seals"
        self.insert_seal = (
            "INSERT INTO ledger_seals (id, events_seq, events_hash, records_seq, records_hash, signed_at, "
            f"key_id, signature) VALUES ({', '.join([m] * 8)})"
        )


def read_head(execute: Execute, sql: ChainSQL) -> Head:
    """The locked head, after checking that the entries it names still hash to it."""
    head, problem, seq = head_problem(execute, sql)
    if head is None:
        raise ChainBroken("the ledger_head row is missing; run `consentgate ledger verify`")
    if problem is not None:
        raise ChainBroken(
            f"refusing to append: {problem}; the ledger was altered — run `consentgate ledger verify`",
            seq=seq,
        )
    return head


def head_problem(
    execute: Execute, sql: ChainSQL, *, lock: bool = True
) -> tuple[Head | None, str | None, int | None]:
    """The head, what is wrong with it (None when both chains' last entries still hash to it), and
    the event seq at fault when it is the event chain's. The one check every append makes;
    ``lock=False`` reads without ``FOR UPDATE``, for a caller that only asks (the CLI, before it
    parses anything)."""
    row = execute(sql.head if lock else sql.head_unlocked).fetchone()
    if row is None:
        return None, "the ledger_head row is missing", None
    head = Head(int(row[0]), str(row[1]), int(row[2]), str(row[3]))
    if head.seq:
        ev = execute(sql.last_event, (head.seq,)).fetchone()
        if ev is None:
            return (
                head,
                f"the ledger head records {head.seq} events, but event seq {head.seq} is missing (deleted)",
                head.seq,
            )
        record = dict(zip(("prev_hash", "hash", *CHAIN_FIELDS), ev, strict=True))
        record["signals"] = json.loads(record["signals"])
        if record["hash"] != head.hash or event_hash(record["prev_hash"], record) != head.hash:
            return head, f"the last event (seq {head.seq}) no longer hashes to the ledger head", head.seq
    if head.records_seq:
        rec = execute(sql.last_record, (head.records_seq,)).fetchone()
        if (
            rec is None
            or rec[1] != head.records_hash
            or record_hash(rec[0], head.records_seq, rec[2], json.loads(rec[3])) != head.records_hash
        ):
            rows = "(aliases, suppressions, wording)"
            return head, f"record {head.records_seq} {rows} no longer hashes to the ledger head", None
    return head, None, None


def text_record(
    text_hash: str, notice_id: str, version: str, locale: str, first_recorded_at: str
) -> dict[str, Any]:
    """The ``text`` record of a ``notice_texts`` row (its wording is committed by ``text_hash``)."""
    return {
        "text_hash": text_hash,
        "notice_id": notice_id,
        "notice_version": version,
        "locale": locale,
        "first_recorded_at": first_recorded_at,
    }


def add_records(
    execute: Execute, sql: ChainSQL, head: Head, items: Sequence[tuple[str, Mapping[str, Any]]]
) -> Head:
    """Append records after ``head``; returns the moved head (not yet stored)."""
    seq, prev = head.records_seq, head.records_hash
    for kind, body in items:
        seq += 1
        h = record_hash(prev, seq, kind, body)
        execute(sql.insert_record, (seq, kind, dump_body(body), prev, h))
        prev = h
    return replace(head, records_seq=seq, records_hash=prev)


def finish(execute: Execute, sql: ChainSQL, head: Head, signer: Signer | None) -> None:
    """Store the moved head and, with a ledger key, seal it."""
    execute(sql.set_head, (head.seq, head.hash, head.records_seq, head.records_hash))
    if signer is None:
        return
    signed_at = datetime.now(UTC).isoformat(timespec="microseconds")
    message = seal_message(head.seq, head.hash, head.records_seq, head.records_hash, signed_at)
    n = int(execute(sql.last_seal).fetchone()[0]) + 1
    execute(
        sql.insert_seal,
        (
            n,
            head.seq,
            head.hash,
            head.records_seq,
            head.records_hash,
            signed_at,
            signer.key_id,
            signer.sign(message),
        ),
    )


Records = Sequence[tuple[str, Mapping[str, Any]]]


def write_records(
    conn: Connection, signer: Signer | None, change: Callable[[int], Records], *, seal: bool = False
) -> None:
    """Run ``change`` under the head lock in the caller's (writing) transaction and chain the records
    it returns. ``change`` gets the seq its first record will have, and makes its side-table writes
    itself: reading what is there and writing happen under one lock, so concurrent writers queue."""
    sql = ChainSQL(conn.dialect.name == "postgresql")

    def execute(statement: str, params: Sequence[Any] | None = None) -> Any:
        return conn.exec_driver_sql(statement, tuple(params) if params is not None else None)

    head = read_head(execute, sql)
    items = change(head.records_seq + 1)
    if items or seal:
        finish(execute, sql, add_records(execute, sql, head, items), signer)
