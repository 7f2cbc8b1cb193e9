"""A charger shows one operator's EVSE: the OCPI party is part of its mapping.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a copy of the small charger table on SQLite (a foreign key needs one); no triggers
    with op.batch_alter_table("charger") as batch_op:
        batch_op.add_column(sa.Column("ocpi_party_ref_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_charger_ocpi_party_ref_id_ocpi_party",
            "ocpi_party",
            ["ocpi_party_ref_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_charger_ocpi_party_ref_id", ["ocpi_party_ref_id"])
    # A mapped charger keeps the party that has sent its EVSE; where two have sent the same
    # ids, the one registered first (the other may be the impostor this column stops).
    op.execute(
        """
        UPDATE charger SET ocpi_party_ref_id = (
            SELECT MIN(ocpi_location.party_ref_id)
            FROM ocpi_location JOIN ocpi_evse ON ocpi_evse.location_ref_id = ocpi_location.id
            WHERE ocpi_location.location_id = charger.ocpi_location_id
              AND ocpi_evse.uid = charger.ocpi_evse_uid
        )
        WHERE charger.ocpi_evse_uid != ''
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("charger") as batch_op:
        batch_op.drop_index("ix_charger_ocpi_party_ref_id")
        batch_op.drop_constraint("fk_charger_ocpi_party_ref_id_ocpi_party", type_="foreignkey")
        batch_op.drop_column("ocpi_party_ref_id")
