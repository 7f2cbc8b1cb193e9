"""Admins shape the statuses: names, order, kind, new ones, retired ones.

The code reasons about a status's kind (workflow.StatusKind), so every kind keeps at
least one active status; and a status that a request or its history refers to keeps
its kind and is retired rather than deleted, so the history keeps its meaning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import func, union
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from facilities.core import audit
from facilities.core.errors import ValidationFailed
from facilities.park.questions import slug
from facilities.requests.models import ServiceRequest, Status
from facilities.requests.workflow import StatusKind

if TYPE_CHECKING:
    from facilities.accounts.models import User

LANGUAGES = ("fi", "en", "sv")
MAX_PLACE = 1000


class StatusForm(BaseModel):
    name_fi: str = Field(min_length=2, max_length=60)
    name_en: str = Field(default="", max_length=60)
    name_sv: str = Field(default="", max_length=60)
    kind: StatusKind
    place: int | None = Field(default=None, ge=1, le=MAX_PLACE)  # 1 = first; None = keep / last

    @field_validator("name_fi", "name_en", "name_sv", mode="before")
    @classmethod
    def one_line(cls, value: Any) -> Any:
        return " ".join(value.split()) if isinstance(value, str) else value

    @field_validator("place", mode="before")
    @classmethod
    def whole_number(cls, value: Any) -> Any:
        if value in ("", None):
            return None
        if isinstance(value, str) and not (value.strip().isascii() and value.strip().isdigit()):
            raise PydanticCustomError("whole_number", "a whole number")
        return value

    def names(self) -> dict[str, str]:
        return {
            language: getattr(self, f"name_{language}")
            for language in LANGUAGES
            if getattr(self, f"name_{language}")
        }


def ordered(session: Session) -> list[Status]:
    """Every status, in the order lists and menus show them."""
    return list(session.exec(select(Status).order_by(col(Status.position), col(Status.id))).all())


def status_form(status: Status, place: int) -> dict[str, str]:
    """A status as its form shows it; `place` is its 1-based place in the order."""
    return {
        **{f"name_{language}": status.names.get(language, "") for language in LANGUAGES},
        "kind": status.kind.value,
        "place": str(place),
    }


def _references() -> list[Any]:
    """Every column that refers to a status, whichever domain's table it is in."""
    return [
        key.parent
        for table in SQLModel.metadata.sorted_tables
        for key in table.foreign_keys
        if key.column.table.name == Status.__tablename__
    ]


def statuses_in_use(session: Session) -> set[int]:
    """The ids of statuses something refers to (a request, an entry of its history), in
    one query."""
    statement = union(
        *(
            sa_select(column.label("status_id")).where(column.is_not(None))
            for column in _references()
        )
    )
    return set(session.execute(statement).scalars().all())


def is_in_use(session: Session, status: Status) -> bool:
    return any(
        session.execute(sa_select(column).where(column == status.id).limit(1)).first() is not None
        for column in _references()
    )


def request_counts(session: Session) -> dict[int, int]:
    """How many requests are in each status now (one grouped query)."""
    grouped = select(ServiceRequest.status_id, func.count()).group_by(col(ServiceRequest.status_id))
    return {status_id: count for status_id, count in session.execute(grouped).all()}


def _last_active_of_its_kind(session: Session, status: Status) -> bool:
    if not status.active:
        return False
    others = session.exec(
        select(Status.id).where(
            Status.kind == status.kind, col(Status.active).is_(True), col(Status.id) != status.id
        )
    ).first()
    return others is None


def _renumber(session: Session, statuses: list[Status]) -> None:
    for position, item in enumerate(statuses):
        if item.position != position:
            item.position = position
            session.add(item)


def _unique_slug(session: Session, names: dict[str, str]) -> str:
    base = slug(names.get("en") or names["fi"]) or "status"
    taken = set(session.exec(select(Status.slug)).all())
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base[:36]}-{number}", number + 1
    return candidate


def save_status(
    session: Session, *, actor: User, data: StatusForm, status: Status | None = None
) -> Status:
    """Add a status (`status=None`, placed last unless a place is given) or change one;
    audited. A status in use keeps its kind; no kind loses its last active status."""
    if status is not None and data.kind != status.kind:
        if is_in_use(session, status):
            raise ValidationFailed(
                {
                    "kind": _l(
                        "Requests have had this status, so its kind stays. Add a new status"
                        " of the kind you need and retire this one."
                    )
                }
            )
        if _last_active_of_its_kind(session, status):
            raise ValidationFailed(
                {"kind": _l("This is the only active status of its kind: it must keep it.")}
            )
    statuses = ordered(session)
    before = status.model_dump(exclude={"id"}) if status is not None else None
    names = data.names()
    if status is None:
        status = Status(slug=_unique_slug(session, names), kind=data.kind)
        kept = len(statuses)
    else:
        kept = statuses.index(status)
        statuses.remove(status)
    status.names = names
    status.kind = data.kind
    statuses.insert(kept if data.place is None else min(data.place - 1, len(statuses)), status)
    session.add(status)
    _renumber(session, statuses)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="status.saved" if before else "status.added",
        entity="status",
        entity_id=status.id,
        before=before,
        after=status.model_dump(exclude={"id"}),
    )
    return status


def move_status(session: Session, *, actor: User, status: Status, steps: int) -> None:
    """Move a status up (-1) or down (+1) in the order; audited."""
    statuses = ordered(session)
    index = statuses.index(status)
    target = max(0, min(len(statuses) - 1, index + steps))
    if target == index:
        return
    statuses.insert(target, statuses.pop(index))
    before = status.position
    _renumber(session, statuses)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="status.moved",
        entity="status",
        entity_id=status.id,
        before={"position": before},
        after={"position": status.position},
    )


def set_status_active(session: Session, *, actor: User, status: Status, active: bool) -> None:
    """Retire a status (requests in it keep it; it is no longer offered) or bring it back."""
    if status.active == active:
        return
    if not active and _last_active_of_its_kind(session, status):
        raise ValidationFailed(
            {"active": _l("This is the only active status of its kind: it cannot be retired.")}
        )
    status.active = active
    session.add(status)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="status.reactivated" if active else "status.retired",
        entity="status",
        entity_id=status.id,
        before={"active": not active},
        after={"active": active},
    )


def delete_status(session: Session, *, actor: User, status: Status) -> None:
    """Delete a status nothing refers to; one in use can only be retired."""
    if is_in_use(session, status):
        raise ValidationFailed(
            {"delete": _l("Requests have had this status: retire it instead of deleting it.")}
        )
    if _last_active_of_its_kind(session, status):
        raise ValidationFailed(
            {"delete": _l("This is the only active status of its kind: it cannot be deleted.")}
        )
    before = status.model_dump(exclude={"id"})
    status_id = status.id
    session.delete(status)
    session.flush()
    _renumber(session, ordered(session))
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="status.deleted",
        entity="status",
        entity_id=status_id,
        before=before,
    )
