"""Response templates: admin-written public replies per language, optionally per category.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TEXT = sqlmodel.sql.sqltypes.AutoString
TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "response_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", TEXT(length=80), nullable=False),
        sa.Column("bodies", sa.JSON(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME(), nullable=False),
        sa.Column("updated_at", TIME(), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["category.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index(
        "ix_response_template_category_id", "response_template", ["category_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_response_template_category_id", table_name="response_template")
    op.drop_table("response_template")
