"""Fault reports: the mailbox an address reaches, for one pending confirmation per mailbox.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

TEXT = sqlmodel.sql.sqltypes.AutoString


def _mailbox_key(email: str) -> str:
    # facilities.core.mailboxes.mailbox_key as of this migration: history stays as it ran
    local, at, domain = email.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0] or local}@{domain}" if at else domain


def upgrade() -> None:
    op.add_column(
        "fault_report",
        sa.Column("email_key", TEXT(length=254), nullable=False, server_default=""),
    )
    op.create_index("ix_fault_report_email_key", "fault_report", ["email_key"])
    report = sa.table("fault_report", sa.column("id"), sa.column("email"), sa.column("email_key"))
    connection = op.get_bind()
    rows = connection.execute(sa.select(report.c.id, report.c.email).where(report.c.email != ""))
    for report_id, email in rows.all():
        connection.execute(
            report.update().where(report.c.id == report_id).values(email_key=_mailbox_key(email))
        )


def downgrade() -> None:
    op.drop_index("ix_fault_report_email_key", table_name="fault_report")
    op.drop_column("fault_report", "email_key")
