"""The ledger's rows as values, without SQLAlchemy: what the CLI's read path
(``store/sqlite_reads.py``) shares with the stores, and the words for a ``sqlite3`` error.

``HEAD_REVISION`` is the newest migration's revision: a database at it has the tables these rows
come from (``ledger/db.py`` skips Alembic for it; tests/ledger/test_migrations.py checks that it is
Alembic's head, so a new migration cannot be skipped by a stale constant).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from consentgate.errors import TerminalStorageError, TransientStorageError
from consentgate.ledger.events import Action, ConsentEvent

HEAD_REVISION = "0012"


def row_event(row: Any) -> ConsentEvent:
    """A stored row as an event; the hot path of every decision that reads the ledger."""
    subject = row["subject"]
    signals = row["signals"]
    return ConsentEvent(
        subject if subject is not None else f"erased:{row['subject_commit'][:16]}",
        ACTIONS[row["action"]],
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


ACTIONS = {a.value: a for a in Action}


def sqlite_error(exc: sqlite3.Error, doing: str) -> Exception:
    """What :func:`~consentgate.ledger.db.storage_error` says of the same error raised through SQLAlchemy."""
    text = str(exc).strip().splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, sqlite3.OperationalError):
        return TransientStorageError(f"could not {doing}: {text}")
    return TerminalStorageError(f"could not {doing}: {text}")
