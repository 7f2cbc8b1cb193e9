"""Default assignee per category.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 11:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a copy of the small category table on SQLite (a foreign key needs one)
    with op.batch_alter_table("category") as batch_op:
        batch_op.add_column(sa.Column("default_assignee_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_category_default_assignee_id_user", "user", ["default_assignee_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("category") as batch_op:
        batch_op.drop_constraint("fk_category_default_assignee_id_user", type_="foreignkey")
        batch_op.drop_column("default_assignee_id")
