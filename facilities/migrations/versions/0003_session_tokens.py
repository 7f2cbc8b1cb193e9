"""Sessions that end: a session token per user, and remember-me tokens per device.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 18:20:00
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    user = sa.table("user", sa.column("id", sa.Integer), sa.column("session_token", sa.String))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(user.c.id)).all():
        connection.execute(
            user.update()
            .where(user.c.id == user_id)
            .values(session_token=secrets.token_urlsafe(24))
        )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.alter_column(
            "session_token",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
            nullable=False,
        )

    op.create_table(
        "remember_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("selector", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("validator_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("selector"),
    )
    with op.batch_alter_table("remember_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_remember_token_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_remember_token_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("remember_token")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("session_token")
