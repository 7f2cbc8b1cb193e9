"""A request's SLA deadlines: when the first answer and the resolution are due.

Targets are hours of business time per category and priority (`Category.sla_targets`);
the clock (requests.sla) counts the park's business hours and stops while the request
waits. Deadlines are kept on the request, so lists can sort and filter by them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from facilities.park.models import Category
from facilities.requests.models import RequestUpdate, ServiceRequest, Status, UpdateKind
from facilities.requests.sla import BusinessCalendar, Pause, due_at
from facilities.requests.workflow import CLOSED_KINDS, StatusKind
from facilities.settings import get_settings


def business_calendar() -> BusinessCalendar:
    settings = get_settings()
    return BusinessCalendar.from_settings(
        settings.business_hours, settings.business_days, settings.timezone
    )


def waiting_spells(session: Session, service_request: ServiceRequest) -> list[Pause]:
    """When the request was Waiting, from its status changes; the last spell is open
    (None) while it still waits."""
    to_status = aliased(Status)
    changes = session.exec(
        select(RequestUpdate.created_at, to_status.kind)
        .join(to_status, col(to_status.id) == col(RequestUpdate.to_status_id))
        .where(
            RequestUpdate.request_id == service_request.id,
            RequestUpdate.kind == UpdateKind.status_change,
        )
        .order_by(col(RequestUpdate.created_at), col(RequestUpdate.id))
    ).all()
    return spells_of(changes)


def spells_of(changes: Iterable[tuple[datetime, str]]) -> list[Pause]:
    """Waiting spells from status changes in time order: (moment, kind moved to)."""
    spells: list[Pause] = []
    since: datetime | None = None
    for moment, kind in changes:
        if kind == StatusKind.waiting and since is None:
            since = moment
        elif kind != StatusKind.waiting and since is not None:
            spells.append((since, moment))
            since = None
    if since is not None:
        spells.append((since, None))
    return spells


def refresh_deadlines(
    session: Session, service_request: ServiceRequest, *, now: datetime, responded: bool = False
) -> None:
    """Recount the deadlines after a change; `responded`: staff answered the sender just
    now (a status change, a public update or a message), which meets the first one."""
    if responded and service_request.responded_at is None:
        service_request.responded_at = now
    closed = service_request.status.kind in CLOSED_KINDS
    if closed and service_request.resolved_at is None:
        service_request.resolved_at = now
    elif not closed:
        service_request.resolved_at = None  # reopened: the clock runs again
    category = service_request.category or session.get_one(Category, service_request.category_id)
    targets = category.sla_targets.get(service_request.priority.value) or {}
    pauses = waiting_spells(session, service_request) if targets else []
    calendar = business_calendar()
    start = service_request.created_at

    def due(name: str) -> datetime | None:
        hours = targets.get(name)
        if not hours:
            return None
        return due_at(calendar, start, timedelta(hours=hours), pauses=pauses)

    # A deadline already met or missed stays as it was then: the report judges by it.
    if service_request.responded_at is None or service_request.response_due_at is None:
        service_request.response_due_at = due("response")
    if service_request.resolved_at is None or service_request.sla_due_at is None:
        service_request.sla_due_at = due("resolution")
    session.add(service_request)


@dataclass(frozen=True)
class Deadline:
    kind: str  # "response" (the first answer) or "resolution"
    due: datetime
    overdue: bool


def next_deadline(service_request: ServiceRequest, now: datetime) -> Deadline | None:
    """The deadline the request is working towards now: the first answer until staff
    have given it, then the resolution; none once it is closed or while it waits."""
    if service_request.status.kind in CLOSED_KINDS:
        return None
    if service_request.responded_at is None and service_request.response_due_at is not None:
        due, kind = service_request.response_due_at, "response"
    elif service_request.sla_due_at is not None:
        due, kind = service_request.sla_due_at, "resolution"
    else:
        return None
    return Deadline(kind=kind, due=due, overdue=due <= now)


def next_due_column() -> Any:
    """next_deadline's moment as SQL, for sorting and filtering the queue."""
    return case(
        (
            and_(
                col(ServiceRequest.responded_at).is_(None),
                col(ServiceRequest.response_due_at).is_not(None),
            ),
            col(ServiceRequest.response_due_at),
        ),
        else_=col(ServiceRequest.sla_due_at),
    )
