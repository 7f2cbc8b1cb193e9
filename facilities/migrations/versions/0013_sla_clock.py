"""SLA clock: targets per category and priority; a request's response and resolution
deadlines and when they were met.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 11:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    # plain ADD COLUMN (SQLite can): no table copies
    op.add_column(
        "category", sa.Column("sla_targets", sa.JSON(), nullable=False, server_default="{}")
    )
    for name in ("response_due_at", "responded_at", "resolved_at"):
        op.add_column("service_request", sa.Column(name, TIME(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_request") as batch_op:
        for name in ("resolved_at", "responded_at", "response_due_at"):
            batch_op.drop_column(name)
    with op.batch_alter_table("category") as batch_op:
        batch_op.drop_column("sla_targets")
