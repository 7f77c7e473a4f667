"""The SQL of the banner-outcome and GPC-share rollup (reports/web_rollup.py): what it reads from the
event chain, and its tables (``report_web_state``, ``report_banner_clicks``/``_days``,
``report_web_visits``/``_days``; migration 0011).

Reads for a refresh run in one snapshot (:func:`snapshot`), so the changed identifiers, their events
and the head they are read up to agree even while an erasure renames identifiers meanwhile. Writes
hold the rollup's lock (:func:`~consentgate.store.rates.locked` with this rollup's key).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, Table, and_, delete, func, insert, or_, select, text, true, update

from consentgate.ledger import schema as t
from consentgate.store.engine import writer
from consentgate.store.rates import marks

DAY_US = 86_400_000_000
# Key of the PostgreSQL advisory lock of this rollup ("web_roll"), distinct from the rates rollup's.
LOCK_KEY = 0x7765625F726F6C6C
WEB_SOURCES = ("banner", "privacy_center", "toggle")
_CHUNK = 400  # IN (...) lists under SQLite's bound-parameter limit
# Writes of more rows than this run with a SQLite page cache of _BIG_WRITE_CACHE_KIB (see _page_cache).
_BIG_WRITE = 50_000
_BIG_WRITE_CACHE_KIB = 256 * 1024
_E = t.events.c

# A click row's key: (occurred_us or day, region code or "", outcome); a visit row's key: (region
# group, kind "seen" or "gpc", instant or day, previous instant or day).
ClickKey = tuple[int, str, str]
VisitKey = tuple[str, str, int, int]


class WebEvent(NamedTuple):
    """The fields of an event the two reports read."""

    who: str
    seq: int
    occurred_us: int
    region: str | None
    source: str
    action: str
    signals: str


@dataclass(frozen=True, slots=True)
class WebState:
    events_seq: int
    regions_fingerprint: str


@dataclass(slots=True)
class Deltas:
    """What a refresh adds to (or, negative, takes from) the rollup's counts."""

    clicks: Counter[ClickKey]
    visits: Counter[VisitKey]


# -- reads of the event chain ------------------------------------------------------------------------


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """One read transaction that sees a single state of the database throughout (SQLite: a deferred
    transaction, PostgreSQL: REPEATABLE READ)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


@contextmanager
def locked_snapshot(engine: Engine) -> Iterator[Connection]:
    """A write transaction that holds the rollup's lock and whose reads all see one state taken
    after the lock was granted: SQLite's ``BEGIN IMMEDIATE`` (no other writer commits meanwhile); on
    PostgreSQL the advisory lock is taken first, in a transaction of its own, then a REPEATABLE READ
    transaction begins (its snapshot is taken at its first read, after the lock)."""
    if engine.dialect.name != "postgresql":
        with writer(engine).begin() as conn:
            yield conn
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
        conn.commit()
        try:
            conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            conn.commit()


def _who() -> Any:
    return func.coalesce(_E.subject, _E.subject_commit)


def _relevant() -> Any:
    """Events either report reads: those of the web collection points, and ``gpc`` events."""
    return or_(_E.source.in_(WEB_SOURCES), _E.action == "gpc")


def _columns() -> tuple[Any, ...]:
    return (_who(), _E.seq, _E.occurred_us, _E.region, _E.source, _E.action, _E.signals)


def _event(r: Any) -> WebEvent:
    return WebEvent(str(r[0]), int(r[1]), int(r[2]), r[3], str(r[4]), str(r[5]), str(r[6]))


def events_head(conn: Connection) -> int:
    head = conn.execute(select(t.ledger_head.c.seq).where(t.ledger_head.c.id == 1)).scalar()
    return 0 if head is None else int(head)


def changed(conn: Connection, after: int, upto: int) -> tuple[set[str], set[str]]:
    """Identifiers with a relevant event in ``(after, upto]``: subjects, and the commitments standing
    in for events stored without a subject."""
    q = select(_E.subject, _E.subject_commit).where(_E.seq > after, _E.seq <= upto, _relevant()).distinct()
    subjects: set[str] = set()
    commits: set[str] = set()
    for subject, commit in conn.execute(q):
        if subject is None:
            commits.add(str(commit))
        else:
            subjects.add(str(subject))
    return subjects, commits


def events_of(
    conn: Connection, subjects: Collection[str], commits: Collection[str], upto: int
) -> list[WebEvent]:
    """The relevant events, up to ``upto``, recorded under these identifiers."""
    out: list[WebEvent] = []
    for column, ids, extra in (
        (_E.subject, sorted(subjects), true()),
        (_E.subject_commit, sorted(commits), _E.subject.is_(None)),
    ):
        for i in range(0, len(ids), _CHUNK):
            q = select(*_columns()).where(column.in_(ids[i : i + _CHUNK]), extra, _E.seq <= upto, _relevant())
            out.extend(_event(r) for r in conn.execute(q))
    return out


def all_events(conn: Connection, upto: int) -> Iterator[WebEvent]:
    """Every relevant event up to ``upto``, one identifier's together (streamed: a full build)."""
    q = select(*_columns()).where(_E.seq <= upto, _relevant()).order_by(_who(), _E.seq)
    for r in conn.execution_options(yield_per=20_000).execute(q):
        yield _event(r)


