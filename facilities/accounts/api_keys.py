"""API keys for machine clients: issued, listed and revoked by admins.

A key is `fac_` and 40 random characters, shown once when issued; only its SHA-256 is
kept, with the first characters as a prefix to tell keys apart. Every call made with a
key is kept as an ApiKeyUse row, its audit trail; issuing and revoking are audited.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

from flask_babel import lazy_gettext as _l
from pydantic import Field, field_validator
from sqlalchemy import func, update
from sqlalchemy.orm import contains_eager
from sqlmodel import Session, SQLModel, col, select

from facilities.accounts.models import ApiKey, ApiKeyUse, ApiScope, User
from facilities.core import audit
from facilities.core.errors import ValidationFailed
from facilities.core.models import utcnow
from facilities.core.pagination import Page, paginate
from facilities.park.models import Tenant

KEY_PREFIX = "fac_"
PREFIX_LENGTH = 12  # "fac_" and 8 characters: enough to tell keys apart, useless alone
MAX_RATE_LIMIT = 6000  # per minute


class ApiKeyCreate(SQLModel):
    """What an admin fills in to issue a key."""

    name: str = Field(min_length=3, max_length=80)
    scopes: list[ApiScope] = Field(default_factory=list)
    rate_limit_per_minute: int = Field(default=60, ge=1, le=MAX_RATE_LIMIT)
    tenant_id: int | None = Field(default=None, ge=1, le=2**31 - 1)

    @field_validator("name", mode="before")
    @classmethod
    def one_line(cls, value: object) -> object:
        return " ".join(value.split()) if isinstance(value, str) else value

    @field_validator("tenant_id", mode="before")
    @classmethod
    def blank_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_key(
    session: Session, *, admin: User, data: ApiKeyCreate, now: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new key and its secret, which is never shown again."""
    errors: dict[str, str] = {}
    if session.exec(select(ApiKey.id).where(ApiKey.name == data.name)).first() is not None:
        errors["name"] = _l("A key with this name exists already. Choose another name.")
    if data.tenant_id is not None and session.get(Tenant, data.tenant_id) is None:
        errors["tenant_id"] = _l("Choose one of the companies.")
    if errors:
        raise ValidationFailed(errors)
    raw = KEY_PREFIX + secrets.token_urlsafe(30)
    key = ApiKey(
        name=data.name,
        prefix=raw[:PREFIX_LENGTH],
        key_hash=hash_key(raw),
        scopes=sorted({scope.value for scope in data.scopes}),
        rate_limit_per_minute=data.rate_limit_per_minute,
        tenant_id=data.tenant_id,
        created_by_id=admin.id,
        created_at=now or utcnow(),
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        actor=admin,
        action="api_key.issued",
        entity="api_key",
        entity_id=key.id,
        after={
            "name": key.name,
            "prefix": key.prefix,
            "scopes": key.scopes,
            "rate_limit_per_minute": key.rate_limit_per_minute,
            "tenant_id": key.tenant_id,
        },
    )
    return key, raw


def revoke_key(session: Session, *, admin: User, key: ApiKey, now: datetime | None = None) -> bool:
    """Revoke a key at once; False if it was revoked already (two admins, one click)."""
    now = now or utcnow()
    revoked = session.execute(
        update(ApiKey)
        .where(col(ApiKey.id) == key.id, col(ApiKey.revoked_at).is_(None))
        .values(revoked_at=now, revoked_by_id=admin.id)
    ).rowcount  # type: ignore[attr-defined]
    if not revoked:
        return False
    session.refresh(key)
    audit.record(
        session,
        actor=admin,
        action="api_key.revoked",
        entity="api_key",
        entity_id=key.id,
        before={"name": key.name, "prefix": key.prefix},
    )
    return True


def key_for(session: Session, raw: str) -> ApiKey | None:
    """The key a client sent, whether active or revoked; None if unknown."""
    if not raw.startswith(KEY_PREFIX) or len(raw) > 100:
        return None
    return session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(raw))).first()


def record_use(
    session: Session,
    *,
    key: ApiKey,
    method: str,
    path: str,
    status_code: int,
    remote_addr: str,
    detail: str = "",
    now: datetime | None = None,
) -> None:
    assert key.id is not None
    session.add(
        ApiKeyUse(
            api_key_id=key.id,
            at=now or utcnow(),
            method=method[:10],
            path=path[:300],
            status_code=status_code,
            remote_addr=remote_addr[:64],
            detail=detail[:120],
        )
    )


def has_scope(key: ApiKey, scope: ApiScope) -> bool:
    return scope.value in key.scopes


def use_counts(session: Session, key_ids: Iterable[int]) -> dict[int, tuple[int, datetime | None]]:
    """Per key: how many calls it made, and the last one's time, in one query."""
    ids = list(key_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(ApiKeyUse.api_key_id, func.count(), func.max(ApiKeyUse.at))
        .where(col(ApiKeyUse.api_key_id).in_(ids))
        .group_by(col(ApiKeyUse.api_key_id))
    ).all()
    return {key_id: (count, last) for key_id, count, last in rows}


def find_keys(session: Session, *, page: int, per_page: int) -> Page[ApiKey]:
    """Keys for the admins' list: active ones first, newest first, each with its company
    loaded in the same query."""
    statement = (
        select(ApiKey)
        .outerjoin(Tenant, col(ApiKey.tenant_id) == col(Tenant.id))
        .options(contains_eager(ApiKey.tenant))  # type: ignore[arg-type]
        .order_by(
            col(ApiKey.revoked_at).is_not(None), col(ApiKey.created_at).desc(), col(ApiKey.id)
        )
    )
    return paginate(session, statement, page=page, per_page=per_page)


def admin_names(session: Session, keys: Iterable[ApiKey]) -> dict[int, str]:
    """Who issued and who revoked these keys, by user id, in one query."""
    ids = {user_id for key in keys for user_id in (key.created_by_id, key.revoked_by_id) if user_id}
    if not ids:
        return {}
    rows = session.exec(select(col(User.id), col(User.name)).where(col(User.id).in_(ids)))
    return {user_id: name for user_id, name in rows.all() if user_id is not None}


def uses_of(session: Session, key: ApiKey, *, page: int, per_page: int) -> Page[ApiKeyUse]:
    """A key's calls, newest first: its audit trail."""
    statement = (
        select(ApiKeyUse)
        .where(ApiKeyUse.api_key_id == key.id)
        .order_by(col(ApiKeyUse.at).desc(), col(ApiKeyUse.id).desc())
    )
    return paginate(session, statement, page=page, per_page=per_page)
