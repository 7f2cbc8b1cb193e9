"""The charging domain's scheduled jobs."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from facilities.charging.faults import sync_faults
from facilities.charging.pull import pull_due_parties
from facilities.core.jobs import Job


class PullFailed(Exception):
    """Some operator could not be pulled: the job run is recorded as failed, saying why."""


def pull_ocpi_locations(session: Session, now: datetime) -> int:
    """Pull the locations of the operators whose turn it is; commits per operator.
    Raises `PullFailed` after the round when any operator failed."""
    done = pull_due_parties(session, now=now)
    if done.failed:
        raise PullFailed(
            f"{len(done.failed)} operator(s) failed ({done.stored} locations stored): "
            + "; ".join(done.failed)
        )
    return done.stored


def open_and_close_charger_faults(session: Session, now: datetime) -> int:
    """Open a fault for chargers out of order longer than the setting; close the ones
    whose charger works again. Idempotent: a charger has at most one open fault."""
    return sync_faults(session, now)


# Every minute: each operator is pulled when its turn comes, backing off after failures;
# date_from keeps the pulls small.
JOBS: tuple[Job, ...] = (
    Job(id="pull-ocpi-locations", function=pull_ocpi_locations, interval_seconds=60),
    # after the pull, so a pulled status counts in the same round
    Job(id="charger-faults", function=open_and_close_charger_faults, interval_seconds=60),
)
