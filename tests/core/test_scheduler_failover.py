"""Two real scheduler processes on PostgreSQL: the active one is killed with SIGKILL in
the middle of publishing; the standby takes over within the lease time and every due
update is published exactly once (one audit row, one e-mail each)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from facilities.core.db import make_engine
from facilities.core.models import AuditEvent, JobRun, Outbox, SchedulerLease, utcnow
from facilities.requests.models import RequestUpdate
from tests import factories
from tests.conftest import TEST_SECRET

LEASE_SECONDS = 3
INTERVAL_SECONDS = 1
DUE_UPDATES = 5
PROCESS = Path(__file__).with_name("scheduler_process.py")
T = TypeVar("T")


def wait_for(check: Callable[[], T | None], *, seconds: float, what: str) -> T:
    """Poll `check` until it answers something truthy; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.1)


def _start(database_url: str, tmp_path: Path, name: str, **env: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "FACILITIES_SECRET_KEY": TEST_SECRET,
        "FACILITIES_ENV": "testing",
        "FACILITIES_SCHEDULER_INTERVAL_SECONDS": str(INTERVAL_SECONDS),
        "FACILITIES_SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS),
        "FACILITIES_SMTP_HOST": "",  # e-mails are logged as sent
        "FACILITIES_UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "PYTHONPATH": str(Path(__file__).parents[2]),
        **env,
    }
    log = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen(
        [sys.executable, str(PROCESS)], env=environment, stdout=log, stderr=subprocess.STDOUT
    )


def test_the_standby_takes_over_from_a_killed_scheduler_and_publishes_each_update_once(
    database_url, db, tmp_path
):
    if not database_url.startswith("postgresql"):
        pytest.skip(
            "needs PostgreSQL (TEST_DATABASE_URL): two processes on one SQLite file is not "
            "how the scheduler runs; CI's PostgreSQL run executes this test"
        )
    staff = factories.staff(db)
    update_ids = []
    for _ in range(DUE_UPDATES):
        item = factories.scheduled_update(db, actor=staff)
        entry = db.exec(
            select(RequestUpdate).where(
                RequestUpdate.request_id == item.id, col(RequestUpdate.publish_at).is_not(None)
            )
        ).one()
        entry.publish_at = utcnow() - timedelta(minutes=1)
        db.add(entry)
        update_ids.append(entry.id)
    db.commit()

    engine = make_engine(database_url)
    hang_file = tmp_path / "hanging"
    first = _start(database_url, tmp_path, "first", FAILOVER_HANG_FILE=str(hang_file))
    second = None
    try:
        killed_holder = wait_for(
            lambda: hang_file.exists() and hang_file.read_text(),
            seconds=60,
            what="the first scheduler to claim updates and hang",
        )
        second = _start(database_url, tmp_path, "second")
        second_log = tmp_path / "second.log"
        wait_for(
            lambda: "standing by" in second_log.read_text(),
            seconds=60,
            what="the second scheduler to stand by",
        )
        with Session(engine) as session:
            lease = session.get(SchedulerLease, "scheduler")
            assert lease is not None and lease.holder == killed_holder

        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = utcnow()

        def taken_over() -> SchedulerLease | None:
            with Session(engine) as session:
                lease = session.get(SchedulerLease, "scheduler")
                return lease if lease and lease.holder != killed_holder else None

        # the lease runs out LEASE_SECONDS after the killed one's last renewal; the
        # standby tries every INTERVAL_SECONDS (and has to start up)
        lease = wait_for(taken_over, seconds=LEASE_SECONDS + 20, what="the standby to take over")
        assert lease.acquired_at is not None
        assert lease.acquired_at - killed_at <= timedelta(
            seconds=LEASE_SECONDS + 2 * INTERVAL_SECONDS
        )

        def all_published() -> bool:
            with Session(engine) as session:
                return session.exec(
                    select(func.count())
                    .select_from(RequestUpdate)
                    .where(
                        col(RequestUpdate.id).in_(update_ids),
                        col(RequestUpdate.published_at).is_not(None),
                    )
                ).one() == len(update_ids)

        wait_for(all_published, seconds=30, what="every due update to be published")

        def mailed() -> bool:
            with Session(engine) as session:
                return session.exec(
                    select(func.count())
                    .select_from(Outbox)
                    .where(col(Outbox.idempotency_key).like("update:%:submitter"))
                ).one() >= len(update_ids)

        wait_for(mailed, seconds=30, what="the updates' e-mails to be queued")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)

    with Session(engine) as session:
        published = session.exec(
            select(AuditEvent.entity_id).where(AuditEvent.action == "update.published")
        ).all()
        assert sorted(published) == sorted(update_ids)  # exactly once each
        keys = session.exec(
            select(Outbox.idempotency_key).where(col(Outbox.idempotency_key).like("update:%"))
        ).all()
        assert sorted(keys) == sorted(f"update:{i}:submitter" for i in update_ids)
        runs = session.exec(
            select(JobRun).where(
                JobRun.holder == killed_holder, JobRun.job_id == "publish-scheduled-updates"
            )
        ).all()
        assert "abandoned" in [run.outcome for run in runs]
        assert all(run.outcome != "running" for run in runs)
    engine.dispose()
