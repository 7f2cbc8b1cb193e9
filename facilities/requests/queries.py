"""Finding requests and their timelines, with who may see what."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from facilities.accounts.models import User
from facilities.core.db import joined, like_pattern
from facilities.core.models import AuditEvent, utcnow
from facilities.core.pagination import Page, paginate
from facilities.park.models import Visibility
from facilities.requests.deadlines import next_due_column
from facilities.requests.models import (
    PUBLIC_UPDATE_KINDS,
    Priority,
    RequestSource,
    RequestUpdate,
    ServiceRequest,
    Status,
    Support,
)
from facilities.requests.workflow import OPEN_KINDS, StatusKind


def with_details(statement: SelectOfScalar[ServiceRequest]) -> SelectOfScalar[ServiceRequest]:
    """Load what every list row shows in the same query, so a page's cost is fixed."""
    return statement.options(
        *joined(
            ServiceRequest.category,
            ServiceRequest.building,
            ServiceRequest.status,
            ServiceRequest.tenant,
            ServiceRequest.assignee,
            ServiceRequest.duplicate_of,
        )
    )


def status_ids_by_kind(session: Session) -> dict[StatusKind, list[int]]:
    """Every status id per kind (a handful of rows), to filter requests by id."""
    ids: dict[StatusKind, list[int]] = {kind: [] for kind in StatusKind}
    for status in session.exec(select(Status)).all():
        assert status.id is not None
        ids[status.kind].append(status.id)
    return ids


def status_is(ids: list[int]) -> ColumnElement[bool]:
    """`status_id = x` for one id, so that an index on it also gives the order."""
    if len(ids) == 1:
        return col(ServiceRequest.status_id) == ids[0]
    return col(ServiceRequest.status_id).in_(ids)


def by_reference(session: Session, reference: str) -> ServiceRequest | None:
    return session.exec(
        with_details(select(ServiceRequest)).where(ServiceRequest.reference == reference.upper())
    ).first()


def by_references(session: Session, references: list[str]) -> list[ServiceRequest]:
    """Requests by their references, in one query (unknown ones are left out)."""
    if not references:
        return []
    return list(
        session.exec(
            with_details(select(ServiceRequest)).where(
                col(ServiceRequest.reference).in_(references)
            )
        ).all()
    )


def tenant_requests(
    session: Session, *, tenant_id: int, page: int, per_page: int
) -> Page[ServiceRequest]:
    """All requests of one company, newest first."""
    return paginate(session, tenant_statement(tenant_id), page=page, per_page=per_page)


def tenant_statement(tenant_id: int) -> SelectOfScalar[ServiceRequest]:
    return (
        with_details(select(ServiceRequest))
        .where(ServiceRequest.tenant_id == tenant_id)
        .order_by(col(ServiceRequest.created_at).desc(), col(ServiceRequest.id).desc())
    )


def tenant_supported_requests(
    session: Session, *, tenant_id: int, page: int, per_page: int
) -> Page[ServiceRequest]:
    """Other companies' public requests that someone in this company supports, newest
    first (one made private since is theirs and staff's only)."""
    supported = select(Support.request_id).where(Support.tenant_id == tenant_id)
    statement = (
        with_details(select(ServiceRequest))
        .where(
            col(ServiceRequest.id).in_(supported),
            ServiceRequest.visibility == Visibility.public,
            or_(
                col(ServiceRequest.tenant_id).is_(None), col(ServiceRequest.tenant_id) != tenant_id
            ),
        )
        .order_by(col(ServiceRequest.created_at).desc(), col(ServiceRequest.id).desc())
    )
    return paginate(session, statement, page=page, per_page=per_page)


def count_public_entries(session: Session, service_request: ServiceRequest) -> int:
    """Published updates and status changes: what readers of the request can see."""
    return session.exec(
        select(func.count())
        .select_from(RequestUpdate)
        .where(
            RequestUpdate.request_id == service_request.id,
            col(RequestUpdate.kind).in_(PUBLIC_UPDATE_KINDS),
            col(RequestUpdate.published_at).is_not(None),
        )
    ).one()


PRIORITY_RANK = {Priority.urgent: 0, Priority.high: 1, Priority.normal: 2, Priority.low: 3}


# The queue's filters as named in its address (and kept in saved views).
QUEUE_ARGS = (
    "status",
    "category",
    "building",
    "tenant",
    "source",
    "q",
    "sort",
    "overdue",
    "supported",
    "assignee",
)


@dataclass(frozen=True)
class QueueFilter:
    """The queue's filters as the staff set them; empty means any."""

    status: str = "open"  # "open", "all" or a status slug
    category_id: int | None = None
    building_id: int | None = None
    search: str = ""
    sort: str = "urgency"  # "urgency" (then oldest), "support" (most companies, people),
    # "due" (the next SLA deadline, soonest first), "oldest" or "newest"
    overdue: bool = False  # only requests past their next SLA deadline
    assignee: str = ""  # "mine", "nobody" or a user id; empty: anyone's
    tenant_id: int | None = None  # the company it is for
    source: str = ""  # a RequestSource value; empty: any
    supported: bool = False  # only requests someone supports
    viewer_id: int | None = None  # whose "mine" is meant
    now: datetime | None = None  # what "past" is measured against


