"""The public roadmap: public requests in four columns, Now / Next / Later / Done.

The columns are decided by the status kind and the public target:

- Now: in progress (any target), and planned with a target that starts this quarter
  or earlier (it is due now, or late).
- Next: planned with a target that starts next quarter.
- Later: planned with a later target or none, and requests under review: what is
  being considered is not promised for any quarter.
- Done: finished whose last change is within `DONE_WINDOW`, newest first.

Every column filters on status ids (not a join on their kind), so that the index on
(visibility, status_id, updated_at, id) finds the rows; a page costs a count and a
page query per column whatever the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from facilities.core.pagination import Page, paginate
from facilities.park.models import Visibility
from facilities.requests.models import ServiceRequest
from facilities.requests.queries import status_ids_by_kind, status_is, with_details
from facilities.requests.workflow import StatusKind

DONE_WINDOW = timedelta(days=90)


class RoadmapColumn(StrEnum):
    now = "now"
    next = "next"
    later = "later"
    done = "done"


ROADMAP_COLUMNS: tuple[RoadmapColumn, ...] = tuple(RoadmapColumn)


@dataclass(frozen=True)
class RoadmapFilter:
    """Narrow every column to one category and/or one building (ids; None: all)."""

    category_id: int | None = None
    building_id: int | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.category_id is not None:
            found.append(col(ServiceRequest.category_id) == self.category_id)
        if self.building_id is not None:
            found.append(col(ServiceRequest.building_id) == self.building_id)
        return found


def quarter_start(day: date, *, ahead: int = 0) -> date:
    """The first day of `day`'s quarter, or of the `ahead`th quarter after it."""
    index = day.year * 4 + (day.month - 1) // 3 + ahead
    return date(index // 4, 3 * (index % 4) + 1, 1)


def column_statement(
    column: RoadmapColumn,
    ids: dict[StatusKind, list[int]],
    *,
    today: date,
    now: datetime,
    filters: RoadmapFilter | None = None,
) -> SelectOfScalar[ServiceRequest]:
    """One column's requests in its order. `today` is the park's date (quarters are
    the park's), `now` the UTC time the Done window ends at."""
    active, planned, review = (
        ids[StatusKind.active],
        ids[StatusKind.planned],
        ids[StatusKind.review],
    )
    next_start, later_start = quarter_start(today, ahead=1), quarter_start(today, ahead=2)
    target = col(ServiceRequest.target_start)
    newest = (col(ServiceRequest.updated_at).desc(), col(ServiceRequest.id).desc())
    statement = with_details(select(ServiceRequest)).where(
        ServiceRequest.visibility == Visibility.public,
        *(filters or RoadmapFilter()).conditions(),
    )
    if column is RoadmapColumn.now:
        return statement.where(
            status_is([*active, *planned]),
            or_(status_is(active), and_(status_is(planned), target < next_start)),
        ).order_by(*newest)
    if column is RoadmapColumn.next:
        return statement.where(
            status_is(planned), target >= next_start, target < later_start
        ).order_by(target, *newest)
    if column is RoadmapColumn.later:
        return statement.where(
            status_is([*planned, *review]),
            or_(status_is(review), target.is_(None), target >= later_start),
        ).order_by(target.is_(None), target, *newest)
    return statement.where(
        status_is(ids[StatusKind.done]), col(ServiceRequest.updated_at) >= now - DONE_WINDOW
    ).order_by(*newest)


def roadmap(
    session: Session,
    *,
    pages: dict[RoadmapColumn, int],
    per_page: int,
    today: date,
    now: datetime,
    filters: RoadmapFilter | None = None,
) -> dict[RoadmapColumn, Page[ServiceRequest]]:
    """Every column's page: one query for the statuses, then two per column."""
    ids = status_ids_by_kind(session)
    return {
        column: paginate(
            session,
            column_statement(column, ids, today=today, now=now, filters=filters),
            page=pages.get(column, 1),
            per_page=per_page,
        )
        for column in ROADMAP_COLUMNS
    }


@dataclass(frozen=True)
class Section:
    items: list[ServiceRequest]
    more: bool  # there are more than these: the roadmap, filtered, lists them


@dataclass(frozen=True)
class BuildingRequests:
    open: Section  # sent, under review, in progress or waiting
    planned: Section
    done: Section  # within DONE_WINDOW


def building_requests(
    session: Session, *, building_id: int, now: datetime, limit: int = 10
) -> BuildingRequests:
    """A building's public requests in three sections of at most `limit`: four
    queries (the statuses, one per section) whatever the building holds."""
    ids = status_ids_by_kind(session)
    open_kinds = (StatusKind.new, StatusKind.review, StatusKind.active, StatusKind.waiting)
    base = with_details(select(ServiceRequest)).where(
        ServiceRequest.visibility == Visibility.public,
        col(ServiceRequest.building_id) == building_id,
    )
    newest = (col(ServiceRequest.updated_at).desc(), col(ServiceRequest.id).desc())
    target = col(ServiceRequest.target_start)
    statements = (
        base.where(status_is([i for kind in open_kinds for i in ids[kind]])).order_by(*newest),
        base.where(status_is(ids[StatusKind.planned])).order_by(target.is_(None), target, *newest),
        base.where(
            status_is(ids[StatusKind.done]),
            col(ServiceRequest.updated_at) >= now - DONE_WINDOW,
        ).order_by(*newest),
    )
    sections = []
    for statement in statements:
        rows = list(session.exec(statement.limit(limit + 1)).all())
        sections.append(Section(items=rows[:limit], more=len(rows) > limit))
    return BuildingRequests(*sections)
