"""Subscribing, confirming, changing and unsubscribing.

A subscription's link token is an HMAC of a random per-row salt under the app's secret:
every e-mail to the subscriber can carry it (the unsubscribe link must keep working in
old e-mails), while the database keeps only its SHA-256, as accounts.tokens does for its
links. Asking to subscribe answers the same whether the address follows the thing
already or not; the e-mail tells the owner.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, update
from sqlmodel import Session, col, or_, select

from facilities.accounts.models import User
from facilities.accounts.users import is_valid_email, normalize_email
from facilities.core import audit, outbox
from facilities.core.errors import ServiceError, ValidationFailed
from facilities.park.models import Building, Category, Visibility
from facilities.requests.models import MAX_ID, ServiceRequest
from facilities.settings import SUPPORTED_LOCALES
from facilities.subscriptions import emails
from facilities.subscriptions.models import Frequency, Subscription, SubscriptionScope
from facilities.subscriptions.queries import Followed, Target

# An unconfirmed subscription's link works this long; then it must be asked for again.
CONFIRM_WITHIN = timedelta(days=7)


class LinkNotValid(ServiceError):
    """The link is unknown (or its subscription ended), or it expired unconfirmed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "unknown" or "expired"


class TargetNotFound(ServiceError):
    """Nothing public to follow by that scope and id."""


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_of(subscription: Subscription) -> str:
    """The subscription's link token (confirm and unsubscribe), from the app's secret."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"subscription:{subscription.token_salt}".encode(), "sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_token(subscription: Subscription) -> None:
    """Give the subscription a fresh link: the old one stops working."""
    subscription.token_salt = secrets.token_hex(16)
    subscription.token_hash = hash_token(token_of(subscription))


def _digits(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID else None


def find_target(session: Session, *, scope: str, key: str) -> Followed:
    """What `/subscribe?scope=…&id=…` names: a category by slug, a building by code, a
    request by reference (or any of them by number). Private requests and retired
    categories are not found. Raises TargetNotFound."""
    key = key.strip()[:60]
    number = _digits(key)
    if scope in ("", SubscriptionScope.everything.value):
        return Followed(SubscriptionScope.everything, None)
    target: Target = None
    if scope == SubscriptionScope.category.value and key:
        target = session.exec(
            select(Category).where(
                or_(Category.slug == key, col(Category.id) == number), col(Category.active)
            )
        ).first()
    elif scope == SubscriptionScope.building.value and key:
        target = session.exec(
            select(Building).where(or_(Building.code == key.upper(), col(Building.id) == number))
        ).first()
    elif scope == SubscriptionScope.request.value and key:
        target = session.exec(
            select(ServiceRequest).where(
                or_(ServiceRequest.reference == key.upper(), col(ServiceRequest.id) == number),
                ServiceRequest.visibility == Visibility.public,
            )
        ).first()
    if target is None:
        raise TargetNotFound(scope)
    return Followed(SubscriptionScope(scope), target)


def _check(email: str, frequency: str, language: str) -> tuple[str, Frequency, str]:
    email = normalize_email(email)
    errors: dict[str, str] = {}
    if len(email) > 254 or not is_valid_email(email):
        errors["email"] = str(_l("Enter an e-mail address like name@example.com."))
    if frequency not in Frequency.__members__:
        errors["frequency"] = str(_l("Choose how often you want e-mail."))
    if language not in SUPPORTED_LOCALES:
        errors["language"] = str(_l("Choose one of the options."))
    if errors:
        raise ValidationFailed(errors)
    return email, Frequency(frequency), language


def _existing(session: Session, email: str, followed: Followed) -> Subscription | None:
    return session.exec(
        select(Subscription).where(
            Subscription.email == email,
            Subscription.scope == followed.scope,
            Subscription.target_id == followed.target_id,
        )
    ).first()


def subscribe(
    session: Session,
    *,
    email: str,
    followed: Followed,
    frequency: str,
    language: str,
    now: datetime,
) -> Subscription:
    """Someone without an account asks to follow: a confirmation link goes to the address.

    Asking again while unconfirmed sends a new link (the old one stops working); asking
    for what the address already follows sends the link of that subscription, which
    changes nothing. Raises ValidationFailed.
    """
    email, chosen_frequency, language = _check(email, frequency, language)
    subscription = _existing(session, email, followed)
    if subscription is None:
        subscription = Subscription(
            email=email,
            scope=followed.scope,
            target_id=followed.target_id,
            token_salt="",
            token_hash="",
            created_at=now,
        )
    if subscription.confirmed_at is None:
        subscription.frequency = chosen_frequency
        subscription.language = language
        subscription.created_at = now  # the new link's week starts now
        new_token(subscription)
    session.add(subscription)
    session.flush()
    outbox.queue(
        session,
        emails.subscription_confirm(
            subscription=subscription, followed=followed, token=token_of(subscription), now=now
        ),
        now=now,
    )
    return subscription


def subscribe_user(
    session: Session, *, user: User, followed: Followed, frequency: str, now: datetime
) -> Subscription:
    """A signed-in user follows: their address is verified, so it holds at once."""
    _email, chosen_frequency, _language = _check(
        user.email, frequency, user.preferred_language if user.preferred_language else "fi"
    )
    subscription = _existing(session, user.email, followed)
    if subscription is None:
        subscription = Subscription(
            email=user.email,
            scope=followed.scope,
            target_id=followed.target_id,
            language=user.preferred_language,
            token_salt="",
            token_hash="",
            created_at=now,
        )
        new_token(subscription)
    subscription.user_id = user.id
    subscription.frequency = chosen_frequency
    subscription.confirmed_at = subscription.confirmed_at or now
    session.add(subscription)
    session.flush()
    audit.record(
        session,
        actor=user,
        action="subscription.created",
        entity="subscription",
        entity_id=subscription.id,
        after={"scope": followed.scope.value, "target_id": followed.target_id},
    )
    return subscription


def by_token(session: Session, raw: str) -> Subscription | None:
    if not raw or len(raw) > 100:
        return None
    return session.exec(
        select(Subscription).where(Subscription.token_hash == hash_token(raw))
    ).first()


def pending(session: Session, *, raw: str, now: datetime) -> Subscription:
    """The subscription a confirmation link is for; raises LinkNotValid."""
    subscription = by_token(session, raw)
    if subscription is None:
        raise LinkNotValid("unknown")
    if subscription.confirmed_at is None and subscription.created_at + CONFIRM_WITHIN <= now:
        raise LinkNotValid("expired")
    return subscription


def confirm(session: Session, *, raw: str, now: datetime) -> Subscription:
    """Confirm by the e-mailed link; confirming twice changes nothing. Raises LinkNotValid."""
    subscription = pending(session, raw=raw, now=now)
    if subscription.confirmed_at is None:
        session.exec(
            update(Subscription)
            .where(
                col(Subscription.id) == subscription.id, col(Subscription.confirmed_at).is_(None)
            )
            .values(confirmed_at=now)
            .execution_options(synchronize_session=False)
        )
        subscription.confirmed_at = now
        audit.record(
            session,
            actor=None,
            action="subscription.confirmed",
            entity="subscription",
            entity_id=subscription.id,
        )
    return subscription


def unsubscribe(session: Session, *, raw: str) -> bool:
    """End the subscription of a link (its address is forgotten); False if none was left:
    unsubscribing twice is the same as once."""
    subscription = by_token(session, raw)
    if subscription is None:
        return False
    _end(session, subscription, actor=None)
    return True


def _end(session: Session, subscription: Subscription, *, actor: User | None) -> None:
    session.exec(
        delete(Subscription)
        .where(col(Subscription.id) == subscription.id)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        actor=actor,
        action="subscription.ended",
        entity="subscription",
        entity_id=subscription.id,
        before={"scope": subscription.scope.value, "target_id": subscription.target_id},
    )
    session.expunge(subscription)


def _own(session: Session, *, user: User, subscription_id: int) -> Subscription | None:
    """One of the user's subscriptions: made while signed in, or to their address."""
    return session.exec(
        select(Subscription).where(
            col(Subscription.id) == subscription_id,
            or_(col(Subscription.user_id) == user.id, Subscription.email == user.email),
        )
    ).first()


def change_frequency(
    session: Session, *, user: User, subscription_id: int, frequency: str, now: datetime
) -> Subscription | None:
    """Change how often one of the user's subscriptions mails; None if it is not theirs.
    Raises ValidationFailed. Confirms it too: the user's address is verified."""
    subscription = _own(session, user=user, subscription_id=subscription_id)
    if subscription is None:
        return None
    if frequency not in Frequency.__members__:
        raise ValidationFailed({"frequency": str(_l("Choose how often you want e-mail."))})
    before = subscription.frequency.value
    subscription.frequency = Frequency(frequency)
    subscription.user_id = user.id
    subscription.confirmed_at = subscription.confirmed_at or now
    session.add(subscription)
    session.flush()
    audit.record(
        session,
        actor=user,
        action="subscription.changed",
        entity="subscription",
        entity_id=subscription.id,
        before={"frequency": before},
        after={"frequency": subscription.frequency.value},
    )
    return subscription


def end_own(session: Session, *, user: User, subscription_id: int) -> bool:
    """The user ends one of their subscriptions; False if it is not theirs."""
    subscription = _own(session, user=user, subscription_id=subscription_id)
    if subscription is None:
        return False
    _end(session, subscription, actor=user)
    return True