def queue(
    session: Session,
    *,
    filters: QueueFilter,
    page: int,
    per_page: int,
    ids: dict[StatusKind, list[int]] | None = None,
) -> Page[ServiceRequest]:
    """Requests for staff, most urgent first, then oldest first. `ids`: the status ids
    per kind, when the caller has them already."""
    statement = queue_statement(filters, ids or status_ids_by_kind(session))
    return paginate(session, statement, page=page, per_page=per_page)


def queue_statement(
    filters: QueueFilter, ids: dict[StatusKind, list[int]]
) -> SelectOfScalar[ServiceRequest]:
    statement = with_details(select(ServiceRequest))
    if filters.status == "open":
        statement = statement.where(status_is([i for kind in OPEN_KINDS for i in ids[kind]]))
    elif filters.status != "all":
        statement = statement.join(Status, col(Status.id) == ServiceRequest.status_id).where(
            Status.slug == filters.status
        )
    if filters.category_id:
        statement = statement.where(ServiceRequest.category_id == filters.category_id)
    if filters.building_id:
        statement = statement.where(ServiceRequest.building_id == filters.building_id)
    if filters.search:
        pattern = like_pattern(filters.search)  # % and _ typed by staff are literal
        statement = statement.where(
            or_(
                col(ServiceRequest.title).ilike(pattern, escape="\\"),
                col(ServiceRequest.reference).ilike(pattern, escape="\\"),
            )
        )
    if filters.assignee == "nobody":
        statement = statement.where(col(ServiceRequest.assignee_id).is_(None))
    elif filters.assignee == "mine":
        statement = statement.where(ServiceRequest.assignee_id == filters.viewer_id)
    elif filters.assignee.isascii() and filters.assignee.isdigit():
        statement = statement.where(ServiceRequest.assignee_id == int(filters.assignee))
    if filters.tenant_id:
        statement = statement.where(ServiceRequest.tenant_id == filters.tenant_id)
    if filters.source in RequestSource.__members__:
        statement = statement.where(ServiceRequest.source == RequestSource(filters.source))
    if filters.supported:
        statement = statement.where(col(ServiceRequest.support_people) > 0)
    if filters.overdue:
        next_due = next_due_column()
        statement = statement.where(
            status_is([i for kind in OPEN_KINDS for i in ids[kind]]),
            next_due.is_not(None),
            next_due <= (filters.now or utcnow()),
        )
    if filters.sort == "due":
        return statement.order_by(
            next_due_column().is_(None),  # no deadline: last
            next_due_column(),
            col(ServiceRequest.created_at),
            col(ServiceRequest.id),
        )
    if filters.sort in ("oldest", "newest"):
        created = col(ServiceRequest.created_at)
        newest = filters.sort == "newest"
        return statement.order_by(
            created.desc() if newest else created,
            col(ServiceRequest.id).desc() if newest else col(ServiceRequest.id),
        )
    if filters.sort == "support":
        return statement.order_by(
            col(ServiceRequest.support_companies).desc(),
            col(ServiceRequest.support_people).desc(),
            col(ServiceRequest.created_at),
            col(ServiceRequest.id),
        )
    priority_rank = case(
        {priority.value: rank for priority, rank in PRIORITY_RANK.items()},
        value=ServiceRequest.priority,
    )
    return statement.order_by(priority_rank, col(ServiceRequest.created_at), col(ServiceRequest.id))


def status_counts(
    session: Session, filters: QueueFilter, ids: dict[StatusKind, list[int]]
) -> dict[int, int]:
    """How many requests each status holds under the queue's other filters, in one
    grouped query (a status with none is left out)."""
    statement = queue_statement(replace(filters, status="all", sort="urgency"), ids)
    grouped: Any = (
        statement.with_only_columns(col(ServiceRequest.status_id), func.count())
        .group_by(col(ServiceRequest.status_id))
        .order_by(None)
    )
    # session.execute: rows of two columns (sqlmodel's exec would give scalars here)
    return {status_id: count for status_id, count in session.execute(grouped).all()}


def statuses(session: Session) -> list[Status]:
    return list(session.exec(select(Status).order_by(col(Status.position), col(Status.id))).all())


def initial_status(session: Session) -> Status:
    """The status new requests start in: the first active one of kind `new`."""
    status = session.exec(
        select(Status)
        .where(Status.kind == StatusKind.new, col(Status.active).is_(True))
        .order_by(col(Status.position))
    ).first()
    if status is None:
        raise LookupError("no active status of kind 'new'; run `facilities db upgrade`")
    return status


def changes_since(
    session: Session, service_request: ServiceRequest, *, seen_version: int, limit: int = 5
) -> list[tuple[AuditEvent, User | None]]:
    """The triage saves made since someone loaded `seen_version` of the request, newest
    first, with who made them: what a conflicting save is told. Each save moved the
    version on by one (a charger's fault closing the request does too, unaudited here)."""
    missed = min(service_request.version - seen_version, limit)
    if missed <= 0:
        return []
    rows = session.exec(
        select(AuditEvent, User)
        .join(User, col(User.id) == AuditEvent.actor_id, isouter=True)
        .where(
            AuditEvent.entity == "service_request",
            AuditEvent.entity_id == service_request.id,
            AuditEvent.action == "request.triaged",
        )
        .order_by(col(AuditEvent.id).desc())
        .limit(missed)
    ).all()
    return [(event, user) for event, user in rows]
