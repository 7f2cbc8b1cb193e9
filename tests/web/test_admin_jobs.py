"""The admin Jobs page: schedule, last and next run, the lease, recent runs, "Run now"."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from sqlmodel import select

from facilities.accounts.models import Role
from facilities.core.db import get_engine
from facilities.core.models import AuditEvent, JobRun, SchedulerLease, utcnow
from facilities.core.scheduler import acquire_lease
from facilities.schedule import JOBS
from facilities.web.admin_jobs import next_run, schedule_in_words
from tests.conftest import count_queries, csrf_token


def _runs(db, job_id: str, count: int, *, outcome: str = "ok") -> None:
    start = utcnow() - timedelta(hours=count)
    for number in range(count):
        db.add(
            JobRun(
                job_id=job_id,
                holder="host:1:abc",
                started_at=start + timedelta(hours=number),
                finished_at=start + timedelta(hours=number, seconds=2),
                outcome=outcome,
                items=number,
                detail="Traceback: boom" if outcome == "failed" else "",
            )
        )
    db.commit()


def test_the_page_lists_every_job_with_last_run_and_lease_in_fixed_queries(
    app, db, client, signed_in
):
    signed_in(Role.admin, preferred_language="en")
    assert acquire_lease(db, holder="host:7:standby", ttl=timedelta(seconds=90))
    db.commit()
    _runs(db, "send-outbox", 2)
    _runs(db, "ask-if-fixed", 1, outcome="failed")
    page = client.get("/admin/jobs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for job in JOBS:
        assert f"/admin/jobs/{job.id}" in html
    assert "host:7:standby" in html
    assert "Why?" in html  # the failed run links to its detail

    with count_queries(get_engine(app)) as few:
        client.get("/admin/jobs")
    _runs(db, "send-outbox", 30)
    _runs(db, "flag-stale-requests", 5)
    with count_queries(get_engine(app)) as many:
        client.get("/admin/jobs")
    assert len(many) == len(few)


def test_a_job_page_shows_its_last_ten_runs_with_failure_detail(db, client, signed_in):
    signed_in(Role.admin, preferred_language="en")
    _runs(db, "send-outbox", 12)
    _runs(db, "send-outbox", 1, outcome="failed")
    html = client.get("/admin/jobs/send-outbox").get_data(as_text=True)
    assert html.count("<code>host:1:abc</code>") == 10
    assert "Traceback: boom" in html


def test_run_now_runs_the_job_records_and_audits_it(db, client, signed_in):
    admin = signed_in(Role.admin, preferred_language="en")
    token = csrf_token(client, "/admin/jobs")
    response = client.post("/admin/jobs/flag-stale-requests/run", data={"csrf_token": token})
    assert response.status_code == 302
    (run,) = db.exec(select(JobRun).where(JobRun.job_id == "flag-stale-requests")).all()
    assert run.outcome == "ok" and run.holder.startswith("admin:")
    (event,) = db.exec(select(AuditEvent).where(AuditEvent.action == "job.run")).all()
    assert (event.actor_id, event.entity_id, event.after["job"]) == (
        admin.id,
        run.id,
        "flag-stale-requests",
    )


def test_run_now_is_refused_while_the_job_runs(db, client, signed_in):
    signed_in(Role.admin, preferred_language="en")
    db.add(JobRun(job_id="send-outbox", holder="host:1:abc", started_at=utcnow()))
    db.commit()
    token = csrf_token(client, "/admin/jobs")
    response = client.post(
        "/admin/jobs/send-outbox/run", data={"csrf_token": token}, follow_redirects=True
    )
    assert "The job is running already" in response.get_data(as_text=True)
    assert len(db.exec(select(JobRun).where(JobRun.job_id == "send-outbox")).all()) == 1
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "job.run")).all() == []


def test_run_now_needs_an_admin_and_a_csrf_token(db, client, signed_in):
    signed_in(Role.staff)
    token = csrf_token(client, "/staff/queue")
    assert client.post("/admin/jobs/send-outbox/run", data={"csrf_token": token}).status_code == 403
    assert db.exec(select(JobRun)).all() == []


def test_the_lease_remembers_when_its_holder_took_it(db):
    start = utcnow()
    ttl = timedelta(seconds=30)
    assert acquire_lease(db, holder="a", ttl=ttl, now=start)
    assert acquire_lease(db, holder="a", ttl=ttl, now=start + timedelta(seconds=10))
    db.commit()
    db.expire_all()
    assert db.get(SchedulerLease, "scheduler").acquired_at == start
    taken = start + timedelta(seconds=50)
    assert acquire_lease(db, holder="b", ttl=ttl, now=taken)
    db.commit()
    db.expire_all()
    lease = db.get(SchedulerLease, "scheduler")
    assert (lease.holder, lease.acquired_at, lease.expires_at) == ("b", taken, taken + ttl)


def test_next_run_follows_the_interval_from_the_last_run(app):
    (job,) = [job for job in JOBS if job.id == "warn-of-deadlines"]
    now = utcnow()
    last = JobRun(job_id=job.id, holder="x", started_at=now - timedelta(minutes=2))
    assert next_run(job, last, now) == last.started_at + timedelta(minutes=5)
    long_ago = JobRun(job_id=job.id, holder="x", started_at=now - timedelta(minutes=12))
    assert next_run(job, long_ago, now) == long_ago.started_at + timedelta(minutes=15)
    assert next_run(job, None, now) == now
    with app.test_request_context(headers={"Accept-Language": "en"}), force_locale("en"):
        assert schedule_in_words(300) == "Every 5 minutes"
        assert schedule_in_words(3600) == "Every hour"
