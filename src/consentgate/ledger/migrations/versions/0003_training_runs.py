"""Training runs and vendor exports: their manifests, and keyed hashes of the identifiers each used.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(128), nullable=False),
        sa.Column("model", sa.String(256), nullable=True),
        sa.Column("vendor", sa.String(128), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("finished_at", sa.String(40), nullable=True),
        sa.Column("head_seq_first", sa.BigInteger, nullable=True),
        sa.Column("head_seq_last", sa.BigInteger, nullable=True),
        sa.Column("records", sa.BigInteger, nullable=False),
        sa.Column("subjects", sa.BigInteger, nullable=False),
        sa.Column("subject_key_id", sa.String(16), nullable=False),
        sa.Column("manifest", sa.Text, nullable=False),
    )
    op.create_index("ix_runs_kind_started", "runs", ["kind", "started_at"])
    op.create_table(
        "run_subjects",
        sa.Column("subject_hash", sa.String(32), primary_key=True),
        sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.run_id"), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("run_subjects")
    op.drop_index("ix_runs_kind_started", table_name="runs")
    op.drop_table("runs")
