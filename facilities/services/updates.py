"""Scheduled public updates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import joinedload
from sqlmodel import Session, col, select

from facilities.models import Update
from facilities.services import audit
from facilities.services import notify as notifications


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
    published_ids = []
    for update_id in due_ids:
        claimed = session.exec(
            update(Update)
            .where(col(Update.id) == update_id, col(Update.published_at).is_(None))
            .values(published_at=now)
        ).rowcount
        if claimed:
            published_ids.append(update_id)
            audit.record(
                session,
                actor=None,
                action="update.published",
                entity="update",
                entity_id=update_id,
                after={"published_at": now.isoformat()},
            )
    session.flush()
    if published_ids:
        published = session.exec(
            select(Update)
            .where(col(Update.id).in_(published_ids))
            .options(joinedload(Update.request), joinedload(Update.to_status))
        ).all()
        for entry in published:
            notifications.update_published(session, service_request=entry.request, entry=entry)
    return len(published_ids)
