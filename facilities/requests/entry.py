"""Staff entering requests for companies: ideas heard in the development project's
interviews, surveys and workshops, or a request that came by phone or e-mail.

A workshop's ideas are entered in one sitting, several rows at once: either every row
is saved or none is, and each row's problems are told on that row.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlmodel import Field, Session

from facilities.accounts.models import User
from facilities.core.errors import ValidationFailed
from facilities.park.models import Building, Category, Tenant
from facilities.requests.intake import open_request
from facilities.requests.models import (
    ENTERED_SOURCES,
    MAX_ID,
    RequestSource,
    ServiceRequest,
    ServiceRequestInput,
)

MAX_ROWS = 40  # a long workshop's wall of sticky notes


class EnteredRequest(ServiceRequestInput):
    """One row: the company it is for, what was said, and where it belongs."""

    tenant_id: int = Field(ge=1, le=MAX_ID)


def row_is_blank(row: dict[str, str]) -> bool:
    """A row nobody wrote in (company and category may be preset): skipped."""
    return not (row.get("title", "").strip() or row.get("description", "").strip())


def check_sitting(source: str, source_date: date | None, *, today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if source not in {item.value for item in ENTERED_SOURCES}:
        errors["source"] = str(_l("Choose where the ideas came from."))
    if source_date is None:
        errors["source_date"] = str(_l("Enter the date, such as 12.11.2026."))
    elif source_date > today:
        errors["source_date"] = str(_l("The date cannot be in the future."))
    elif source_date.year < 2000:
        errors["source_date"] = str(_l("Enter the date, such as 12.11.2026."))
    return errors


def check_rows(
    session: Session, rows: dict[int, EnteredRequest]
) -> tuple[dict[str, str], list[tuple[EnteredRequest, Tenant, Category, Building | None]]]:
    """Messages per `rows-N-field` for companies, categories and buildings that are not
    ones to choose; and the rows with what they point to."""
    errors: dict[str, str] = {}
    checked = []
    for number, row in rows.items():
        tenant = session.get(Tenant, row.tenant_id)
        category = session.get(Category, row.category_id)
        building = session.get(Building, row.building_id) if row.building_id else None
        if tenant is None:
            errors[f"rows-{number}-tenant_id"] = str(_l("Choose one of the companies."))
        if category is None or not category.active:
            errors[f"rows-{number}-category_id"] = str(_l("Choose one of the categories."))
        if row.building_id and building is None:
            errors[f"rows-{number}-building_id"] = str(_l("Choose one of the buildings."))
        if tenant is not None and category is not None:
            checked.append((row, tenant, category, building))
    return errors, checked


def enter_requests(
    session: Session,
    *,
    actor: User,
    source: RequestSource,
    source_date: date,
    rows: dict[int, EnteredRequest],
    now: datetime,
) -> list[ServiceRequest]:
    """Open one request per row for its company, marked with the sitting's source and
    date and who entered it. `rows` by their number on the form. Raises ValidationFailed
    (keys `rows-N-field`) when a row's company, category or building is not one to
    choose; nothing is saved then."""
    errors, checked = check_rows(session, rows)
    if errors:
        raise ValidationFailed(errors)
    opened = []
    for row, tenant, category, building in checked:
        service_request = open_request(
            session,
            category=category,
            building=building,
            title=row.title,
            description=row.description,
            location_note=row.location_note,
            submitter=None,
            tenant=tenant,
            now=now,
            source=source,
        )
        service_request.source_date = source_date
        service_request.entered_by_id = actor.id
        opened.append(service_request)
    session.flush()
    return opened
