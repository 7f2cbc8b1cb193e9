"""E-mails about requests: each one says who gets it and with what; templates say the rest."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from facilities.accounts.models import Role, User
from facilities.core.outbox import Email, Recipient, absolute_url
from facilities.requests.deadlines import Deadline
from facilities.requests.models import (
    PUBLIC_UPDATE_KINDS,
    RequestFollower,
    RequestUpdate,
    ServiceRequest,
)
from facilities.settings import get_settings


def followers(session: Session, service_request: ServiceRequest) -> list[User]:
    """Active users who follow the request (supporting it makes one follow)."""
    return list(
        session.exec(
            select(User)
            .join(RequestFollower, col(RequestFollower.user_id) == User.id)
            .where(RequestFollower.request_id == service_request.id, col(User.active).is_(True))
            .order_by(col(User.id))
        ).all()
    )


def _sender(session: Session, service_request: ServiceRequest) -> Recipient | None:
    user = session.get(User, service_request.submitter_id) if service_request.submitter_id else None
    if user is None or not user.active:
        return None
    return Recipient(address=user.email, name=user.name, language=user.preferred_language)


def _request_context(service_request: ServiceRequest) -> dict[str, object]:
    return {
        "service_request": service_request,
        "url": absolute_url(f"/requests/{service_request.reference}"),
    }


def request_received(session: Session, *, service_request: ServiceRequest) -> list[Email]:
    """To the sender: the request arrived, with its reference and page."""
    to = _sender(session, service_request)
    if to is None:
        return []
    return [
        Email(
            name="request_received",
            key=f"request:{service_request.id}:received",
            to=to,
            context=_request_context(service_request),
        )
    ]


def request_assigned(session: Session, *, service_request: ServiceRequest, by: User) -> list[Email]:
    """To the member of staff a request was given to (unless they took it themselves)."""
    assignee = service_request.assignee
    if assignee is None or not assignee.active or assignee.id == by.id:
        return []
    return [
        Email(
            name="request_assigned",
            key=f"request:{service_request.id}:assigned:{assignee.id}:v{service_request.version}",
            to=Recipient(
                address=assignee.email, name=assignee.name, language=assignee.preferred_language
            ),
            context={
                "service_request": service_request,
                "by_name": by.name,
                "url": absolute_url(f"/staff/requests/{service_request.reference}"),
            },
        )
    ]


def update_published(
    session: Session, *, service_request: ServiceRequest, entry: RequestUpdate
) -> list[Email]:
    """To the sender and to followers (supporters follow): a public update or status
    change on the request, not to whoever wrote it."""
    if entry.kind not in PUBLIC_UPDATE_KINDS:
        return []
    emails = []
    context = {**_request_context(service_request), "entry": entry}
    to = _sender(session, service_request)
    if to is not None and entry.author_id != service_request.submitter_id:
        emails.append(
            Email(
                name="update_published", key=f"update:{entry.id}:submitter", to=to, context=context
            )
        )
    if service_request.is_public:  # a request made private is no longer followed
        for user in followers(session, service_request):
            if user.id in (entry.author_id, service_request.submitter_id):
                continue
            emails.append(
                Email(
                    name="update_published",
                    key=f"update:{entry.id}:follower:{user.id}",
                    to=Recipient(
                        address=user.email, name=user.name, language=user.preferred_language
                    ),
                    context={**context, "following": True},
                )
            )
    return emails


# --- the follow-up jobs (requests.follow_up) ------------------------------------------------


def _to(user: User) -> Recipient:
    return Recipient(address=user.email, name=user.name, language=user.preferred_language)


def _staff_context(service_request: ServiceRequest) -> dict[str, object]:
    return {
        "service_request": service_request,
        "url": absolute_url(f"/staff/requests/{service_request.reference}"),
    }


def _assignee_or_staff(service_request: ServiceRequest, staff: list[User]) -> list[User]:
    assignee = service_request.assignee
    if assignee is not None and assignee.active:
        return [assignee]
    return staff


def request_stale(
    session: Session, *, service_request: ServiceRequest, staff: list[User], flagged_at: datetime
) -> list[Email]:
    """To the assignee (all staff without one): a planned or active request has had no
    public update for a long time."""
    return [
        Email(
            name="request_stale",
            key=f"request:{service_request.id}:stale:{flagged_at.isoformat()}:{user.id}",
            to=_to(user),
            context={**_staff_context(service_request), "days": get_settings().stale_after_days},
        )
        for user in _assignee_or_staff(service_request, staff)
    ]


def deadline_near(
    session: Session, *, service_request: ServiceRequest, deadline: Deadline, staff: list[User]
) -> list[Email]:
    """To the assignee (all staff without one): the next deadline is near."""
    return [
        Email(
            name="deadline_near",
            key=f"request:{service_request.id}:deadline-near:{deadline.due.isoformat()}:{user.id}",
            to=_to(user),
            context={**_staff_context(service_request), "deadline": deadline},
        )
        for user in _assignee_or_staff(service_request, staff)
    ]


def deadline_escalated(
    session: Session, *, service_request: ServiceRequest, deadline: Deadline, staff: list[User]
) -> list[Email]:
    """To admins (and, without an assignee, all staff): a deadline was missed."""
    recipients = [user for user in staff if user.role == Role.admin]
    if service_request.assignee is None:
        recipients = staff
    return [
        Email(
            name="deadline_escalated",
            key=f"request:{service_request.id}:deadline-missed:{deadline.due.isoformat()}:{user.id}",
            to=_to(user),
            context={**_staff_context(service_request), "deadline": deadline},
        )
        for user in recipients
    ]


def fixed_question(session: Session, *, service_request: ServiceRequest, token: str) -> list[Email]:
    """To the sender, some days after Done: is it fixed? Two one-click links."""
    to = _sender(session, service_request)
    if to is None:
        return []
    return [
        Email(
            name="fixed_question",
            key=f"request:{service_request.id}:fixed-question",
            to=to,
            context={
                **_request_context(service_request),
                "yes_url": absolute_url(f"/fixed/{token}?answer=yes"),
                "no_url": absolute_url(f"/fixed/{token}?answer=no"),
                "days": get_settings().fixed_link_days,
            },
        )
    ]


def not_fixed(
    session: Session, *, service_request: ServiceRequest, staff: list[User]
) -> list[Email]:
    """To the assignee (all staff without one): the sender says it is not fixed; reopened."""
    return [
        Email(
            name="not_fixed",
            key=f"request:{service_request.id}:not-fixed:{user.id}",
            to=_to(user),
            context=_staff_context(service_request),
        )
        for user in _assignee_or_staff(service_request, staff)
    ]
