"""The timeline table is `request_update`: `update` is an SQL keyword.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 19:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = {  # old name: (new name, columns)
    "ix_update_request_created": (
        "ix_request_update_request_created",
        ["request_id", "created_at"],
    ),
    "ix_update_due": ("ix_request_update_due", ["published_at", "publish_at"]),
}


def upgrade() -> None:
    _rename("update", "request_update", {old: new for old, new in INDEXES.items()})


def downgrade() -> None:
    _rename(
        "request_update",
        "update",
        {new_name: (old, columns) for old, (new_name, columns) in INDEXES.items()},
    )


def _rename(old_table: str, new_table: str, indexes: dict[str, tuple[str, list[str]]]) -> None:
    """Rename the table with every row, and its indexes (SQLite cannot rename an index)."""
    for old_index in indexes:
        op.drop_index(old_index, table_name=old_table)
    op.rename_table(old_table, new_table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'ALTER SEQUENCE "{old_table}_id_seq" RENAME TO "{new_table}_id_seq"')
        op.execute(
            f'ALTER TABLE "{new_table}" RENAME CONSTRAINT "{old_table}_pkey" TO "{new_table}_pkey"'
        )
    for new_index, columns in indexes.values():
        op.create_index(new_index, new_table, columns)
