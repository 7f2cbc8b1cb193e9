"""Taking in requests from tenants."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from facilities.accounts.models import ApiKey, User
from facilities.core import audit, outbox
from facilities.core.errors import ValidationFailed
from facilities.core.models import utcnow
from facilities.core.storage import Storage
from facilities.core.uploads import CleanFile
from facilities.park.models import Building, Category, Site, Tenant
from facilities.park.questions import check_answers, questions_of
from facilities.requests import emails
from facilities.requests.attachments import attach
from facilities.requests.deadlines import refresh_deadlines
from facilities.requests.models import (
    RequestCounter,
    RequestSource,
    ServiceRequest,
    ServiceRequestCreate,
)
from facilities.requests.queries import initial_status
from facilities.settings import get_settings

# New requests per person, from the web form or through the API: a busy day, not a script.
SUBMIT_LIMIT = "10 per hour;30 per day"


def next_reference(session: Session, *, site: Site, year: int) -> tuple[int, str]:
    """Hand out the next human reference of a site and year, e.g. (42, 'DP-2026-0042').

    One upsert makes or bumps the counter row and locks it until commit, so two
    submissions never get the same number, not even the first two of a year.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    upsert = (
        insert(RequestCounter)
        .values(site_id=site.id, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=["site_id", "year"],
            set_={"last_number": col(RequestCounter.last_number) + 1},
        )
        .returning(col(RequestCounter.last_number))
    )
    number = session.exec(upsert).scalar_one()
    return number, f"{site.reference_prefix}-{year}-{number:04d}"


def submit_request(
    session: Session,
    *,
    submitter: User,
    data: ServiceRequestCreate,
    answers: Mapping[str, Sequence[str]] | None = None,
    files: Sequence[CleanFile] = (),
    storage: Storage | None = None,
    now: datetime | None = None,
    notify: bool = True,
) -> ServiceRequest:
    """A tenant member's new request, in the initial status, visible as its category says,
    with the answers to its category's questions (`answers`: code → values sent) and
    files already checked (requests.attachments.check_files).

    The sender gets a receipt by e-mail unless `notify` is off (importing old data).
    """
    now = now or utcnow()
    category = session.get(Category, data.category_id)
    building = session.get(Building, data.building_id) if data.building_id else None
    errors: dict[str, str] = {}
    if category is None or not category.active:
        errors["category_id"] = _l("Choose one of the categories.")
    if data.building_id and building is None:
        errors["building_id"] = _l("Choose one of the buildings.")
    if errors or category is None:
        raise ValidationFailed(errors)
    checked_answers = check_answers(questions_of(session, category.id), answers or {})

    service_request = open_request(
        session,
        category=category,
        building=building,
        title=data.title,
        description=data.description,
        location_note=data.location_note,
        submitter=submitter,
        now=now,
    )
    service_request.show_name = data.show_name
    service_request.answers = checked_answers
    session.add(service_request)
    if files:
        assert storage is not None
        attach(session, storage, service_request=service_request, uploader=submitter, files=files)
    if notify:
        outbox.queue(
            session, emails.request_received(session, service_request=service_request), now=now
        )
    return service_request


def open_request(
    session: Session,
    *,
    category: Category,
    building: Building | None,
    title: str,
    description: str = "",
    location_note: str = "",
    submitter: User | None,
    now: datetime,
    source: RequestSource = RequestSource.web,
    tenant: Tenant | None = None,
) -> ServiceRequest:
    """A new request in the initial status with its reference, audited. `submitter` None:
    the park's own systems opened it (a charger's fault), or staff entered it for
    `tenant`; `source` says which."""
    site = session.get_one(Site, category.site_id)
    year = now.astimezone(ZoneInfo(get_settings().timezone)).year  # the year of the park
    number, reference = next_reference(session, site=site, year=year)
    status = initial_status(session)
    assert site.id is not None and category.id is not None and status.id is not None
    service_request = ServiceRequest(
        reference=reference,
        site_id=site.id,
        ref_year=year,
        ref_number=number,
        title=title,
        description=description,
        location_note=location_note,
        category_id=category.id,
        building_id=building.id if building else None,
        submitter_id=submitter.id if submitter else None,
        tenant_id=submitter.tenant_id if submitter else tenant.id if tenant else None,
        source=source,
        status_id=status.id,
        assignee_id=category.default_assignee_id,
        visibility=category.default_visibility,
        created_at=now,
        updated_at=now,
    )
    session.add(service_request)
    session.flush()
    service_request.status, service_request.category = status, category
    refresh_deadlines(session, service_request, now=now)
    audit.record(
        session,
        actor=submitter,
        action="request.submitted",
        entity="service_request",
        entity_id=service_request.id,
        after={
            "reference": reference,
            "title": title,
            "category": category.slug,
            **({"source": source.value} if source != RequestSource.web else {}),
        },
    )
    return service_request


def submit_from_api(
    session: Session,
    *,
    key: ApiKey,
    category: Category,
    building: Building | None,
    title: str,
    description: str,
    location_note: str,
    latitude: float | None,
    longitude: float | None,
    contact: dict[str, str],
    answers: Mapping[str, Sequence[str]],
    now: datetime | None = None,
) -> ServiceRequest:
    """A request a machine client sent with its key (Open311 POST requests): checked as
    the web form checks it (the category's questions included), in the staff queue with
    the client's name, counted for the key's company if it has one."""
    if not category.active:
        raise ValidationFailed({"service_code": _l("Choose one of the categories.")})
    checked_answers = check_answers(questions_of(session, category.id), answers)
    tenant = session.get(Tenant, key.tenant_id) if key.tenant_id else None
    service_request = open_request(
        session,
        category=category,
        building=building,
        title=title,
        description=description,
        location_note=location_note,
        submitter=None,
        now=now or utcnow(),
        source=RequestSource.api,
        tenant=tenant,
    )
    service_request.api_key_id = key.id
    service_request.latitude, service_request.longitude = latitude, longitude
    service_request.contact = contact
    service_request.answers = checked_answers
    session.add(service_request)
    return service_request
