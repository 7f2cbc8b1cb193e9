"""The subscriptions domain's scheduled jobs: daily and weekly digests, and forgetting
addresses that never confirmed.

They run on the scheduler's interval and send only once a period has ended (7:00 park
time; weekly on Monday), so a scheduler that was down catches up at its next run.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col

from facilities.core.jobs import Job
from facilities.subscriptions.delivery import send_digests
from facilities.subscriptions.models import Frequency, Subscription
from facilities.subscriptions.subscribing import CONFIRM_WITHIN


def send_daily_digests(session: Session, now: datetime) -> int:
    return send_digests(session, frequency=Frequency.daily, now=now)


def send_weekly_digests(session: Session, now: datetime) -> int:
    return send_digests(session, frequency=Frequency.weekly, now=now)


def forget_unconfirmed(session: Session, now: datetime) -> int:
    """An address whose owner never confirmed is not kept once its link has expired:
    it was typed by someone, perhaps not its owner."""
    return session.exec(
        delete(Subscription).where(
            col(Subscription.confirmed_at).is_(None),
            col(Subscription.created_at) <= now - CONFIRM_WITHIN,
        )
    ).rowcount


JOBS: tuple[Job, ...] = (
    Job(id="subscription-digests-daily", function=send_daily_digests),
    Job(id="subscription-digests-weekly", function=send_weekly_digests),
    Job(id="forget-unconfirmed-subscriptions", function=forget_unconfirmed, interval_seconds=3600),
)
