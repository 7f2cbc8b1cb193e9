"""Changing or cancelling a scheduled update before the scheduler publishes it.

The publishing job claims a row with `UPDATE ... WHERE published_at IS NULL`; an edit
or a cancel here is the same kind of conditional write, so whichever comes first wins
and the other sees no row: an update is never changed after people may have read it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from facilities.accounts.models import User
from facilities.core import audit
from facilities.core.errors import ServiceError, ValidationFailed
from facilities.requests.models import RequestUpdate, ServiceRequest


class AlreadyPublished(ServiceError):
    """The scheduler published the update while staff were changing it."""


class ScheduledUpdateForm(BaseModel):
    body: str = Field(min_length=1, max_length=5_000)
    publish_at: datetime  # the form sends park-local time; the view makes it UTC

    @field_validator("body", mode="before")
    @classmethod
    def strip_body(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("publish_at", mode="before")
    @classmethod
    def blank_time_is_missing(cls, value: Any) -> Any:
        return None if value == "" else value


def pending_update(
    session: Session, service_request: ServiceRequest, update_id: int
) -> RequestUpdate | None:
    """The request's scheduled update with this id, while it is still waiting."""
    return session.exec(
        select(RequestUpdate).where(
            col(RequestUpdate.id) == update_id,
            col(RequestUpdate.request_id) == service_request.id,
            col(RequestUpdate.publish_at).is_not(None),
            col(RequestUpdate.published_at).is_(None),
        )
    ).first()


def _snapshot(entry: RequestUpdate) -> dict[str, Any]:
    assert entry.publish_at is not None  # only scheduled updates come here
    return {"body": entry.body, "publish_at": entry.publish_at.isoformat()}


def edit_scheduled(
    session: Session,
    *,
    actor: User,
    entry: RequestUpdate,
    body: str,
    publish_at: datetime,
    now: datetime,
) -> None:
    """Change the text and time of a waiting update; audited.

    Raises ValidationFailed for a time not in the future, AlreadyPublished when it is no
    longer waiting.
    """
    if publish_at <= now:
        raise ValidationFailed(
            {"publish_at": _l("Choose a time in the future: the update is published then.")}
        )
    before = _snapshot(entry)
    changed = session.exec(
        update(RequestUpdate)
        .where(col(RequestUpdate.id) == entry.id, col(RequestUpdate.published_at).is_(None))
        .values(body=body, publish_at=publish_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        raise AlreadyPublished()
    session.refresh(entry)
    audit.record(
        session,
        actor=actor,
        action="update.schedule_changed",
        entity="update",
        entity_id=entry.id,
        before=before,
        after=_snapshot(entry),
    )


def cancel_scheduled(session: Session, *, actor: User, entry: RequestUpdate) -> None:
    """Remove a waiting update; the audit event keeps its text. Raises AlreadyPublished
    when it is no longer waiting."""
    before = _snapshot(entry)
    removed = session.exec(
        delete(RequestUpdate)
        .where(col(RequestUpdate.id) == entry.id, col(RequestUpdate.published_at).is_(None))
        .execution_options(synchronize_session=False)
    ).rowcount
    if not removed:
        raise AlreadyPublished()
    session.expunge(entry)
    audit.record(
        session,
        actor=actor,
        action="update.schedule_cancelled",
        entity="update",
        entity_id=entry.id,
        before={**before, "request_id": entry.request_id},
    )
