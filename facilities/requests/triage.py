"""The staff's work: the queue, and changing a request's status, priority and the rest."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlmodel import Session, col

from facilities.accounts.models import User
from facilities.core import audit, outbox
from facilities.core.errors import ValidationFailed, VersionConflict
from facilities.core.models import utcnow
from facilities.park.models import Visibility
from facilities.requests import emails
from facilities.requests.deadlines import refresh_deadlines
from facilities.requests.events import announce_published
from facilities.requests.merge import merge_into
from facilities.requests.models import (
    MAX_ID,
    Priority,
    RequestUpdate,
    ServiceRequest,
    ServiceRequestTriage,
    Status,
    UpdateKind,
)
from facilities.requests.queries import by_reference, count_public_entries
from facilities.requests.targets import quarter_bounds, quarter_of
from facilities.requests.workflow import StatusKind, TransitionError, check_transition

TRANSITION_FIELDS = {
    "duplicate_target_required": "duplicate_of_reference",
    "reason_required": "public_update",
}
TRANSITION_MESSAGES = {
    "not_allowed": _l("A request cannot move to that status from its current one."),
    "reason_required": _l("Write a public update that gives the reason."),
    "duplicate_target_required": _l("Give the reference of the request this duplicates."),
}


@dataclass(frozen=True)
class TriagePlan:
    """What one triage form will change, checked against the rules and the loaded request."""

    service_request: ServiceRequest
    data: ServiceRequestTriage
    now: datetime
    status: Status
    duplicate_of: ServiceRequest | None  # set only together with a duplicate status
    target: tuple[date | None, date | None]
    assignee: User | None  # who it is assigned to after the change
    before: dict[str, object]
    after: dict[str, object]

    @property
    def changed_fields(self) -> list[str]:
        return [key for key in self.after if self.after[key] != self.before[key]]

    @property
    def changes_anything(self) -> bool:
        return bool(self.changed_fields or self.data.public_update or self.data.internal_note)

    @property
    def scheduled(self) -> bool:
        return self.data.publish_at is not None


def _snapshot(service_request: ServiceRequest) -> dict[str, object]:
    return {
        "status_id": service_request.status_id,
        "priority": str(service_request.priority.value),
        "visibility": str(service_request.visibility.value),
        "target": quarter_of(service_request.target_start, service_request.target_end),
        "duplicate_of_id": service_request.duplicate_of_id,
        "assignee_id": service_request.assignee_id,
    }


def _check_assignee(
    session: Session,
    service_request: ServiceRequest,
    data: ServiceRequestTriage,
    errors: dict[str, str],
) -> User | None:
    """The member of staff chosen, the one it had (the form left it out), or nobody."""
    if data.assignee is None:
        return service_request.assignee
    if data.assignee == "":
        return None
    user = (
        session.get(User, int(data.assignee))
        if data.assignee.isascii() and data.assignee.isdigit() and int(data.assignee) <= MAX_ID
        else None
    )
    if user is None or not user.active or not user.is_staff:
        errors["assignee"] = _l("Choose a member of staff, or nobody.")
        return None
    return user


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
    plan = plan_triage(session, service_request=service_request, data=data, now=now or utcnow())
    if not plan.changes_anything:
        return False
    entries = apply_triage(session, plan, actor=actor)
    if notify and "assignee_id" in plan.changed_fields:
        outbox.queue(
            session,
            emails.request_assigned(session, service_request=service_request, by=actor),
            now=plan.now,
        )
    if notify:
        for entry in entries:
            if entry.published_at is not None:  # scheduled posts notify when published
                outbox.queue(
                    session,
                    emails.update_published(session, service_request=service_request, entry=entry),
                    now=plan.now,
                )
                announce_published(session, service_request, entry)
    return True


def plan_triage(
    session: Session, *, service_request: ServiceRequest, data: ServiceRequestTriage, now: datetime
) -> TriagePlan:
    """Check the form against the rules; the plan of what it changes, or ValidationFailed."""
    if data.version != service_request.version:
        raise VersionConflict()
    errors: dict[str, str] = {}
    status = session.get(Status, data.status_id)
    if status is None or not status.active:
        errors["status_id"] = _l("Choose one of the statuses.")
    duplicate_of = _check_duplicate(session, service_request, data, status, errors)
    target = _check_target(data, errors)
    _check_schedule(data, now, errors)
    if status is not None and "status_id" not in errors:
        _check_transition(service_request, data, status, duplicate_of, errors)
    _check_going_public(session, service_request, data, errors)
    assignee = _check_assignee(session, service_request, data, errors)
    if errors:
        raise ValidationFailed(errors)
    assert status is not None  # an unknown status is an error above
    if status.kind != StatusKind.duplicate:
        duplicate_of = None
    return TriagePlan(
        service_request=service_request,
        data=data,
        now=now,
        status=status,
        duplicate_of=duplicate_of,
        target=target,
        assignee=assignee,
        before=_snapshot(service_request),
        after={
            "status_id": status.id,
            "priority": str(data.priority.value),
            "visibility": str(data.visibility.value),
            "target": quarter_of(*target),
            "duplicate_of_id": (
                duplicate_of.id
                if duplicate_of
                else service_request.duplicate_of_id
                if status.kind == StatusKind.duplicate
                else None  # reopened: no longer a duplicate of anything
            ),
            "assignee_id": assignee.id if assignee else None,
        },
    )


def _check_duplicate(
    session: Session,
    service_request: ServiceRequest,
    data: ServiceRequestTriage,
    status: Status | None,
    errors: dict[str, str],
) -> ServiceRequest | None:
    if not data.duplicate_of_reference:
        return None
    original = by_reference(session, data.duplicate_of_reference)
    if original is None:
        errors["duplicate_of_reference"] = _l("No request has that reference.")
    elif original.id == service_request.id:
        errors["duplicate_of_reference"] = _l("A request cannot duplicate itself.")
    elif original.duplicate_of is not None:
        # chains would scatter the supports: point to the request that goes on
        errors["duplicate_of_reference"] = _l(
            "%(reference)s is itself a duplicate of %(original)s: give that one.",
            reference=original.reference,
            original=original.duplicate_of.reference,
        )
    elif status is not None and status.kind != StatusKind.duplicate:
        errors["duplicate_of_reference"] = _l(
            "Choose the status Duplicate too, or leave this empty."
        )
    return original if "duplicate_of_reference" not in errors else None


def _check_target(
    data: ServiceRequestTriage, errors: dict[str, str]
) -> tuple[date | None, date | None]:
    if not data.target_quarter:
        return None, None
    try:
        return quarter_bounds(data.target_quarter)
    except ValueError:
        errors["target_quarter"] = _l("Choose one of the quarters.")
        return None, None


def _check_schedule(data: ServiceRequestTriage, now: datetime, errors: dict[str, str]) -> None:
    if data.publish_at is None:
        return
    if data.publish_at <= now:
        errors["publish_at"] = _l(
            "Choose a time in the future, or leave it empty to publish at once."
        )
    if not data.public_update:
        errors["public_update"] = _l("Write the update to publish at that time.")


def _check_transition(
    service_request: ServiceRequest,
    data: ServiceRequestTriage,
    status: Status,
    duplicate_of: ServiceRequest | None,
    errors: dict[str, str],
) -> None:
    try:
        check_transition(
            service_request.status.kind,
            status.kind,
            public_reason=None if data.publish_at is not None else data.public_update,
            has_duplicate_target=duplicate_of is not None
            or "duplicate_of_reference" in errors,  # already told what is wrong with it
        )
    except TransitionError as error:
        field = TRANSITION_FIELDS.get(error.code, "status_id")
        errors.setdefault(field, str(TRANSITION_MESSAGES[error.code]))


def _check_going_public(
    session: Session,
    service_request: ServiceRequest,
    data: ServiceRequestTriage,
    errors: dict[str, str],
) -> None:
    """Updates seen so far by the company only become public with the request: ask first."""
    if not (
        service_request.visibility == Visibility.private
        and data.visibility == Visibility.public
        and not data.publish_history
    ):
        return
    company_only = count_public_entries(session, service_request)
    if company_only:
        errors["visibility"] = _l(
            "Its %(count)s updates so far were seen only by the company. "
            "They become public with it: tick the box to confirm.",
            count=company_only,
        )


def timeline_entries(plan: TriagePlan, *, author: User) -> list[RequestUpdate]:
    """What the triage adds to the timeline, in one place: a status change (carrying the
    update published now), a public update (now, scheduled, or without a status change),
    an internal note."""
    data, now, request = plan.data, plan.now, plan.service_request
    assert request.id is not None and plan.status.id is not None  # both are in the database
    entry = functools.partial(
        RequestUpdate, request_id=request.id, author_id=author.id, created_at=now
    )
    entries = []
    status_changed = plan.status.id != request.status_id
    if status_changed:
        entries.append(
            entry(
                kind=UpdateKind.status_change,
                body="" if plan.scheduled else data.public_update,
                from_status_id=request.status_id,
                to_status_id=plan.status.id,
                published_at=now,
            )
        )
    if data.public_update and (plan.scheduled or not status_changed):
        entries.append(
            entry(
                kind=UpdateKind.public_update,
                body=data.public_update,
                publish_at=data.publish_at,
                published_at=None if plan.scheduled else now,
            )
        )
    if data.internal_note:
        entries.append(
            entry(kind=UpdateKind.internal_note, body=data.internal_note, published_at=now)
        )
    return entries


def apply_triage(session: Session, plan: TriagePlan, *, actor: User) -> list[RequestUpdate]:
    """Claim the version, change the request, add its timeline entries and audit it."""
    request, data = plan.service_request, plan.data
    claim_version(session, request, expected=data.version, now=plan.now)
    entries = timeline_entries(plan, author=actor)
    assert plan.status.id is not None  # loaded from the database
    request.status_id, request.status = plan.status.id, plan.status
    request.priority, request.visibility = data.priority, data.visibility
    request.target_start, request.target_end = plan.target
    merging = plan.duplicate_of is not None and (
        plan.duplicate_of.id != request.duplicate_of_id or plan.status.id != request.status_id
    )
    if plan.duplicate_of is not None:
        request.duplicate_of_id, request.duplicate_of = plan.duplicate_of.id, plan.duplicate_of
    elif plan.status.kind != StatusKind.duplicate:
        request.duplicate_of_id, request.duplicate_of = None, None
    request.assignee_id = plan.assignee.id if plan.assignee else None
    request.assignee = plan.assignee
    changed = plan.changed_fields
    audit.record(
        session,
        actor=actor,
        action="request.triaged",
        entity="service_request",
        entity_id=request.id,
        before={key: plan.before[key] for key in changed},
        after={
            **{key: plan.after[key] for key in changed},
            **({"public_update": data.public_update} if data.public_update else {}),
            **({"publish_at": data.publish_at.isoformat()} if data.publish_at else {}),
            **({"internal_note": True} if data.internal_note else {}),
        },
    )
    session.add_all(entries)
    session.flush()
    if merging:
        assert plan.duplicate_of is not None
        merge_into(
            session, duplicate=request, original=plan.duplicate_of, actor=actor, now=plan.now
        )
    answered = any(
        entry.published_at is not None
        and entry.kind in (UpdateKind.status_change, UpdateKind.public_update)
        for entry in entries
    )
    refresh_deadlines(session, request, now=plan.now, responded=answered)
    return entries


def claim_version(
    session: Session, service_request: ServiceRequest, *, expected: int, now: datetime
) -> None:
    """Move the row from version `expected` to the next one, in the database, atomically.

    Of two saves of the same form, the second waits for the first one's row lock (or
    SQLite's write lock) and then finds the version moved on: exactly one of them wins.
    """
    claimed = session.exec(
        update(ServiceRequest)
        .where(
            col(ServiceRequest.id) == service_request.id, col(ServiceRequest.version) == expected
        )
        .values(version=expected + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        raise VersionConflict()
    # The row is ours until commit; keep the loaded object in step with it.
    service_request.version, service_request.updated_at = expected + 1, now


@dataclass(frozen=True)
class BulkChange:
    """One change for many requests: what is None stays as each request has it."""

    status_id: int | None = None
    priority: Priority | None = None
    assignee: str | None = None  # a user id, "" for nobody, None to keep
    public_update: str = ""


@dataclass(frozen=True)
class BulkOutcome:
    service_request: ServiceRequest
    changed: bool
    errors: dict[str, str]  # empty when it went through
    conflict: bool = False  # someone saved it after the list was loaded


def bulk_triage(
    session: Session,
    *,
    items: list[tuple[ServiceRequest, int]],
    change: BulkChange,
    actor: User,
    now: datetime | None = None,
) -> list[BulkOutcome]:
    """Apply `change` to each (request, version seen) as if triaged one by one: each
    checked, audited and e-mailed on its own; a refused one is reported and changes
    nothing, the others go through."""
    now = now or utcnow()
    outcomes = []
    for service_request, version in items:
        data = ServiceRequestTriage(
            version=version,
            status_id=change.status_id or service_request.status_id,
            priority=change.priority or service_request.priority,
            visibility=service_request.visibility,
            target_quarter=quarter_of(service_request.target_start, service_request.target_end)
            or "",
            public_update=change.public_update,
            assignee=change.assignee,
            duplicate_of_reference=(
                service_request.duplicate_of.reference if service_request.duplicate_of else ""
            ),
        )
        savepoint = session.begin_nested()
        try:
            changed = triage_request(
                session, service_request=service_request, actor=actor, data=data, now=now
            )
        except VersionConflict:
            savepoint.rollback()
            outcomes.append(BulkOutcome(service_request, False, {}, conflict=True))
        except ValidationFailed as failure:
            savepoint.rollback()
            errors = {key: str(message) for key, message in failure.errors.items()}
            outcomes.append(BulkOutcome(service_request, False, errors))
        else:
            savepoint.commit()
            outcomes.append(BulkOutcome(service_request, changed, {}))
    return outcomes
