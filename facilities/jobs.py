"""The scheduler's jobs: module-level functions and the table that names them."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from facilities.db import session_scope
from facilities.models import JobRun, utcnow
from facilities.services.updates import publish_due_updates

log = logging.getLogger(__name__)


def publish_scheduled_updates(session: Session, now: datetime) -> int:
    """Publish the public updates whose publish time has come."""
    return publish_due_updates(session, now=now)


@dataclass(frozen=True)
class Job:
    id: str  # stable: JobRun rows and the scheduler refer to it
    function: Callable[[Session, datetime], int]
    interval_seconds: int | None = None  # None: the settings' default interval


JOBS: tuple[Job, ...] = (Job(id="publish-scheduled-updates", function=publish_scheduled_updates),)
JOBS_BY_ID = {job.id: job for job in JOBS}


def run_job(engine: Engine, job: Job, *, holder: str, now: datetime | None = None) -> JobRun:
    """Run one job and record it as a JobRun; the job's work commits as one batch."""
    now = now or utcnow()
    with session_scope(engine) as session:
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
