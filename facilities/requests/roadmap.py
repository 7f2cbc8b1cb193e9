"""The public roadmap: public requests that are planned, in progress or done."""

from __future__ import annotations

from sqlmodel import Session, col, select

from facilities.core.pagination import Page, paginate
from facilities.park.models import Visibility
from facilities.requests.models import ServiceRequest, Status
from facilities.requests.queries import with_details
from facilities.requests.workflow import ROADMAP_KINDS, StatusKind


def roadmap_column(
    session: Session, *, kind: StatusKind, page: int, per_page: int
) -> Page[ServiceRequest]:
    """One column: planned by target date, the others most recently changed first."""
    statement = (
        with_details(select(ServiceRequest))
        .join(Status, col(Status.id) == ServiceRequest.status_id)
        .where(Status.kind == kind, ServiceRequest.visibility == Visibility.public)
    )
    if kind is StatusKind.planned:
        statement = statement.order_by(
            col(ServiceRequest.target_start).is_(None),
            col(ServiceRequest.target_start),
            col(ServiceRequest.updated_at).desc(),
        )
    else:
        statement = statement.order_by(col(ServiceRequest.updated_at).desc())
    return paginate(
        session, statement.order_by(col(ServiceRequest.id)), page=page, per_page=per_page
    )


def roadmap(
    session: Session, *, pages: dict[StatusKind, int], per_page: int
) -> dict[StatusKind, Page[ServiceRequest]]:
    return {
        kind: roadmap_column(session, kind=kind, page=pages.get(kind, 1), per_page=per_page)
        for kind in ROADMAP_KINDS
    }
