"""The SQL of the consent-rate reports (reports/): what they read from the ledger, and the rollup tables
(``report_state``, ``report_spans``, ``report_days``; migration 0008) they keep up to date.

The rollup holds no identifier: a person is named by the seq of one of their events, and their
spans say only purpose, region group, notice version, source and whether the purpose was allowed.
Whoever changes it holds :func:`locked`, so two processes refreshing at once take turns per batch.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, text, update

from consentgate.ledger import schema as t
from consentgate.ledger.events import ConsentEvent
from consentgate.ledger.store import Ledger
from consentgate.store.engine import writer

_CHUNK = 400  # IN (...) lists under SQLite's bound-parameter limit
# Key of the PostgreSQL advisory lock that lets one process at a time change the rollup ("reports").
_ROLLUP_LOCK = 0x7265706F727473
# What a report may group by, in the order of a group key.
GROUPINGS = ("purpose", "region", "notice_version", "source")
# A group of a report: (purpose, region group, notice version, source); None where a field is not
# grouped by (and for a choice recorded without a notice version).
GroupKey = tuple[str, str | None, str | None, str | None]
_NO_VERSION = ""  # notice_version is part of report_days' key, so a missing one is stored as ""


@dataclass(frozen=True, slots=True)
class RollupState:
    events_seq: int
    records_seq: int
    policy_fingerprint: str


@dataclass(frozen=True, slots=True)
class SpanRow:
    """One row of ``report_spans``: a person's unchanging state for one purpose over [start, end)."""

    person: int
    purpose: str
    start_us: int
    end_us: int | None
    region: str
    notice_version: str | None
    source: str
    allowed: bool

    @property
    def key(self) -> GroupKey:
        return (self.purpose, self.region, self.notice_version, self.source)


# -- what the reports read from the ledger -------------------------------------------------------------


def identifiers(engine: Engine, head_seq: int | None = None) -> list[str]:
    """Every identifier that has an event (up to ``head_seq``, when given)."""
    q = select(t.events.c.subject).where(t.events.c.subject.is_not(None)).distinct()
    if head_seq is not None:
        q = q.where(t.events.c.seq <= head_seq)
    with engine.connect() as conn:
        return [str(s) for s in conn.execute(q).scalars()]


def alias_links(engine: Engine) -> list[tuple[str, str]]:
    """Every ``(alias, subject)`` link: people are their connected components."""
    with engine.connect() as conn:
        return [(str(a), str(s)) for a, s in conn.execute(select(t.aliases.c.alias, t.aliases.c.subject))]


def events_of(engine: Engine, ids: Collection[str]) -> list[ConsentEvent]:
    """Every event recorded under these identifiers."""
    return Ledger(engine).events_of(ids)


def changed_identifiers(engine: Engine, events_after: int, events_upto: int, records_after: int) -> set[str]:
    """Identifiers whose people changed since the rollup read up to ``events_after`` and
    ``records_after``: those with an event in (events_after, events_upto] (a late event, an erasure,
    anything new) and both ends of every link made since."""
    e, a = t.events.c, t.aliases.c
    with engine.connect() as conn:
        found = {
            str(s)
            for s in conn.execute(
                select(e.subject).where(e.seq > events_after, e.seq <= events_upto, e.subject.is_not(None))
            ).scalars()
        }
        for alias, subject in conn.execute(select(a.alias, a.subject).where(a.record_seq > records_after)):
            found.update((str(alias), str(subject)))
    return found


# -- the rollup ----------------------------------------------------------------------------------------


def read_state(engine: Engine) -> RollupState | None:
    s = t.report_state.c
    with engine.connect() as conn:
        row = conn.execute(select(s.events_seq, s.records_seq, s.policy_fingerprint).where(s.id == 1)).first()
    return None if row is None else RollupState(int(row[0]), int(row[1]), str(row[2]))


