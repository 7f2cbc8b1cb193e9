"""The requests domain's scheduled jobs."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from facilities.core.jobs import Job
from facilities.requests import follow_up
from facilities.requests.timeline import publish_due_updates


def publish_scheduled_updates(session: Session, now: datetime) -> int:
    """Publish the public updates whose publish time has come (and queue their e-mails)."""
    return publish_due_updates(session, now=now)


def flag_stale_requests(session: Session, now: datetime) -> int:
    """Flag planned and active requests without a public update for a long time."""
    return follow_up.flag_stale_requests(session, now=now)


def warn_of_deadlines(session: Session, now: datetime) -> int:
    """Warn of near deadlines and escalate missed ones, each once."""
    return follow_up.warn_of_deadlines(session, now=now)


def ask_if_fixed(session: Session, now: datetime) -> int:
    """Ask senders some days after Done whether it is fixed."""
    return follow_up.ask_if_fixed(session, now=now)


def apply_retention(session: Session, now: datetime) -> int:
    """Remove old closed requests' personal data and purge expired tokens."""
    return follow_up.apply_retention(session, now=now).items


HOUR = 60 * 60
JOBS: tuple[Job, ...] = (
    Job(id="publish-scheduled-updates", function=publish_scheduled_updates),
    Job(id="warn-of-deadlines", function=warn_of_deadlines, interval_seconds=5 * 60),
    Job(id="flag-stale-requests", function=flag_stale_requests, interval_seconds=HOUR),
    Job(id="ask-if-fixed", function=ask_if_fixed, interval_seconds=HOUR),
    Job(id="apply-retention", function=apply_retention, interval_seconds=24 * HOUR),
)
