"""Photos and files on requests and comments; categories' extra questions and their
answers; the sender's choice to be named publicly; supports found by company.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TEXT = sqlmodel.sql.sqltypes.AutoString
TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "category_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("code", TEXT(length=40), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "text",
                "number",
                "single_choice",
                "multiple_choice",
                name="questionkind",
                native_enum=False,
                length=20,
                create_constraint=False,
            ),
            nullable=False,
        ),
        sa.Column("prompts", sa.JSON(), nullable=False),
        sa.Column("hints", sa.JSON(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["category.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("category_id", "code", name="uq_category_question_code"),
    )
    op.create_index(
        "ix_category_question_category_id", "category_question", ["category_id"], unique=False
    )
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("update_id", sa.Integer(), nullable=True),
        sa.Column("uploader_id", sa.Integer(), nullable=True),
        sa.Column("storage_key", TEXT(length=120), nullable=False),
        sa.Column("thumbnail_key", TEXT(length=120), nullable=False),
        sa.Column("content_type", TEXT(length=60), nullable=False),
        sa.Column("filename", TEXT(length=120), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("created_at", TIME(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["update_id"], ["request_update.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploader_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attachment_request_update", "attachment", ["request_id", "update_id"])
    op.create_index("ix_support_tenant_request", "support", ["tenant_id", "request_id"])
    # plain ADD COLUMN (SQLite can): no copy of the requests table
    op.add_column(
        "service_request",
        sa.Column("show_name", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "service_request",
        sa.Column("answers", sa.JSON(), nullable=False, server_default="{}"),
    )


def downgrade() -> None:
    op.drop_index("ix_support_tenant_request", table_name="support")
    with op.batch_alter_table("service_request") as batch_op:
        batch_op.drop_column("answers")
        batch_op.drop_column("show_name")
    op.drop_index("ix_attachment_request_update", table_name="attachment")
    op.drop_table("attachment")
    op.drop_index("ix_category_question_category_id", table_name="category_question")
    op.drop_table("category_question")
