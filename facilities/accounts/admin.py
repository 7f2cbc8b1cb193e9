"""Admins manage people: name, role, company, language, and who may sign in at all."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from facilities.accounts.models import TENANT_ROLES, Role, User
from facilities.accounts.users import deactivate_user
from facilities.core import audit
from facilities.core.db import like_pattern
from facilities.core.errors import ValidationFailed
from facilities.core.pagination import Page, paginate
from facilities.park.models import Tenant
from facilities.settings import SUPPORTED_LOCALES

_AUDITED = ("name", "role", "tenant_id", "preferred_language")


class UserForm(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    tenant_id: str = Field(default="", max_length=12)  # the company's id; empty for none
    preferred_language: str = Field(max_length=5)
    active: bool = False

    @field_validator("name", "tenant_id", "preferred_language", mode="before")
    @classmethod
    def one_line(cls, value: Any) -> Any:
        return " ".join(value.split()) if isinstance(value, str) else value

    @field_validator("active", mode="before")
    @classmethod
    def checkbox(cls, value: Any) -> Any:
        return value not in (None, "", "0", "false")


def user_form(user: User) -> dict[str, str]:
    """A user as the admin's form shows them."""
    return {
        "name": user.name,
        "role": user.role.value,
        "tenant_id": str(user.tenant_id or ""),
        "preferred_language": user.preferred_language,
        "active": "1" if user.active else "",
    }


def _snapshot(user: User) -> dict[str, Any]:
    return {key: getattr(user, key) for key in _AUDITED}


def save_user(session: Session, *, actor: User, user: User, data: UserForm) -> None:
    """Apply an admin's changes to a user; audited. Tenant roles need a company, staff
    roles have none; an admin can neither deactivate nor demote themselves. Deactivating
    ends every session of the user (deactivate_user)."""
    errors: dict[str, Any] = {}
    raw = data.tenant_id
    tenant_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    if data.role in TENANT_ROLES:
        if tenant_id is None or session.get(Tenant, tenant_id) is None:
            errors["tenant_id"] = _l("Members and company admins need a company.")
    elif raw:
        errors["tenant_id"] = _l("Staff and admins belong to no company: choose “No company”.")
    if data.preferred_language not in SUPPORTED_LOCALES:
        errors["preferred_language"] = _l("Choose one of the languages.")
    if user.id == actor.id:
        if not data.active:
            errors["active"] = _l("You cannot deactivate yourself.")
        if data.role != Role.admin:
            errors["role"] = _l("You cannot take away your own admin rights.")
    if errors:
        raise ValidationFailed(errors)
    before = _snapshot(user)
    user.name = data.name
    user.role = data.role
    user.tenant_id = tenant_id if data.role in TENANT_ROLES else None
    user.preferred_language = data.preferred_language
    session.add(user)
    after = _snapshot(user)
    if after != before:
        audit.record(
            session,
            actor=actor,
            action="user.saved",
            entity="user",
            entity_id=user.id,
            before=before,
            after=after,
        )
    if user.active and not data.active:
        deactivate_user(session, user=user, actor=actor)
    elif data.active and not user.active:
        user.active = True
        audit.record(
            session,
            actor=actor,
            action="user.reactivated",
            entity="user",
            entity_id=user.id,
            before={"active": False},
            after={"active": True},
        )
    session.flush()


def find_users(
    session: Session,
    *,
    search: str,
    role: Role | None,
    tenant_id: int | None,
    page: int,
    per_page: int,
) -> Page[User]:
    """People by name, narrowed by role, company and words in the name or e-mail."""
    statement = select(User).order_by(col(User.name), col(User.id))
    if search:
        pattern = like_pattern(search)
        statement = statement.where(
            or_(
                col(User.name).ilike(pattern, escape="\\"),
                col(User.email).ilike(pattern, escape="\\"),
            )
        )
    if role is not None:
        statement = statement.where(User.role == role)
    if tenant_id is not None:
        statement = statement.where(User.tenant_id == tenant_id)
    return paginate(session, statement, page=page, per_page=per_page)


def companies(session: Session) -> list[Tenant]:
    """Every company by name: the choices for a user's company."""
    return list(session.exec(select(Tenant).order_by(col(Tenant.name), col(Tenant.id))).all())


def people_per_company(session: Session, tenant_ids: list[int]) -> dict[int, int]:
    """How many people each company has, in one grouped query for a page of companies."""
    if not tenant_ids:
        return {}
    grouped = (
        select(User.tenant_id, func.count())
        .where(col(User.tenant_id).in_(tenant_ids))
        .group_by(col(User.tenant_id))
    )
    return {tenant_id: count for tenant_id, count in session.execute(grouped).all()}
