"""EV charging: chargers, OCPI parties, and the locations and EVSEs they send.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STATUS = sa.Enum(
    "AVAILABLE",
    "BLOCKED",
    "CHARGING",
    "INOPERATIVE",
    "OUTOFORDER",
    "PLANNED",
    "REMOVED",
    "RESERVED",
    "UNKNOWN",
    name="evsestatus",
    native_enum=False,
    length=20,
    create_constraint=False,
)
LIFECYCLE = sa.Enum(
    "planned",
    "installing",
    "operational",
    "removed",
    name="chargerlifecycle",
    native_enum=False,
    length=20,
    create_constraint=False,
)
TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "ocpi_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", TEXT(length=200), nullable=False),
        sa.Column("country_code", TEXT(length=2), nullable=False),
        sa.Column("party_id", TEXT(length=3), nullable=False),
        sa.Column("token_hash", TEXT(length=64), nullable=False),
        sa.Column("versions_url", TEXT(length=500), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_contact_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("country_code", "party_id", name="uq_ocpi_party"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "ocpi_location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party_ref_id", sa.Integer(), nullable=False),
        sa.Column("location_id", TEXT(length=36), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("last_updated", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["party_ref_id"], ["ocpi_party.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("party_ref_id", "location_id", name="uq_ocpi_location"),
    )
    op.create_table(
        "ocpi_evse",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_ref_id", sa.Integer(), nullable=False),
        sa.Column("uid", TEXT(length=36), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("last_updated", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("status_changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["location_ref_id"], ["ocpi_location.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("location_ref_id", "uid", name="uq_ocpi_evse"),
    )
    op.create_table(
        "charger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("code", TEXT(length=40), nullable=False),
        sa.Column("name", TEXT(length=200), nullable=False),
        sa.Column("location_note", TEXT(length=300), nullable=False),
        sa.Column("power_kw", sa.Float(), nullable=False),
        sa.Column("connectors", sa.JSON(), nullable=False),
        sa.Column("operator", TEXT(length=200), nullable=False),
        sa.Column("ocpi_location_id", TEXT(length=36), nullable=False),
        sa.Column("ocpi_evse_uid", TEXT(length=36), nullable=False),
        sa.Column("lifecycle", LIFECYCLE, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["building_id"], ["building.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("ix_charger_building_id", "charger", ["building_id"])
    op.create_index("ix_charger_ocpi_evse_uid", "charger", ["ocpi_evse_uid"])
    op.create_index("ix_charger_request_id", "charger", ["request_id"])


def downgrade() -> None:
    op.drop_table("charger")
    op.drop_table("ocpi_evse")
    op.drop_table("ocpi_location")
    op.drop_table("ocpi_party")
