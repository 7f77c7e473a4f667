"""Reads of the event chain for the operator reports that are not consent rates: banner outcomes,
GPC share, how often each notice version was answered and the last seal (``reports/banner.py``,
``reports/audit.py``).

Read-only. The database groups and de-duplicates (a banner click stores one event per purpose; a
visitor sends many events); the reports then read what they count (which banner button, whether
GPC was on) from the ``signals`` JSON of the few distinct rows, in Python — SQLite and PostgreSQL
would each need their own JSON functions to read it in SQL.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from typing import Any

from sqlalchemy import Engine, func, or_, select

from consentgate.ledger import schema as t
from consentgate.store.errors import storage

_E = t.events.c


_DAY_US = 86_400_000_000
CHOICE_ACTIONS = ("grant", "deny", "withdraw", "object", "opt_out")


def _who() -> Any:
    """The identifier an event was recorded under; an erased one's commitment stands in for it."""
    return func.coalesce(_E.subject, _E.subject_commit)


def _in(start_us: int, end_us: int) -> Any:
    return (_E.occurred_us >= start_us) & (_E.occurred_us < end_us)


def banner_clicks(engine: Engine, start_us: int, end_us: int) -> list[tuple[int, str | None, str, int]]:
    """Banner submissions that occurred in ``[start_us, end_us)``, counted per (UTC day number since
    the epoch, region code, signals JSON). A submission is one identifier's choice events with source
    ``banner`` and one ``occurred_at`` (and region and signals, which a submission shares): counted
    once however many purposes it stored. The database does the grouping, so a report reads a few
    rows per day whatever the number of events."""
    clicks = (
        select(_who().label("who"), _E.occurred_us, _E.region, _E.signals)
        .where(_in(start_us, end_us), _E.source == "banner", _E.action.in_(CHOICE_ACTIONS))
        .distinct()
        .subquery()
    )
    day = (clicks.c.occurred_us // _DAY_US).label("day")
    q = select(day, clicks.c.region, clicks.c.signals, func.count()).group_by(
        day, clicks.c.region, clicks.c.signals
    )
    with storage("count banner choices"), engine.connect() as conn:
        return [(int(d), r, str(sig), int(n)) for d, r, sig, n in conn.execute(q)]


def web_visitors(
    engine: Engine, start_us: int, end_us: int, sources: Collection[str]
) -> Iterator[tuple[str | None, str]]:
    """Distinct (region code, identifier) of the events ``sources`` recorded in the period."""
    q = select(_E.region, _who()).where(_in(start_us, end_us), _E.source.in_(sorted(sources))).distinct()
    with storage("read the visitors of the period"), engine.connect() as conn:
        yield from ((r, str(w)) for r, w in conn.execute(q))


def gpc_signals(
    engine: Engine, start_us: int, end_us: int, sources: Collection[str]
) -> Iterator[tuple[str | None, str, dict[str, Any]]]:
    """Distinct (region code, identifier, signals) of the period's events that name GPC at all:
    ``gpc`` events and events of ``sources``. The caller reads the value (true or false)."""
    q = (
        select(_E.region, _who(), _E.signals)
        .where(
            _in(start_us, end_us),
            or_(_E.source.in_(sorted(sources)), _E.action == "gpc"),
            _E.signals.like('%"gpc"%'),  # a prefilter on the key only: the value is read from JSON
        )
        .distinct()
    )
    with storage("read the GPC signals of the period"), engine.connect() as conn:
        yield from ((r, str(w), json.loads(sig)) for r, w, sig in conn.execute(q))


def notice_answers(engine: Engine) -> dict[tuple[str, str], int]:
    """How many events were recorded under each (notice id, notice version)."""
    q = (
        select(_E.notice_id, _E.notice_version, func.count())
        .where(_E.notice_id.is_not(None), _E.notice_version.is_not(None))
        .group_by(_E.notice_id, _E.notice_version)
    )
    with storage("count events per notice version"), engine.connect() as conn:
        return {(str(n), str(v)): int(c) for n, v, c in conn.execute(q)}


def last_seal(engine: Engine) -> dict[str, Any] | None:
    """The newest row of ``ledger_seals`` (the heads it signs, when, with which key), or None."""
    sc = t.ledger_seals.c
    q = select(t.ledger_seals).order_by(sc.id.desc()).limit(1)
    with storage("read the ledger's last seal"), engine.connect() as conn:
        row = conn.execute(q).first()
    return None if row is None else dict(row._mapping)


def chain_heads(engine: Engine) -> dict[str, Any]:
    """Both chain heads as ``ledger_head`` holds them: events (seq, hash) and records (seq, hash)."""
    h = t.ledger_head.c
    q = select(h.seq, h.hash, h.records_seq, h.records_hash).where(h.id == 1)
    with storage("read the ledger head"), engine.connect() as conn:
        row = conn.execute(q).first()
    if row is None:
        return {"events_seq": 0, "events_hash": None, "records_seq": 0, "records_hash": None}
    return {
        "events_seq": int(row.seq),
        "events_hash": str(row.hash),
        "records_seq": int(row.records_seq),
        "records_hash": str(row.records_hash),
    }
