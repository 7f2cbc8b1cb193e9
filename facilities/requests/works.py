"""Scheduled works: dated work a request brings ("the parking area is closed for the
chargers' installation 12.–14.4."), added by staff, shown on the request's page and in
the works calendar (iCal) of public requests."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import joinedload
from sqlmodel import Session, col, select

from facilities.accounts.models import User
from facilities.core import audit
from facilities.core.errors import ValidationFailed
from facilities.core.models import utcnow
from facilities.park.models import Visibility
from facilities.requests.models import ScheduledWork, ServiceRequest, clean_one_line

LANGUAGES = ("fi", "en", "sv")
MAX_WORKS_PER_REQUEST = 50  # a request's page lists them all
LONGEST_WORK_DAYS = 366
CALENDAR_LIMIT = 500  # the newest works a calendar carries


class ScheduledWorkForm(BaseModel):
    """What staff enter: what happens (Finnish required), on which park dates, where."""

    name_fi: str = Field(min_length=3, max_length=200)
    name_en: str = Field(default="", max_length=200)
    name_sv: str = Field(default="", max_length=200)
    starts_on: date
    ends_on: date | None = None  # empty: the same day
    location_note: str = Field(default="", max_length=300)

    @field_validator("name_fi", "name_en", "name_sv", "location_note", mode="before")
    @classmethod
    def one_line(cls, value: Any) -> Any:
        return clean_one_line(value) if isinstance(value, str) else value

    @field_validator("ends_on", mode="before")
    @classmethod
    def blank_is_none(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    def names(self) -> dict[str, str]:
        return {
            language: getattr(self, f"name_{language}")
            for language in LANGUAGES
            if getattr(self, f"name_{language}")
        }


def work_form(work: ScheduledWork) -> dict[str, str]:
    """A work as its edit form shows it."""
    form = {
        "starts_on": work.starts_on.isoformat(),
        "ends_on": work.ends_on.isoformat(),
        "location_note": work.location_note,
    }
    for language in LANGUAGES:
        form[f"name_{language}"] = work.names.get(language, "")
    return form


def _dates(data: ScheduledWorkForm) -> tuple[date, date]:
    ends_on = data.ends_on or data.starts_on
    if ends_on < data.starts_on:
        raise ValidationFailed({"ends_on": str(_l("The last day cannot be before the first."))})
    if (ends_on - data.starts_on).days >= LONGEST_WORK_DAYS:
        raise ValidationFailed({"ends_on": str(_l("A work can last at most a year."))})
    return data.starts_on, ends_on


def _snapshot(work: ScheduledWork) -> dict[str, Any]:
    return work.model_dump(include={"names", "starts_on", "ends_on", "location_note"}, mode="json")


def add_work(
    session: Session, *, actor: User, service_request: ServiceRequest, data: ScheduledWorkForm
) -> ScheduledWork:
    """Add a work to the request; audited."""
    assert service_request.id is not None
    starts_on, ends_on = _dates(data)
    count = len(works_of(session, service_request))
    if count >= MAX_WORKS_PER_REQUEST:
        raise ValidationFailed(
            {"name_fi": str(_l("A request can have at most 50 scheduled works."))}
        )
    work = ScheduledWork(
        request_id=service_request.id,
        names=data.names(),
        starts_on=starts_on,
        ends_on=ends_on,
        location_note=data.location_note,
        created_by_id=actor.id,
    )
    session.add(work)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="work.added",
        entity="scheduled_work",
        entity_id=work.id,
        after={"request_id": service_request.id, **_snapshot(work)},
    )
    return work


def update_work(
    session: Session, *, actor: User, work: ScheduledWork, data: ScheduledWorkForm
) -> ScheduledWork:
    """Change a work's words, dates or place; audited."""
    starts_on, ends_on = _dates(data)
    before = _snapshot(work)
    work.names = data.names()
    work.starts_on, work.ends_on = starts_on, ends_on
    work.location_note = data.location_note
    work.updated_at = utcnow()
    session.add(work)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="work.changed",
        entity="scheduled_work",
        entity_id=work.id,
        before=before,
        after=_snapshot(work),
    )
    return work


def delete_work(session: Session, *, actor: User, work: ScheduledWork) -> None:
    """Remove a work (called off, or entered by mistake); audited with what it was."""
    audit.record(
        session,
        actor=actor,
        action="work.deleted",
        entity="scheduled_work",
        entity_id=work.id,
        before={"request_id": work.request_id, **_snapshot(work)},
    )
    session.delete(work)
    session.flush()


def work_of_request(
    session: Session, service_request: ServiceRequest, work_id: int
) -> ScheduledWork | None:
    """The request's work with this id, or None (another request's is not this one's)."""
    return session.exec(
        select(ScheduledWork).where(
            col(ScheduledWork.id) == work_id,
            col(ScheduledWork.request_id) == service_request.id,
        )
    ).first()


def works_of(session: Session, service_request: ServiceRequest) -> list[ScheduledWork]:
    """The request's works by date (at most MAX_WORKS_PER_REQUEST of them exist)."""
    return list(
        session.exec(
            select(ScheduledWork)
            .where(col(ScheduledWork.request_id) == service_request.id)
            .order_by(col(ScheduledWork.starts_on), col(ScheduledWork.id))
            .limit(MAX_WORKS_PER_REQUEST)
        ).all()
    )


def public_works(
    session: Session, *, building_id: int | None = None, limit: int = CALENDAR_LIMIT
) -> list[ScheduledWork]:
    """Works of public requests (of one building), the latest first, with their request
    and its building loaded: what the works calendar carries. Never a private request's."""
    statement = (
        select(ScheduledWork)
        .join(ServiceRequest, col(ScheduledWork.request_id) == col(ServiceRequest.id))
        .where(col(ServiceRequest.visibility) == Visibility.public)
        .options(
            joinedload(ScheduledWork.request).joinedload(ServiceRequest.building)  # type: ignore[arg-type]
        )
        .order_by(col(ScheduledWork.starts_on).desc(), col(ScheduledWork.id).desc())
        .limit(limit)
    )
    if building_id is not None:
        statement = statement.where(col(ServiceRequest.building_id) == building_id)
    return list(session.exec(statement).all())
