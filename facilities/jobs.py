"""The scheduler's jobs: module-level functions and the table that names them."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlmodel import Session

from facilities import get_settings
from facilities.db import get_engine, session_scope
from facilities.mail import build_message, sender_for
from facilities.models import JobRun, utcnow
from facilities.services import notify
from facilities.services.updates import publish_due_updates

log = logging.getLogger(__name__)


def publish_scheduled_updates(session: Session, now: datetime) -> int:
    """Publish the public updates whose publish time has come (and queue their e-mails)."""
    return publish_due_updates(session, now=now)


def send_outbox(session: Session, now: datetime) -> int:
    """Send the e-mails that are due, each at least once; commits per e-mail.

    "At least once" is what a receiver sees: if the scheduler dies after the mail
    server accepted an e-mail but before we committed it as sent, the e-mail is sent
    again once its claim runs out. The copy has the same Message-ID as the first
    (`facilities.mail.message_id`), so receivers can drop it.
    """
    return send_claimed(session, claim_outbox(session, now), now=now)


def claim_outbox(session: Session, now: datetime) -> list[notify.Claim]:
    """Claim the due e-mails for this sender, committed before any of them is sent."""
    claims = notify.claim_due(session, now=now)
    session.commit()  # the claims stand even if sending takes the process down
    return claims


def send_claimed(session: Session, claims: list[notify.Claim], *, now: datetime) -> int:
    """Send claimed e-mails one by one; returns how many the mail server accepted.

    Before each e-mail its claim is renewed, so a slow mail server cannot let the claims
    further down the batch run out while this sender still means to send them. A claim
    that ran out and was taken by another sender is skipped: that sender sends it.
    `now` is the time the batch starts; the clock moves on from it while sending.
    """
    settings = get_settings()
    sender = sender_for(settings)
    started = time.monotonic()

    def clock() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    sent = 0
    for claim in claims:
        item = claim.item
        renewed = notify.renew_claim(session, claim, now=clock())
        session.commit()  # the renewed lease stands while the mail server has the e-mail
        if not renewed:
            log.info("e-mail %s: another sender has taken it over, not sending it", item.id)
            continue
        try:
            sender.send(build_message(item, sender=settings.mail_from))
        except Exception as error:  # SMTP and network errors alike: try again later
            log.warning("e-mail %s to %s failed: %s", item.id, item.recipient, error)
            error_text = f"{type(error).__name__}: {error}"
            notify.mark_failed_attempt(session, claim, error=error_text, now=clock())
        else:
            sent += 1
            if not notify.mark_sent(session, claim, now=clock()):
                log.warning(
                    "e-mail %s was sent after another sender took it over: it may arrive "
                    "twice, with the same Message-ID",
                    item.id,
                )
        session.commit()
    return sent


@dataclass(frozen=True)
class Job:
    id: str  # stable: JobRun rows and the scheduler refer to it
    function: Callable[[Session, datetime], int]
    interval_seconds: int | None = None  # None: the settings' default interval


JOBS: tuple[Job, ...] = (
    Job(id="publish-scheduled-updates", function=publish_scheduled_updates),
    Job(id="send-outbox", function=send_outbox),
)
JOBS_BY_ID = {job.id: job for job in JOBS}


def run_job(app: Flask, job: Job, *, holder: str, now: datetime | None = None) -> JobRun:
    """Run one job in an app context and record it as a JobRun."""
    now = now or utcnow()
    with app.app_context(), session_scope(get_engine(app)) as session:
        run = JobRun(job_id=job.id, holder=holder, started_at=utcnow())
        session.add(run)
        session.commit()
        try:
            items = job.function(session, now)
            session.commit()
        except Exception:
            session.rollback()
            run.outcome, run.detail = "failed", traceback.format_exc(limit=20)
            log.exception("job %s failed", job.id)
        else:
            run.outcome, run.items = "ok", items
        run.finished_at = utcnow()
        session.add(run)
        session.commit()
        return run
