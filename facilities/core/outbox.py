"""The outbox: every e-mail and webhook post is queued here in the transaction of its
change, then sent by a job (webhook posts by facilities.core.webhooks).

An e-mail is named (`templates/email/<name>/subject.txt` and `body.txt`); a domain's
`emails.py` says who gets it and with what context, and `queue` writes it in each
recipient's own language.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from facilities.core import audit, webhooks
from facilities.core.mail import build_message, sender_for
from facilities.core.models import Outbox, OutboxKind, OutboxStatus, utcnow
from facilities.settings import REGIONAL_LOCALES, get_settings

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
# A claim leases its row for this long: far longer than one SMTP conversation (timeout
# 30 s), and renewed before each e-mail of a batch.
CLAIM_TTL = timedelta(minutes=5)


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str
    language: str  # fi, en or sv: the e-mail is written in it


@dataclass(frozen=True)
class Email:
    """One named e-mail to one recipient; `key` makes queueing it twice a no-op."""

    name: str
    key: str
    to: Recipient
    context: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] | None = None  # extra headers, e.g. List-Unsubscribe


def queue(session: Session, emails: list[Email], *, now: datetime) -> int:
    """Write each e-mail in its recipient's language into the outbox, due at `now`;
    returns how many."""
    queued = 0
    for email in emails:
        context = {
            **email.context,
            "recipient": email.to,
            "park_name": get_settings().park_name,
        }
        with force_locale(REGIONAL_LOCALES.get(email.to.language, "fi_FI")):
            subject = render_template(f"email/{email.name}/subject.txt", **context)
            body = render_template(f"email/{email.name}/body.txt", **context)
        item = enqueue_email(
            session,
            key=email.key,
            recipient=email.to.address,
            subject=subject,
            body_text=body,
            headers=email.headers,
            now=now,
        )
        queued += item is not None
    return queued


def absolute_url(path: str) -> str:
    """A link for an e-mail: the configured public address plus `path`."""
    return f"{get_settings().base_url.rstrip('/')}{path}"


def enqueue_email(
    session: Session,
    *,
    key: str,
    recipient: str,
    subject: str,
    body_text: str,
    headers: dict[str, str] | None = None,
    now: datetime,
) -> Outbox | None:
    """Queue one e-mail, due at `now`; a second call with the same key queues nothing.

    `now` is the caller's clock (a job's run time), never the machine's: a job run for
    a past or future moment queues what is due at that moment."""
    if session.exec(select(Outbox.id).where(Outbox.idempotency_key == key)).first() is not None:
        return None
    item = Outbox(
        idempotency_key=key,
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        headers=headers or None,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(item)
    session.flush()
    return item


def enqueue_webhook(
    session: Session,
    *,
    key: str,
    url: str,
    payload: dict[str, Any],
    format: str,
    signing_secret: str,
    name: str,
    summary: str,
    now: datetime,
) -> Outbox | None:
    """Queue one webhook post; None if a post with this key is queued already.

    The key's uniqueness decides even between two processes queueing at once, so a
    caller may use the key as its claim (the weekly post: one per channel and week).
    """
    item = Outbox(
        idempotency_key=key,
        kind=OutboxKind.webhook,
        recipient=name[:254],
        subject=summary[:300],
        body_text="",
        url=url,
        payload=payload,
        format=format,
        signing_secret=signing_secret,
        created_at=now,
        next_attempt_at=now,
    )
    try:
        with session.begin_nested():
            session.add(item)
    except IntegrityError:
        return None
    return item


def retry_failed(session: Session, *, item_id: int, actor: audit.Actor) -> bool:
    """Give a parked (failed) row its attempts again, due now; audited.

    False if the row is not failed (already retried, or never parked).
    """
    now = utcnow()
    retried = session.exec(
        update(Outbox)
        .where(col(Outbox.id) == item_id, col(Outbox.status) == OutboxStatus.failed)
        .values(status=OutboxStatus.pending, attempts=0, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if retried:
        audit.record(
            session,
            actor=actor,
            action="outbox.retried",
            entity="outbox",
            entity_id=item_id,
            before={"status": OutboxStatus.failed.value},
            after={"status": OutboxStatus.pending.value},
        )
    return bool(retried)


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after each failed attempt, at most six hours."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


@dataclass(frozen=True)
class Claim:
    """One outbox row claimed by one sender.

    `token` is the row's `attempts` count that the claim set: it fences the claim, so
    a sender whose claim was taken over by another can no longer renew or mark it.
    """

    item: Outbox
    token: int


def claim_due(session: Session, *, now: datetime, limit: int = 50) -> list[Claim]:
    """Claim the e-mails due now: each claim counts an attempt and leases the row.

    The lease lasts `CLAIM_TTL` and the sender renews it before each e-mail it sends
    (`renew_claim`). If the sender dies, another claims the row once the lease has
    run out; until then nobody can.
    """
    due = session.exec(
        select(Outbox.id, Outbox.attempts)
        .where(Outbox.status == OutboxStatus.pending, col(Outbox.next_attempt_at) <= now)
        .order_by(col(Outbox.id))
        .limit(limit)
    ).all()
    tokens = {}
    for outbox_id, attempts in due:
        claimed = session.exec(
            update(Outbox)
            .where(
                col(Outbox.id) == outbox_id,
                col(Outbox.attempts) == attempts,
                col(Outbox.status) == OutboxStatus.pending,
                col(Outbox.next_attempt_at) <= now,  # renewed since we looked: not ours
            )
            .values(attempts=attempts + 1, next_attempt_at=now + CLAIM_TTL)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed:
            tokens[outbox_id] = attempts + 1
    if not tokens:
        return []
    items = session.exec(
        select(Outbox).where(col(Outbox.id).in_(tokens)).order_by(col(Outbox.id))
    ).all()
    return [Claim(item=item, token=tokens[item.id]) for item in items]


def _fenced(claim: Claim):
    """An UPDATE of the claimed row that changes nothing once another sender holds it."""
    return (
        update(Outbox)
        .where(
            col(Outbox.id) == claim.item.id,
            col(Outbox.status) == OutboxStatus.pending,
            col(Outbox.attempts) == claim.token,
        )
        .execution_options(synchronize_session=False)
    )


def renew_claim(session: Session, claim: Claim, *, now: datetime) -> bool:
    """Extend the claim's lease from `now`; False if another sender has taken the row."""
    return bool(session.exec(_fenced(claim).values(next_attempt_at=now + CLAIM_TTL)).rowcount)


