from datetime import timedelta

from facilities.jobs import JOBS
from facilities.models import utcnow
from facilities.scheduler import acquire_lease, build_scheduler, release_lease


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
    scheduler = build_scheduler(app, holder="test", background=True)
    assert sorted(job.id for job in scheduler.get_jobs()) == sorted(job.id for job in JOBS)
    assert all(job.args[0] is app for job in scheduler.get_jobs())
