"""Supports (+1) per person and company, followers of a request, counts on the request.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 06:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    # plain ADD COLUMN (SQLite can): no copy of the requests table
    op.add_column(
        "service_request",
        sa.Column("support_people", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "service_request",
        sa.Column("support_companies", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "support",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIME(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "request_id", name="uq_support_user_request"),
    )
    op.create_index("ix_support_request_tenant", "support", ["request_id", "tenant_id"])
    op.create_table(
        "request_follower",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "support",
                "chosen",
                name="followreason",
                native_enum=False,
                length=20,
                create_constraint=False,
            ),
            nullable=False,
        ),
        sa.Column("created_at", TIME(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "request_id", name="uq_request_follower"),
    )
    op.create_index("ix_request_follower_request", "request_follower", ["request_id"])


def downgrade() -> None:
    op.drop_table("request_follower")
    op.drop_table("support")
    with op.batch_alter_table("service_request") as batch:
        batch.drop_column("support_companies")
        batch.drop_column("support_people")
