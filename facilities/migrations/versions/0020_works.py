"""Scheduled works with dates, for the iCal feed (filled in by the feeds work).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

TEXT = sqlmodel.sql.sqltypes.AutoString
TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "scheduled_work",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("location_note", TEXT(length=300), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TIME(), nullable=False),
        sa.Column("updated_at", TIME(), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name="ck_scheduled_work_dates"),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_scheduled_work_request_starts", "scheduled_work", ["request_id", "starts_on"]
    )
    op.create_index("ix_scheduled_work_starts", "scheduled_work", ["starts_on"])


def downgrade() -> None:
    op.drop_index("ix_scheduled_work_starts", table_name="scheduled_work")
    op.drop_index("ix_scheduled_work_request_starts", table_name="scheduled_work")
    op.drop_table("scheduled_work")
