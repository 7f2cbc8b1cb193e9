"""EV charging in operation: pulling operators, faults, QR reports, demand per building.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 05:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TEXT = sqlmodel.sql.sqltypes.AutoString
TIME = sqlmodel.sql.sqltypes.UTCDateTime


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20, create_constraint=False)


def upgrade() -> None:
    with op.batch_alter_table("ocpi_party") as batch:
        batch.add_column(
            sa.Column("endpoints", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(
            sa.Column("pull_enabled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("pulled_until", TIME(), nullable=True))
        batch.add_column(
            sa.Column("pull_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("next_pull_at", TIME(), nullable=True))
        batch.add_column(
            sa.Column("last_pull_error", TEXT(length=500), nullable=False, server_default="")
        )
    op.create_table(
        "charger_fault",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("charger_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=True),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("opened_at", TIME(), nullable=False),
        sa.Column("closed_at", TIME(), nullable=True),
        sa.ForeignKeyConstraint(["charger_id"], ["charger.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("charger_id", "open", name="uq_charger_open_fault"),
    )
    op.create_index("ix_charger_fault_charger_id", "charger_fault", ["charger_id"])
    op.create_index("ix_charger_fault_request_id", "charger_fault", ["request_id"])
    op.create_table(
        "fault_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("charger_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "problem",
            _enum(
                "faultproblem",
                "will_not_start",
                "stopped",
                "cable_damaged",
                "card_or_app",
                "blocked",
                "other",
            ),
            nullable=False,
        ),
        sa.Column("details", TEXT(length=2000), nullable=False),
        sa.Column("email", TEXT(length=254), nullable=False),
        sa.Column("language", TEXT(length=5), nullable=False),
        sa.Column("confirm_token_hash", TEXT(length=64), nullable=False),
        sa.Column("confirmed_at", TIME(), nullable=True),
        sa.Column("photo_key", TEXT(length=200), nullable=False),
        sa.Column("photo_type", TEXT(length=40), nullable=False),
        sa.Column("created_at", TIME(), nullable=False),
        sa.ForeignKeyConstraint(["charger_id"], ["charger.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_fault_report_charger_id", "fault_report", ["charger_id"])
    op.create_index("ix_fault_report_request_id", "fault_report", ["request_id"])
    op.create_index("ix_fault_report_confirm_token_hash", "fault_report", ["confirm_token_hash"])
    op.create_table(
        "charging_interest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("vehicles", sa.Integer(), nullable=False),
        sa.Column("daily_km", sa.Integer(), nullable=False),
        sa.Column(
            "charging_time",
            _enum("chargingtime", "work_hours", "overnight", "both"),
            nullable=False,
        ),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", TIME(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.ForeignKeyConstraint(["building_id"], ["building.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "building_id", name="uq_charging_interest"),
    )
    op.create_index("ix_charging_interest_tenant_id", "charging_interest", ["tenant_id"])
    op.create_index("ix_charging_interest_building_id", "charging_interest", ["building_id"])
    op.create_index("ix_charging_interest_request_id", "charging_interest", ["request_id"])


def downgrade() -> None:
    op.drop_table("charging_interest")
    op.drop_table("fault_report")
    op.drop_table("charger_fault")
    with op.batch_alter_table("ocpi_party") as batch:
        for column in (
            "last_pull_error",
            "next_pull_at",
            "pull_failures",
            "pulled_until",
            "pull_enabled",
            "endpoints",
        ):
            batch.drop_column(column)
