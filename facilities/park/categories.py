"""Changing a category: its names, kind, visibility, who gets its requests, its SLA."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError
from sqlmodel import Session

from facilities.core import audit
from facilities.core.errors import ValidationFailed
from facilities.park.models import Category, CategoryKind, Visibility

if TYPE_CHECKING:  # park comes before accounts: users are only passed through
    from facilities.accounts.models import User

PRIORITIES = ("urgent", "high", "normal", "low")
TARGETS = ("response", "resolution")
MAX_TARGET_HOURS = 2000  # about a year of working days


def _hours(value: Any) -> Any:
    """Hours as staff type them (`4`, `1,5`, empty for none)."""
    if value in ("", None):
        return None
    if isinstance(value, str):
        try:
            value = float(value.replace(",", ".").strip())
        except ValueError:
            raise PydanticCustomError("hours", "hours") from None
    if not math.isfinite(value) or value <= 0 or value > MAX_TARGET_HOURS:
        raise PydanticCustomError("hours", "hours")
    return value


class CategoryForm(BaseModel):
    name_fi: str = Field(min_length=2, max_length=100)
    name_en: str = Field(default="", max_length=100)
    name_sv: str = Field(default="", max_length=100)
    kind: CategoryKind
    default_visibility: Visibility
    default_assignee: str = Field(default="", max_length=12)
    active: bool = False
    # SLA targets: business hours per priority, e.g. response_urgent, resolution_normal
    response_urgent: float | None = None
    response_high: float | None = None
    response_normal: float | None = None
    response_low: float | None = None
    resolution_urgent: float | None = None
    resolution_high: float | None = None
    resolution_normal: float | None = None
    resolution_low: float | None = None

    @field_validator("name_fi", "name_en", "name_sv", "default_assignee", mode="before")
    @classmethod
    def one_line(cls, value: Any) -> Any:
        return " ".join(value.split()) if isinstance(value, str) else value

    @field_validator("active", mode="before")
    @classmethod
    def checkbox(cls, value: Any) -> Any:
        return value not in (None, "", "0", "false")

    @field_validator(
        *(f"{target}_{priority}" for target in TARGETS for priority in PRIORITIES), mode="before"
    )
    @classmethod
    def hours(cls, value: Any) -> Any:
        return _hours(value)

    def targets(self) -> dict[str, dict[str, float]]:
        result: dict[str, dict[str, float]] = {}
        for priority in PRIORITIES:
            chosen = {
                target: getattr(self, f"{target}_{priority}")
                for target in TARGETS
                if getattr(self, f"{target}_{priority}") is not None
            }
            if chosen:
                result[priority] = chosen
        return result


def category_form(category: Category) -> dict[str, str]:
    """A category as its form shows it."""
    form = {
        "name_fi": category.names.get("fi", ""),
        "name_en": category.names.get("en", ""),
        "name_sv": category.names.get("sv", ""),
        "kind": category.kind.value,
        "default_visibility": category.default_visibility.value,
        "default_assignee": str(category.default_assignee_id or ""),
        "active": "1" if category.active else "",
    }
    for priority, targets in category.sla_targets.items():
        for target, hours in targets.items():
            form[f"{target}_{priority}"] = f"{hours:g}"
    return form


def save_category(
    session: Session,
    *,
    actor: User,
    category: Category,
    data: CategoryForm,
    staff_ids: set[int],
) -> None:
    """Apply the form; audited. `staff_ids`: who may be the default assignee."""
    assignee = data.default_assignee
    assignee_id = int(assignee) if assignee.isascii() and assignee.isdigit() else None
    if assignee and assignee_id not in staff_ids:
        raise ValidationFailed({"default_assignee": _l("Choose a member of staff, or nobody.")})
    before = category.model_dump(exclude={"id"})
    category.names = {
        language: name
        for language, name in (("fi", data.name_fi), ("en", data.name_en), ("sv", data.name_sv))
        if name
    }
    category.kind = data.kind
    category.default_visibility = data.default_visibility
    category.default_assignee_id = assignee_id
    category.active = data.active
    category.sla_targets = data.targets()
    session.add(category)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="category.saved",
        entity="category",
        entity_id=category.id,
        before=before,
        after=category.model_dump(exclude={"id"}),
    )
