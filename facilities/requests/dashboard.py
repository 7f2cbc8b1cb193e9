"""The property manager's dashboard: the park's requests over the last twelve months.

Everything is counted by the database in a fixed number of grouped queries, whatever the
history holds: requests open now by building and status kind, received and resolved per
month (months in park time), how the deadlines were kept, the median times to the first
answer and to the resolution, and the most supported open requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import ColumnElement, and_, case, func, literal, or_, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Float
from sqlmodel import Session, col, select

from facilities.core.db import joined
from facilities.park.models import Building
from facilities.requests.models import ServiceRequest, Status
from facilities.requests.reports import Kept, month_bounds
from facilities.requests.workflow import CLOSED_KINDS, OPEN_KINDS, StatusKind
from facilities.settings import get_settings

MONTHS = 12
TOP_SUPPORTED = 10
# Open kinds in the order a request moves through them.
OPEN_KIND_ORDER: tuple[StatusKind, ...] = tuple(kind for kind in StatusKind if kind in OPEN_KINDS)


@dataclass(frozen=True)
class DashboardFilter:
    category_id: int | None = None
    building_id: int | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.category_id is not None:
            conditions.append(col(ServiceRequest.category_id) == self.category_id)
        if self.building_id is not None:
            conditions.append(col(ServiceRequest.building_id) == self.building_id)
        return conditions


@dataclass
class BuildingOpen:
    """The requests open now in one building (`name` None: no building given)."""

    name: str | None
    counts: dict[StatusKind, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class OpenRequests:
    rows: list[BuildingOpen]

    @property
    def by_kind(self) -> dict[StatusKind, int]:
        return {kind: sum(row.counts.get(kind, 0) for row in self.rows) for kind in OPEN_KIND_ORDER}

    @property
    def total(self) -> int:
        return sum(row.total for row in self.rows)

    @property
    def largest(self) -> int:
        return max((row.total for row in self.rows), default=0)


@dataclass
class MonthFlow:
    """One month: requests received and resolved in it, and how the deadlines of those
    received in it were kept."""

    month: date
    received: int = 0
    resolved: int = 0
    response: Kept = field(default_factory=Kept)
    resolution: Kept = field(default_factory=Kept)


@dataclass(frozen=True)
class Medians:
    """Median calendar hours from sending to the first answer and to the resolution,
    over the requests received in the period; None when none had one yet."""

    response_hours: float | None
    resolution_hours: float | None


@dataclass
class Dashboard:
    months: list[MonthFlow]
    open: OpenRequests
    medians: Medians
    supported: list[ServiceRequest]
    response: Kept = field(init=False)
    resolution: Kept = field(init=False)

    def __post_init__(self) -> None:
        self.response = _sum_kept(month.response for month in self.months)
        self.resolution = _sum_kept(month.resolution for month in self.months)

    @property
    def received(self) -> int:
        return sum(month.received for month in self.months)

    @property
    def resolved(self) -> int:
        return sum(month.resolved for month in self.months)

    @property
    def busiest_month(self) -> int:
        return max((max(month.received, month.resolved) for month in self.months), default=0)


def dashboard(session: Session, *, filters: DashboardFilter, now: datetime) -> Dashboard:
    """The dashboard for the twelve months up to and including `now`'s, in five queries."""
    months = last_months(now, MONTHS, get_settings().timezone)
    return Dashboard(
        months=month_flows(session, filters=filters, months=months, now=now),
        open=open_requests(session, filters=filters),
        medians=medians(session, filters=filters, months=months),
        supported=most_supported(session, filters=filters),
    )


