"""Finding requests and their timelines, with who may see what."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.orm import joinedload
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from facilities.models import (
    PUBLIC_UPDATE_KINDS,
    ServiceRequest,
    Update,
    UpdateKind,
    User,
    Visibility,
)
from facilities.services.pagination import Page, paginate


def with_details(statement: SelectOfScalar[ServiceRequest]) -> SelectOfScalar[ServiceRequest]:
    """Load what every list row shows in the same query, so a page's cost is fixed."""
    return statement.options(
        joinedload(ServiceRequest.category),
        joinedload(ServiceRequest.building),
        joinedload(ServiceRequest.status),
        joinedload(ServiceRequest.tenant),
        joinedload(ServiceRequest.assignee),
        joinedload(ServiceRequest.duplicate_of),
    )


def by_reference(session: Session, reference: str) -> ServiceRequest | None:
    return session.exec(
        with_details(select(ServiceRequest)).where(ServiceRequest.reference == reference.upper())
    ).first()


def can_view(user: User | None, service_request: ServiceRequest) -> bool:
    """Public requests are for everyone; private ones for staff and the sender's company."""
    if service_request.visibility == Visibility.public:
        return True
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return user.tenant_id is not None and user.tenant_id == service_request.tenant_id


def timeline(
    session: Session, service_request: ServiceRequest, *, viewer: User | None
) -> list[Update]:
    """The request's updates that `viewer` may read, oldest first.

    Staff see everything, scheduled posts included; the sender's company also sees
    comments; everyone else sees published public updates and status changes.
    """
    statement = (
        select(Update)
        .where(Update.request_id == service_request.id)
        .options(
            joinedload(Update.author), joinedload(Update.from_status), joinedload(Update.to_status)
        )
        .order_by(
            # in the order people saw them: a scheduled post where it was published
            func.coalesce(Update.published_at, Update.publish_at, Update.created_at),
            col(Update.id),
        )
    )
    is_staff = viewer is not None and viewer.is_authenticated and viewer.is_staff
    if not is_staff:
        kinds = set(PUBLIC_UPDATE_KINDS)
        if (
            viewer is not None
            and viewer.is_authenticated
            and viewer.tenant_id is not None
            and viewer.tenant_id == service_request.tenant_id
        ):
            kinds.add(UpdateKind.comment)
        statement = statement.where(
            col(Update.kind).in_(kinds), col(Update.published_at).is_not(None)
        )
    return list(session.exec(statement).all())


def tenant_requests(
    session: Session, *, tenant_id: int, page: int, per_page: int
) -> Page[ServiceRequest]:
    """All requests of one company, newest first."""
    statement = (
        with_details(select(ServiceRequest))
        .where(ServiceRequest.tenant_id == tenant_id)
        .order_by(col(ServiceRequest.created_at).desc(), col(ServiceRequest.id).desc())
    )
    return paginate(session, statement, page=page, per_page=per_page)


def count_public_entries(session: Session, service_request: ServiceRequest) -> int:
    """Published updates and status changes: what readers of the request can see."""
    return session.exec(
        select(func.count())
        .select_from(Update)
        .where(
            Update.request_id == service_request.id,
            col(Update.kind).in_(PUBLIC_UPDATE_KINDS),
            col(Update.published_at).is_not(None),
        )
    ).one()
