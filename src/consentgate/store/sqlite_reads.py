"""What a decision reads from a SQLite ledger, through the standard ``sqlite3`` module alone.

``consentgate decide`` for one person is a process that lives a third of a second, most of it
importing. SQLAlchemy alone took 0.12 s of the 0.51 s it measured (docs/benchmarks.md, "CLI
start-up"), for four small queries. This module asks them with the driver, in one read transaction,
so the links, the suppression list and the events come from one snapshot of the file. The rows
become the same values the stores return (``ledger/rows.py``), and the people are found by the same
walk (``store/persons.py``); ``deciding.py`` turns them into decisions for both paths.

It reads only a ledger it can be sure of: a plain SQLite file (a path or ``sqlite:///path``) that
exists and whose schema is at the newest revision. For anything else :meth:`SqliteReads.open` says
None and the caller takes the full path, which migrates, reports errors in its own words and knows
PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from consentgate.ledger.events import ConsentEvent
from consentgate.ledger.pseudonyms import KEY_PURPOSE, ErasureKey, by_hash
from consentgate.ledger.rows import HEAD_REVISION, row_event, sqlite_error
from consentgate.store.persons import CHUNK, components


def sqlite_file(url: str) -> Path | None:
    """The file a ``--db`` value names when it is plainly a SQLite file; None when in doubt (other
    databases, in-memory, URL parameters, escapes), which sends the caller down the full path."""
    if "://" not in url:
        return Path(url).expanduser() if url and url != ":memory:" else None
    prefix = "sqlite:///"
    if not url.startswith(prefix) or any(c in url for c in "?%#"):
        return None
    path = url[len(prefix) :]
    return Path(path) if path and path != ":memory:" else None


class SqliteReads:
    """One read transaction on a SQLite ledger; close it when done."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    @classmethod
    def open(cls, url: str) -> SqliteReads | None:
        path = sqlite_file(url)
        if path is None or not path.is_file():
            return None
        db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        db.row_factory = sqlite3.Row
        try:
            db.execute("BEGIN")  # deferred: one snapshot for every read below, no write lock
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:  # not a ledger, locked, damaged: the full path says what is wrong
            row = None
        if row is None or row[0] != HEAD_REVISION:
            db.close()
            return None
        return cls(db)

    def close(self) -> None:
        self._db.close()  # ends the read transaction; nothing was written

    def people(self, subjects: Collection[str]) -> dict[str, set[str]]:
        def links_of(part: list[str]) -> Iterable[tuple[str, str]]:
            marks = _marks(len(part))
            sql = f"SELECT alias, subject FROM aliases WHERE alias IN ({marks}) OR subject IN ({marks})"
            return [(r[0], r[1]) for r in self._rows(sql, part + part)]

        return components(subjects, links_of)

    def erasure_key(self) -> ErasureKey | None:
        sql = "SELECT secret FROM service_secrets WHERE purpose = ? ORDER BY generation LIMIT 1"
        rows = self._rows(sql, (KEY_PURPOSE,))
        return ErasureKey(str(rows[0][0]).encode()) if rows else None

    def suppressed(self, key: ErasureKey, identifiers: Collection[str]) -> set[str]:
        hashes = by_hash(key, identifiers)
        found: set[str] = set()
        listed = list(hashes)
        for i in range(0, len(listed), CHUNK):
            part = listed[i : i + CHUNK]
            sql = f"SELECT id_hash FROM suppressions WHERE id_hash IN ({_marks(len(part))})"
            found.update(r[0] for r in self._rows(sql, part))
        return {i for h in found for i in hashes[h]}

    def events_of(self, identifiers: Collection[str]) -> list[ConsentEvent]:
        out: list[ConsentEvent] = []
        ids = list(identifiers)
        for i in range(0, len(ids), CHUNK):
            part = ids[i : i + CHUNK]
            sql = f"SELECT * FROM events WHERE subject IN ({_marks(len(part))})"
            out.extend(row_event(r) for r in self._rows(sql, part))
        out.sort(key=lambda e: e.seq)
        return out

    def _rows(self, sql: str, params: Sequence[object]) -> list[sqlite3.Row]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:  # the words the full path's stores use for the same error
            raise sqlite_error(exc, "read the ledger") from exc


def _marks(n: int) -> str:
    return ", ".join("?" * n)
