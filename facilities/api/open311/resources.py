"""What the Open311 API reads: services, service definitions and public requests, each
as the specification's fields. Only public requests are ever read (policy.may_view for
nobody signed in), and every list costs a fixed number of queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import url_for
from sqlalchemy import func
from sqlalchemy.orm import joinedload
from sqlmodel import Session, col, select

from facilities import policy
from facilities.park.models import (
    Building,
    Category,
    CategoryKind,
    CategoryQuestion,
    QuestionKind,
    Site,
    Visibility,
)
from facilities.park.questions import questions_of
from facilities.requests.models import (
    PUBLIC_UPDATE_KINDS,
    Attachment,
    RequestUpdate,
    ServiceRequest,
    Status,
)
from facilities.requests.workflow import CLOSED_KINDS
from facilities.settings import get_settings

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_SPAN = timedelta(days=90)  # the specification's default window and widest range
STATUS_NOTES_LENGTH = 1000
_ZIPCODE = re.compile(r"\b(\d{5})\b")  # a Finnish postal code in an address
DATATYPES = {
    QuestionKind.text: "text",
    QuestionKind.number: "number",
    QuestionKind.single_choice: "singlevaluelist",
    QuestionKind.multiple_choice: "multivaluelist",
}
GROUPS = {
    CategoryKind.idea: "ideas",
    CategoryKind.fault: "faults",
    CategoryKind.service: "services",
}


def localised(names: dict[str, str], language: str) -> str:
    return names.get(language) or names.get("fi") or next(iter(names.values()), "")


def park_time(moment: datetime | None) -> str | None:
    """ISO 8601 with the park's offset, as the specification asks (w3c, with a zone)."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(get_settings().timezone)).isoformat(timespec="seconds")


def sites(session: Session, jurisdiction_id: str | None) -> list[Site]:
    """The park named by `jurisdiction_id`, or every park when none is given; empty for
    an unknown one."""
    statement = select(Site).order_by(col(Site.id))
    if jurisdiction_id is not None:
        statement = statement.where(Site.code == jurisdiction_id)
    return list(session.exec(statement).all())


# --- services -------------------------------------------------------------------------


def services(session: Session, site_ids: list[int], language: str) -> list[dict[str, Any]]:
    categories = session.exec(
        select(Category)
        .where(col(Category.site_id).in_(site_ids), col(Category.active).is_(True))
        .order_by(col(Category.position), col(Category.id))
    ).all()
    with_questions = set(
        session.exec(
            select(CategoryQuestion.category_id)
            .where(col(CategoryQuestion.active).is_(True))
            .group_by(col(CategoryQuestion.category_id))
        ).all()
    )
    return [
        service(category, language, has_questions=category.id in with_questions)
        for category in categories
    ]


def service(category: Category, language: str, *, has_questions: bool) -> dict[str, Any]:
    name = localised(category.names, language)
    return {
        "service_code": category.slug,
        "service_name": name,
        "description": name,
        "metadata": has_questions,
        # A public category's requests get their id at once; a private one's only a token.
        "type": "realtime" if category.default_visibility == Visibility.public else "batch",
        "keywords": ", ".join(
            dict.fromkeys([*category.slug.split("-"), *(n for n in category.names.values() if n)])
        ),
        "group": GROUPS[category.kind],
    }


def category_by_code(session: Session, site_ids: list[int], code: str) -> Category | None:
    return session.exec(
        select(Category).where(
            Category.slug == code,
            col(Category.site_id).in_(site_ids),
            col(Category.active).is_(True),
        )
    ).first()


def service_definition(session: Session, category: Category, language: str) -> dict[str, Any]:
    attributes = []
    for order, question in enumerate(questions_of(session, category.id), start=1):
        attributes.append(
            {
                "variable": True,
                "code": question.code,
                "datatype": DATATYPES[question.kind],
                "required": question.required,
                "datatype_description": localised(question.hints, language) or None,
                "order": order,
                "description": localised(question.prompts, language),
                "values": [
                    {
                        "key": str(choice["key"]),
                        "name": localised(choice.get("names", {}), language),
                    }
                    for choice in question.choices
                ],
            }
        )
    return {"service_code": category.slug, "attributes": attributes}


# --- requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestFilters:
    site_ids: list[int]
    references: list[str]
    service_codes: list[str]
    start: datetime
    end: datetime
    statuses: set[str]  # "open", "closed"; empty for both


def _public(statement: Any) -> Any:
    return statement.where(col(ServiceRequest.visibility) == Visibility.public)


def _with_details(statement: Any) -> Any:
    return statement.options(
        joinedload(ServiceRequest.category),  # type: ignore[arg-type]
        joinedload(ServiceRequest.building),  # type: ignore[arg-type]
        joinedload(ServiceRequest.status),  # type: ignore[arg-type]
    )