def last_months(now: datetime, count: int, timezone: str) -> list[date]:
    """The first days of the `count` months up to `now`'s in `timezone`, oldest first."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    index = today.year * 12 + today.month - 1
    return [
        date(number // 12, number % 12 + 1, 1) for number in range(index - count + 1, index + 1)
    ]


# --- the queries ----------------------------------------------------------------------


def open_requests(session: Session, *, filters: DashboardFilter) -> OpenRequests:
    """Requests open now, counted per building and status kind in one grouped query."""
    statement = (
        select(Building.name, Status.kind, func.count())
        .select_from(ServiceRequest)
        .join(Status, col(Status.id) == col(ServiceRequest.status_id))
        .outerjoin(Building, col(Building.id) == col(ServiceRequest.building_id))
        .where(col(Status.kind).in_(OPEN_KINDS), *filters.conditions())
        .group_by(col(Building.id), col(Building.name), col(Status.kind))
    )
    rows: dict[str | None, BuildingOpen] = {}
    for name, kind, count in session.execute(statement).all():
        row = rows.setdefault(name, BuildingOpen(name=name))
        row.counts[StatusKind(kind)] = row.counts.get(StatusKind(kind), 0) + count
    # buildings by name, requests without one last
    ordered = sorted(rows.values(), key=lambda row: (row.name is None, row.name or ""))
    return OpenRequests(rows=ordered)


def month_flows(
    session: Session, *, filters: DashboardFilter, months: Sequence[date], now: datetime
) -> list[MonthFlow]:
    """Received (with their deadlines) and resolved per month: one query each."""
    timezone = get_settings().timezone
    bounds = [month_bounds(month, timezone)[0] for month in months]
    bounds.append(month_bounds(months[-1], timezone)[1])
    flows = [MonthFlow(month=month) for month in months]

    received = (
        sa.select(  # sqlmodel's select takes at most four columns
            _month_index(col(ServiceRequest.created_at), bounds).label("month"),
            col(ServiceRequest.response_due_at).label("response_due"),
            col(ServiceRequest.responded_at).label("responded"),
            col(ServiceRequest.sla_due_at).label("resolution_due"),
            col(ServiceRequest.resolved_at).label("resolved"),
        )
        .where(*_within(col(ServiceRequest.created_at), bounds), *filters.conditions())
        .subquery()
    )
    response = _kept_sums(received.c.response_due, received.c.responded, now)
    resolution = _kept_sums(received.c.resolution_due, received.c.resolved, now)
    counted = select(received.c.month, func.count(), *response, *resolution).group_by(
        received.c.month
    )
    for index, total, *kept in session.execute(counted).all():
        flow = flows[index]
        flow.received = total
        flow.response = Kept(met=kept[0] or 0, missed=kept[1] or 0, open=kept[2] or 0)
        flow.resolution = Kept(met=kept[3] or 0, missed=kept[4] or 0, open=kept[5] or 0)

    resolved = (
        select(_month_index(col(ServiceRequest.resolved_at), bounds).label("month"))
        .where(*_within(col(ServiceRequest.resolved_at), bounds), *filters.conditions())
        .subquery()
    )
    per_month = select(resolved.c.month, func.count()).group_by(resolved.c.month)
    for index, total in session.execute(per_month).all():
        flows[index].resolved = total
    return flows


def medians(session: Session, *, filters: DashboardFilter, months: Sequence[date]) -> Medians:
    """Both medians in one query: the database ranks the durations (window functions,
    in SQLite and PostgreSQL alike) and hands back two numbers, however many requests."""
    timezone = get_settings().timezone
    start = month_bounds(months[0], timezone)[0]
    end = month_bounds(months[-1], timezone)[1]
    window = [
        col(ServiceRequest.created_at) >= start,
        col(ServiceRequest.created_at) < end,
        *filters.conditions(),
    ]
    created = col(ServiceRequest.created_at)
    durations = union_all(
        select(
            literal("response").label("measure"),
            HoursBetween(created, col(ServiceRequest.responded_at)).label("hours"),
        ).where(col(ServiceRequest.responded_at).is_not(None), *window),
        select(
            literal("resolution").label("measure"),
            HoursBetween(created, col(ServiceRequest.resolved_at)).label("hours"),
        ).where(col(ServiceRequest.resolved_at).is_not(None), *window),
    ).subquery()
    ranked = select(
        durations.c.measure,
        durations.c.hours,
        func.row_number()
        .over(partition_by=durations.c.measure, order_by=durations.c.hours)
        .label("position"),
        func.count().over(partition_by=durations.c.measure).label("total"),
    ).subquery()
    # the middle one of an odd count, the middle two of an even one: total <= 2p <= total + 2
    middle = select(ranked.c.measure, func.avg(ranked.c.hours)).where(
        2 * ranked.c.position >= ranked.c.total, 2 * ranked.c.position <= ranked.c.total + 2
    )
    found: dict[str, Any] = {
        measure: hours for measure, hours in session.execute(middle.group_by(ranked.c.measure))
    }
    return Medians(
        response_hours=_rounded(found.get("response")),
        resolution_hours=_rounded(found.get("resolution")),
    )


def most_supported(session: Session, *, filters: DashboardFilter) -> list[ServiceRequest]:
    """Open requests with the most supporting companies, then people."""
    statement = (
        select(ServiceRequest)
        .join(Status, col(Status.id) == col(ServiceRequest.status_id))
        .where(
            col(Status.kind).not_in(CLOSED_KINDS),
            col(ServiceRequest.support_people) > 0,
            *filters.conditions(),
        )
        .options(*joined(ServiceRequest.status, ServiceRequest.building))
        .order_by(
            col(ServiceRequest.support_companies).desc(),
            col(ServiceRequest.support_people).desc(),
            col(ServiceRequest.created_at),
            col(ServiceRequest.id),
        )
        .limit(TOP_SUPPORTED)
    )
    return list(session.exec(statement).unique().all())


# --- pieces -----------------------------------------------------------------------------


class HoursBetween(FunctionElement[float]):
    """Calendar hours from the first moment to the second, in SQL."""

    type = Float()
    inherit_cache = True
    name = "hours_between"


@compiles(HoursBetween, "sqlite")
def _hours_between_sqlite(element: HoursBetween, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 24.0)"


@compiles(HoursBetween)
def _hours_between(element: HoursBetween, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0)"


def _within(column: Any, bounds: Sequence[datetime]) -> list[ColumnElement[bool]]:
    return [column >= bounds[0], column < bounds[-1]]


def _month_index(column: Any, bounds: Sequence[datetime]) -> Any:
    """Which month a moment falls in (0 = the first), by the months' UTC bounds: the
    park's months, summer time included, with no time zone support in the database."""
    steps = [(column < bound, index) for index, bound in enumerate(bounds[1:-1])]
    return case(*steps, else_=len(bounds) - 2)


def _kept_sums(due: Any, done: Any, now: datetime) -> list[Any]:
    """Met, missed and not yet due as SQL sums: Kept.count, counted by the database."""
    met = and_(due.is_not(None), done.is_not(None), done <= due)
    missed = and_(
        due.is_not(None), or_(and_(done.is_not(None), done > due), and_(done.is_(None), due <= now))
    )
    waiting = and_(due.is_not(None), done.is_(None), due > now)
    return [func.sum(case((condition, 1), else_=0)) for condition in (met, missed, waiting)]


def _sum_kept(parts: Any) -> Kept:
    total = Kept()
    for part in parts:
        total.met += part.met
        total.missed += part.missed
        total.open += part.open
    return total


def _rounded(hours: Any) -> float | None:
    return None if hours is None else round(float(hours), 1)
