"""The audit trail: one AuditEvent per change, never edited."""

from __future__ import annotations

from typing import Any, Protocol

from sqlmodel import Session

from facilities.core.models import AuditEvent


class Actor(Protocol):
    """Whoever acts: a user (core knows no domain, only that it has an id)."""

    id: int | None


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )
    session.add(event)
    return event
