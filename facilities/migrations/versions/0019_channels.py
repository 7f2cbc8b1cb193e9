"""Outbound webhook channels and the outbox for web posts (filled in by the channels work).

The outbox's unused `channel` column ("email" on every row) becomes `kind` (email or
webhook); webhook rows carry their url, JSON payload, format and signing secret.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TEXT = sqlmodel.sql.sqltypes.AutoString
TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", TEXT(length=80), nullable=False),
        sa.Column("url", TEXT(length=2000), nullable=False),
        sa.Column(
            "format",
            sa.Enum(
                "generic", "slack", "teams", name="channelformat", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("secret", TEXT(length=100), nullable=False),
        sa.Column("wants_updates", sa.Boolean(), nullable=False),
        sa.Column("wants_status_changes", sa.Boolean(), nullable=False),
        sa.Column("wants_weekly", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", TEXT(length=500), nullable=False),
        sa.Column("created_at", TIME(), nullable=False),
        sa.Column("updated_at", TIME(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    # A plain rename (SQLite 3.25+ and PostgreSQL alike), no table copy.
    op.alter_column(
        "outbox",
        "channel",
        new_column_name="kind",
        existing_type=TEXT(length=20),
        existing_nullable=False,
    )
    op.add_column("outbox", sa.Column("url", TEXT(length=2000), nullable=False, server_default=""))
    op.add_column("outbox", sa.Column("payload", sa.JSON(), nullable=True))
    op.add_column("outbox", sa.Column("format", TEXT(length=20), nullable=False, server_default=""))
    op.add_column(
        "outbox", sa.Column("signing_secret", TEXT(length=100), nullable=False, server_default="")
    )


def downgrade() -> None:
    op.drop_column("outbox", "signing_secret")
    op.drop_column("outbox", "format")
    op.drop_column("outbox", "payload")
    op.drop_column("outbox", "url")
    op.alter_column(
        "outbox",
        "kind",
        new_column_name="channel",
        existing_type=TEXT(length=20),
        existing_nullable=False,
    )
    op.drop_table("channel")
