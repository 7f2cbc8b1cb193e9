from datetime import timedelta

from sqlmodel import col, select

from facilities.core.models import JobRun, utcnow
from facilities.core.scheduler import acquire_lease, build_scheduler, release_lease
from facilities.schedule import JOBS


def test_only_one_scheduler_holds_the_lease_until_it_expires(db):
    now = utcnow()
    ttl = timedelta(seconds=30)
    assert acquire_lease(db, holder="a", ttl=ttl, now=now)
    db.commit()
    assert not acquire_lease(db, holder="b", ttl=ttl, now=now + timedelta(seconds=10))
    assert acquire_lease(db, holder="a", ttl=ttl, now=now + timedelta(seconds=10))  # renewal
    db.commit()
    # a dies: its lease runs out and b takes over
    assert acquire_lease(db, holder="b", ttl=ttl, now=now + timedelta(seconds=41))
    db.commit()
    assert not acquire_lease(db, holder="a", ttl=ttl, now=now + timedelta(seconds=42))


def test_released_lease_is_taken_at_once(db):
    ttl = timedelta(seconds=30)
    assert acquire_lease(db, holder="a", ttl=ttl)
    release_lease(db, holder="a")
    db.commit()
    assert acquire_lease(db, holder="b", ttl=ttl)


def test_scheduler_has_every_job_of_the_table_by_its_stable_id(app):
    scheduler = build_scheduler(app, JOBS, holder="test", background=True)
    assert sorted(job.id for job in scheduler.get_jobs()) == sorted(job.id for job in JOBS)
    assert all(job.args[0] is app for job in scheduler.get_jobs())


def test_taking_over_the_lease_abandons_the_runs_its_holder_left_running(db):
    now = utcnow()
    ttl = timedelta(seconds=30)
    assert acquire_lease(db, holder="a", ttl=ttl, now=now)
    db.add_all(
        [
            JobRun(job_id="send-outbox", holder="a", started_at=now),  # a is killed in it
            JobRun(
                job_id="send-outbox",
                holder="a",
                started_at=now - timedelta(minutes=1),
                finished_at=now - timedelta(seconds=50),
                outcome="ok",
                items=3,
            ),
            # `facilities run-job` runs jobs without the lease, under a holder of its own
            JobRun(job_id="send-outbox", holder="host:42:cli", started_at=now),
        ]
    )
    db.commit()

    assert not acquire_lease(db, holder="b", ttl=ttl, now=now + timedelta(seconds=10))
    assert acquire_lease(db, holder="a", ttl=ttl, now=now + timedelta(seconds=10))  # renewal
    db.commit()
    db.expire_all()
    assert [run.outcome for run in db.exec(select(JobRun).order_by(col(JobRun.id)))] == [
        "running",
        "ok",
        "running",
    ]

    taken_at = now + timedelta(seconds=41)
    assert acquire_lease(db, holder="b", ttl=ttl, now=taken_at)
    db.commit()
    db.expire_all()
    killed, finished, command = db.exec(select(JobRun).order_by(col(JobRun.id))).all()
    assert (killed.outcome, killed.finished_at) == ("abandoned", taken_at)
    assert "passed from a to b" in killed.detail
    assert (finished.outcome, finished.items, finished.finished_at) == (
        "ok",
        3,
        now - timedelta(seconds=50),
    )
    assert (command.outcome, command.finished_at) == ("running", None)

    # b renewing its own lease abandons nothing of its own
    db.add(JobRun(job_id="send-outbox", holder="b", started_at=taken_at))
    db.commit()
    assert acquire_lease(db, holder="b", ttl=ttl, now=taken_at + timedelta(seconds=10))
    db.commit()
    assert db.exec(select(JobRun.outcome).where(JobRun.holder == "b")).all() == ["running"]
