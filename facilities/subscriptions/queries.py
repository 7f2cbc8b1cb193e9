"""Reading subscriptions: what each follows, whose they are, who hears of an entry, and
what a digest lists. Private requests are never followed nor listed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, false
from sqlmodel import Session, col, or_, select

from facilities.accounts.models import User
from facilities.core.db import joined
from facilities.core.pagination import Page, paginate
from facilities.park.models import Building, Category, Visibility
from facilities.requests.models import (
    PUBLIC_UPDATE_KINDS,
    RequestUpdate,
    ServiceRequest,
)
from facilities.subscriptions.models import Frequency, Subscription, SubscriptionScope

Target = Category | Building | ServiceRequest | None


@dataclass(frozen=True)
class Followed:
    """What a subscription follows: its scope and the thing (None for everything).

    `str()` names it in the language being rendered, so an e-mail queued for a Swedish
    reader says it in Swedish, and a page escapes it like any text.
    """

    scope: SubscriptionScope
    target: Target

    @property
    def target_id(self) -> int:
        return (self.target.id or 0) if self.target is not None else 0

    def __str__(self) -> str:
        target = self.target
        if isinstance(target, Category):
            language = str(get_locale() or "fi")[:2]
            name = target.names.get(language) or target.names.get("fi") or target.slug
            return _("Category: %(name)s", name=name)
        if isinstance(target, Building):
            return _("Building: %(name)s", name=target.name)
        if isinstance(target, ServiceRequest):
            return f"{target.reference}: {target.title}"
        return _("Everything on the roadmap")


_MODELS: dict[SubscriptionScope, type[Category] | type[Building] | type[ServiceRequest]] = {
    SubscriptionScope.category: Category,
    SubscriptionScope.building: Building,
    SubscriptionScope.request: ServiceRequest,
}


def followed_of(session: Session, subscriptions: list[Subscription]) -> dict[int, Followed]:
    """What each subscription follows, by subscription id: one query per kind of target.

    A request that has been made private since is left out: nothing of it is shown."""
    found: dict[tuple[SubscriptionScope, int], Target] = {}
    for scope, model in _MODELS.items():
        ids = {s.target_id for s in subscriptions if s.scope == scope}
        if not ids:
            continue
        statement: Any = select(model).where(col(model.id).in_(ids))
        if model is ServiceRequest:
            statement = statement.where(ServiceRequest.visibility == Visibility.public)
        for target in session.exec(statement).all():
            found[(scope, target.id or 0)] = target
    followed = {}
    for subscription in subscriptions:
        if subscription.scope == SubscriptionScope.everything:
            followed[subscription.id or 0] = Followed(subscription.scope, None)
        elif (target := found.get((subscription.scope, subscription.target_id))) is not None:
            followed[subscription.id or 0] = Followed(subscription.scope, target)
    return followed


def subscriptions_of(
    session: Session, *, user: User, page: int, per_page: int
) -> Page[Subscription]:
    """The user's subscriptions: made while signed in, or to their address before."""
    statement = (
        select(Subscription)
        .where(or_(col(Subscription.user_id) == user.id, Subscription.email == user.email))
        .order_by(col(Subscription.created_at).desc(), col(Subscription.id).desc())
    )
    return paginate(session, statement, page=page, per_page=per_page)


def _following(service_request: ServiceRequest):
    """Subscriptions whose scope takes in this request."""
    building = (
        and_(
            col(Subscription.scope) == SubscriptionScope.building,
            col(Subscription.target_id) == service_request.building_id,
        )
        if service_request.building_id
        else false()
    )
    return or_(
        col(Subscription.scope) == SubscriptionScope.everything,
        and_(
            col(Subscription.scope) == SubscriptionScope.category,
            col(Subscription.target_id) == service_request.category_id,
        ),
        building,
        and_(
            col(Subscription.scope) == SubscriptionScope.request,
            col(Subscription.target_id) == service_request.id,
        ),
    )


def immediate_subscribers(session: Session, service_request: ServiceRequest) -> list[Subscription]:
    """Confirmed subscriptions that mail each public entry of this request at once, one
    per address (the most specific one: its unsubscribe link is the one that stops it)."""
    if service_request.visibility != Visibility.public:
        return []
    rows = session.exec(
        select(Subscription)
        .where(
            col(Subscription.confirmed_at).is_not(None),
            col(Subscription.frequency) == Frequency.immediate,
            _following(service_request),
        )
        .order_by(col(Subscription.email), col(Subscription.id))
    ).all()
    precedence = list(reversed(SubscriptionScope))  # request, building, category, everything
    chosen: dict[str, Subscription] = {}
    for subscription in rows:
        kept = chosen.get(subscription.email)
        if kept is None or precedence.index(subscription.scope) < precedence.index(kept.scope):
            chosen[subscription.email] = subscription
    return list(chosen.values())


def digest_entries(
    session: Session, subscription: Subscription, *, since: datetime, until: datetime, limit: int
) -> list[RequestUpdate]:
    """Public entries of public requests in the subscription's scope published in
    (since, until], oldest first, at most `limit`."""
    scope = subscription.scope
    statement = (
        select(RequestUpdate)
        .join(ServiceRequest, col(ServiceRequest.id) == RequestUpdate.request_id)
        .where(
            col(RequestUpdate.kind).in_(PUBLIC_UPDATE_KINDS),
            col(RequestUpdate.published_at) > since,
            col(RequestUpdate.published_at) <= until,
            ServiceRequest.visibility == Visibility.public,
        )
        .options(*joined(RequestUpdate.request, RequestUpdate.to_status))
        .order_by(col(RequestUpdate.published_at), col(RequestUpdate.id))
        .limit(limit)
    )
    if scope == SubscriptionScope.category:
        statement = statement.where(ServiceRequest.category_id == subscription.target_id)
    elif scope == SubscriptionScope.building:
        statement = statement.where(ServiceRequest.building_id == subscription.target_id)
    elif scope == SubscriptionScope.request:
        statement = statement.where(ServiceRequest.id == subscription.target_id)
    return list(session.exec(statement).all())
