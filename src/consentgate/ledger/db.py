"""Database engines and migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, StatementError

from consentgate.errors import BadInput, StorageError, TerminalStorageError, TransientStorageError
from consentgate.ledger.rows import HEAD_REVISION

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# Opening a ledger whose schema is at the newest revision (``rows.HEAD_REVISION``) skips Alembic
# altogether: importing it costs more than the rest of ``consentgate decide``.


def normalise_url(url: str) -> str:
    """Accept a plain file path, ``sqlite:///…`` or ``postgresql://…`` (driven by psycopg 3)."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    full = normalise_url(url)
    try:
        parsed = make_url(full)
    except ArgumentError:
        raise BadInput(f"--db {url!r} is not a database URL; use a file path or postgresql://…") from None
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(full, connect_args={"check_same_thread": False, "timeout": 30})
        _tune_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(full, pool_size=10, max_overflow=10, pool_pre_ping=True)
    raise BadInput(f"--db {url!r}: only SQLite and PostgreSQL are supported")


def _tune_sqlite(engine: Engine) -> None:
    """WAL for concurrent readers, synchronous=FULL so a commit is on disk before we acknowledge it,
    and explicit BEGIN so SQLAlchemy (not the sqlite3 module) decides when transactions start."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # busy_timeout first: switching a new file to WAL needs a lock another process may hold.
        cur.execute("PRAGMA busy_timeout=30000")
        retry_locked(lambda: cur.execute("PRAGMA journal_mode=WAL"))
        cur.execute("PRAGMA synchronous=FULL")
        # Deleted and overwritten content is zeroed, not left in free space: an erasure's old
        # identifiers must not be readable from the file (requests/desk.py; costs writes that free
        # space, which an append-only ledger rarely does).
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front so the chain head they read is the one they extend.
        mode = "IMMEDIATE" if conn.get_execution_options().get("ledger_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def retry_locked(action: Callable[[], Any], attempts: int = 60) -> Any:
    """Run ``action``, retrying while SQLite reports the file locked.

    SQLite skips the busy handler where waiting could deadlock (a journal-mode change, a lock
    upgrade), so several processes opening a new ledger at once can see "database is locked" even
    with a busy timeout; the lock is gone milliseconds later.
    """
    delay = 0.01
    for attempt in range(attempts):
        try:
            return action()
        except (sqlite3.OperationalError, OperationalError) as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
    return None


def _alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


# Key of the PostgreSQL advisory lock that lets one process at a time migrate a database.
_MIGRATE_LOCK = 0x636F6E73656E74  # "consent"


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is current).

    Safe when several processes start at once on an empty database (say, three servers behind a load
    balancer): one migrates while the others wait, then they find the schema current. SQLite's
    ``BEGIN IMMEDIATE`` and a PostgreSQL advisory lock held to the end of the transaction serialise
    them, and the revision is read again under the lock.
    """
    if _stored_revision(engine) == HEAD_REVISION:
        return  # the common case, answered without importing Alembic
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = _alembic_config()
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return
    with engine.execution_options(ledger_write=True).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATE_LOCK})
        if MigrationContext.configure(conn).get_current_revision() == head:
            return  # another process migrated while this one waited for the lock
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _stored_revision(engine: Engine) -> str | None:
    """The revision the database records, or None when it records none (a new database) or cannot
    be read now: the full path through Alembic then decides, with its locking and retries."""
    try:
        with engine.connect() as conn:
            value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None
    return None if value is None else str(value)


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    cfg = _alembic_config()
    with engine.execution_options(ledger_write=True).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def storage_error(exc: BaseException, doing: str) -> StorageError:
    """``could not <doing>: <the driver's reason>``, transient for operational errors."""
    orig = getattr(exc, "orig", None)
    if orig is not None:
        source = str(orig)
    elif isinstance(exc, StatementError):
        source = type(exc).__name__
    else:
        source = str(exc) or type(exc).__name__
    lines = source.strip().splitlines()
    reason = lines[0] if lines else type(exc).__name__
    if isinstance(exc, OperationalError):
        return TransientStorageError(f"could not {doing}: {reason}")
    return TerminalStorageError(f"could not {doing}: {reason}")


@contextmanager
def connected(bind: Engine | Connection) -> Iterator[Connection]:
    """A connection for a read: ``bind`` itself when it is one (a caller that makes several reads
    in a row passes its own, and keeps it open), else a new one from the engine's pool. On
    PostgreSQL every new pooled connection costs a pre-ping and a rollback, two round trips: a cold
    batch made three such checkouts (docs/benchmarks.md, issue 20, branch cold3)."""
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as conn:
        yield conn


def prefer_index_scans(conn: Connection) -> None:
    """For the rest of ``conn``'s transaction, have PostgreSQL look identifiers up through their
    indexes, whatever its statistics say.

    Before ``ANALYZE`` has seen a table (a ledger just loaded or imported, until autovacuum's next
    round) the planner guesses that ``subject = ANY(<1,000 identifiers>)`` matches most rows and
    scans the whole table: 8.4 ms against 1.2 ms through the index for 1,000 of 30,000 events,
    growing with the ledger (EXPLAIN ANALYZE, docs/benchmarks.md, issue 20, branch cold3). A
    look-up by identifier is what the indexes are for; ``enable_seqscan`` only makes the planner
    avoid a sequential scan where another plan exists. ``SET LOCAL`` ends with the transaction.
    Only for reads whose tables grow with every request: on a small table the planner's sequential
    scan is the cheaper plan (an empty ``aliases`` table: 0.8 ms of backend CPU for 2,000 index
    probes against microseconds). Nothing on SQLite, whose planner uses the index for
    ``IN (SELECT ...)`` anyway."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")


def one_of(dialect: str, column: str, param: str) -> str:
    """SQL for "``column`` is one of the values bound to ``param``", the values travelling as one
    parameter (:func:`list_param`): a PostgreSQL ``text[]``, or a JSON array that SQLite's
    ``json_each`` unpacks. Unlike ``IN (…)`` with one placeholder per value there is no
    bound-parameter limit to chunk under, and no statement to build per list (SQLAlchemy's expansion
    of a 400-value ``IN`` cost more than the query: issue 20). For the driver's own cursor
    (``exec_driver_sql``)."""
    if dialect == "postgresql":
        return f"{column} = ANY(CAST(%({param})s AS text[]))"
    return f"{column} IN (SELECT value FROM json_each(:{param}))"


def list_param(dialect: str, values: Iterable[str]) -> Any:
    """The value to bind for :func:`one_of`: on PostgreSQL the array as its text literal, which the
    server parses. psycopg's list dumper builds that text in Python, element by element: 0.64 ms of
    CPU for 1,000 identifiers against 0.15 ms for the literal (a cold batch binds two such lists;
    docs/benchmarks.md, issue 20, branch cold3)."""
    vals = list(values)
    if dialect != "postgresql":
        return json.dumps(vals)
    joined = "".join(vals)
    if '"' in joined or "\\" in joined:  # rare: quote each element as the array syntax wants
        vals = [v.replace("\\", "\\\\").replace('"', '\\"') for v in vals]
    return '{"' + '","'.join(vals) + '"}' if vals else "{}"
