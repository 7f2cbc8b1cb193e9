"""The monthly SLA report: per category, how the requests of a month kept their
deadlines, and how long the first answer and the resolution took in business hours."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from facilities.park.models import Category
from facilities.requests.deadlines import business_calendar, spells_of
from facilities.requests.models import RequestUpdate, ServiceRequest, Status, UpdateKind
from facilities.requests.sla import Pause, business_time


@dataclass
class Kept:
    """One deadline over a month's requests: met, missed, or not yet due."""

    met: int = 0
    missed: int = 0
    open: int = 0
    hours: list[float] = field(default_factory=list)  # business hours it took, when it did

    def count(self, *, due: datetime | None, done: datetime | None, now: datetime) -> None:
        if due is None:
            return
        if done is not None:
            if done <= due:
                self.met += 1
            else:
                self.missed += 1
        elif due <= now:
            self.missed += 1
        else:
            self.open += 1

    @property
    def median_hours(self) -> float | None:
        return round(statistics.median(self.hours), 1) if self.hours else None

    @property
    def met_share(self) -> float | None:
        decided = self.met + self.missed
        return round(100 * self.met / decided) if decided else None


@dataclass
class SlaRow:
    category: Category
    received: int = 0
    response: Kept = field(default_factory=Kept)
    resolution: Kept = field(default_factory=Kept)


def month_bounds(month: date, timezone: str) -> tuple[datetime, datetime]:
    """The month in park time, as UTC moments [start, end)."""
    zone = ZoneInfo(timezone)
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    following = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), following.astimezone(UTC)


def sla_report(session: Session, *, month: date, now: datetime) -> list[SlaRow]:
    """Every category with requests sent in `month`, in two queries whatever the month
    holds: the requests, and their moves in and out of Waiting."""
    calendar = business_calendar()
    start, end = month_bounds(month, calendar.timezone)
    requests = session.exec(
        select(ServiceRequest)
        .where(col(ServiceRequest.created_at) >= start, col(ServiceRequest.created_at) < end)
        .order_by(col(ServiceRequest.id))
    ).all()
    pauses = _waiting_spells(session, start, end)
    categories = {category.id: category for category in session.exec(select(Category)).all()}
    rows: dict[int, SlaRow] = {}
    for item in requests:
        row = rows.setdefault(item.category_id, SlaRow(category=categories[item.category_id]))
        row.received += 1
        spells = pauses.get(item.id or 0, [])
        row.response.count(due=item.response_due_at, done=item.responded_at, now=now)
        row.resolution.count(due=item.sla_due_at, done=item.resolved_at, now=now)
        if item.responded_at is not None:
            took = business_time(calendar, item.created_at, item.responded_at, pauses=spells)
            row.response.hours.append(took / timedelta(hours=1))
        if item.resolved_at is not None:
            took = business_time(calendar, item.created_at, item.resolved_at, pauses=spells)
            row.resolution.hours.append(took / timedelta(hours=1))
    return sorted(rows.values(), key=lambda row: (row.category.position, row.category.slug))


def _waiting_spells(session: Session, start: datetime, end: datetime) -> dict[int, list[Pause]]:
    """The Waiting spells of the requests sent between `start` and `end`, by request."""
    to_status = aliased(Status)
    sent = select(ServiceRequest.id).where(
        col(ServiceRequest.created_at) >= start, col(ServiceRequest.created_at) < end
    )
    changes = session.exec(
        select(RequestUpdate.request_id, RequestUpdate.created_at, to_status.kind)
        .join(to_status, col(to_status.id) == col(RequestUpdate.to_status_id))
        .where(
            col(RequestUpdate.request_id).in_(sent),
            RequestUpdate.kind == UpdateKind.status_change,
        )
        .order_by(col(RequestUpdate.request_id), col(RequestUpdate.created_at))
    ).all()
    by_request: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for request_id, moment, kind in changes:
        by_request[request_id].append((moment, kind))
    return {request_id: spells_of(moves) for request_id, moves in by_request.items()}
