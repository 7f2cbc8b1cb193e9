"""A scheduler process for tests/core/test_scheduler_failover.py.

It runs what `facilities scheduler` runs (every job, guarded by the lease, settings from
the environment). With FAILOVER_HANG_FILE set, its publishing job hangs in the middle of
a run: after claiming some due updates, before committing; it writes its holder name to
that file first, so that the test knows when to kill it.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from facilities import create_app
from facilities.core.scheduler import build_scheduler, holder_name
from facilities.requests.timeline import publish_due_updates
from facilities.schedule import JOBS


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    logging.getLogger("facilities.core.scheduler").setLevel(logging.DEBUG)  # "standing by"
    holder = holder_name()
    hang_file = os.environ.get("FAILOVER_HANG_FILE")

    def publish_then_hang(session: Session, now: datetime) -> int:
        published = publish_due_updates(session, now=now, limit=2)
        session.flush()  # the rows are claimed (and locked) in the open transaction
        if published and hang_file:
            Path(hang_file).write_text(holder)
            time.sleep(3600)  # killed here
        return published

    jobs = tuple(
        replace(job, function=publish_then_hang) if job.id == "publish-scheduled-updates" else job
        for job in JOBS
    )
    app = create_app()
    print(f"scheduler {holder} starting", flush=True)
    build_scheduler(app, jobs, holder=holder).start()


if __name__ == "__main__":
    main()
