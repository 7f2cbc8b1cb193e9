"""The conversation on a request: its company and the property manager's staff.

Comments are not public updates (the public never reads them) nor internal notes (the
company reads them). Each new one is e-mailed to the other side; replies come through
the request's page, which the e-mail links to (replying by e-mail would need a signed
reply address and an inbound mail server: not safe to improvise).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, col, select

from facilities import policy
from facilities.accounts.models import STAFF_ROLES, User
from facilities.core import audit, outbox
from facilities.core.errors import ServiceError, ValidationFailed
from facilities.core.outbox import Email, Recipient, absolute_url
from facilities.core.storage import Storage
from facilities.core.uploads import CleanFile
from facilities.requests.attachments import attach
from facilities.requests.deadlines import refresh_deadlines
from facilities.requests.models import RequestUpdate, ServiceRequest, UpdateKind

MAX_COMMENT = 5000


class CommentRefused(ServiceError):
    """The author may not take part in this request's conversation."""


def add_comment(
    session: Session,
    *,
    author: User,
    service_request: ServiceRequest,
    body: str,
    now: datetime,
    files: Sequence[CleanFile] = (),
    storage: Storage | None = None,
) -> RequestUpdate:
    """A message, with files already checked (requests.attachments.check_files)."""
    if not policy.for_request(author, service_request).comment:
        raise CommentRefused()
    body = (body or "").strip()
    if not body and not files:
        raise ValidationFailed({"comment": _l("Write a message first.")})
    if len(body) > MAX_COMMENT:
        raise ValidationFailed(
            {"comment": _l("Enter at most %(max_length)s characters.", max_length=MAX_COMMENT)}
        )
    assert service_request.id is not None
    entry = RequestUpdate(
        request_id=service_request.id,
        kind=UpdateKind.comment,
        body=body,
        author_id=author.id,
        created_at=now,
        published_at=now,
    )
    session.add(entry)
    session.flush()
    if files:
        assert storage is not None
        attach(
            session,
            storage,
            service_request=service_request,
            uploader=author,
            files=files,
            entry=entry,
        )
    if author.is_staff:  # an answer to the sender: the first one meets the response SLA
        refresh_deadlines(session, service_request, now=now, responded=True)
    audit.record(
        session,
        actor=author,
        action="request.commented",
        entity="service_request",
        entity_id=service_request.id,
        after={"update_id": entry.id, "files": len(files)},
    )
    outbox.queue(
        session,
        comment_emails(
            session, service_request=service_request, entry=entry, author=author, files=len(files)
        ),
        now=now,
    )
    return entry


def _other_side(session: Session, service_request: ServiceRequest, author: User) -> list[User]:
    """Staff wrote: the sender (or, without one, nobody). The company wrote: the
    assignee, or every member of staff when nobody is assigned."""
    if author.is_staff:
        sender = (
            session.get(User, service_request.submitter_id)
            if service_request.submitter_id
            else None
        )
        return [sender] if sender is not None and sender.active and sender.id != author.id else []
    if service_request.assignee_id:
        assignee = session.get(User, service_request.assignee_id)
        if assignee is not None and assignee.active:
            return [assignee]
    return list(
        session.exec(
            select(User)
            .where(col(User.role).in_(list(STAFF_ROLES)), col(User.active).is_(True))
            .order_by(col(User.id))
        ).all()
    )


def comment_emails(
    session: Session,
    *,
    service_request: ServiceRequest,
    entry: RequestUpdate,
    author: User,
    files: int = 0,
) -> list[Email]:
    staff_side = not author.is_staff
    path = (
        f"/staff/requests/{service_request.reference}"
        if staff_side
        else f"/requests/{service_request.reference}"
    )
    return [
        Email(
            name="comment_added",
            key=f"comment:{entry.id}:{user.id}",
            to=Recipient(address=user.email, name=user.name, language=user.preferred_language),
            context={
                "service_request": service_request,
                "entry": entry,
                "author_name": author.name,
                "author_company": author.tenant.name if author.tenant else "",
                "files": files,
                "url": absolute_url(path + "#conversation"),
            },
        )
        for user in _other_side(session, service_request, author)
    ]
