"""The record chain and seals: aliases, suppressions, pseudonyms and wordings come under the proof.

Rows that already exist are *adopted*: committed as found, in records marked ``"adopted": true``, so
``ledger verify`` can say from when on each table is covered. The event chain is not touched: no
event is re-hashed, and ledgers made before keep verifying.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from consentgate.ledger.chain import alias_commit, new_salt
from consentgate.ledger.records import ChainSQL, Head, add_records

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ledger_head", sa.Column("records_seq", sa.BigInteger, nullable=False, server_default="0"))
    op.add_column(
        "ledger_head", sa.Column("records_hash", sa.String(64), nullable=False, server_default="0" * 64)
    )
    op.add_column("aliases", sa.Column("salt", sa.String(64), nullable=True))
    op.add_column("aliases", sa.Column("record_seq", sa.BigInteger, nullable=True))
    op.create_table(
        "ledger_records",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "ledger_seals",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("events_seq", sa.BigInteger, nullable=False),
        sa.Column("events_hash", sa.String(64), nullable=False),
        sa.Column("records_seq", sa.BigInteger, nullable=False),
        sa.Column("records_hash", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.String(40), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("signature", sa.String(100), nullable=False),
    )
    _adopt(op.get_bind())


def _adopt(conn: sa.Connection) -> None:
    """Commit what the side tables hold now; no check of the event chain (a broken ledger must still
    open, so ``ledger verify`` can say what is broken)."""
    rows = conn.exec_driver_sql("SELECT seq, hash FROM ledger_head WHERE id = 1").fetchone()
    if rows is None:
        return
    items: list[tuple[str, dict[str, object]]] = []
    texts = conn.exec_driver_sql(
        "SELECT text_hash, notice_id, notice_version, locale, first_recorded_at FROM notice_texts "
        "ORDER BY text_hash"
    ).fetchall()
    for h, nid, ver, loc, first in texts:
        body = {"text_hash": h, "notice_id": nid, "notice_version": ver, "locale": loc}
        items.append(("text", {**body, "first_recorded_at": first, "adopted": True}))
    salts: list[tuple[str, str]] = []
    for alias, subject, kind, linked_at in conn.exec_driver_sql(
        "SELECT alias, subject, kind, linked_at FROM aliases ORDER BY alias"
    ).fetchall():
        salt = new_salt()
        salts.append((alias, salt))
        items.append(("link", {"row": alias_commit(salt, alias, subject, kind, linked_at), "adopted": True}))
    supp = conn.exec_driver_sql(
        "SELECT id_hash, request_id, added_at FROM suppressions ORDER BY id_hash"
    ).fetchall()
    if supp:
        items.append(("suppress", {"rows": [list(r) for r in supp], "adopted": True}))
    erased = conn.exec_driver_sql(
        "SELECT seq, subject FROM events WHERE subject_salt IS NULL ORDER BY seq"
    ).fetchall()
    if erased:
        items.append(("pseudonymise", {"events": [list(r) for r in erased], "aliases": [], "adopted": True}))
    if not items:
        return
    sql = ChainSQL(conn.dialect.name == "postgresql")

    def execute(statement: str, params: tuple[object, ...] | None = None) -> sa.CursorResult[object]:
        return conn.exec_driver_sql(statement, params)

    head = add_records(execute, sql, Head(int(rows[0]), str(rows[1]), 0, "0" * 64), items)
    first_link = 1 + len(texts)
    for i, (alias, salt) in enumerate(salts):
        conn.execute(
            sa.text("UPDATE aliases SET salt = :salt, record_seq = :seq WHERE alias = :alias"),
            {"salt": salt, "seq": first_link + i, "alias": alias},
        )
    conn.execute(
        sa.text("UPDATE ledger_head SET records_seq = :seq, records_hash = :hash WHERE id = 1"),
        {"seq": head.records_seq, "hash": head.records_hash},
    )


def downgrade() -> None:
    op.drop_table("ledger_seals")
    op.drop_table("ledger_records")
    with op.batch_alter_table("aliases") as batch:
        batch.drop_column("record_seq")
        batch.drop_column("salt")
    with op.batch_alter_table("ledger_head") as batch:
        batch.drop_column("records_hash")
        batch.drop_column("records_seq")
