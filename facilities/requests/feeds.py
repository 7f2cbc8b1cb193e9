"""What the public feeds carry: published public updates and status changes of public
requests, newest first. Never a private request's, never an internal note or comment."""

from __future__ import annotations

from sqlalchemy.orm import joinedload
from sqlmodel import Session, col, select

from facilities.core.db import joined
from facilities.park.models import Visibility
from facilities.requests.models import PUBLIC_UPDATE_KINDS, RequestUpdate, ServiceRequest

FEED_LIMIT = 50


def public_entries(
    session: Session,
    *,
    category_id: int | None = None,
    building_id: int | None = None,
    request_id: int | None = None,
    limit: int = FEED_LIMIT,
) -> list[RequestUpdate]:
    """The newest published public entries, optionally of one category, building or
    request, each with its request and statuses loaded (one query)."""
    statement = (
        select(RequestUpdate)
        .join(ServiceRequest, col(RequestUpdate.request_id) == col(ServiceRequest.id))
        .where(
            col(ServiceRequest.visibility) == Visibility.public,
            col(RequestUpdate.kind).in_(PUBLIC_UPDATE_KINDS),
            col(RequestUpdate.published_at).is_not(None),
        )
        .options(
            joinedload(RequestUpdate.request),  # type: ignore[arg-type]
            *joined(RequestUpdate.from_status, RequestUpdate.to_status),
        )
        .order_by(col(RequestUpdate.published_at).desc(), col(RequestUpdate.id).desc())
        .limit(limit)
    )
    if category_id is not None:
        statement = statement.where(col(ServiceRequest.category_id) == category_id)
    if building_id is not None:
        statement = statement.where(col(ServiceRequest.building_id) == building_id)
    if request_id is not None:
        statement = statement.where(col(RequestUpdate.request_id) == request_id)
    return list(session.exec(statement).all())
