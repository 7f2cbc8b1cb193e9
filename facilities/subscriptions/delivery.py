"""Sending subscribers what was published: each entry at once, or digests by day or week.

Immediate e-mails are queued by a listener in the transaction that publishes the entry
(requests.events only announces public entries of public requests). A digest job claims
each subscription's period with a conditional UPDATE of `last_digest_at`, in the same
transaction as the digest's outbox row, so a second run or a second scheduler sends
nothing again and a crash loses nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, or_, select

from facilities.core import outbox
from facilities.requests.models import RequestUpdate, ServiceRequest
from facilities.settings import get_settings
from facilities.subscriptions import emails
from facilities.subscriptions.models import Frequency, Subscription
from facilities.subscriptions.queries import digest_entries, followed_of, immediate_subscribers
from facilities.subscriptions.subscribing import token_of

DIGEST_HOUR = 7  # park time: daily digests at 7:00, weekly ones on Monday at 7:00
DIGEST_MAX_ENTRIES = 50  # a longer period says "and more" and links the roadmap
BATCH = 100


def mail_subscribers(
    session: Session, service_request: ServiceRequest, entry: RequestUpdate
) -> None:
    """Listener: queue the entry for every confirmed immediate subscriber of its request,
    one e-mail per address, in each subscriber's language."""
    subscriptions = immediate_subscribers(session, service_request)
    if not subscriptions:
        return
    followed = followed_of(session, subscriptions)
    outbox.queue(
        session,
        [
            emails.subscription_update(
                subscription=subscription,
                followed=followed[subscription.id],
                token=token_of(subscription),
                service_request=service_request,
                entry=entry,
            )
            for subscription in subscriptions
            if subscription.id in followed
        ],
        now=entry.published_at or entry.created_at,  # the entry's publication is the moment
    )


def period_end(frequency: Frequency, now: datetime) -> datetime:
    """The latest digest time at or before `now` (UTC): 7:00 park time today or the day
    before, or on the latest Monday, as the park's clock shows it (summer time too)."""
    local = now.astimezone(ZoneInfo(get_settings().timezone))
    end = local.replace(hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)
    if frequency == Frequency.weekly:
        end -= timedelta(days=end.weekday())
        step = timedelta(days=7)
    else:
        step = timedelta(days=1)
    if end > local:
        end -= step
    return end.astimezone(now.tzinfo)


def send_digests(session: Session, *, frequency: Frequency, now: datetime) -> int:
    """Queue the digests due at the latest period end; returns how many were queued.

    Commits per batch. A subscription confirmed after the period ended waits for the
    next one; a period without public entries sends nothing.
    """
    end = period_end(frequency, now)
    due = (
        select(Subscription)
        .where(
            col(Subscription.frequency) == frequency,
            col(Subscription.confirmed_at).is_not(None),
            col(Subscription.confirmed_at) <= end,
            or_(col(Subscription.last_digest_at).is_(None), col(Subscription.last_digest_at) < end),
        )
        .order_by(col(Subscription.id))
        .limit(BATCH)
    )
    queued = 0
    while subscriptions := list(session.exec(due).all()):
        followed = followed_of(session, subscriptions)
        for subscription in subscriptions:
            since = subscription.last_digest_at or subscription.confirmed_at
            claimed = session.exec(
                update(Subscription)
                .where(
                    col(Subscription.id) == subscription.id,
                    or_(
                        col(Subscription.last_digest_at).is_(None),
                        col(Subscription.last_digest_at) < end,
                    ),
                )
                .values(last_digest_at=end)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not claimed or since is None or subscription.id not in followed:
                continue
            entries = digest_entries(
                session, subscription, since=since, until=end, limit=DIGEST_MAX_ENTRIES + 1
            )
            if not entries:
                continue
            queued += outbox.queue(
                session,
                [
                    emails.subscription_digest(
                        subscription=subscription,
                        followed=followed[subscription.id],
                        token=token_of(subscription),
                        entries=entries[:DIGEST_MAX_ENTRIES],
                        more=len(entries) > DIGEST_MAX_ENTRIES,
                        period_end=end,
                    )
                ],
                now=now,
            )
        session.commit()  # the claims and their digests together
        session.expire_all()
    return queued
