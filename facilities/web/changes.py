"""What someone else changed meanwhile, in words: told to the second of two saves."""

from __future__ import annotations

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlmodel import Session

from facilities.accounts.models import User
from facilities.park.models import Visibility
from facilities.requests.models import Priority, ServiceRequest, Status
from facilities.requests.queries import changes_since
from facilities.web.templating import PRIORITY_LABELS, VISIBILITY_LABELS, name_in_locale


def _name_of(session: Session, key: str, value: object) -> str:
    if value is None or value == "":
        return _("none")
    if key == "status_id":
        status = session.get(Status, value)
        return name_in_locale(status.names) if status else "?"
    if key == "assignee_id":
        user = session.get(User, value)
        return user.name if user else "?"
    if key == "duplicate_of_id":
        original = session.get(ServiceRequest, value)
        return original.reference if original else "?"
    if key == "priority" and str(value) in Priority.__members__:
        return str(PRIORITY_LABELS[Priority(str(value))])
    if key == "visibility" and str(value) in Visibility.__members__:
        return str(VISIBILITY_LABELS[Visibility(str(value))])
    return str(value)


def what_changed(session: Session, service_request: ServiceRequest, seen_version: int) -> list[str]:
    """One line per save since `seen_version`, newest first: who, when, and what."""
    labels = {
        "status_id": _("status"),
        "priority": _("priority"),
        "visibility": _("visibility"),
        "target": _("public target"),
        "duplicate_of_id": _("duplicate of"),
        "assignee_id": _("assignee"),
    }
    lines = []
    for event, actor in changes_since(session, service_request, seen_version=seen_version):
        before, after = event.before or {}, event.after or {}
        parts = [
            _(
                "%(field)s %(before)s → %(after)s",
                field=label,
                before=_name_of(session, key, before.get(key)),
                after=_name_of(session, key, after.get(key)),
            )
            for key, label in labels.items()
            if key in after
        ]
        if "public_update" in after:
            parts.append(_("a public update"))
        if after.get("internal_note"):
            parts.append(_("an internal note"))
        lines.append(
            _(
                "%(who)s, %(when)s: %(what)s",
                who=actor.name if actor else _("the system"),
                when=format_datetime(event.at, "short"),
                what="; ".join(parts) or _("saved without changes"),
            )
        )
    return lines
