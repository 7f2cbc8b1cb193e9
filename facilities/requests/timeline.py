"""A request's timeline: reading it, and publishing scheduled entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from facilities.core import audit, outbox
from facilities.core.db import joined
from facilities.requests import emails
from facilities.requests.events import announce_published
from facilities.requests.models import RequestUpdate, ServiceRequest, UpdateKind


def timeline(
    session: Session, service_request: ServiceRequest, *, kinds: frozenset[UpdateKind] | None
) -> list[RequestUpdate]:
    """The request's entries of `kinds` that are published, oldest first; with `kinds`
    None every entry, scheduled ones too (policy.RequestAccess.timeline_kinds says which)."""
    statement = (
        select(RequestUpdate)
        .where(col(RequestUpdate.request_id) == service_request.id)
        .options(*joined(RequestUpdate.author, RequestUpdate.from_status, RequestUpdate.to_status))
        .order_by(
            # in the order people saw them: a scheduled post where it was published
            func.coalesce(
                RequestUpdate.published_at, RequestUpdate.publish_at, RequestUpdate.created_at
            ),
            col(RequestUpdate.id),
        )
    )
    if kinds is not None:
        statement = statement.where(
            col(RequestUpdate.kind).in_(kinds), col(RequestUpdate.published_at).is_not(None)
        )
    return list(session.exec(statement).all())


def publish_due_updates(session: Session, *, now: datetime, limit: int = 200) -> int:
    """Publish the scheduled updates whose time has come; returns how many this call published.

    Each row is claimed with a conditional UPDATE, so two runs over the same due update
    (a retry, or a second scheduler) publish it once.
    """
    due_ids = session.exec(
        select(RequestUpdate.id)
        .where(col(RequestUpdate.published_at).is_(None), col(RequestUpdate.publish_at) <= now)
        .order_by(col(RequestUpdate.publish_at))
        .limit(limit)
    ).all()
    published_ids = []
    for update_id in due_ids:
        claimed = session.exec(
            update(RequestUpdate)
            .where(col(RequestUpdate.id) == update_id, col(RequestUpdate.published_at).is_(None))
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
            select(RequestUpdate)
            .where(col(RequestUpdate.id).in_(published_ids))
            .options(*joined(RequestUpdate.request, RequestUpdate.to_status))
        ).all()
        for entry in published:
            outbox.queue(
                session,
                emails.update_published(session, service_request=entry.request, entry=entry),
                now=now,
            )
            announce_published(session, entry.request, entry)
    return len(published_ids)
