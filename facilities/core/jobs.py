"""Jobs: what one is, running one and recording it as a JobRun."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlmodel import Session

from facilities.core import outbox
from facilities.core.db import get_engine, session_scope
from facilities.core.models import JobRun, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    id: str  # stable: JobRun rows and the scheduler refer to it
    function: Callable[[Session, datetime], int]
    interval_seconds: int | None = None  # None: the settings' default interval


# The infrastructure's own jobs; each domain's jobs.py has its list, and the entry points
# (`facilities scheduler`, `facilities jobs run`) hand the scheduler all of them.
JOBS: tuple[Job, ...] = (Job(id="send-outbox", function=outbox.send_outbox),)


def run_job(app: Flask, job: Job, *, holder: str, now: datetime | None = None) -> JobRun:
    """Run one job in an app context and record it as a JobRun.

    The run is recorded at `now`, the moment the job runs for (the clock by default), and
    its end as `now` plus the time it took, so a run for a past moment is listed as such."""
    now = now or utcnow()
    started = time.monotonic()
    with app.app_context(), session_scope(get_engine(app)) as session:
        run = JobRun(job_id=job.id, holder=holder, started_at=now)
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
        run.finished_at = now + timedelta(seconds=time.monotonic() - started)
        session.add(run)
        session.commit()
        return run
