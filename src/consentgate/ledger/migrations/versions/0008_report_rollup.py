"""The consent-rate rollup (reports/rollup.py): each person's states as spans of time, the spans'
starts and ends summed per UTC day and per UTC month, and how far into both chains the rollup has read.

Derived data, never evidence: dropping these tables loses nothing (the next report rebuilds them),
and they hold no identifier (a person is named by the seq of one of their events).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("events_seq", sa.BigInteger, nullable=False),
        sa.Column("records_seq", sa.BigInteger, nullable=False),
        sa.Column("policy_fingerprint", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "report_spans",
        sa.Column("person", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("purpose", sa.String(128), primary_key=True),
        sa.Column("start_us", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("end_us", sa.BigInteger, nullable=True),
        sa.Column("region", sa.String(128), nullable=False),
        sa.Column("notice_version", sa.String(64), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("allowed", sa.Integer, nullable=False),
    )
    op.create_index("ix_report_spans_start", "report_spans", ["start_us"])
    op.create_index("ix_report_spans_end", "report_spans", ["end_us"])
    for name, bucket in (("report_days", "day"), ("report_months", "month")):
        op.create_table(
            name,
            sa.Column(bucket, sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("purpose", sa.String(128), primary_key=True),
            sa.Column("region", sa.String(128), primary_key=True),
            sa.Column("notice_version", sa.String(64), primary_key=True),
            sa.Column("source", sa.String(32), primary_key=True),
            sa.Column("subjects", sa.BigInteger, nullable=False),
            sa.Column("allowed", sa.BigInteger, nullable=False),
        )
    op.create_index("ix_aliases_record_seq", "aliases", ["record_seq"])


def downgrade() -> None:
    op.drop_index("ix_aliases_record_seq", table_name="aliases")
    op.drop_table("report_months")
    op.drop_table("report_days")
    op.drop_table("report_spans")
    op.drop_table("report_state")
