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
from sqlalchemy.dialects import postgresql, sqlite

from consentgate.ledger import schema as t
from consentgate.ledger.events import ConsentEvent
from consentgate.ledger.store import Ledger
from consentgate.store.engine import writer

_CHUNK = 400  # IN (...) lists under SQLite's bound-parameter limit
# Key of the PostgreSQL advisory lock that lets one process at a time change the rollup ("reports").
_ROLLUP_LOCK = 0x7265706F727473
# A group of a report: (purpose, region group, notice version or None, source).
GroupKey = tuple[str, str, str | None, str]
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
def locked(engine: Engine) -> Iterator[Connection]:
    """A write transaction that holds the rollup's lock: SQLite's write lock (``BEGIN IMMEDIATE``), on
    PostgreSQL an advisory lock (ledger appends go on meanwhile)."""
    with writer(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ROLLUP_LOCK})
        yield conn


def reset(conn: Connection, fingerprint: str) -> None:
    """Empty the rollup and start it again from the ledger's beginning (a new policy, or none yet)."""
    conn.execute(delete(t.report_spans))
    conn.execute(delete(t.report_days))
    conn.execute(delete(t.report_state))
    conn.execute(
        insert(t.report_state).values(
            id=1, events_seq=0, records_seq=0, policy_fingerprint=fingerprint, updated_at=_now()
        )
    )


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
    for i in range(0, len(ids), _CHUNK):
        q = select(t.report_spans).where(c.person.in_(ids[i : i + _CHUNK]))
        out.extend(_span(r) for r in conn.execute(q))
    return out


def replace_spans(conn: Connection, persons: Collection[int], new: Sequence[SpanRow]) -> None:
    ids = sorted(persons)
    c = t.report_spans.c
    for i in range(0, len(ids), _CHUNK):
        conn.execute(delete(t.report_spans).where(c.person.in_(ids[i : i + _CHUNK])))
    if new:
        conn.execute(insert(t.report_spans), [_span_values(s) for s in new])


def add_days(conn: Connection, deltas: dict[tuple[int, GroupKey], list[int]]) -> None:
    """Add ``[subjects, allowed]`` to each (day, group) of ``report_days``, creating rows as needed."""
    rows = [
        {
            "day": day,
            "purpose": purpose,
            "region": region,
            "notice_version": _NO_VERSION if version is None else version,
            "source": source,
            "subjects": ds,
            "allowed": da,
        }
        for (day, (purpose, region, version, source)), (ds, da) in deltas.items()
        if ds or da
    ]
    if not rows:
        return
    d = t.report_days
    ins: Any = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(d)
    stmt = ins.on_conflict_do_update(
        index_elements=["day", "purpose", "region", "notice_version", "source"],
        set_={
            "subjects": d.c.subjects + ins.excluded.subjects,
            "allowed": d.c.allowed + ins.excluded.allowed,
        },
    )
    conn.execute(stmt, rows)


def totals_before(engine: Engine, day: int) -> dict[GroupKey, list[int]]:
    """Per group, the sums of every day before ``day``: the counts at that day's first instant."""
    d = t.report_days.c
    q = (
        select(d.purpose, d.region, d.notice_version, d.source, func.sum(d.subjects), func.sum(d.allowed))
        .where(d.day < day)
        .group_by(d.purpose, d.region, d.notice_version, d.source)
    )
    with engine.connect() as conn:
        return {_key(r): [int(r[4]), int(r[5])] for r in conn.execute(q)}


def days_before(engine: Engine, day: int) -> Iterable[tuple[int, GroupKey, int, int]]:
    """Every (day, group, subjects, allowed) before ``day``, in day order, for cumulative series."""
    d = t.report_days.c
    q = (
        select(d.day, d.purpose, d.region, d.notice_version, d.source, d.subjects, d.allowed)
        .where(d.day < day)
        .order_by(d.day)
    )
    with engine.connect() as conn:
        return [(int(r[0]), _key(r[1:5]), int(r[5]), int(r[6])) for r in conn.execute(q)]


def edges_between(engine: Engine, from_us: int, to_us: int) -> dict[GroupKey, list[int]]:
    """Per group, spans starting in [from_us, to_us] minus spans ending in it: [subjects, allowed]."""
    c = t.report_spans.c
    group = (c.purpose, c.region, c.notice_version, c.source)
    out: dict[GroupKey, list[int]] = {}
    with engine.connect() as conn:
        for column, sign in ((c.start_us, 1), (c.end_us, -1)):
            q = (
                select(*group, func.count(), func.sum(c.allowed))
                .where(column >= from_us, column <= to_us)
                .group_by(*group)
            )
            for r in conn.execute(q):
                acc = out.setdefault(_key(r), [0, 0])
                acc[0] += sign * int(r[4])
                acc[1] += sign * int(r[5])
    return out


def _key(r: Sequence[Any]) -> GroupKey:
    version = r[2]
    return (str(r[0]), str(r[1]), None if version == _NO_VERSION else str(version), str(r[3]))


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


def _span_values(s: SpanRow) -> dict[str, Any]:
    return {
        "person": s.person,
        "purpose": s.purpose,
        "start_us": s.start_us,
        "end_us": s.end_us,
        "region": s.region,
        "notice_version": _NO_VERSION if s.notice_version is None else s.notice_version,
        "source": s.source,
        "allowed": int(s.allowed),
    }


def _now() -> str:
    return datetime.now(UTC).isoformat()
