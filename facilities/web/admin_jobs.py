"""Admins: the scheduled jobs. Each job's schedule, last and next run, recent runs, a
"Run now" button, and which scheduler process holds the lease."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func
from sqlmodel import Session, col, select

from facilities.core import audit
from facilities.core.db import get_session
from facilities.core.jobs import Job, run_job
from facilities.core.models import JobRun, SchedulerLease, utcnow
from facilities.core.scheduler import LEASE_NAME, holder_name
from facilities.schedule import JOBS, JOBS_BY_ID
from facilities.settings import get_settings
from facilities.web.access import admin_only
from facilities.web.admin import blueprint

RECENT_RUNS = 10
# A run still marked running after this long was left by a process that died without a
# scheduler taking over from it (`facilities jobs run` killed): it no longer blocks "Run now".
STUCK_AFTER = timedelta(hours=1)
# What each job does, in words; a job missing here is shown by its id alone.
JOB_TITLES = {
    "publish-scheduled-updates": _l("Publish scheduled updates"),
    "warn-of-deadlines": _l("Warn of near deadlines and escalate missed ones"),
    "flag-stale-requests": _l("Flag planned and active requests without news"),
    "ask-if-fixed": _l("Ask senders whether it is fixed"),
    "apply-retention": _l("Remove old personal data and expired links"),
    "pull-ocpi-locations": _l("Pull charger locations from operators"),
    "charger-faults": _l("Open fault requests for chargers out of order"),
    "send-outbox": _l("Send queued e-mails"),
    "post-weekly-roadmap": _l("Post the week's roadmap changes to channels"),
    "subscription-digests-daily": _l("Send daily digests to subscribers"),
    "subscription-digests-weekly": _l("Send weekly digests to subscribers"),
    "forget-unconfirmed-subscriptions": _l("Forget addresses that never confirmed"),
}


def interval_of(job: Job) -> int:
    return job.interval_seconds or get_settings().scheduler_interval_seconds


def schedule_in_words(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("Every hour", "Every %(num)d hours", hours)
    if seconds % 60 == 0:
        minutes = seconds // 60
        return ngettext("Once a minute", "Every %(num)d minutes", minutes)
    return ngettext("Every second", "Every %(num)d seconds", seconds)


def next_run(job: Job, last: JobRun | None, now: datetime) -> datetime:
    """When the scheduler runs the job next: APScheduler's interval trigger counted from
    the last run's start (the trigger's own grid), or now if it never ran."""
    if last is None:
        return now
    trigger = IntervalTrigger(seconds=interval_of(job), start_date=last.started_at, timezone=UTC)
    return trigger.get_next_fire_time(None, now) or now


def is_running(run: JobRun | None, now: datetime) -> bool:
    return run is not None and run.outcome == "running" and run.started_at > now - STUCK_AFTER


@dataclass(frozen=True)
class JobRow:
    job: Job
    title: str
    schedule: str
    last: JobRun | None
    next_at: datetime
    running: bool


def _last_runs(db: Session) -> dict[str, JobRun]:
    latest = select(func.max(JobRun.id)).group_by(col(JobRun.job_id)).scalar_subquery()
    runs = db.exec(select(JobRun).where(col(JobRun.id).in_(latest))).all()
    return {run.job_id: run for run in runs}


def _lease(db: Session, now: datetime) -> dict:
    """The lease and whether a scheduler holds it now (next runs mean something then)."""
    lease = db.get(SchedulerLease, LEASE_NAME)
    return {"lease": lease, "lease_live": lease is not None and lease.expires_at > now}


def _row(job: Job, last: JobRun | None, now: datetime) -> JobRow:
    return JobRow(
        job=job,
        title=str(JOB_TITLES.get(job.id, "")),
        schedule=schedule_in_words(interval_of(job)),
        last=last,
        next_at=next_run(job, last, now),
        running=is_running(last, now),
    )


@blueprint.get("/jobs")
@admin_only
def jobs_page():
    db = get_session()
    now = utcnow()
    last_runs = _last_runs(db)
    rows = [_row(job, last_runs.get(job.id), now) for job in JOBS]
    return render_template(
        "admin/jobs.html", rows=rows, now=now, format_decimal=format_decimal, **_lease(db, now)
    )


def _job(job_id: str) -> Job:
    job = JOBS_BY_ID.get(job_id)
    if job is None:
        abort(404)
    return job


@blueprint.get("/jobs/<job_id>")
@admin_only
def job_page(job_id: str):
    job = _job(job_id)
    db = get_session()
    now = utcnow()
    runs = db.exec(
        select(JobRun)
        .where(JobRun.job_id == job.id)
        .order_by(col(JobRun.started_at).desc(), col(JobRun.id).desc())
        .limit(RECENT_RUNS)
    ).all()
    return render_template(
        "admin/job.html",
        row=_row(job, runs[0] if runs else None, now),
        runs=runs,
        now=now,
        **_lease(db, now),
        format_decimal=format_decimal,
    )


@blueprint.post("/jobs/<job_id>/run")
@admin_only
def run_job_now(job_id: str):
    """Runs the job here, in the request, recorded as a JobRun like the scheduler's runs
    (jobs claim their rows, so running beside the scheduler posts nothing twice)."""
    job = _job(job_id)
    db = get_session()
    last = db.exec(
        select(JobRun).where(JobRun.job_id == job.id).order_by(col(JobRun.id).desc()).limit(1)
    ).first()
    if is_running(last, utcnow()):
        flash(_("The job is running already; try again when it has finished."), "error")
        return redirect(url_for("admin.job_page", job_id=job.id))
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    run = run_job(app, job, holder=f"admin:{holder_name()}")
    audit.record(
        db,
        actor=current_user,
        action="job.run",
        entity="job_run",
        entity_id=run.id,
        after={"job": job.id, "outcome": run.outcome, "items": run.items},
    )
    db.commit()
    if run.outcome == "ok":
        flash(
            ngettext("The job ran: %(num)d item.", "The job ran: %(num)d items.", run.items),
            "success",
        )
    else:
        flash(_("The job failed; the run below says why."), "error")
    return redirect(url_for("admin.job_page", job_id=job.id))