def mark_sent(session: Session, claim: Claim, *, now: datetime) -> bool:
    """Record the e-mail as sent; False if another sender had taken the row over."""
    return bool(
        session.exec(
            _fenced(claim).values(status=OutboxStatus.sent, sent_at=now, last_error="")
        ).rowcount
    )


def mark_failed_attempt(session: Session, claim: Claim, *, error: str, now: datetime) -> bool:
    """Keep the error and set the next try; after the last attempt the e-mail is given up.

    False if another sender had taken the row over.
    """
    values: dict[str, object] = {"last_error": error[:2000]}
    if claim.token >= MAX_ATTEMPTS:
        values["status"] = OutboxStatus.failed
    else:
        values["next_attempt_at"] = now + retry_delay(claim.token)
    return bool(session.exec(_fenced(claim).values(**values)).rowcount)


def send_outbox(session: Session, now: datetime) -> int:
    """Send the e-mails that are due, each at least once; commits per e-mail.

    "At least once" is what a receiver sees: if the scheduler dies after the mail
    server accepted an e-mail but before we committed it as sent, the e-mail is sent
    again once its claim runs out. The copy has the same Message-ID as the first
    (`facilities.mail.message_id`), so receivers can drop it.
    """
    return send_claimed(session, claim_outbox(session, now), now=now)


def claim_outbox(session: Session, now: datetime) -> list[Claim]:
    """Claim the due e-mails for this sender, committed before any of them is sent."""
    claims = claim_due(session, now=now)
    session.commit()  # the claims stand even if sending takes the process down
    return claims


def send_claimed(session: Session, claims: list[Claim], *, now: datetime) -> int:
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
        renewed = renew_claim(session, claim, now=clock())
        session.commit()  # the renewed lease stands while the mail server has the e-mail
        if not renewed:
            log.info("e-mail %s: another sender has taken it over, not sending it", item.id)
            continue
        try:
            if item.kind == OutboxKind.webhook:
                webhooks.post(item, now=clock(), allowed=settings.webhook_networks)
            else:
                sender.send(build_message(item, sender=settings.mail_from, now=clock()))
        except Exception as error:  # SMTP, HTTP and network errors alike: try again later
            log.warning("%s %s to %s failed: %s", item.kind, item.id, item.recipient, error)
            error_text = f"{type(error).__name__}: {error}"
            mark_failed_attempt(session, claim, error=error_text, now=clock())
        else:
            sent += 1
            if not mark_sent(session, claim, now=clock()):
                log.warning(
                    "e-mail %s was sent after another sender took it over: it may arrive "
                    "twice, with the same Message-ID",
                    item.id,
                )
        session.commit()
    return sent
