"""Data-subject requests, their status log, and the erasure suppression list.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suppressions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(40), nullable=True),
        sa.Column("added_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "requests",
        sa.Column("request_id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("purposes", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("received_at", sa.String(40), nullable=False),
        sa.Column("due_on", sa.String(10), nullable=False),
        sa.Column("extended_due_on", sa.String(10), nullable=True),
        sa.Column("extension_reason", sa.Text, nullable=True),
        sa.Column("verified_by", sa.String(64), nullable=True),
        sa.Column("closed_at", sa.String(40), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("open_key", sa.String(300), nullable=True, unique=True),
    )
    op.create_index("ix_requests_subject", "requests", ["subject"])
    op.create_index("ix_requests_status_due", "requests", ["status", "due_on"])
    op.create_table(
        "request_log",
        sa.Column("request_id", sa.String(40), sa.ForeignKey("requests.request_id"), primary_key=True),
        sa.Column("step", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("request_log")
    op.drop_index("ix_requests_status_due", table_name="requests")
    op.drop_index("ix_requests_subject", table_name="requests")
    op.drop_table("requests")
    op.drop_table("suppressions")
