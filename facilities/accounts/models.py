"""People who sign in: users, their roles, and their remember-me devices."""

import secrets
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, Relationship, SQLModel

from facilities.core.cache import watch
from facilities.core.models import enum_type, utcnow
from facilities.park.models import Tenant


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class Role(StrEnum):
    member = "member"
    tenant_admin = "tenant_admin"
    staff = "staff"
    admin = "admin"


TENANT_ROLES = frozenset({Role.member, Role.tenant_admin})
STAFF_ROLES = frozenset({Role.staff, Role.admin})


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)  # stored lower-case
    name: str = Field(max_length=200)
    password_hash: str | None = Field(default=None, max_length=255)
    role: Role = Field(default=Role.member, sa_type=enum_type(Role))
    tenant_id: int | None = Field(default=None, foreign_key="tenant.id", index=True)
    preferred_language: str = Field(default="fi", max_length=5)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    # Part of every session's user id: a new value ends all of the user's sessions.
    session_token: str = Field(default_factory=new_session_token, max_length=64)

    tenant: Tenant | None = Relationship()

    # Flask-Login's user protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """What the signed session cookie keeps: the id and the current session token."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_tenant_user(self) -> bool:
        return self.role in TENANT_ROLES and self.tenant_id is not None


class RememberToken(SQLModel, table=True):
    """One "keep me signed in" device: a random selector, and the validator's hash only."""

    __tablename__ = "remember_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    selector: str = Field(max_length=32, unique=True)
    validator_hash: str = Field(max_length=64)  # sha256 hex of the cookie's secret half
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


class TokenPurpose(StrEnum):
    magic_link = "magic_link"
    password_reset = "password_reset"
    invitation = "invitation"


class AccessToken(SQLModel, table=True):
    """A single-use, expiring link sent by e-mail: sign in, reset a password, or join a
    company. Only the token's hash is kept."""

    __tablename__ = "access_token"

    id: int | None = Field(default=None, primary_key=True)
    purpose: TokenPurpose = Field(sa_type=enum_type(TokenPurpose))
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="CASCADE")
    email: str = Field(max_length=254)
    # an invitation's company, name and language, and who invited
    tenant_id: int | None = Field(default=None, foreign_key="tenant.id")
    name: str = Field(default="", max_length=200)
    language: str = Field(default="fi", max_length=5)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    used_at: datetime | None = None


class ApiScope(StrEnum):
    """What an API key may do beyond reading public requests, which anyone may."""

    read = "read"  # read with the key's own rate limit instead of the address's
    submit = "submit"  # send new requests (Open311 POST requests)


class ApiKey(SQLModel, table=True):
    """A machine client's key (a city's system, the news channel): shown once when
    issued, only its SHA-256 kept. `prefix` is the key's first characters, so that
    admins and logs can tell keys apart without the secret."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    prefix: str = Field(max_length=12)
    key_hash: str = Field(max_length=64, unique=True)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rate_limit_per_minute: int = 60
    # Requests sent with the key count for this company, if any (its own system).
    tenant_id: int | None = Field(default=None, foreign_key="tenant.id")
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    revoked_by_id: int | None = Field(default=None, foreign_key="user.id")

    tenant: Tenant | None = Relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ApiKeyUse(SQLModel, table=True):
    """One call made with a key, kept as its audit trail (who called what, and how it went)."""

    __tablename__ = "api_key_use"
    __table_args__ = (sa.Index("ix_api_key_use_key_at", "api_key_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    api_key_id: int = Field(foreign_key="api_key.id", ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow)
    method: str = Field(max_length=10)
    path: str = Field(max_length=300)
    status_code: int
    remote_addr: str = Field(default="", max_length=64)
    # what the call did, where it changed something ("DP-2026-0042")
    detail: str = Field(default="", max_length=120)


# Signed-in pages show the user, and web processes keep users between requests (see
# web.auth): a change to one, a sign-out everywhere included, retires what was kept.
watch(User)
