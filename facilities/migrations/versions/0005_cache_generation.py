"""Cached public pages: the cache generation row, and indexes for every list's order.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEXES = {
    # the roadmap's columns: public, one status, most recently changed first
    "ix_service_request_public_status_updated": ["visibility", "status_id", "updated_at", "id"],
    # "our requests", newest first; the id breaks ties (SQLite had it as the rowid,
    # PostgreSQL sorted without it)
    "ix_service_request_tenant_created_id": ["tenant_id", "created_at", "id"],
}
REPLACED = {"ix_service_request_tenant_created": ["tenant_id", "created_at"]}


def upgrade() -> None:
    table = op.create_table(
        "cache_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(table, [{"id": 1, "value": 0}])
    for name, columns in INDEXES.items():
        op.create_index(name, "service_request", columns)
    for name in REPLACED:
        op.drop_index(name, table_name="service_request")


def downgrade() -> None:
    for name, columns in REPLACED.items():
        op.create_index(name, "service_request", columns)
    for name in INDEXES:
        op.drop_index(name, table_name="service_request")
    op.drop_table("cache_generation")
