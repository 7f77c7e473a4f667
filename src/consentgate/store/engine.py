"""Engine helpers shared by the stores and their callers, so no caller needs SQLAlchemy itself.

``Engine`` is re-exported for type hints: callers that hold a database handle name its type from
here. :func:`writer` marks a transaction as a ledger write (``ledger/db.py`` serialises those on
SQLite).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from consentgate.ledger.db import normalise_url

__all__ = ["Connection", "Engine", "missing_sqlite_file", "writer"]


def writer(engine: Engine) -> Engine:
    """The engine whose transactions take the ledger's write lock (``execution_options`` is cheap:
    it shares the pool)."""
    return engine.execution_options(ledger_write=True)


def missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file a URL points at when that file does not exist yet; None otherwise.

    Readers check this before opening: opening a mistyped path would create a new, empty ledger that
    "verifies" with zero events and lets everyone pass an opt-out purpose."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        return None  # Ledger.open reports a bad URL with its own message
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path
