"""Cross-domain hand-offs (web.share) already redeemed, so each hand-off link works once.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "share_redemptions",
        sa.Column("token_id", sa.String(32), primary_key=True),
        sa.Column("redeemed_at", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("share_redemptions")
