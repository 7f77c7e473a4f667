"""The banner-outcome and GPC-share rollup (reports/web_rollup.py): banner clicks counted per instant
and per UTC day, web visits as (instant, previous instant) pairs counted per instant and per day, and
how far into the event chain the rollup has read.

Derived data, never evidence: dropping these tables loses nothing (the next report rebuilds them),
and they hold no identifier (a visit row says only region group, instant and the same visitor's
previous instant).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_web_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("events_seq", sa.BigInteger, nullable=False),
        sa.Column("regions_fingerprint", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    for name, bucket, kind in (
        ("report_banner_clicks", "occurred_us", sa.BigInteger),
        ("report_banner_days", "day", sa.BigInteger),
    ):
        op.create_table(
            name,
            sa.Column(bucket, kind, primary_key=True, autoincrement=False),
            sa.Column("region", sa.String(128), primary_key=True),
            sa.Column("outcome", sa.String(16), primary_key=True),
            sa.Column("clicks", sa.BigInteger, nullable=False),
        )
    for name, at, prev in (
        ("report_web_visits", "at_us", "prev_us"),
        ("report_web_days", "day", "prev_day"),
    ):
        op.create_table(
            name,
            sa.Column(at, sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("region", sa.String(128), primary_key=True),
            sa.Column("kind", sa.String(8), primary_key=True),
            sa.Column(prev, sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("visits", sa.BigInteger, nullable=False),
        )
    op.create_index("ix_report_web_visits_prev", "report_web_visits", ["prev_us"])


def downgrade() -> None:
    op.drop_index("ix_report_web_visits_prev", table_name="report_web_visits")
    for name in ("report_web_days", "report_web_visits", "report_banner_days", "report_banner_clicks"):
        op.drop_table(name)
    op.drop_table("report_web_state")
