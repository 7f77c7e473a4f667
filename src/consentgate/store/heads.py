"""The ledger's two chain heads, read over a connection of their own: what the decision cache checks
per request (server/readcache.py) to know whether anything changed since it filled an entry."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine

from consentgate.errors import TransientStorageError

Heads = tuple[Any, ...]
_HEADS_SQL = "SELECT seq, hash, records_seq, records_hash FROM ledger_head WHERE id = 1"
_MARKS_SQL = "SELECT seq, records_seq FROM ledger_head WHERE id = 1"


def head_marks(engine: Engine) -> tuple[int, int]:
    """The event chain's and the record chain's head positions (one row): every event, alias link and
    suppression moves one of them, so equal marks mean nothing new to decide on. Plain SQL: the
    training guard asks before every step, and the statement never varies."""
    with engine.connect() as conn:
        seq, records = conn.exec_driver_sql(_MARKS_SQL).one()
    return int(seq), int(records)


class HeadReader:
    """Reads both chain heads over one dedicated connection in autocommit mode.

    Dedicated, not from the pool: a read in its own transaction sees every commit made before it
    started, and the reader never waits behind requests for a pooled connection. Thread-safe (a lock
    around the one connection); on a database error the connection is dropped, the caller gets a
    :class:`~consentgate.errors.TransientStorageError` (the server answers 503 with ``Retry-After``),
    and the next call opens another connection.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Any = None
        self._lock = threading.Lock()

    def heads(self) -> Heads:
        if self.engine.url.database in (None, "", ":memory:") and self.engine.dialect.name == "sqlite":
            # An in-memory database exists only inside the pool's own connection: ask through it.
            with self.engine.connect() as conn:
                return tuple(conn.exec_driver_sql(_HEADS_SQL).one())
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = self._open()
                cur = self._conn.cursor()
                cur.execute(_HEADS_SQL)
                row = cur.fetchone()
                cur.close()
            except self.engine.dialect.loaded_dbapi.Error as exc:
                self._close()
                # Locked, restarting, unreachable: a retry may well succeed (503 with Retry-After).
                raise TransientStorageError(f"could not read the ledger's head: {exc}") from exc
        if row is None:
            raise LookupError("the ledger_head row is missing; run `consentgate ledger verify`")
        return tuple(row)

    def _open(self) -> Any:
        fairy = self.engine.raw_connection()
        conn: Any = fairy.driver_connection
        fairy.detach()  # ours for good: the pool neither hands it out nor resets it
        if self.engine.dialect.name == "postgresql":
            conn.autocommit = True
        else:  # sqlite3 with isolation_level None (ledger/db.py): every statement commits itself
            conn.isolation_level = None
        return conn

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def close(self) -> None:
        with self._lock:
            self._close()
