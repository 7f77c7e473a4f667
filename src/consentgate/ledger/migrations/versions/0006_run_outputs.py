"""Filter runs in ``runs``: the fingerprint of what a run wrote, indexed, so that a training run finds
the filter run of its dataset by the dataset's content.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("output_fingerprint", sa.String(80), nullable=True))
    op.create_index("ix_runs_output_fingerprint", "runs", ["output_fingerprint"])


def downgrade() -> None:
    op.drop_index("ix_runs_output_fingerprint", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("output_fingerprint")
