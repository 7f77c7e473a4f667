"""Counts over the ledger's tables for the operator console: events per action, in one query."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from consentgate.ledger import schema as t


def event_counts(engine: Engine) -> dict[str, int]:
    """Stored events per action (``grant``, ``deny``, …), every action present at least once."""
    c = t.events.c
    with engine.connect() as conn:
        rows = conn.execute(select(c.action, func.count()).group_by(c.action).order_by(c.action))
        return {str(action): int(n) for action, n in rows}
