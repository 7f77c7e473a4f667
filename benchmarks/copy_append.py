"""A benchmark-only way to fill a PostgreSQL ledger fast: the ledger's own append, with its event
rows sent by COPY instead of multi-row INSERTs.

``Ledger.append`` on PostgreSQL sends its rows as INSERTs of 45 rows each; psycopg re-parses each
long statement's placeholders on the client (it does not cache statements that long), which made
filling 10M events a matter of hours on this machine. :class:`CopyAppender` runs the very same
``Ledger._extend`` (head read and locked ``FOR UPDATE``, pseudonyms, wordings and their records,
row building, subject commitments, event hashes chained from the head, the head moved and sealed)
in one transaction; only the statement that inserts events goes through ``COPY events FROM STDIN``,
with the values ``_extend`` built. So the stored rows are the ones ``append`` would store, and
``Ledger.verify`` checks them like any others.

Plug it in as a ``ConsentService``'s ``committer`` so the events still pass the service's
validation (``ConsentService.record``).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from consentgate.ledger.events import ConsentEvent, NewEvent, NoticeText
from consentgate.ledger.store import _EVENT_COLUMNS, Ledger

_INSERT_EVENTS = "INSERT INTO events ("
_COPY = f"COPY events ({', '.join(_EVENT_COLUMNS)}) FROM STDIN"


class CopyAppender:
    """A ``committer`` for :class:`~consentgate.service.ConsentService` on a PostgreSQL ledger."""

    def __init__(self, ledger: Ledger) -> None:
        if not ledger.is_postgres:
            raise ValueError("CopyAppender is for PostgreSQL ledgers; SQLite appends in-process already")
        self.ledger = ledger

    def append(self, new: Sequence[NewEvent], texts: Iterable[NoticeText] = ()) -> list[ConsentEvent]:
        if not new:
            return []
        wanted = {nt.text_hash: nt for nt in texts}
        noise = os.urandom(32 * len(new))  # as Ledger.append: salt and event id per event
        width = len(_EVENT_COLUMNS)
        with self.ledger.engine.execution_options(ledger_write=True).begin() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            pending: list[Any] = []  # the event rows' values, sent in one COPY before the next statement

            def execute(sql: str, params: Sequence[Any] | None = None) -> Any:
                if sql.startswith(_INSERT_EVENTS):
                    pending.extend(params or ())
                    return None
                if pending:
                    with cursor.copy(_COPY) as copy:
                        for i in range(0, len(pending), width):
                            copy.write_row(pending[i : i + width])
                    pending.clear()
                return conn.exec_driver_sql(sql, tuple(params) if params is not None else None)

            stored = self.ledger._extend(execute, new, wanted, noise)
            if pending:
                raise RuntimeError(
                    "Ledger._extend inserted events after moving the head; update CopyAppender"
                )
            return stored


def copy_sqlite_ledger(sqlite_path: Path, ledger: Ledger, upto: int) -> int:
    """Give an empty PostgreSQL ledger the events 1..``upto`` of a SQLite ledger this benchmark
    filled through ``ConsentService.record``: the same rows (same hashes, salts, commitments), sent
    by one COPY, and the head moved to event ``upto``. Filling the same 10M-event history twice
    through Python would cost the CPU of two fills; the chain stays checkable (``Ledger.verify``).
    Refused for a SQLite ledger with records (wordings, links): only its events are copied."""
    if not ledger.is_postgres or ledger.count():
        raise ValueError("copy_sqlite_ledger fills an empty PostgreSQL ledger")
    src = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        if src.execute("SELECT records_seq FROM ledger_head WHERE id = 1").fetchone()[0]:
            raise ValueError(
                f"{sqlite_path} holds records besides events; copy_sqlite_ledger copies events only"
            )
        last = src.execute("SELECT hash FROM events WHERE seq = ?", (upto,)).fetchone()
        if last is None:
            raise ValueError(f"{sqlite_path} holds no event {upto}")
        rows = src.execute(
            f"SELECT {', '.join(_EVENT_COLUMNS)} FROM events WHERE seq <= ? ORDER BY seq", (upto,)
        )
        with ledger.engine.execution_options(ledger_write=True).begin() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(_COPY) as copy:
                for row in rows:
                    copy.write_row(row)
            conn.exec_driver_sql("UPDATE ledger_head SET seq = %s, hash = %s WHERE id = 1", (upto, last[0]))
    finally:
        src.close()
    return upto
