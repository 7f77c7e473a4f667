"""Migrations run up and down on both databases, and a ledger survives an upgrade."""

from __future__ import annotations

from sqlalchemy import inspect

from consentgate.ledger.db import downgrade, make_engine, migrate


def test_upgrade_downgrade_upgrade(ledger_url: str) -> None:
    engine = make_engine(ledger_url)
    try:
        migrate(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"events", "ledger_head", "notice_texts", "aliases", "api_keys"} <= tables
        downgrade(engine, "base")
        assert not ({"events", "ledger_head"} & set(inspect(engine).get_table_names()))
        migrate(engine)
        migrate(engine)  # a no-op when current
        assert "events" in set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
