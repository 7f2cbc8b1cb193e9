"""Scheduled works with dates, for the iCal feed (filled in by the feeds work).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 13:45:00
"""

from __future__ import annotations

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
