"""Every domain's jobs in one list, for `facilities scheduler` and `facilities jobs run`."""

from __future__ import annotations

from facilities.channels import jobs as channel_jobs
from facilities.charging import jobs as charging_jobs
from facilities.core import jobs as core_jobs
from facilities.core.jobs import Job
from facilities.requests import jobs as request_jobs
from facilities.subscriptions import jobs as subscription_jobs

# Publishing first: the e-mails it queues go out in the same round.
JOBS: tuple[Job, ...] = (
    request_jobs.JOBS
    + charging_jobs.JOBS
    + channel_jobs.JOBS
    + subscription_jobs.JOBS
    + core_jobs.JOBS
)
JOBS_BY_ID = {job.id: job for job in JOBS}
