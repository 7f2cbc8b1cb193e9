"""Follow-up jobs that keep requests honest: staleness, deadlines, "is it fixed?", retention.

Each job finds its candidates with one query and claims each row with a conditional
UPDATE on the column that remembers what was done, so two runs (a retry, a second
scheduler) send each e-mail once. The e-mails are queued in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale, gettext
from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from facilities.accounts.models import (
    STAFF_ROLES,
    AccessToken,
    ApiKeyUse,
    RememberToken,
    User,
)
from facilities.core import audit, outbox
from facilities.core.errors import ServiceError
from facilities.core.storage import get_storage
from facilities.requests import emails
from facilities.requests.deadlines import next_deadline, next_due_column, refresh_deadlines
from facilities.requests.models import (
    PUBLIC_UPDATE_KINDS,
    Attachment,
    RequestFollower,
    RequestUpdate,
    ServiceRequest,
    Status,
    UpdateKind,
)
from facilities.requests.workflow import CLOSED_KINDS, TRANSITIONS, StatusKind
from facilities.settings import get_settings

BATCH = 200  # rows one run handles; the next run takes the rest


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day if
    that month is shorter)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    for day in range(moment.day, 0, -1):
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# --- the staleness heartbeat ----------------------------------------------------------------


def flag_stale_requests(session: Session, *, now: datetime) -> int:
    """Flag planned and active requests with no public update for `stale_after_days`,
    to their assignee (or all staff without one); again only after as many days more."""
    cutoff = now - timedelta(days=get_settings().stale_after_days)
    last_public = (
        select(func.max(RequestUpdate.published_at))
        .where(
            col(RequestUpdate.request_id) == col(ServiceRequest.id),
            col(RequestUpdate.kind).in_(PUBLIC_UPDATE_KINDS),
            col(RequestUpdate.published_at).is_not(None),
        )
        .scalar_subquery()
    )
    not_flagged_lately = or_(
        col(ServiceRequest.stale_flagged_at).is_(None),
        col(ServiceRequest.stale_flagged_at) <= cutoff,
    )
    candidates = session.exec(
        select(ServiceRequest)
        .join(Status, col(Status.id) == col(ServiceRequest.status_id))
        .where(
            col(Status.kind).in_([StatusKind.planned, StatusKind.active]),
            func.coalesce(last_public, col(ServiceRequest.created_at)) <= cutoff,
            not_flagged_lately,
        )
        .order_by(col(ServiceRequest.id))
        .limit(BATCH)
    ).all()
    staff = _staff(session)
    flagged = 0
    for service_request in candidates:
        if not _claim(session, service_request, not_flagged_lately, stale_flagged_at=now):
            continue
        flagged += 1
        outbox.queue(
            session,
            emails.request_stale(
                session, service_request=service_request, staff=staff, flagged_at=now
            ),
            now=now,
        )
    return flagged


# --- SLA warnings and escalation ------------------------------------------------------------


def warn_of_deadlines(session: Session, *, now: datetime) -> int:
    """A deadline within `sla_warning_hours` warns the assignee (all staff without one)
    once; a missed one is escalated to admins (and staff without an assignee) once."""
    window = now + timedelta(hours=get_settings().sla_warning_hours)
    due = next_due_column()
    candidates = session.exec(
        select(ServiceRequest)
        .join(Status, col(Status.id) == col(ServiceRequest.status_id))
        .where(
            col(Status.kind).not_in([*CLOSED_KINDS, StatusKind.waiting]),
            due <= window,
            or_(
                col(ServiceRequest.sla_escalated_due_at).is_(None),
                col(ServiceRequest.sla_escalated_due_at) != due,
            ),
        )
        .order_by(due, col(ServiceRequest.id))
        .limit(BATCH)
    ).all()
    staff = _staff(session)
    sent = 0
    for service_request in candidates:
        deadline = next_deadline(service_request, now)
        if deadline is None:
            continue
        if deadline.overdue:
            column = ServiceRequest.sla_escalated_due_at
            values = {"sla_escalated_due_at": deadline.due, "sla_warned_due_at": deadline.due}
            make = emails.deadline_escalated
        elif service_request.sla_warned_due_at != deadline.due:
            column = ServiceRequest.sla_warned_due_at
            values = {"sla_warned_due_at": deadline.due}
            make = emails.deadline_near
        else:
            continue
        unsent = or_(col(column).is_(None), col(column) != deadline.due)
        if not _claim(session, service_request, unsent, **values):
            continue
        sent += 1
        outbox.queue(
            session,
            make(session, service_request=service_request, deadline=deadline, staff=staff),
            now=now,
        )
    return sent


# --- "is it fixed?" -------------------------------------------------------------------------


class FixedLinkNotValid(ServiceError):
    """The link is unknown or expired; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def ask_if_fixed(session: Session, *, now: datetime) -> int:
    """`fixed_question_after_days` after Done, ask the sender once whether it is fixed;
    only requests done within the link's lifetime before that (not the whole history)."""
    settings = get_settings()
    latest = now - timedelta(days=settings.fixed_question_after_days)
    earliest = latest - timedelta(days=settings.fixed_link_days)
    candidates = session.exec(
        select(ServiceRequest)
        .join(Status, col(Status.id) == col(ServiceRequest.status_id))
        .where(
            Status.kind == StatusKind.done,
            col(ServiceRequest.resolved_at) <= latest,
            col(ServiceRequest.resolved_at) > earliest,
            col(ServiceRequest.fixed_asked_at).is_(None),
            col(ServiceRequest.submitter_id).is_not(None),
            col(ServiceRequest.anonymised_at).is_(None),
        )
        .order_by(col(ServiceRequest.id))
        .limit(BATCH)
    ).all()
    asked = 0
    for service_request in candidates:
        raw = secrets.token_urlsafe(32)
        unasked = col(ServiceRequest.fixed_asked_at).is_(None)
        if not _claim(
            session, service_request, unasked, fixed_asked_at=now, fixed_token_hash=_hash(raw)
        ):
            continue
        queued = outbox.queue(
            session,
            emails.fixed_question(session, service_request=service_request, token=raw),
            now=now,
        )
        asked += queued
    return asked


