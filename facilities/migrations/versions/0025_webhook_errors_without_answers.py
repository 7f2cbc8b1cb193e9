"""Webhook posts' last errors without the receiver's answer: the status is kept, the body
(up to 300 characters of whatever the receiver said) is dropped.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 22:20:00
"""

from __future__ import annotations

import re
from http import HTTPStatus

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

_REFUSED = re.compile(r"WebhookRefused: HTTP (\d{3})")


def _status_only(code: int) -> str:
    """As facilities.core.webhooks now writes it: the code and its standard phrase."""
    try:
        return f"WebhookRefused: HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"WebhookRefused: HTTP {code}"


def upgrade() -> None:
    outbox = sa.table(
        "outbox", sa.column("id", sa.Integer), sa.column("kind"), sa.column("last_error", sa.Text)
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(outbox.c.id, outbox.c.last_error).where(
            outbox.c.kind == "webhook", outbox.c.last_error.like("WebhookRefused: HTTP %")
        )
    ).all()
    for row_id, last_error in rows:
        match = _REFUSED.match(last_error)
        if match:
            connection.execute(
                outbox.update()
                .where(outbox.c.id == row_id)
                .values(last_error=_status_only(int(match.group(1))))
            )


def downgrade() -> None:
    pass  # the answers are gone: nothing to put back
