"""E-mails to people about their requests, queued in the outbox and sent by a job."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import update
from sqlmodel import Session, col, select

from facilities import get_settings
from facilities.config import REGIONAL_LOCALES
from facilities.models import (
    PUBLIC_UPDATE_KINDS,
    Outbox,
    OutboxStatus,
    ServiceRequest,
    Update,
    User,
)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
# A claim leases its row for this long: far longer than one SMTP conversation (timeout
# 30 s), and renewed before each e-mail of a batch.
CLAIM_TTL = timedelta(minutes=5)


def enqueue_email(
    session: Session, *, key: str, recipient: str, subject: str, body_text: str
) -> Outbox | None:
    """Queue one e-mail; a second call with the same key queues nothing."""
    if session.exec(select(Outbox.id).where(Outbox.idempotency_key == key)).first() is not None:
        return None
    item = Outbox(idempotency_key=key, recipient=recipient, subject=subject, body_text=body_text)
    session.add(item)
    session.flush()
    return item


def _request_url(service_request: ServiceRequest) -> str:
    return f"{get_settings().base_url.rstrip('/')}/requests/{service_request.reference}"


def _recipient(session: Session, service_request: ServiceRequest) -> User | None:
    user = session.get(User, service_request.submitter_id) if service_request.submitter_id else None
    return user if user is not None and user.active else None


def _mail_the_sender(
    session: Session,
    *,
    service_request: ServiceRequest,
    key: str,
    subject: Callable[[ServiceRequest], str],
    template: str,
    **context: object,
) -> None:
    """Queue an e-mail to the request's sender, written in their own language.

    `subject` is called inside that language, so it can translate.
    """
    user = _recipient(session, service_request)
    if user is None:
        return
    with force_locale(REGIONAL_LOCALES.get(user.preferred_language, "fi_FI")):
        subject_text = subject(service_request)
        body = render_template(
            template,
            user=user,
            service_request=service_request,
            url=_request_url(service_request),
            park_name=get_settings().park_name,
            **context,
        )
    enqueue_email(session, key=key, recipient=user.email, subject=subject_text, body_text=body)


def request_received(session: Session, *, service_request: ServiceRequest) -> None:
    """Tell the sender their request arrived, with its reference and page."""
    _mail_the_sender(
        session,
        service_request=service_request,
        key=f"request:{service_request.id}:received",
        subject=lambda item: _(
            "Received: %(reference)s %(title)s", reference=item.reference, title=item.title
        ),
        template="emails/request_received.txt",
    )


def update_published(session: Session, *, service_request: ServiceRequest, entry: Update) -> None:
    """Tell the sender about a public update or status change on their request."""
    if entry.kind not in PUBLIC_UPDATE_KINDS or entry.author_id == service_request.submitter_id:
        return
    _mail_the_sender(
        session,
        service_request=service_request,
        key=f"update:{entry.id}:submitter",
        subject=lambda item: _(
            "Update on %(reference)s: %(title)s", reference=item.reference, title=item.title
        ),
        template="emails/update_published.txt",
        entry=entry,
    )


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
                Outbox.attempts == attempts,
                Outbox.status == OutboxStatus.pending,
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
            Outbox.status == OutboxStatus.pending,
            Outbox.attempts == claim.token,
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
