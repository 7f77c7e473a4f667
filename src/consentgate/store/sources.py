"""A policy source's own SQL table (``sources[].store`` of type ``sql``), reached for erasure.

Not the ledger's database: the URL is the source's. What to match and what to null is decided by
the policy and ``requests/adapters.py``; this module runs the statements, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import MetaData, String, Table, cast, create_engine, func, or_, select, update
from sqlalchemy import delete as sql_delete

from consentgate.errors import BadInput
from consentgate.ledger.db import normalise_url

_CHUNK = 400


def matching_rows(
    url: str,
    table_name: str,
    subject_columns: Sequence[str],
    identifiers: Collection[str],
    *,
    change: str | None = None,
    nulled: Sequence[str] = (),
    source_id: str = "",
) -> int:
    """Count the rows whose ``subject_columns`` (compared as text) hold one of ``identifiers``;
    with ``change="delete"`` delete them, with ``change="null"`` set the ``nulled`` columns to NULL.
    Every chunk runs in one transaction, so a failure changes nothing."""
    engine = create_engine(normalise_url(url))
    try:
        schema, _, name = table_name.rpartition(".")
        table = Table(name, MetaData(), schema=schema or None, autoload_with=engine)
        for c in nulled:
            if c not in table.c:
                raise BadInput(
                    f"source {source_id!r}: table {table_name!r} has no column {c!r} (fix sources[].store)"
                )
        ids = sorted(identifiers)
        total = 0
        with engine.begin() as conn:  # one transaction: every chunk or none
            for i in range(0, len(ids), _CHUNK):
                chunk = ids[i : i + _CHUNK]
                where = or_(*(cast(table.c[c], String).in_(chunk) for c in subject_columns))
                if change is None:
                    total += int(
                        conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()
                    )
                elif change == "delete":
                    total += conn.execute(sql_delete(table).where(where)).rowcount
                else:
                    nulls: dict[str, Any] = dict.fromkeys(nulled)
                    total += conn.execute(update(table).where(where).values(**nulls)).rowcount
        return total
    finally:
        engine.dispose()
