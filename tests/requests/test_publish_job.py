from datetime import timedelta

from sqlmodel import select

from facilities.core.jobs import run_job
from facilities.core.models import AuditEvent, JobRun, utcnow
from facilities.requests.models import RequestUpdate
from facilities.schedule import JOBS_BY_ID
from tests import factories


def _schedule(db, *, minutes: int) -> int:
    item = factories.scheduled_update(db, after=timedelta(minutes=minutes))
    db.commit()
    return item.id


def test_publishing_twice_over_the_same_due_update_publishes_it_once(app, db):
    request_id = _schedule(db, minutes=5)
    job = JOBS_BY_ID["publish-scheduled-updates"]
    later = utcnow() + timedelta(minutes=6)

    first = run_job(app, job, holder="test-a", now=later)
    second = run_job(app, job, holder="test-b", now=later + timedelta(seconds=30))

    assert (first.outcome, first.items) == ("ok", 1)
    assert (second.outcome, second.items) == ("ok", 0)
    db.expire_all()
    update = db.exec(select(RequestUpdate).where(RequestUpdate.request_id == request_id)).one()
    assert update.published_at is not None
    assert update.published_at.replace(microsecond=0) == later.replace(microsecond=0)
    published_events = db.exec(
        select(AuditEvent).where(AuditEvent.action == "update.published")
    ).all()
    assert len(published_events) == 1
    runs = db.exec(select(JobRun).order_by(JobRun.id)).all()
    assert [(run.job_id, run.outcome, run.items) for run in runs] == [
        ("publish-scheduled-updates", "ok", 1),
        ("publish-scheduled-updates", "ok", 0),
    ]


def test_updates_not_yet_due_stay_hidden(app, db):
    request_id = _schedule(db, minutes=60)
    run = run_job(app, JOBS_BY_ID["publish-scheduled-updates"], holder="t")
    assert run.items == 0
    item = (
        db.exec(select(RequestUpdate).where(RequestUpdate.request_id == request_id)).one().request
    )
    assert factories.timeline_for(db, item, None) == []


def test_a_failing_job_is_recorded_as_failed(app, db):
    from facilities.core.jobs import Job

    def broken(_session, _now):
        raise RuntimeError("disk on fire")

    run = run_job(app, Job(id="broken", function=broken), holder="t")
    assert run.outcome == "failed" and "disk on fire" in run.detail
    db.expire_all()
    stored = db.get(JobRun, run.id)
    assert stored.outcome == "failed" and stored.finished_at is not None