def find_requests(
    session: Session, filters: RequestFilters, *, page: int, page_size: int
) -> tuple[list[ServiceRequest], bool]:
    """One page of public requests, newest first, and whether another page follows."""
    statement = _with_details(_public(select(ServiceRequest))).where(
        col(ServiceRequest.site_id).in_(filters.site_ids)
    )
    if filters.references:
        statement = statement.where(col(ServiceRequest.reference).in_(filters.references))
    else:
        statement = statement.where(
            col(ServiceRequest.created_at) >= filters.start,
            col(ServiceRequest.created_at) <= filters.end,
        )
        if filters.service_codes:
            statement = statement.join(
                Category, col(Category.id) == ServiceRequest.category_id
            ).where(col(Category.slug).in_(filters.service_codes))
        if filters.statuses == {"open"} or filters.statuses == {"closed"}:
            closed = select(Status.id).where(col(Status.kind).in_(list(CLOSED_KINDS)))
            wanted = col(ServiceRequest.status_id).in_(closed)
            statement = statement.where(wanted if "closed" in filters.statuses else ~wanted)
    rows = list(
        session.exec(
            statement.order_by(col(ServiceRequest.created_at).desc(), col(ServiceRequest.id).desc())
            .offset((page - 1) * page_size)
            .limit(page_size + 1)
        )
        .unique()
        .all()
    )
    visible = [row for row in rows[:page_size] if policy.may_view(None, row)]
    return visible, len(rows) > page_size


def public_request(session: Session, site_ids: list[int], reference: str) -> ServiceRequest | None:
    found = session.exec(
        _with_details(_public(select(ServiceRequest))).where(
            ServiceRequest.reference == reference.upper(),
            col(ServiceRequest.site_id).in_(site_ids),
        )
    ).first()
    return found if found is not None and policy.may_view(None, found) else None


def latest_public_updates(session: Session, request_ids: list[int]) -> dict[int, str]:
    """Each request's newest published public words (an update, or a status change's
    note), in one query."""
    if not request_ids:
        return {}
    newest = (
        select(
            RequestUpdate.request_id,
            func.max(RequestUpdate.id).label("id"),
        )
        .where(
            col(RequestUpdate.request_id).in_(request_ids),
            col(RequestUpdate.kind).in_(list(PUBLIC_UPDATE_KINDS)),
            col(RequestUpdate.published_at).is_not(None),
            col(RequestUpdate.body) != "",
        )
        .group_by(col(RequestUpdate.request_id))
        .subquery()
    )
    rows = session.exec(
        select(RequestUpdate.request_id, RequestUpdate.body).join(
            newest, col(RequestUpdate.id) == newest.c.id
        )
    ).all()
    return dict(rows)


def first_photos(session: Session, request_ids: list[int]) -> dict[int, int]:
    """Each request's first image sent with it (not with a comment), in one query."""
    if not request_ids:
        return {}
    rows = session.exec(
        select(Attachment.request_id, func.min(Attachment.id))
        .where(
            col(Attachment.request_id).in_(request_ids),
            col(Attachment.update_id).is_(None),
            col(Attachment.content_type).startswith("image/"),
        )
        .group_by(col(Attachment.request_id))
    ).all()
    return {request_id: photo_id for request_id, photo_id in rows if photo_id is not None}


def _expected(service_request: ServiceRequest) -> str | None:
    """The end of the public target, at the end of that park day."""
    end: date | None = service_request.target_end
    if end is None:
        return None
    zone = ZoneInfo(get_settings().timezone)
    return park_time(datetime.combine(end, time(23, 59, 59), tzinfo=zone))


def _zipcode(address: str) -> str | None:
    match = _ZIPCODE.search(address)
    return match.group(1) if match else None


def request_fields(
    service_request: ServiceRequest,
    *,
    language: str,
    latest_update: str | None,
    photo_id: int | None,
) -> dict[str, Any]:
    status = service_request.status
    status_name = localised(status.names, language)
    notes = f"{status_name}: {latest_update.strip()}" if latest_update else status_name
    if len(notes) > STATUS_NOTES_LENGTH:
        notes = notes[: STATUS_NOTES_LENGTH - 1].rstrip() + "…"
    building: Building | None = service_request.building
    lat, long = service_request.latitude, service_request.longitude
    if lat is None and building is not None:
        lat, long = building.latitude, building.longitude
    description = service_request.title
    if service_request.description:
        description += "\n\n" + service_request.description
    return {
        "service_request_id": service_request.reference,
        "status": "closed" if status.kind in CLOSED_KINDS else "open",
        "status_notes": notes,
        "service_name": localised(service_request.category.names, language),
        "service_code": service_request.category.slug,
        "description": description,
        "agency_responsible": get_settings().park_name,
        "service_notice": None,
        "requested_datetime": park_time(service_request.created_at),
        "updated_datetime": park_time(service_request.updated_at),
        "expected_datetime": _expected(service_request),
        "address": (building.address or building.name) if building else None,
        "address_id": building.code if building else None,
        "zipcode": _zipcode(building.address) if building else None,
        "lat": lat,
        "long": long,
        "media_url": (
            url_for(
                "public.attachment_file",
                reference=service_request.reference,
                attachment_id=photo_id,
                _external=True,
            )
            if photo_id is not None
            else None
        ),
    }


def requests_as_fields(
    session: Session, requests: list[ServiceRequest], language: str
) -> list[dict[str, Any]]:
    ids = [r.id for r in requests if r.id is not None]
    updates = latest_public_updates(session, ids)
    photos = first_photos(session, ids)
    return [
        request_fields(
            r,
            language=language,
            latest_update=updates.get(r.id or 0),
            photo_id=photos.get(r.id or 0),
        )
        for r in requests
    ]
