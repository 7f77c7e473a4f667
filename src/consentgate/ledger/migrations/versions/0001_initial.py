"""The ledger: events, chain head, notice wording, aliases, API keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(40), nullable=False, unique=True),
        sa.Column("subject", sa.String(256), nullable=True),
        sa.Column("subject_salt", sa.String(64), nullable=True),
        sa.Column("subject_commit", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(128), nullable=True),
        sa.Column("notice_id", sa.String(128), nullable=True),
        sa.Column("notice_version", sa.String(64), nullable=True),
        sa.Column("wording_hash", sa.String(64), nullable=True),
        sa.Column("region", sa.String(8), nullable=True),
        sa.Column("locale", sa.String(35), nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("occurred_at", sa.String(40), nullable=False),
        sa.Column("occurred_us", sa.BigInteger, nullable=False),
        sa.Column("recorded_at", sa.String(40), nullable=False),
        sa.Column("recorded_us", sa.BigInteger, nullable=False),
        sa.Column("signals", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_events_subject", "events", ["subject"])
    op.create_index("ix_events_purpose_occurred", "events", ["purpose", "occurred_us"])
    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.execute("INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')")
    op.create_table(
        "notice_texts",
        sa.Column("text_hash", sa.String(64), primary_key=True),
        sa.Column("notice_id", sa.String(128), nullable=False),
        sa.Column("notice_version", sa.String(64), nullable=False),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("first_recorded_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "aliases",
        sa.Column("alias", sa.String(256), primary_key=True),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("linked_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_aliases_subject", "aliases", ["subject"])
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("revoked_at", sa.String(40), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_index("ix_aliases_subject", "aliases")
    op.drop_table("aliases")
    op.drop_table("notice_texts")
    op.drop_table("ledger_head")
    op.drop_index("ix_events_purpose_occurred", "events")
    op.drop_index("ix_events_subject", "events")
    op.drop_table("events")
