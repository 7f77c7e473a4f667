"""Checkpoints of training runs, and the batch at which a run first used each identifier.

A checkpoint saved after a person's first use in a run contains their data; one saved before does
not. ``run_subjects.first_batch`` and ``run_checkpoints.batches`` make that comparison possible
(NULL first_batch: a run from before this revision, whose checkpoints were never recorded).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run_subjects") as batch:
        batch.add_column(sa.Column("first_batch", sa.BigInteger, nullable=True))
    op.create_table(
        "run_checkpoints",
        sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("batches", sa.BigInteger, nullable=False),
        sa.Column("records", sa.BigInteger, nullable=False),
        sa.Column("saved_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("run_checkpoints")
    with op.batch_alter_table("run_subjects") as batch:
        batch.drop_column("first_batch")
