"""Filling a PostgreSQL ledger for a benchmark with COPY, through the append path's own code.

``Ledger.append`` sends its rows as multi-row ``INSERT``s; in a profile of a 200,000-event fill
psycopg spent over half the append time parsing those long statements (``_query2pg_nocache``: too
long for its cache), and the fill took twice as long as with COPY. ``copy_append`` runs the very
same transaction body (``Ledger._extend``: the head read and checked under ``FOR UPDATE``, subjects
under pseudonyms, each row built, salted and hashed onto the chain, the head moved and sealed when
the ledger has a key), and only turns the ``INSERT INTO events`` statements into one ``COPY events
FROM STDIN``. The ledger is the one ``append`` writes — same rows, same chain, same indexes (COPY
maintains them) — which ``Ledger.verify`` confirms (``benchmarks/reports.py --verify``).

A benchmark helper, not a product path: it calls a private method of the ledger on purpose, so
it follows whatever the append path does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

_INSERT = "INSERT INTO events ("


def copy_append(ledger: Any, new: Sequence[Any]) -> int:
    """Append ``new`` (``NewEvent``s) in one transaction, as ``ledger.append(new)`` would; the event
    rows are loaded with COPY. Returns how many were stored."""
    from consentgate.ledger.store import _EVENT_COLUMNS

    if not new:
        return 0
    if not ledger.is_postgres:
        raise SystemExit("--fill copy needs PostgreSQL (SQLite has no COPY); use --fill append")
    width = len(_EVENT_COLUMNS)
    copy_sql = f"COPY events ({', '.join(_EVENT_COLUMNS)}) FROM STDIN"
    with ledger._writer.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        pending: list[Any] = []

        def flush() -> None:
            if pending:
                with cursor.copy(copy_sql) as copy:
                    for i in range(0, len(pending), width):
                        copy.write_row(pending[i : i + width])
                pending.clear()

        def execute(sql: str, params: Sequence[Any] | None = None) -> Any:
            if sql.startswith(_INSERT):  # the rows of one multi-row INSERT, flattened
                assert params is not None
                assert len(params) % width == 0
                pending.extend(params)
                return None
            flush()  # anything else runs after the rows before it, as in append
            return conn.exec_driver_sql(sql, tuple(params) if params is not None else None)

        stored = ledger._extend(execute, new, {}, os.urandom(32 * len(new)))
        flush()
    return len(stored)
