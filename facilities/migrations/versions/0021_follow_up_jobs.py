"""What the follow-up jobs remember: staleness flags, is-it-fixed questions, anonymised requests (filled in by the jobs work).

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-29 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TIME = sqlmodel.sql.sqltypes.UTCDateTime
# Plain added columns (no batch copy of service_request: it would drop SQLite's
# full-text triggers, see 0016).
REQUEST_TIMES = (
    "stale_flagged_at",
    "sla_warned_due_at",
    "sla_escalated_due_at",
    "fixed_asked_at",
    "fixed_answered_at",
    "anonymised_at",
)


def upgrade() -> None:
    for name in REQUEST_TIMES:
        op.add_column("service_request", sa.Column(name, TIME(), nullable=True))
    op.add_column(
        "service_request",
        sa.Column("fixed_token_hash", sqlmodel.sql.sqltypes.AutoString(64), nullable=True),
    )
    op.add_column(
        "service_request",
        sa.Column("fixed_answer", sqlmodel.sql.sqltypes.AutoString(10), nullable=True),
    )
    op.create_index(
        "ix_service_request_fixed_token_hash", "service_request", ["fixed_token_hash"], unique=True
    )
    op.add_column("scheduler_lease", sa.Column("acquired_at", TIME(), nullable=True))


def downgrade() -> None:
    op.drop_column("scheduler_lease", "acquired_at")
    op.drop_index("ix_service_request_fixed_token_hash", table_name="service_request")
    for name in ("fixed_answer", "fixed_token_hash", *REQUEST_TIMES):
        op.drop_column("service_request", name)
