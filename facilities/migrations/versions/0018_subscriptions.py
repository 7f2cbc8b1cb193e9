"""E-mail subscriptions without an account, and extra headers on outbox e-mails
(List-Unsubscribe).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TEXT = sqlmodel.sql.sqltypes.AutoString
TIME = sqlmodel.sql.sqltypes.UTCDateTime
SCOPES = ("everything", "category", "building", "request")
FREQUENCIES = ("immediate", "daily", "weekly")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", TEXT(length=254), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("scope", _enum("subscriptionscope", *SCOPES), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("frequency", _enum("frequency", *FREQUENCIES), nullable=False),
        sa.Column("language", TEXT(length=5), nullable=False),
        sa.Column("token_salt", TEXT(length=64), nullable=False),
        sa.Column("token_hash", TEXT(length=64), nullable=False),
        sa.Column("created_at", TIME(), nullable=False),
        sa.Column("confirmed_at", TIME(), nullable=True),
        sa.Column("last_digest_at", TIME(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email", "scope", "target_id", name="uq_subscription_email_target"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_subscription_user_id", "subscription", ["user_id"])
    op.create_index("ix_subscription_target", "subscription", ["scope", "target_id", "frequency"])
    op.create_index(
        "ix_subscription_frequency_digest", "subscription", ["frequency", "last_digest_at"]
    )
    op.add_column("outbox", sa.Column("headers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:  # not service_request: batch is safe
        batch.drop_column("headers")
    op.drop_index("ix_subscription_frequency_digest", table_name="subscription")
    op.drop_index("ix_subscription_target", table_name="subscription")
    op.drop_index("ix_subscription_user_id", table_name="subscription")
    op.drop_table("subscription")
