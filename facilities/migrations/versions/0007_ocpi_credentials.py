"""OCPI credentials: the operator's token for us to call them, and registration.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 04:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ocpi_party") as batch:
        batch.add_column(
            sa.Column(
                "remote_token",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                nullable=False,
                server_default="",
            )
        )
        batch.add_column(
            sa.Column("registered", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("roles", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("ocpi_party") as batch:
        batch.drop_column("roles")
        batch.drop_column("registered")
        batch.drop_column("remote_token")
