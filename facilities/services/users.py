"""Accounts: creating users and checking passwords."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from facilities.config import SUPPORTED_LOCALES
from facilities.models import TENANT_ROLES, Role, Tenant, User
from facilities.services import ValidationFailed, audit

MIN_PASSWORD_LENGTH = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Checked when no such user exists, so a wrong e-mail costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str | None,
    role: Role,
    tenant_id: int | None = None,
    preferred_language: str = "fi",
    actor: User | None = None,
) -> User:
    email = normalize_email(email)
    errors: dict[str, str] = {}
    if not _EMAIL.match(email):
        errors["email"] = _l("Enter an e-mail address like name@example.com.")
    elif session.exec(select(User).where(User.email == email)).first():
        errors["email"] = _l("A user with this e-mail address already exists.")
    if not name.strip():
        errors["name"] = _l("Enter a name.")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = _l("Use at least %(count)s characters.", count=MIN_PASSWORD_LENGTH)
    if role in TENANT_ROLES and (tenant_id is None or session.get(Tenant, tenant_id) is None):
        errors["tenant_id"] = _l("Tenant users need a company.")
    if errors:
        raise ValidationFailed(errors)
    user = User(
        email=email,
        name=name.strip(),
        password_hash=generate_password_hash(password) if password else None,
        role=role,
        tenant_id=tenant_id if role in TENANT_ROLES else None,
        preferred_language=preferred_language,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.created",
        entity="user",
        entity_id=user.id,
        after={"email": email, "role": role.value, "tenant_id": user.tenant_id},
    )
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None."""
    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    if user is None or user.password_hash is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def set_preferred_language(session: Session, *, user: User, language: str) -> None:
    if language not in SUPPORTED_LOCALES:
        raise ValidationFailed({"locale": _l("Choose one of the languages.")})
    if user.preferred_language == language:
        return
    audit.record(
        session,
        actor=user,
        action="user.language_changed",
        entity="user",
        entity_id=user.id,
        before={"preferred_language": user.preferred_language},
        after={"preferred_language": language},
    )
    user.preferred_language = language
    session.add(user)


def record_sign_in(
    session: Session, *, user: User | None, succeeded: bool, email: str = ""
) -> None:
    """Audit a sign-in attempt: who, and whether it worked (a failed one by the e-mail typed)."""
    audit.record(
        session,
        actor=user if succeeded else None,
        action="user.signed_in" if succeeded else "user.sign_in_failed",
        entity="user",
        entity_id=user.id if succeeded else None,
        after=None if succeeded else {"email": normalize_email(email)[:254]},
    )


def record_sign_out(session: Session, *, user: User) -> None:
    audit.record(session, actor=user, action="user.signed_out", entity="user", entity_id=user.id)