@dataclass(frozen=True)
class FixedQuestion:
    service_request: ServiceRequest
    answer: str | None  # given already: "yes" or "no"


def fixed_question(session: Session, *, raw: str, now: datetime) -> FixedQuestion:
    """The request a one-click link asks about; raises FixedLinkNotValid."""
    if not raw or len(raw) > 100:
        raise FixedLinkNotValid("unknown")
    service_request = session.exec(
        select(ServiceRequest).where(ServiceRequest.fixed_token_hash == _hash(raw))
    ).first()
    if service_request is None or service_request.fixed_asked_at is None:
        raise FixedLinkNotValid("unknown")
    lifetime = timedelta(days=get_settings().fixed_link_days)
    if service_request.fixed_answer is None and service_request.fixed_asked_at + lifetime <= now:
        raise FixedLinkNotValid("expired")
    return FixedQuestion(service_request=service_request, answer=service_request.fixed_answer)


def answer_fixed(session: Session, *, raw: str, fixed: bool, now: datetime) -> FixedQuestion:
    """Record the sender's answer once; "no" reopens the request into review with a note
    to staff and an e-mail to the assignee. A second answer changes nothing."""
    question = fixed_question(session, raw=raw, now=now)
    if question.answer is not None:
        return question
    service_request = question.service_request
    answer = "yes" if fixed else "no"
    unanswered = col(ServiceRequest.fixed_answer).is_(None)
    if not _claim(session, service_request, unanswered, fixed_answer=answer, fixed_answered_at=now):
        session.refresh(service_request)
        return FixedQuestion(service_request=service_request, answer=service_request.fixed_answer)
    audit.record(
        session,
        actor=None,
        action="request.fixed_answered",
        entity="request",
        entity_id=service_request.id,
        after={"answer": answer},
    )
    if not fixed:
        _reopen(session, service_request, now=now)
    session.flush()
    return FixedQuestion(service_request=service_request, answer=None)


def _reopen(session: Session, service_request: ServiceRequest, *, now: datetime) -> None:
    current = service_request.status
    review = session.exec(
        select(Status)
        .where(Status.kind == StatusKind.review, col(Status.active).is_(True))
        .order_by(col(Status.position), col(Status.id))
    ).first()
    author_id = service_request.submitter_id
    if current.kind == StatusKind.done and review is not None:
        assert StatusKind.review in TRANSITIONS[StatusKind.done]
        before = {"status": current.slug, "version": service_request.version}
        session.add(
            RequestUpdate(
                request_id=service_request.id,  # type: ignore[arg-type]
                kind=UpdateKind.status_change,
                author_id=author_id,
                from_status_id=current.id,
                to_status_id=review.id,
                created_at=now,
                published_at=now,
            )
        )
        service_request.status_id = review.id  # type: ignore[assignment]
        service_request.status = review
        service_request.version += 1
        service_request.updated_at = now
        session.flush()
        refresh_deadlines(session, service_request, now=now)
        audit.record(
            session,
            actor=None,
            action="request.reopened",
            entity="request",
            entity_id=service_request.id,
            before=before,
            after={"status": review.slug, "version": service_request.version},
        )
    session.add(
        RequestUpdate(
            request_id=service_request.id,  # type: ignore[arg-type]
            kind=UpdateKind.internal_note,
            body=_not_fixed_note(),
            author_id=author_id,
            created_at=now,
            published_at=now,
        )
    )
    session.add(service_request)
    session.flush()
    outbox.queue(
        session,
        emails.not_fixed(session, service_request=service_request, staff=_staff(session)),
        now=now,
    )


