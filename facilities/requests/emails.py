"""E-mails about requests: each one says who gets it and with what; templates say the rest."""

from __future__ import annotations

from sqlmodel import Session

from facilities.accounts.models import User
from facilities.core.outbox import Email, Recipient, absolute_url
from facilities.requests.models import PUBLIC_UPDATE_KINDS, RequestUpdate, ServiceRequest


def _sender(session: Session, service_request: ServiceRequest) -> Recipient | None:
    user = session.get(User, service_request.submitter_id) if service_request.submitter_id else None
    if user is None or not user.active:
        return None
    return Recipient(address=user.email, name=user.name, language=user.preferred_language)


def _request_context(service_request: ServiceRequest) -> dict[str, object]:
    return {
        "service_request": service_request,
        "url": absolute_url(f"/requests/{service_request.reference}"),
    }


def request_received(session: Session, *, service_request: ServiceRequest) -> list[Email]:
    """To the sender: the request arrived, with its reference and page."""
    to = _sender(session, service_request)
    if to is None:
        return []
    return [
        Email(
            name="request_received",
            key=f"request:{service_request.id}:received",
            to=to,
            context=_request_context(service_request),
        )
    ]


def update_published(
    session: Session, *, service_request: ServiceRequest, entry: RequestUpdate
) -> list[Email]:
    """To the sender: a public update or status change on their request (not their own)."""
    if entry.kind not in PUBLIC_UPDATE_KINDS or entry.author_id == service_request.submitter_id:
        return []
    to = _sender(session, service_request)
    if to is None:
        return []
    return [
        Email(
            name="update_published",
            key=f"update:{entry.id}:submitter",
            to=to,
            context={**_request_context(service_request), "entry": entry},
        )
    ]
