"""Support (+1): once per person, counted per person and per company; it also follows.

The counts live on the request (`support_people`, `support_companies`) so that lists
show them without a query per card. They are counted again, under the request's row
lock, each time someone supports or withdraws, so two at once never lose one.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from facilities import policy
from facilities.accounts.models import User
from facilities.core import audit
from facilities.core.errors import ServiceError
from facilities.park.models import Tenant
from facilities.requests.models import (
    FollowReason,
    RequestFollower,
    ServiceRequest,
    Support,
)


class SupportRefused(ServiceError):
    """Who may not support this request (staff, another company's private request …)."""

    message = _l("You cannot support this request.")


def lock_request(session: Session, service_request: ServiceRequest) -> None:
    """Wait for anyone else changing this request's supports (no-op on SQLite, whose
    writes are serialised anyway)."""
    session.exec(
        select(ServiceRequest.id).where(ServiceRequest.id == service_request.id).with_for_update()
    ).first()


def recount_supports(session: Session, service_request: ServiceRequest) -> None:
    people, companies = session.exec(
        select(func.count(), func.count(func.distinct(Support.tenant_id))).where(
            Support.request_id == service_request.id
        )
    ).one()
    # not a triage change: the version (for conflicting saves) and updated_at stay
    session.exec(
        update(ServiceRequest)
        .where(col(ServiceRequest.id) == service_request.id)
        .values(support_people=people, support_companies=companies)
        .execution_options(synchronize_session=False)
    )
    service_request.support_people, service_request.support_companies = people, companies


def support_request(
    session: Session, *, user: User, service_request: ServiceRequest, now: datetime
) -> bool:
    """Add the user's support (and follow the request); False if they already did."""
    if not policy.for_request(user, service_request).support or user.tenant_id is None:
        raise SupportRefused()
    lock_request(session, service_request)
    assert service_request.id is not None and user.id is not None
    try:
        with session.begin_nested():
            session.add(
                Support(
                    request_id=service_request.id,
                    user_id=user.id,
                    tenant_id=user.tenant_id,
                    created_at=now,
                )
            )
            session.flush()
    except IntegrityError:
        return False  # supported already (perhaps a second tab)
    follow(session, user=user, service_request=service_request, reason=FollowReason.support)
    recount_supports(session, service_request)
    audit.record(
        session,
        actor=user,
        action="request.supported",
        entity="service_request",
        entity_id=service_request.id,
    )
    return True


def withdraw_support(session: Session, *, user: User, service_request: ServiceRequest) -> bool:
    """Take the user's support back (and stop following, if supporting made them follow)."""
    lock_request(session, service_request)
    support = session.exec(
        select(Support).where(Support.request_id == service_request.id, Support.user_id == user.id)
    ).first()
    if support is None:
        return False
    session.delete(support)
    follower = session.exec(
        select(RequestFollower).where(
            RequestFollower.request_id == service_request.id,
            RequestFollower.user_id == user.id,
            RequestFollower.reason == FollowReason.support,
        )
    ).first()
    if follower is not None:
        session.delete(follower)
    session.flush()
    recount_supports(session, service_request)
    audit.record(
        session,
        actor=user,
        action="request.support_withdrawn",
        entity="service_request",
        entity_id=service_request.id,
    )
    return True


def follow(
    session: Session, *, user: User, service_request: ServiceRequest, reason: FollowReason
) -> None:
    assert service_request.id is not None and user.id is not None
    exists = session.exec(
        select(RequestFollower.id).where(
            RequestFollower.request_id == service_request.id, RequestFollower.user_id == user.id
        )
    ).first()
    if exists is None:
        with session.begin_nested():
            session.add(
                RequestFollower(request_id=service_request.id, user_id=user.id, reason=reason)
            )
            session.flush()


def supports(session: Session, *, user: User | None, service_request: ServiceRequest) -> bool:
    """Whether this user supports the request."""
    if user is None or not user.is_authenticated:
        return False
    return (
        session.exec(
            select(Support.id).where(
                Support.request_id == service_request.id, Support.user_id == user.id
            )
        ).first()
        is not None
    )


def supporting_companies(
    session: Session, service_request: ServiceRequest
) -> list[tuple[Tenant, int]]:
    """For staff: which companies support, and with how many people, most first."""
    people = func.count(col(Support.id))
    rows = session.exec(
        select(Tenant, people)
        .join(Support, col(Support.tenant_id) == Tenant.id)
        .where(Support.request_id == service_request.id)
        .group_by(col(Tenant.id))
        .order_by(people.desc(), col(Tenant.name))
    ).all()
    return [(tenant, count) for tenant, count in rows]