def _not_fixed_note() -> str:
    """The note is stored once, so in the park's own language."""
    with force_locale(get_settings().default_locale):
        return gettext("The sender says it is not fixed.")


# --- retention ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionResult:
    requests: int
    tokens: int
    api_uses: int = 0

    @property
    def items(self) -> int:
        return self.requests + self.tokens + self.api_uses


def apply_retention(session: Session, *, now: datetime) -> RetentionResult:
    """Remove personal data of requests closed more than `retention_months` ago (who sent
    it, an API client's contact and pin, tenants' messages, files, followers), keeping the
    request for statistics; delete expired sign-in links and remember-me tokens, and the
    record of API calls older than the same months (it holds the callers' addresses)."""
    cutoff = months_before(now, get_settings().retention_months)
    candidates = session.exec(
        select(ServiceRequest.id)
        .join(Status, col(Status.id) == col(ServiceRequest.status_id))
        .where(
            col(Status.kind).in_(CLOSED_KINDS),
            col(ServiceRequest.resolved_at) <= cutoff,
            col(ServiceRequest.anonymised_at).is_(None),
        )
        .order_by(col(ServiceRequest.id))
        .limit(BATCH)
    ).all()
    claimed: list[int] = [
        request_id
        for request_id in candidates
        if request_id is not None
        and session.exec(
            update(ServiceRequest)
            .where(
                col(ServiceRequest.id) == request_id, col(ServiceRequest.anonymised_at).is_(None)
            )
            .values(
                anonymised_at=now,
                submitter_id=None,
                show_name=False,
                fixed_token_hash=None,
                # an API client's contact person and the pin it gave (where they stood)
                contact={},
                latitude=None,
                longitude=None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
    ]
    if claimed:
        _remove_personal_data(session, claimed, now=now)
    tokens = (
        session.exec(delete(AccessToken).where(col(AccessToken.expires_at) <= now)).rowcount
        + session.exec(delete(RememberToken).where(col(RememberToken.expires_at) <= now)).rowcount
    )
    api_uses = session.exec(delete(ApiKeyUse).where(col(ApiKeyUse.at) <= cutoff)).rowcount
    session.flush()
    return RetentionResult(requests=len(claimed), tokens=tokens, api_uses=api_uses)


def _remove_personal_data(session: Session, request_ids: list[int], *, now: datetime) -> None:
    staff_ids = select(User.id).where(col(User.role).in_(list(STAFF_ROLES)))
    session.exec(
        update(RequestUpdate)
        .where(
            col(RequestUpdate.request_id).in_(request_ids),
            col(RequestUpdate.kind) == UpdateKind.comment,
            or_(
                col(RequestUpdate.author_id).is_(None),
                col(RequestUpdate.author_id).not_in(staff_ids),
            ),
        )
        .values(body="")
        .execution_options(synchronize_session=False)
    )
    files = session.exec(
        select(Attachment.storage_key, Attachment.thumbnail_key).where(
            col(Attachment.request_id).in_(request_ids)
        )
    ).all()
    session.exec(delete(Attachment).where(col(Attachment.request_id).in_(request_ids)))
    session.exec(delete(RequestFollower).where(col(RequestFollower.request_id).in_(request_ids)))
    if files:
        storage = get_storage()
        for key in {key for pair in files for key in pair if key}:
            storage.delete(key)
    for request_id in request_ids:
        audit.record(
            session,
            actor=None,
            action="request.anonymised",
            entity="request",
            entity_id=request_id,
            after={"anonymised_at": now.isoformat(), "files": len(files)},
        )


# --- shared ---------------------------------------------------------------------------------


def _claim(session: Session, service_request: ServiceRequest, condition, **values) -> bool:
    """Set `values` on the request if `condition` still holds; False if another run did."""
    claimed = session.exec(
        update(ServiceRequest)
        .where(col(ServiceRequest.id) == service_request.id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        for name, value in values.items():
            setattr(service_request, name, value)
    return bool(claimed)


def _staff(session: Session) -> list[User]:
    return list(
        session.exec(
            select(User)
            .where(col(User.role).in_(list(STAFF_ROLES)), col(User.active).is_(True))
            .order_by(col(User.id))
        ).all()
    )
