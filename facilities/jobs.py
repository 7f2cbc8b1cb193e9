"""The scheduler's jobs: module-level functions and the table that names them."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlmodel import Session

from facilities import get_settings
from facilities.db import get_engine, session_scope
from facilities.mail import build_message, sender_for
from facilities.models import JobRun, utcnow
from facilities.services import notify
from facilities.services.updates import publish_due_updates

log = logging.getLogger(__name__)


def publish_scheduled_updates(session: Session, now: datetime) -> int:
    """Publish the public updates whose publish time has come (and queue their e-mails)."""
    return publish_due_updates(session, now=now)


def send_outbox(session: Session, now: datetime) -> int:
    """Send the e-mails that are due; each is committed on its own so none is sent twice."""
    settings = get_settings()
    sender = sender_for(settings)
    claimed = notify.claim_due(session, now=now)
    session.commit()  # the claims stand even if sending takes the process down
    sent = 0
    for item in claimed:
        try:
            sender.send(build_message(item, sender=settings.mail_from))
        except Exception as error:  # SMTP and network errors alike: try again later
            log.warning("e-mail %s to %s failed: %s", item.id, item.recipient, error)
            notify.mark_failed_attempt(session, item, error=f"{type(error).__name__}: {error}")
        else:
            notify.mark_sent(session, item, now=utcnow())
            sent += 1
        session.commit()
    return sent


@dataclass(frozen=True)
class Job:
    id: str  # stable: JobRun rows and the scheduler refer to it
    function: Callable[[Session, datetime], int]
    interval_seconds: int | None = None  # None: the settings' default interval


JOBS: tuple[Job, ...] = (
    Job(id="publish-scheduled-updates", function=publish_scheduled_updates),
    Job(id="send-outbox", function=send_outbox),
)
JOBS_BY_ID = {job.id: job for job in JOBS}


def run_job(app: Flask, job: Job, *, holder: str, now: datetime | None = None) -> JobRun:
    """Run one job in an app context and record it as a JobRun."""
    now = now or utcnow()
    with app.app_context(), session_scope(get_engine(app)) as session:
        run = JobRun(job_id=job.id, holder=holder, started_at=utcnow())
        session.add(run)
        session.commit()
        try:
            items = job.function(session, now)
            session.commit()
        except Exception:
            session.rollback()
            run.outcome, run.detail = "failed", traceback.format_exc(limit=20)
            log.exception("job %s failed", job.id)
        else:
            run.outcome, run.items = "ok", items
        run.finished_at = utcnow()
        session.add(run)
        session.commit()
        return run
