"""The public roadmap: public requests that are planned, in progress or done."""

from __future__ import annotations

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from facilities.core.pagination import Page, paginate
from facilities.park.models import Visibility
from facilities.requests.models import ServiceRequest
from facilities.requests.queries import status_ids_by_kind, status_is, with_details
from facilities.requests.workflow import ROADMAP_KINDS, StatusKind


def roadmap_column(
    session: Session, *, kind: StatusKind, status_ids: list[int], page: int, per_page: int
) -> Page[ServiceRequest]:
    statement = column_statement(kind, status_ids)
    return paginate(session, statement, page=page, per_page=per_page)


def column_statement(kind: StatusKind, status_ids: list[int]) -> SelectOfScalar[ServiceRequest]:
    """One column: planned by target date, the others most recently changed first.

    Filtering on the status ids (not a join on their kind) lets the index on
    (visibility, status_id, updated_at, id) hand out a page in order.
    """
    statement = with_details(select(ServiceRequest)).where(
        ServiceRequest.visibility == Visibility.public, status_is(status_ids)
    )
    if kind is StatusKind.planned:
        statement = statement.order_by(
            col(ServiceRequest.target_start).is_(None),
            col(ServiceRequest.target_start),
            col(ServiceRequest.updated_at).desc(),
            col(ServiceRequest.id).desc(),
        )
    else:
        statement = statement.order_by(
            col(ServiceRequest.updated_at).desc(), col(ServiceRequest.id).desc()
        )
    return statement


def roadmap(
    session: Session, *, pages: dict[StatusKind, int], per_page: int
) -> dict[StatusKind, Page[ServiceRequest]]:
    ids = status_ids_by_kind(session)
    return {
        kind: roadmap_column(
            session, kind=kind, status_ids=ids[kind], page=pages.get(kind, 1), per_page=per_page
        )
        for kind in ROADMAP_KINDS
    }
