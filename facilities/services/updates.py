"""Scheduled public updates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from facilities.models import Update
from facilities.services import audit


def publish_due_updates(session: Session, *, now: datetime, limit: int = 200) -> int:
    """Publish the scheduled updates whose time has come; returns how many this call published.

    Each row is claimed with a conditional UPDATE, so two runs over the same due update
    (a retry, or a second scheduler) publish it once.
    """
    due_ids = session.exec(
        select(Update.id)
        .where(col(Update.published_at).is_(None), col(Update.publish_at) <= now)
        .order_by(col(Update.publish_at))
        .limit(limit)
    ).all()
    published = 0
    for update_id in due_ids:
        claimed = session.exec(
            update(Update)
            .where(col(Update.id) == update_id, col(Update.published_at).is_(None))
            .values(published_at=now)
        ).rowcount
        if claimed:
            published += 1
            audit.record(
                session,
                actor=None,
                action="update.published",
                entity="update",
                entity_id=update_id,
                after={"published_at": now.isoformat()},
            )
    session.flush()
    return published
