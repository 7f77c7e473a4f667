"""Migrations run up and down on both databases, and a ledger survives an upgrade."""

from __future__ import annotations

from sqlalchemy import inspect

from consentgate.ledger.db import downgrade, make_engine, migrate

# What migration 0011 adds (the banner-outcome and GPC-share rollup).
WEB_ROLLUP = (
    "report_web_state", "report_banner_clicks", "report_banner_days", "report_web_visits", "report_web_days",
)  # fmt: skip


def test_upgrade_downgrade_upgrade(ledger_url: str) -> None:
    engine = make_engine(ledger_url)
    try:
        migrate(engine)
        tables = set(inspect(engine).get_table_names())
        assert {
            "events", "ledger_head", "notice_texts", "aliases", "api_keys", "service_secrets", "runs",
            "run_subjects", "suppressions", "requests", "request_log", "ledger_records", "ledger_seals",
            "run_checkpoints", "report_state", "report_spans", "report_days", "report_months",
            "share_redemptions", "reservation_checks", "console_signouts", *WEB_ROLLUP,
        } <= tables  # fmt: skip
        downgrade(engine, "0011")  # one step down drops only what 0012 added
        tables = set(inspect(engine).get_table_names())
        assert "console_signouts" not in tables
        assert set(WEB_ROLLUP) <= tables
        downgrade(engine, "0010")  # one step down drops only what 0011 added
        tables = set(inspect(engine).get_table_names())
        assert not (set(WEB_ROLLUP) & tables)
        assert "reservation_checks" in tables
        downgrade(engine, "0009")  # one step down drops only what 0010 added
        tables = set(inspect(engine).get_table_names())
        assert "reservation_checks" not in tables
        assert "share_redemptions" in tables
        downgrade(engine, "0007")  # one step down drops only what 0008 added
        tables = set(inspect(engine).get_table_names())
        assert not ({"report_state", "report_spans", "report_days", "report_months"} & tables)
        assert "ix_aliases_record_seq" not in {i["name"] for i in inspect(engine).get_indexes("aliases")}
        assert "run_checkpoints" in tables
        downgrade(engine, "0006")  # one step down drops only what 0007 added
        tables = set(inspect(engine).get_table_names())
        assert "run_checkpoints" not in tables
        assert "first_batch" not in {c["name"] for c in inspect(engine).get_columns("run_subjects")}
        assert "output_fingerprint" in {c["name"] for c in inspect(engine).get_columns("runs")}
        downgrade(engine, "0005")  # one step down drops only what 0006 added
        assert "output_fingerprint" not in {c["name"] for c in inspect(engine).get_columns("runs")}
        tables = set(inspect(engine).get_table_names())
        assert "ledger_records" in tables
        downgrade(engine, "0004")  # one step down drops only what 0005 added
        tables = set(inspect(engine).get_table_names())
        assert not ({"ledger_records", "ledger_seals"} & tables)
        assert "salt" not in {c["name"] for c in inspect(engine).get_columns("aliases")}
        assert "suppressions" in tables
        downgrade(engine, "0003")  # one step down drops only what 0004 added
        tables = set(inspect(engine).get_table_names())
        assert not ({"suppressions", "requests", "request_log"} & tables)
        assert "runs" in tables
        downgrade(engine, "0002")  # one step down drops only what 0003 added
        tables = set(inspect(engine).get_table_names())
        assert not ({"runs", "run_subjects"} & tables)
        assert "service_secrets" in tables
        downgrade(engine, "0001")  # one step down drops only what 0002 added
        tables = set(inspect(engine).get_table_names())
        assert "service_secrets" not in tables
        assert {"events", "api_keys"} <= tables
        migrate(engine)
        assert {"service_secrets", "runs", "run_subjects"} <= set(inspect(engine).get_table_names())
        downgrade(engine, "base")
        assert not ({"events", "ledger_head"} & set(inspect(engine).get_table_names()))
        migrate(engine)
        migrate(engine)  # a no-op when current
        assert "events" in set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_later_tables_match_their_declaration(ledger_url: str) -> None:
    """schema.py names what migrations 0003 and 0004 create: the same columns, types and keys."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from consentgate.ledger import schema

    engine = make_engine(ledger_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), schema.metadata)
        names = (
            "runs", "run_subjects", "suppressions", "requests", "request_log",
            "ledger_records", "ledger_seals", "aliases", "ledger_head", "run_checkpoints",
            "report_state", "report_spans", "report_days", "report_months", "reservation_checks", *WEB_ROLLUP,
        )  # fmt: skip
        mine = [d for d in diff if any(f"'{n}'" in repr(d) for n in names)]
        assert mine == []
    finally:
        engine.dispose()


def test_the_head_revision_constant_is_alembics_head() -> None:
    # Opening a ledger at HEAD_REVISION skips Alembic, and the CLI's SQLite read path reads only
    # ledgers at it: a new migration with a stale constant would be skipped on open.
    from alembic.script import ScriptDirectory

    from consentgate.ledger.db import _alembic_config
    from consentgate.ledger.rows import HEAD_REVISION

    assert ScriptDirectory.from_config(_alembic_config()).get_current_head() == HEAD_REVISION
