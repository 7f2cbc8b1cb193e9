"""Fault reports from a charger's QR code, by people who need no account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import update
from sqlmodel import Session, col, or_, select

from facilities.charging import emails
from facilities.charging.faults import N_, open_fault, park_text
from facilities.charging.models import Charger, FaultProblem, FaultReport
from facilities.charging.ocpi import hash_token, new_token
from facilities.core import audit, outbox
from facilities.core.errors import ValidationFailed
from facilities.core.mailboxes import mailbox_key
from facilities.core.storage import Storage
from facilities.core.uploads import (
    IMAGE_FORMATS,
    MAX_PIXELS,
    ImageTooLarge,
    UnacceptedFile,
    clean_image,
)
from facilities.requests.models import RequestUpdate, ServiceRequest, UpdateKind, clean_one_line

# A confirmation link works this long; while one waits, its mailbox is sent no other.
CONFIRM_WITHIN = timedelta(days=7)

PROBLEM_LABELS = {
    FaultProblem.will_not_start: _l("Charging does not start"),
    FaultProblem.stopped: _l("Charging stopped by itself"),
    FaultProblem.cable_damaged: _l("Cable or plug is damaged"),
    FaultProblem.card_or_app: _l("My card or app is not accepted"),
    FaultProblem.blocked: _l("The parking space is blocked"),
    FaultProblem.other: _l("Something else"),
}
# What the park writes as the fault's public title: the same words, in its own language.
_TITLES = {
    FaultProblem.will_not_start: N_("Charging does not start"),
    FaultProblem.stopped: N_("Charging stopped by itself"),
    FaultProblem.cable_damaged: N_("Cable or plug is damaged"),
    FaultProblem.card_or_app: N_("My card or app is not accepted"),
    FaultProblem.blocked: N_("The parking space is blocked"),
    FaultProblem.other: N_("Something else"),
}


class FaultReportCreate(BaseModel):
    problem: FaultProblem
    details: str = Field(default="", max_length=2000)
    email: str = Field(default="", max_length=254)

    @field_validator("details", mode="before")
    @classmethod
    def strip_text(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("email", mode="before")
    @classmethod
    def one_line(cls, value: Any) -> Any:
        return clean_one_line(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Photo:
    data: bytes
    content_type: str
    suffix: str


def read_photo(raw: bytes, *, max_bytes: int) -> Photo:
    """A JPEG, PNG or WebP judged by its content, written anew without its metadata
    (a phone photo carries where it was taken). Raises ValidationFailed otherwise."""
    if len(raw) > max_bytes:
        raise ValidationFailed(
            {"photo": _l("The photo is too large: at most %(mb)s MB.", mb=max_bytes // 1_000_000)}
        )
    try:
        _size, kind, data, _thumbnail = clean_image(raw)  # the pixel budget before decoding
    except ImageTooLarge:
        raise ValidationFailed(
            {
                "photo": _l(
                    "The photo is too large a picture: at most %(mp)s megapixels (a phone "
                    "photo has about 12). Send a smaller version.",
                    mp=MAX_PIXELS // 1_000_000,
                )
            }
        ) from None
    except UnacceptedFile:
        raise ValidationFailed({"photo": _l("Send a photo as JPEG, PNG or WebP.")}) from None
    content_type, suffix = IMAGE_FORMATS[kind]
    return Photo(data=data, content_type=content_type, suffix=suffix)


def check_email(address: str) -> str:
    if not address:
        return ""
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationFailed(
            {"email": _l("Enter an e-mail address like name@example.fi, or leave it empty.")}
        ) from None


@dataclass(frozen=True)
class ReportOutcome:
    report: FaultReport
    service_request: ServiceRequest
    merged: bool  # into a fault that was already open


def _confirmation_pending(session: Session, *, email_key: str, now: datetime) -> bool:
    """Whether the mailbox has a confirmation link that still works, unused."""
    return (
        session.exec(
            select(FaultReport.id).where(
                FaultReport.email_key == email_key,
                FaultReport.confirm_token_hash != "",
                col(FaultReport.confirmed_at).is_(None),
                col(FaultReport.created_at) > now - CONFIRM_WITHIN,
            )
        ).first()
        is not None
    )


def submit_report(
    session: Session,
    *,
    charger: Charger,
    data: FaultReportCreate,
    language: str,
    photo: Photo | None,
    storage: Storage | None,
    now: datetime,
) -> ReportOutcome:
    """Take a QR report: into the charger's open fault, or opening one. The free text
    goes to staff only (an internal note): the public sees the fault's title."""
    email = check_email(data.email)
    title = park_text(
        N_("Charger %(code)s: %(problem)s"),
        code=charger.code,
        problem=park_text(_TITLES[data.problem]),
    )
    fault, opened = open_fault(session, charger=charger, title=title, automatic=False, now=now)
    service_request = session.get_one(ServiceRequest, fault.request_id)
    photo_key = ""
    if photo is not None and storage is not None:
        photo_key = storage.save(photo.data, suffix=photo.suffix, content_type=photo.content_type)
    email_key = mailbox_key(email) if email else ""
    # One e-mail per mailbox until it confirms: reports naming a stranger fill no inbox.
    asks = bool(email) and not _confirmation_pending(session, email_key=email_key, now=now)
    token = new_token() if asks else ""
    assert charger.id is not None and service_request.id is not None
    report = FaultReport(
        charger_id=charger.id,
        request_id=service_request.id,
        problem=data.problem,
        details=data.details,
        email=email,
        email_key=email_key,
        language=language,
        confirm_token_hash=hash_token(token) if token else "",
        photo_key=photo_key,
        photo_type=photo.content_type if photo else "",
        created_at=now,
    )
    session.add(report)
    session.flush()
    note = park_text(
        N_("Report from the QR code of charger %(code)s: %(problem)s."),
        code=charger.code,
        problem=park_text(_TITLES[data.problem]),
    )
    if data.details:
        note += "\n\n> " + data.details.replace("\n", "\n> ")
    if photo_key:
        note += "\n\n" + park_text(N_("A photo is attached to the report."))
    session.add(
        RequestUpdate(
            request_id=service_request.id,
            kind=UpdateKind.internal_note,
            body=note,
            created_at=now,
            published_at=now,
        )
    )
    session.flush()
    if token:
        outbox.queue(
            session,
            emails.report_confirmation(report=report, charger=charger, token=token),
            now=now,
        )
    return ReportOutcome(report=report, service_request=service_request, merged=not opened)


