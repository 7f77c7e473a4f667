"""The SQL a consent snapshot needs: the ledger's events as Arrow columns, the alias links, a hash.

A full snapshot build reads every event once. Building a Python object per event cost more than the
decisions themselves (issue 20: 29,000 subjects/s), so the rows go from the database driver's
cursor straight into Arrow columns, in chunks, and only the columns the decision reads come back:
the notice fields only for the purpose asked about, ``signals`` only for ``gpc`` events.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, Engine, select

from consentgate.ledger import schema as t
from consentgate.ledger.db import connected, list_param, one_of, prefer_index_scans
from consentgate.ledger.events import PURPOSE_ACTIONS, Action

# ``kind`` of an event row: its action's code where the action is about the whole person (gpc,
# erase) or about the purpose asked for; 0 for a choice about another purpose (only its region and
# its time matter then). Small integers: the driver hands them over without a new object each.
KIND = {action: code for code, action in enumerate(Action, start=1)}
OTHER_PURPOSE = 0

# What :func:`event_columns` returns, one row per event with a subject (erased rows have none).
EVENT_COLUMNS = pa.schema(
    [
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("subject", pa.string(), nullable=False),
        pa.field("kind", pa.int8(), nullable=False),  # see KIND
        pa.field("notice_id", pa.string()),  # null unless the event is about the purpose asked for
        pa.field("notice_version", pa.string()),  # likewise
        pa.field("region", pa.string()),
        pa.field("occurred_at", pa.string(), nullable=False),  # as stored: isoformat, microseconds
        pa.field("occurred_us", pa.int64(), nullable=False),
        pa.field("recorded_us", pa.int64(), nullable=False),
        pa.field("signals", pa.string()),  # null unless action is gpc
    ]
)

_ROW = pa.struct(list(EVENT_COLUMNS))


def _kind_sql(p: str) -> str:
    person = " ".join(f"WHEN '{a.value}' THEN {KIND[a]}" for a in Action if a not in PURPOSE_ACTIONS)
    chosen = " ".join(f"WHEN '{a.value}' THEN {KIND[a]}" for a in Action if a in PURPOSE_ACTIONS)
    return (
        f"CASE action {person} ELSE CASE WHEN purpose = {p} THEN CASE action {chosen} ELSE 0 END"
        " ELSE 0 END END"
    )


_EVENTS_SQL = (
    "SELECT seq, event_id, subject, {kind},"
    " CASE WHEN purpose = {p} THEN notice_id END, CASE WHEN purpose = {p} THEN notice_version END,"
    " region, occurred_at, occurred_us, recorded_us, CASE WHEN action = 'gpc' THEN signals END"
    " FROM events WHERE {where} AND subject IS NOT NULL"
)


def event_columns(engine: Engine, purpose: str, head_seq: int, *, chunk: int = 100_000) -> pa.Table:
    """Every event with ``seq <= head_seq`` whose subject is still known, as Arrow columns.

    Through the driver's own cursor, in chunks: SQLAlchemy's row objects cost as much as the rest
    of a build. On PostgreSQL a named (server-side) cursor streams the rows, so memory holds one
    chunk of Python tuples at a time, not the whole ledger. (ADBC's SQLite driver reads into Arrow
    in C, 2-3x faster, but it links its own copy of SQLite: two copies in one process break each
    other's POSIX locks on the file (sqlite.org/howtocorrupt.html, 2.2.1). Tried: it went on
    seeing a stale ledger, and the sqlite3 module then failed with "disk I/O error".)
    """
    postgres = engine.dialect.name == "postgresql"
    p, h = ("%(p)s", "%(h)s") if postgres else (":p", ":h")
    sql = _EVENTS_SQL.format(kind=_kind_sql(p), p=p, where=f"seq <= {h}")
    return _read(
        engine, sql, {"p": purpose, "h": head_seq}, chunk, "consentgate_snapshot" if postgres else None
    )


def event_columns_of(bind: Engine | Connection, purpose: str, subjects: Collection[str]) -> pa.Table:
    """:func:`event_columns` for the events filed under these identifiers only (every seq): what a
    batch of decisions reads, in one statement however many identifiers — the list travels as one
    parameter (a PostgreSQL array; a JSON array that SQLite's ``json_each`` unpacks), so there is
    neither a bound-parameter limit nor an ``IN (...)`` list to build per call. ``bind``: an
    engine, or the connection of a caller that reads more in it (left open, its transaction too)."""
    dialect = bind.dialect.name
    sql = events_of_sql(dialect)
    return _read(bind, sql, {"p": purpose, "ids": list_param(dialect, subjects)}, 100_000, None, by_id=True)


@cache
def events_of_sql(dialect: str) -> str:
    """The statement of :func:`event_columns_of`, parameters ``p`` (the purpose) and ``ids``
    (:func:`consentgate.ledger.db.list_param`); built once per dialect; its plan is tested."""
    p = "%(p)s" if dialect == "postgresql" else ":p"
    return _EVENTS_SQL.format(kind=_kind_sql(p), p=p, where=one_of(dialect, "subject", "ids"))


def _read(
    bind: Engine | Connection,
    sql: str,
    params: dict[str, Any],
    chunk: int,
    cursor_name: str | None,
    *,
    by_id: bool = False,
) -> pa.Table:
    batches: list[pa.RecordBatch] = []
    with connected(bind) as conn:
        if by_id:  # a look-up by identifiers: through the index, even before ANALYZE saw the table
            prefer_index_scans(conn)
        raw: Any = conn.connection.dbapi_connection
        cur = raw.cursor(name=cursor_name) if cursor_name else raw.cursor()
        try:
            cur.execute(sql, params)
            while rows := cur.fetchmany(chunk):
                # Tuples straight into a struct array: 5x less CPU than transposing them into
                # columns in Python first (measured: 0.13 s against 0.77 s for 350,281 rows).
                batches.append(pa.RecordBatch.from_struct_array(pa.array(rows, type=_ROW)))
        finally:
            cur.close()
        if conn is not bind:  # ours: end the read now (a caller's connection is the caller's)
            conn.rollback()
    return pa.Table.from_batches(batches, schema=EVENT_COLUMNS)


def alias_links(engine: Engine) -> list[tuple[str, str]]:
    """Every ``(alias, subject)`` link; the snapshot groups identifiers into persons with them."""
    with engine.connect() as conn:
        return [(str(a), str(s)) for a, s in conn.execute(select(t.aliases.c.alias, t.aliases.c.subject))]


def event_hash(engine: Engine, seq: int) -> str | None:
    """The chain hash of the event at ``seq`` (None if there is none): is a snapshot's head still here?"""
    with engine.connect() as conn:
        found = conn.execute(select(t.events.c.hash).where(t.events.c.seq == seq)).scalar()
    return None if found is None else str(found)
