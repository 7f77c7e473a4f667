"""Publishers' rights reservations (robots.txt, TDMRep, noai) read by `consentgate signals check`.

Kept apart from personal consent: a table of its own, outside the event and record chains.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reservation_checks",
        sa.Column("check_id", sa.String(32), primary_key=True),
        sa.Column("origin", sa.String(300), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("checked_at", sa.String(40), nullable=False),
        sa.Column("robots", sa.String(8), nullable=False),
        sa.Column("tdmrep", sa.String(8), nullable=False),
        sa.Column("noai", sa.String(8), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_reservation_checks_origin", "reservation_checks", ["origin", "checked_at"])


def downgrade() -> None:
    op.drop_index("ix_reservation_checks_origin", table_name="reservation_checks")
    op.drop_table("reservation_checks")
