"""The requests domain's scheduled jobs."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from facilities.core.jobs import Job
from facilities.requests.timeline import publish_due_updates


def publish_scheduled_updates(session: Session, now: datetime) -> int:
    """Publish the public updates whose publish time has come (and queue their e-mails)."""
    return publish_due_updates(session, now=now)


JOBS: tuple[Job, ...] = (Job(id="publish-scheduled-updates", function=publish_scheduled_updates),)
