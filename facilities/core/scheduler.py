"""The scheduler process: APScheduler 3 running the job table while it holds the lease.

APScheduler 3 cannot share a job store between processes, so it never runs inside
web workers. Several scheduler processes may run; the one holding the lease row runs
the jobs and the others stand by, taking over when its lease runs out.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from facilities.core.db import get_engine, session_scope
from facilities.core.jobs import Job, run_job
from facilities.core.models import JobRun, SchedulerLease, utcnow
from facilities.settings import Settings, get_settings

log = logging.getLogger(__name__)
LEASE_NAME = "scheduler"


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def acquire_lease(
    session: Session, *, holder: str, ttl: timedelta, now: datetime | None = None
) -> bool:
    """Take or renew the lease for `holder`; False while another holder's lease is live.

    Taking the lease over from another holder means that holder stopped renewing it:
    its runs still marked running will never finish, so they are marked abandoned.
    """
    now = now or utcnow()
    previous = session.exec(
        select(SchedulerLease.holder).where(SchedulerLease.name == LEASE_NAME)
    ).first()
    if previous is None:
        try:
            with session.begin_nested():
                session.add(
                    SchedulerLease(
                        name=LEASE_NAME, holder=holder, acquired_at=now, expires_at=now + ttl
                    )
                )
        except IntegrityError:  # another process inserted it first
            return False
        return True
    taken = session.exec(
        update(SchedulerLease)
        .where(
            col(SchedulerLease.name) == LEASE_NAME,
            col(SchedulerLease.holder) == previous,  # unchanged since we looked
            or_(col(SchedulerLease.holder) == holder, col(SchedulerLease.expires_at) < now),
        )
        # a renewal keeps when the holder took the lease; a takeover starts it anew
        .values(
            holder=holder,
            expires_at=now + ttl,
            **({} if previous == holder else {"acquired_at": now}),
        )
    ).rowcount
    if taken and previous != holder:
        _abandon_runs(session, holder=previous, taken_by=holder, now=now)
    return bool(taken)


def _abandon_runs(session: Session, *, holder: str, taken_by: str, now: datetime) -> None:
    """Close the runs a scheduler left running when it lost the lease.

    Only that holder's runs: `facilities jobs run` runs jobs under holders of its own,
    without the lease.
    """
    abandoned = session.exec(
        update(JobRun)
        .where(col(JobRun.holder) == holder, col(JobRun.outcome) == "running")
        .values(
            outcome="abandoned",
            finished_at=now,
            detail=f"Abandoned: the scheduler lease passed from {holder} to {taken_by}.",
        )
    ).rowcount
    if abandoned:
        log.warning("lease taken over from %s: %s of its runs abandoned", holder, abandoned)


def release_lease(session: Session, *, holder: str) -> None:
    session.exec(
        update(SchedulerLease)
        .where(col(SchedulerLease.name) == LEASE_NAME, col(SchedulerLease.holder) == holder)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )


def run_if_leader(app: Flask, job: Job, holder: str, ttl_seconds: int) -> None:
    with session_scope(get_engine(app)) as session:
        leader = acquire_lease(session, holder=holder, ttl=timedelta(seconds=ttl_seconds))
        session.commit()
    if leader:
        run = run_job(app, job, holder=holder)
        log.info("job %s: %s, %s items", job.id, run.outcome, run.items)
    else:
        log.debug("job %s: standing by, another scheduler holds the lease", job.id)


def lease_seconds(settings: Settings, interval: int | None = None) -> int:
    """How long a lease lasts unrenewed: the setting, or three intervals (at least 30 s)."""
    interval = interval or settings.scheduler_interval_seconds
    return settings.scheduler_lease_seconds or max(3 * interval, 30)


def build_scheduler(
    app: Flask, jobs: Sequence[Job], *, holder: str, background: bool = False
) -> BaseScheduler:
    """A scheduler running `jobs` (every domain's), each guarded by the lease."""
    settings = get_settings(app)
    scheduler_class = BackgroundScheduler if background else BlockingScheduler
    scheduler = scheduler_class(timezone=settings.timezone)
    for job in jobs:
        interval = job.interval_seconds or settings.scheduler_interval_seconds
        scheduler.add_job(
            run_if_leader,
            trigger="interval",
            seconds=interval,
            id=job.id,
            name=job.id,
            args=(app, job, holder, lease_seconds(settings, interval)),
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            next_run_time=utcnow(),
        )
    return scheduler
