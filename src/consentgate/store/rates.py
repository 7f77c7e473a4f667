"""The SQL of the consent-rate reports (reports/): what a report reads from the ledger's tables.

Reads only: which identifiers the ledger holds, the alias links, and one batch of people's events.
The rollup's own tables are written by :mod:`consentgate.store.rollup`.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Engine, select

from consentgate.ledger import schema as t
from consentgate.ledger.events import ConsentEvent
from consentgate.ledger.store import Ledger


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
