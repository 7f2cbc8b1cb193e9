"""The changelog: public requests finished (done), one month of the park's calendar
per page, newest first, with the neighbouring months that have any."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from facilities.core.pagination import Page, paginate
from facilities.park.models import Visibility
from facilities.requests.models import ServiceRequest
from facilities.requests.queries import status_ids_by_kind, status_is, with_details
from facilities.requests.reports import month_bounds
from facilities.requests.workflow import StatusKind


@dataclass(frozen=True)
class ChangelogMonth:
    month: date  # its first day
    page: Page[ServiceRequest]
    newer: date | None  # the nearest later month with finished work
    older: date | None  # the nearest earlier one


def parse_month(value: str) -> date | None:
    """'2026-11' -> 2026-11-01; None for anything else (an address typed by hand)."""
    try:
        year, month = value.split("-")
        if len(year) != 4 or len(month) != 2:
            return None
        return date(int(year), int(month), 1)
    except ValueError:
        return None


def _month_of(moment: datetime | None, zone: ZoneInfo) -> date | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back what it stored, in UTC
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    return date(local.year, local.month, 1)


def changelog(
    session: Session,
    *,
    month: date | None,
    today: date,
    page: int,
    per_page: int,
    timezone: str,
) -> ChangelogMonth:
    """Finished public work of `month` (None: the newest month that has any), in four
    queries whatever the history: the statuses, the neighbours, a count and a page."""
    zone = ZoneInfo(timezone)
    done = status_ids_by_kind(session)[StatusKind.done]
    resolved = col(ServiceRequest.resolved_at)
    finished = (ServiceRequest.visibility == Visibility.public, status_is(done))
    if month is None:
        newest = session.exec(select(func.max(resolved)).where(*finished)).one()
        month = _month_of(newest, zone) or today.replace(day=1)
    start, end = month_bounds(month, timezone)
    older = select(func.max(resolved)).where(*finished, resolved < start).scalar_subquery()
    newer = select(func.min(resolved)).where(*finished, resolved >= end).scalar_subquery()
    before, after = session.exec(select(older, newer)).one()
    statement = (
        with_details(select(ServiceRequest))
        .where(*finished, resolved >= start, resolved < end)
        .order_by(resolved.desc(), col(ServiceRequest.id).desc())
    )
    return ChangelogMonth(
        month=month,
        page=paginate(session, statement, page=page, per_page=per_page),
        newer=_month_of(after, zone),
        older=_month_of(before, zone),
    )
