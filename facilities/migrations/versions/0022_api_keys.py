"""API keys and their uses; requests sent through the API (Open311).

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-29 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TEXT = sqlmodel.sql.sqltypes.AutoString
TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", TEXT(length=80), nullable=False),
        sa.Column("prefix", TEXT(length=12), nullable=False),
        sa.Column("key_hash", TEXT(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TIME(), nullable=False),
        sa.Column("revoked_at", TIME(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["revoked_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_table(
        "api_key_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("at", TIME(), nullable=False),
        sa.Column("method", TEXT(length=10), nullable=False),
        sa.Column("path", TEXT(length=300), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("remote_addr", TEXT(length=64), nullable=False),
        sa.Column("detail", TEXT(length=120), nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_key.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_api_key_use_key_at", "api_key_use", ["api_key_id", "at"])
    # Plain added columns (no batch copy of service_request: it would drop SQLite's
    # full-text triggers, see 0016); SQLite takes the reference inside ADD COLUMN.
    op.add_column(
        "service_request",
        sa.Column(
            "api_key_id",
            sa.Integer(),
            sa.ForeignKey("api_key.id"),
            nullable=True,
        ),
        inline_references=True,
    )
    op.add_column("service_request", sa.Column("api_token", TEXT(length=40), nullable=True))
    op.create_index("ix_service_request_api_token", "service_request", ["api_token"], unique=True)
    op.add_column("service_request", sa.Column("latitude", sa.Float(), nullable=True))
    op.add_column("service_request", sa.Column("longitude", sa.Float(), nullable=True))
    op.add_column(
        "service_request",
        sa.Column("contact", sa.JSON(), nullable=False, server_default="{}"),
    )


def downgrade() -> None:
    op.drop_column("service_request", "contact")
    op.drop_column("service_request", "longitude")
    op.drop_column("service_request", "latitude")
    op.drop_index("ix_service_request_api_token", table_name="service_request")
    op.drop_column("service_request", "api_token")
    op.drop_column("service_request", "api_key_id")  # its reference goes with it
    op.drop_index("ix_api_key_use_key_at", table_name="api_key_use")
    op.drop_table("api_key_use")
    op.drop_table("api_key")
