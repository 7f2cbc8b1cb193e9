"""Accounts: creating users and checking passwords."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete
from sqlmodel import Session, col, select
from werkzeug.security import check_password_hash, generate_password_hash

from facilities.accounts.models import (
    STAFF_ROLES,
    TENANT_ROLES,
    RememberToken,
    Role,
    User,
    new_session_token,
)
from facilities.core import audit
from facilities.core.errors import ValidationFailed
from facilities.core.models import utcnow
from facilities.park.models import Tenant
from facilities.settings import SUPPORTED_LOCALES

MIN_PASSWORD_LENGTH = 10
# Checked when no such user exists, so a wrong e-mail costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def is_valid_email(email: str) -> bool:
    """One address as RFC 5322 allows it in a To: header (no lists, no display names)."""
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


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
    if not is_valid_email(email):
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
        entity_id=user.id if succeeded and user is not None else None,
        after=None if succeeded else {"email": normalize_email(email)[:254]},
    )


def record_sign_out(session: Session, *, user: User) -> None:
    audit.record(session, actor=user, action="user.signed_out", entity="user", entity_id=user.id)


def _validator_hash(validator: str) -> str:
    return hashlib.sha256(validator.encode()).hexdigest()


def issue_remember_token(
    session: Session, *, user: User, lifetime: timedelta, now: datetime | None = None
) -> str:
    """A new "keep me signed in" token for one device; returns the cookie's value.

    Only the validator's hash is stored, so a copy of the database signs nobody in.
    """
    now = now or utcnow()
    selector, validator = secrets.token_urlsafe(12), secrets.token_urlsafe(32)
    session.add(
        RememberToken(
            user_id=_id_of(user),
            selector=selector,
            validator_hash=_validator_hash(validator),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return f"{selector}:{validator}"


def user_for_remember_token(
    session: Session, cookie_value: str | None, *, now: datetime | None = None
) -> User | None:
    """The active user a remember cookie stands for, or None if it is unknown or expired."""
    selector, _, validator = (cookie_value or "").partition(":")
    if not selector or not validator or len(selector) > 32:
        return None
    token = session.exec(select(RememberToken).where(RememberToken.selector == selector)).first()
    if token is None or token.expires_at <= (now or utcnow()):
        return None
    if not hmac.compare_digest(token.validator_hash, _validator_hash(validator)):
        return None
    user = session.get(User, token.user_id)
    return user if user is not None and user.active else None


def end_all_sessions(session: Session, *, user: User) -> None:
    """Sign the user out everywhere: every session cookie and every remember token."""
    user.session_token = new_session_token()
    session.add(user)
    session.exec(delete(RememberToken).where(col(RememberToken.user_id) == user.id))


def purge_expired_remember_tokens(session: Session, *, now: datetime) -> int:
    return session.exec(delete(RememberToken).where(col(RememberToken.expires_at) <= now)).rowcount


def user_for_session(session: Session, user_id: str) -> User | None:
    """The user a session cookie names ("id:token"), if the token is still theirs."""
    raw_id, _, token = user_id.partition(":")
    if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) < 10) or not token:
        return None
    user = session.get(User, int(raw_id))
    if user is None or not user.active:
        return None
    return user if hmac.compare_digest(user.session_token, token) else None


def change_password(
    session: Session, *, user: User, current_password: str, new_password: str, repeated: str
) -> None:
    """The user's own password change; every other session of theirs ends."""
    errors: dict[str, str] = {}
    if user.password_hash is None or not check_password_hash(user.password_hash, current_password):
        errors["current_password"] = _l("The current password is wrong.")
    if len(new_password) < MIN_PASSWORD_LENGTH:
        errors["new_password"] = _l("Use at least %(count)s characters.", count=MIN_PASSWORD_LENGTH)
    elif new_password != repeated:
        errors["repeated_password"] = _l("The passwords do not match.")
    if errors:
        raise ValidationFailed(errors)
    set_password(session, user=user, password=new_password, actor=user)


def set_password(session: Session, *, user: User, password: str, actor: User | None) -> None:
    """Set a new password and end every session of the user."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            {"password": _l("Use at least %(count)s characters.", count=MIN_PASSWORD_LENGTH)}
        )
    user.password_hash = generate_password_hash(password)
    end_all_sessions(session, user=user)
    audit.record(
        session, actor=actor, action="user.password_changed", entity="user", entity_id=user.id
    )


def deactivate_user(session: Session, *, user: User, actor: User | None) -> None:
    """The user can no longer sign in, and every session of theirs ends now."""
    user.active = False
    end_all_sessions(session, user=user)
    audit.record(
        session,
        actor=actor,
        action="user.deactivated",
        entity="user",
        entity_id=user.id,
        before={"active": True},
        after={"active": False},
    )


def _id_of(user: User) -> int:
    """The id of a user that has been flushed (has one)."""
    assert user.id is not None, "flush the user first"
    return user.id


def staff_members(session: Session) -> list[User]:
    """Active staff and admins, by name: whom requests can be assigned to."""
    return list(
        session.exec(
            select(User)
            .where(col(User.role).in_(list(STAFF_ROLES)), col(User.active).is_(True))
            .order_by(col(User.name), col(User.id))
        ).all()
    )