def report_of_link(session: Session, *, token: str, now: datetime) -> FaultReport | None:
    """The report a confirmation link is for; None if unknown or run out unconfirmed."""
    if not token or len(token) > 100:
        return None
    report = session.exec(
        select(FaultReport).where(FaultReport.confirm_token_hash == hash_token(token))
    ).first()
    if report is None:
        return None
    if report.confirmed_at is None and report.created_at + CONFIRM_WITHIN <= now:
        return None
    return report


def confirm_report(session: Session, *, token: str, now: datetime) -> FaultReport | None:
    """Confirm the address by its link (a POST: GET only asks), and with it the reports
    on the same charger that named the same mailbox while the link waited (they were sent
    no link of their own). Reports on other chargers stay unconfirmed: the page asked
    about this charger only, and anyone may have typed the address there. None for an
    unknown or expired link; confirming twice changes nothing."""
    report = report_of_link(session, token=token, now=now)
    if report is None or report.confirmed_at is not None:
        return report
    session.exec(
        update(FaultReport)
        .where(
            col(FaultReport.email_key) == report.email_key,
            col(FaultReport.charger_id) == report.charger_id,
            col(FaultReport.confirmed_at).is_(None),
            col(FaultReport.created_at) >= report.created_at,
            or_(col(FaultReport.confirm_token_hash) == "", col(FaultReport.id) == report.id),
        )
        .values(confirmed_at=now)
        .execution_options(synchronize_session=False)
    )
    report.confirmed_at = now
    session.add(report)
    audit.record(
        session,
        actor=None,
        action="fault_report.confirmed",
        entity="fault_report",
        entity_id=report.id,
    )
    session.flush()
    return report


def reports_of(session: Session, service_request: ServiceRequest) -> list[FaultReport]:
    return list(
        session.exec(
            select(FaultReport)
            .where(FaultReport.request_id == service_request.id)
            .order_by(FaultReport.created_at)  # type: ignore[arg-type]
        ).all()
    )