# -- the rollup --------------------------------------------------------------------------------------


def read_state(conn: Connection) -> WebState | None:
    s = t.report_web_state.c
    row = conn.execute(select(s.events_seq, s.regions_fingerprint).where(s.id == 1)).first()
    return None if row is None else WebState(int(row[0]), str(row[1]))


def reset(conn: Connection) -> None:
    """Empty the rollup (none yet, or the policy's regions changed): it is rebuilt from the start."""
    for table in (
        t.report_banner_clicks,
        t.report_banner_days,
        t.report_web_visits,
        t.report_web_days,
        t.report_web_state,
    ):
        conn.execute(delete(table))


def discard(conn: Connection) -> None:
    """Forget how far the rollup has read: the next report rebuilds it from the whole ledger."""
    conn.execute(delete(t.report_web_state))


def advance(conn: Connection, events_seq: int, fingerprint: str) -> None:
    s = t.report_web_state.c
    now = datetime.now(UTC).isoformat()
    values = {"events_seq": events_seq, "regions_fingerprint": fingerprint, "updated_at": now}
    if conn.execute(update(t.report_web_state).where(s.id == 1).values(**values)).rowcount == 0:
        conn.execute(insert(t.report_web_state).values(id=1, **values))


def apply(conn: Connection, deltas: Deltas) -> None:
    """Add the deltas to the per-instant and per-day counts, deleting rows that fall to zero."""
    days: Counter[ClickKey] = Counter()
    for (us, region, outcome), n in deltas.clicks.items():
        days[(us // DAY_US, region, outcome)] += n
    visit_days: Counter[VisitKey] = Counter()
    for (group, kind, at, prev), n in deltas.visits.items():
        visit_days[(group, kind, at // DAY_US, prev // DAY_US)] += n
    with _page_cache(conn, len(deltas.clicks) + len(deltas.visits)):
        _add(conn, t.report_banner_clicks, ("occurred_us", "region", "outcome"), "clicks", deltas.clicks)
        _add(conn, t.report_banner_days, ("day", "region", "outcome"), "clicks", days)
        _add(conn, t.report_web_visits, ("region", "kind", "at_us", "prev_us"), "visits", deltas.visits)
        _add(conn, t.report_web_days, ("region", "kind", "day", "prev_day"), "visits", visit_days)


@contextmanager
def _page_cache(conn: Connection, rows: int) -> Iterator[None]:
    """On SQLite, a page cache sized for a large write (a first build, a bulk import) while it runs.

    SQLite's default cache (2 MB) is for small transactions. Once the rollup's tables outgrow it,
    each row that lands on a page no longer cached evicts a dirty page to the WAL and reads another
    back: at 1M events a first build wrote and read 1.46 GB for 600,000 rows, at 100k events 10 MB
    for 60,000 (docs/benchmarks.md, "Banner outcomes and GPC share"). Rows in key order (``_add``)
    keep the tables and their keys growing at one edge; the cache holds the index on ``prev_us``,
    which they reach anywhere. Pages are taken as needed, and the connection's own size is put back
    afterwards (it returns to the pool)."""
    if conn.dialect.name != "sqlite" or rows < _BIG_WRITE:
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{_BIG_WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def _add(conn: Connection, table: Table, key: Sequence[str], count: str, deltas: Counter[Any]) -> None:
    # In the order of the table's primary key, so inserts extend its B-trees instead of landing anywhere.
    order = itemgetter(*(key.index(c.name) for c in table.primary_key.columns))
    rows = sorted(((*k, n) for k, n in deltas.items() if n), key=order)
    if not rows:
        return
    name, cols = table.name, ", ".join(key)
    conn.exec_driver_sql(
        f"INSERT INTO {name} ({cols}, {count}) VALUES ({marks(conn, len(key) + 1)}) "
        f"ON CONFLICT ({cols}) DO UPDATE SET {count} = {name}.{count} + excluded.{count}",
        rows,
    )
    fell = [k for k, n in deltas.items() if n < 0]
    if fell:
        where = " AND ".join(
            f"{c} = {m}" for c, m in zip(key, marks(conn, len(key)).split(", "), strict=True)
        )
        conn.exec_driver_sql(f"DELETE FROM {name} WHERE {where} AND {count} = 0", fell)


# -- what the reports read ---------------------------------------------------------------------------


def day_clicks(conn: Connection, lo_day: int, hi_day: int) -> list[tuple[int, str, str, int]]:
    """(day, region code, outcome, clicks) of the days in ``[lo_day, hi_day)``."""
    c = t.report_banner_days.c
    q = select(c.day, c.region, c.outcome, c.clicks).where(c.day >= lo_day, c.day < hi_day, c.clicks != 0)
    return [(int(d), str(r), str(o), int(n)) for d, r, o, n in conn.execute(q)]


def instant_clicks(conn: Connection, lo_us: int, hi_us: int) -> list[tuple[str, str, int]]:
    """(region code, outcome, clicks) of the clicks in ``[lo_us, hi_us)``."""
    c = t.report_banner_clicks.c
    q = (
        select(c.region, c.outcome, func.sum(c.clicks))
        .where(c.occurred_us >= lo_us, c.occurred_us < hi_us)
        .group_by(c.region, c.outcome)
    )
    return [(str(r), str(o), int(n)) for r, o, n in conn.execute(q)]


def first_visits_days(
    conn: Connection, lo_day: int, hi_day: int, prev_before_day: int
) -> Counter[tuple[str, str]]:
    """Per (region group, kind): visits on the days ``[lo_day, hi_day)`` whose previous visit was on a
    day before ``prev_before_day``."""
    c = t.report_web_days.c
    q = (
        select(c.region, c.kind, func.sum(c.visits))
        .where(c.day >= lo_day, c.day < hi_day, c.prev_day < prev_before_day)
        .group_by(c.region, c.kind)
    )
    return Counter({(str(r), str(k)): int(n) for r, k, n in conn.execute(q)})


def first_visits(
    conn: Connection, lo_us: int, hi_us: int, *, prev_from: int | None, prev_to: int
) -> Counter[tuple[str, str]]:
    """Per (region group, kind): visits in ``[lo_us, hi_us)`` whose previous visit was in ``[prev_from,
    prev_to)`` (before ``prev_to`` when ``prev_from`` is None)."""
    c = t.report_web_visits.c
    prev = c.prev_us < prev_to if prev_from is None else and_(c.prev_us >= prev_from, c.prev_us < prev_to)
    q = (
        select(c.region, c.kind, func.sum(c.visits))
        .where(c.at_us >= lo_us, c.at_us < hi_us, prev)
        .group_by(c.region, c.kind)
    )
    return Counter({(str(r), str(k)): int(n) for r, k, n in conn.execute(q)})
