"""Where a request came from: the web form, or staff entering ideas from interviews,
surveys and workshops for a company (and when, and who entered them).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 13:40:00
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_request") as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=20), nullable=False, server_default="web")
        )
        batch_op.add_column(sa.Column("source_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("entered_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_service_request_entered_by_id_user", "user", ["entered_by_id"], ["id"]
        )
    _restore_search_triggers()
    # Until now only a charger's fault report came in without a sender.
    op.execute("UPDATE service_request SET source = 'charger' WHERE submitter_id IS NULL")


def _restore_search_triggers() -> None:
    """SQLite's batch mode copies the table, and its triggers are gone with the old one:
    the full-text index (0010) is kept by them, so they are made again."""
    if op.get_bind().dialect.name != "sqlite":
        return
    path = Path(__file__).with_name("0010_request_search.py")
    spec = importlib.util.spec_from_file_location("search_migration", path)
    assert spec is not None and spec.loader is not None
    search = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(search)
    for statement in search.SQLITE:
        if statement.startswith("CREATE TRIGGER"):
            op.execute(statement.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))


def downgrade() -> None:
    with op.batch_alter_table("service_request") as batch_op:
        batch_op.drop_constraint("fk_service_request_entered_by_id_user", type_="foreignkey")
        batch_op.drop_column("entered_by_id")
        batch_op.drop_column("source_date")
        batch_op.drop_column("source")
    _restore_search_triggers()
