"""The staff's work: the queue, and changing a request's status, priority and the rest."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlmodel import Session, col

from facilities.accounts.models import User
from facilities.core import audit, outbox
from facilities.core.errors import ValidationFailed, VersionConflict
from facilities.core.models import utcnow
from facilities.park.models import Visibility
from facilities.requests import emails
from facilities.requests.models import (
    RequestUpdate,
    ServiceRequest,
    ServiceRequestTriage,
    Status,
    UpdateKind,
)
from facilities.requests.queries import by_reference, count_public_entries
from facilities.requests.targets import quarter_bounds, quarter_of
from facilities.requests.workflow import StatusKind, TransitionError, check_transition

TRANSITION_MESSAGES = {
    "not_allowed": _l("A request cannot move to that status from its current one."),
    "reason_required": _l("Write a public update that gives the reason."),
    "duplicate_target_required": _l("Give the reference of the request this duplicates."),
}


def _snapshot(service_request: ServiceRequest) -> dict[str, object]:
    return {
        "status_id": service_request.status_id,
        "priority": str(service_request.priority.value),
        "visibility": str(service_request.visibility.value),
        "target": quarter_of(service_request.target_start, service_request.target_end),
        "duplicate_of_id": service_request.duplicate_of_id,
    }


def triage_request(
    session: Session,
    *,
    service_request: ServiceRequest,
    actor: User,
    data: ServiceRequestTriage,
    now: datetime | None = None,
    notify: bool = True,
) -> bool:
    """Apply one triage form. Returns whether anything changed.

    The sender is e-mailed about each public update or status change published now
    (scheduled ones when they are published), unless `notify` is off.

    Raises VersionConflict when the request was saved since the form was loaded, and
    ValidationFailed with messages per field when the change breaks a rule.
    """
    now = now or utcnow()
    if data.version != service_request.version:
        raise VersionConflict()
    errors: dict[str, str] = {}

    target_status = session.get(Status, data.status_id)
    if target_status is None or not target_status.active:
        errors["status_id"] = _l("Choose one of the statuses.")

    duplicate_target = None
    if data.duplicate_of_reference:
        duplicate_target = by_reference(session, data.duplicate_of_reference)
        if duplicate_target is None:
            errors["duplicate_of_reference"] = _l("No request has that reference.")
        elif duplicate_target.id == service_request.id:
            errors["duplicate_of_reference"] = _l("A request cannot duplicate itself.")

    target_start = target_end = None
    if data.target_quarter:
        try:
            target_start, target_end = quarter_bounds(data.target_quarter)
        except ValueError:
            errors["target_quarter"] = _l("Choose one of the quarters.")

    scheduled = data.publish_at is not None
    if scheduled and data.publish_at <= now:
        errors["publish_at"] = _l(
            "Choose a time in the future, or leave it empty to publish at once."
        )
    if scheduled and not data.public_update:
        errors["public_update"] = _l("Write the update to publish at that time.")

    if (
        duplicate_target is not None
        and target_status is not None
        and target_status.kind != StatusKind.duplicate
    ):
        errors["duplicate_of_reference"] = _l(
            "Choose the status Duplicate too, or leave this empty."
        )
    if target_status is not None and "status_id" not in errors:
        try:
            check_transition(
                service_request.status.kind,
                target_status.kind,
                public_reason=None if scheduled else data.public_update,
                has_duplicate_target=duplicate_target is not None,
            )
        except TransitionError as error:
            field = (
                "duplicate_of_reference"
                if error.code == "duplicate_target_required"
                else "public_update"
                if error.code == "reason_required"
                else "status_id"
            )
            errors.setdefault(field, TRANSITION_MESSAGES[error.code])
    if (
        service_request.visibility == Visibility.private
        and data.visibility == Visibility.public
        and not data.publish_history
    ):
        company_only = count_public_entries(session, service_request)
        if company_only:
            errors["visibility"] = _l(
                "Its %(count)s updates so far were seen only by the company. "
                "They become public with it: tick the box to confirm.",
                count=company_only,
            )
    if errors:
        raise ValidationFailed(errors)

    before = _snapshot(service_request)
    keeps_duplicate = target_status.kind == StatusKind.duplicate and duplicate_target is not None
    planned = {
        "status_id": target_status.id,
        "priority": str(data.priority.value),
        "visibility": str(data.visibility.value),
        "target": quarter_of(target_start, target_end),
        "duplicate_of_id": duplicate_target.id
        if keeps_duplicate
        else service_request.duplicate_of_id,
    }
    changed_fields = [key for key in planned if planned[key] != before[key]]
    if not changed_fields and not (data.public_update or data.internal_note):
        return False
    _claim_version(session, service_request, expected=data.version, now=now)

    status_changed = target_status.id != service_request.status_id
    entries: list[RequestUpdate] = []  # what this form adds to the timeline
    if status_changed:
        entries.append(
            RequestUpdate(
                request_id=service_request.id,
                kind=UpdateKind.status_change,
                body="" if scheduled else data.public_update,
                author_id=actor.id,
                from_status_id=service_request.status_id,
                to_status_id=target_status.id,
                created_at=now,
                published_at=now,
            )
        )
        service_request.status_id = target_status.id
        service_request.status = target_status
    if data.public_update and (scheduled or not status_changed):
        entries.append(
            RequestUpdate(
                request_id=service_request.id,
                kind=UpdateKind.public_update,
                body=data.public_update,
                author_id=actor.id,
                created_at=now,
                publish_at=data.publish_at if scheduled else None,
                published_at=None if scheduled else now,
            )
        )
    if data.internal_note:
        entries.append(
            RequestUpdate(
                request_id=service_request.id,
                kind=UpdateKind.internal_note,
                body=data.internal_note,
                author_id=actor.id,
                created_at=now,
                published_at=now,
            )
        )
    service_request.priority = data.priority
    service_request.visibility = data.visibility
    service_request.target_start, service_request.target_end = target_start, target_end
    if keeps_duplicate:
        service_request.duplicate_of_id = duplicate_target.id
        service_request.duplicate_of = duplicate_target

    audit.record(
        session,
        actor=actor,
        action="request.triaged",
        entity="service_request",
        entity_id=service_request.id,
        before={key: before[key] for key in changed_fields},
        after={
            **{key: planned[key] for key in changed_fields},
            **({"public_update": data.public_update} if data.public_update else {}),
            **({"publish_at": data.publish_at.isoformat()} if scheduled else {}),
            **({"internal_note": True} if data.internal_note else {}),
        },
    )
    session.add_all(entries)
    session.flush()
    if notify:
        for entry in entries:
            if entry.published_at is not None:  # scheduled posts notify when published
                outbox.queue(
                    session,
                    emails.update_published(session, service_request=service_request, entry=entry),
                )
    return True


def _claim_version(
    session: Session, service_request: ServiceRequest, *, expected: int, now: datetime
) -> None:
    """Move the row from version `expected` to the next one, in the database, atomically.

    Of two saves of the same form, the second waits for the first one's row lock (or
    SQLite's write lock) and then finds the version moved on: exactly one of them wins.
    """
    claimed = session.exec(
        update(ServiceRequest)
        .where(col(ServiceRequest.id) == service_request.id, ServiceRequest.version == expected)
        .values(version=expected + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        raise VersionConflict()
    # The row is ours until commit; keep the loaded object in step with it.
    service_request.version, service_request.updated_at = expected + 1, now