@contextmanager
def locked(engine: Engine, key: int = _ROLLUP_LOCK) -> Iterator[Connection]:
    """A write transaction that holds a rollup's lock: SQLite's write lock (``BEGIN IMMEDIATE``), on
    PostgreSQL the advisory lock ``key`` (ledger appends go on meanwhile)."""
    with writer(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        yield conn


def reset(conn: Connection, fingerprint: str) -> None:
    """Empty the rollup and start it again from the ledger's beginning (a new policy, or none yet).

    Skipped when another process reset it for this policy while this one waited for the lock: its
    rebuild is under way, and wiping it would only make readers wait longer for the same result."""
    s = t.report_state.c
    found = conn.execute(select(s.policy_fingerprint).where(s.id == 1)).scalar()
    if found == fingerprint:
        return
    conn.execute(delete(t.report_spans))
    conn.execute(delete(t.report_days))
    conn.execute(delete(t.report_months))
    conn.execute(delete(t.report_state))
    conn.execute(
        insert(t.report_state).values(
            id=1, events_seq=0, records_seq=0, policy_fingerprint=fingerprint, updated_at=_now()
        )
    )


def discard(conn: Connection) -> None:
    """Forget how far the rollup has read: the next report rebuilds it from the whole ledger."""
    conn.execute(delete(t.report_state))


def advance(conn: Connection, events_seq: int, records_seq: int) -> None:
    """Record that every change up to these heads is in the rollup (never moving it back)."""
    s = t.report_state.c
    conn.execute(
        update(t.report_state)
        .where(s.id == 1, s.events_seq <= events_seq, s.records_seq <= records_seq)
        .values(events_seq=events_seq, records_seq=records_seq, updated_at=_now())
    )


def spans_of(conn: Connection, persons: Collection[int]) -> list[SpanRow]:
    out: list[SpanRow] = []
    ids = sorted(persons)
    c = t.report_spans.c
    if _postgres(conn):  # the ids as one array: one statement, however many people a refresh redoes
        sql = f"SELECT {_SPAN_COLUMNS} FROM report_spans WHERE person = ANY(%s)"
        return [_span(r) for r in conn.exec_driver_sql(sql, (ids,))]
    for i in range(0, len(ids), _CHUNK):
        q = select(t.report_spans).where(c.person.in_(ids[i : i + _CHUNK]))
        out.extend(_span(r) for r in conn.execute(q))
    return out


_SPAN_COLUMNS = "person, purpose, start_us, end_us, region, notice_version, source, allowed"
_GROUP = "purpose, region, notice_version, source"
_ADD_SUMS = (
    "INSERT INTO {table} ({bucket}, " + _GROUP + ", subjects, allowed) {marks} "
    "ON CONFLICT ({bucket}, " + _GROUP + ") DO UPDATE SET subjects = {table}.subjects + excluded.subjects, "
    "allowed = {table}.allowed + excluded.allowed"
)
# Where sums per time bucket live: report_days by UTC day, report_months by UTC month (year * 12 +
# month - 1), so a report reads a few rows per month of history and per day of the current month.
_BUCKETS = {"day": ("report_days", t.report_days.c.day), "month": ("report_months", t.report_months.c.month)}
Deltas = dict[tuple[int, GroupKey], list[int]]
# _ADD_SUMS' values on PostgreSQL: one array per column, unnested into rows.
_UNNEST = (
    "SELECT * FROM unnest("
    + ", ".join(f"%s::{sql}[]" for sql in ("integer", "text", "text", "text", "text", "bigint", "bigint"))
    + ")"
)


def replace_spans(conn: Connection, persons: Collection[int], new: Sequence[SpanRow]) -> None:
    """Delete every span of these persons, store ``new`` (driver SQL: a full rebuild writes millions)."""
    ids = sorted(persons)
    c = t.report_spans.c
    if _postgres(conn):
        conn.exec_driver_sql("DELETE FROM report_spans WHERE person = ANY(%s)", (ids,))
        _copy(conn, f"COPY report_spans ({_SPAN_COLUMNS}) FROM STDIN", map(_span_values, new))
        return
    for i in range(0, len(ids), _CHUNK):
        conn.execute(delete(t.report_spans).where(c.person.in_(ids[i : i + _CHUNK])))
    if new:
        sql = f"INSERT INTO report_spans ({_SPAN_COLUMNS}) VALUES ({marks(conn, 8)})"
        conn.exec_driver_sql(sql, [_span_values(s) for s in new])


def add_sums(conn: Connection, grain: str, deltas: Deltas) -> None:
    """Add ``[subjects, allowed]`` to each (bucket, group) of the day or month sums, creating rows."""
    rows = [
        (bucket, purpose, region, _NO_VERSION if version is None else version, source, ds, da)
        for (bucket, (purpose, region, version, source)), (ds, da) in deltas.items()
        if ds or da
    ]
    if not rows:
        return
    table = _BUCKETS[grain][0]
    if _postgres(conn):  # one statement over arrays (the keys of ``deltas`` are distinct, as it needs)
        columns = [list(column) for column in zip(*rows, strict=True)]
        conn.exec_driver_sql(_ADD_SUMS.format(table=table, bucket=grain, marks=_UNNEST), tuple(columns))
    else:
        values = f"VALUES ({marks(conn, 7)})"
        conn.exec_driver_sql(_ADD_SUMS.format(table=table, bucket=grain, marks=values), rows)


def _postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _copy(conn: Connection, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    """Rows loaded with PostgreSQL's COPY in the connection's transaction: a first build writes
    millions of spans, and a refresh thousands, where row-by-row inserts cost a round of the driver's
    work per row."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def marks(conn: Connection, n: int) -> str:
    return ", ".join(["%s" if conn.dialect.name == "postgresql" else "?"] * n)


def bucket_sums(
    engine: Engine, grain: str, lo: int | None, hi: int, by: Sequence[str], *, per_bucket: bool
) -> list[tuple[int | None, GroupKey, int, int]]:
    """Sums of the ``grain`` ("day" or "month") buckets in [lo, hi) (from the first when ``lo`` is
    None), grouped by the ``by`` fields only (the others are None in the keys), per bucket in bucket
    order when ``per_bucket``."""
    table, bucket = _BUCKETS[grain]
    cols = _columns(t.metadata.tables[table].c, by)
    keys = [bucket, *cols] if per_bucket else cols
    where = [bucket < hi] if lo is None else [bucket >= lo, bucket < hi]
    sums = t.metadata.tables[table].c
    q = select(*keys, func.sum(sums.subjects), func.sum(sums.allowed)).where(*where).group_by(*keys)
    if per_bucket:
        q = q.order_by(bucket)
    n = len(keys)
    with engine.connect() as conn:
        return [
            (int(r[0]) if per_bucket else None, _key(r[n - len(cols) : n], by), int(r[n]), int(r[n + 1]))
            for r in conn.execute(q)
        ]


def edges_between(engine: Engine, from_us: int, to_us: int, by: Sequence[str]) -> dict[GroupKey, list[int]]:
    """Per group, spans starting in [from_us, to_us] minus spans ending in it: [subjects, allowed]."""
    c = t.report_spans.c
    group = _columns(c, by)
    out: dict[GroupKey, list[int]] = {}
    with engine.connect() as conn:
        for column, sign in ((c.start_us, 1), (c.end_us, -1)):
            q = (
                select(*group, func.count(), func.sum(c.allowed))
                .where(column >= from_us, column <= to_us)
                .group_by(*group)
            )
            for r in conn.execute(q):
                acc = out.setdefault(_key(r[: len(group)], by), [0, 0])
                acc[0] += sign * int(r[len(group)])
                acc[1] += sign * int(r[len(group) + 1])
    return out


def _columns(c: Any, by: Sequence[str]) -> list[Any]:
    return [c[name] for name in GROUPINGS if name in by]


def _key(values: Sequence[Any], by: Sequence[str]) -> GroupKey:
    """A group key from the values of the ``by`` columns (in field order); None for the others."""
    it = iter(values)
    full = [next(it) if name in by else None for name in GROUPINGS]
    version = full[2]
    return (
        str(full[0]),
        None if full[1] is None else str(full[1]),
        None if version is None or version == _NO_VERSION else str(version),
        None if full[3] is None else str(full[3]),
    )


def _span(r: Any) -> SpanRow:
    m = r._mapping
    version = m["notice_version"]
    return SpanRow(
        int(m["person"]),
        str(m["purpose"]),
        int(m["start_us"]),
        None if m["end_us"] is None else int(m["end_us"]),
        str(m["region"]),
        None if version == _NO_VERSION else str(version),
        str(m["source"]),
        bool(m["allowed"]),
    )


def _span_values(s: SpanRow) -> tuple[Any, ...]:
    version = _NO_VERSION if s.notice_version is None else s.notice_version
    return (s.person, s.purpose, s.start_us, s.end_us, s.region, version, s.source, int(s.allowed))


def _now() -> str:
    return datetime.now(UTC).isoformat()
