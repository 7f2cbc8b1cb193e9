"""The subscriptions domain's scheduled jobs: daily and weekly digests.

They run on the scheduler's interval and send only once a period has ended (7:00 park
time; weekly on Monday), so a scheduler that was down catches up at its next run.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from facilities.core.jobs import Job
from facilities.subscriptions.delivery import send_digests
from facilities.subscriptions.models import Frequency


def send_daily_digests(session: Session, now: datetime) -> int:
    return send_digests(session, frequency=Frequency.daily, now=now)


def send_weekly_digests(session: Session, now: datetime) -> int:
    return send_digests(session, frequency=Frequency.weekly, now=now)


JOBS: tuple[Job, ...] = (
    Job(id="subscription-digests-daily", function=send_daily_digests),
    Job(id="subscription-digests-weekly", function=send_weekly_digests),
)
