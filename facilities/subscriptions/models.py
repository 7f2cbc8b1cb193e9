"""Subscriptions: who follows what by e-mail, how often and in which language.

No `from __future__ import annotations` here: SQLModel reads the annotations at runtime.
"""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from facilities.core.models import enum_type, utcnow


class SubscriptionScope(StrEnum):
    everything = "everything"  # every public update of the park (target_id 0)
    category = "category"
    building = "building"
    request = "request"


class Frequency(StrEnum):
    immediate = "immediate"  # one e-mail per public update
    daily = "daily"  # one digest a day, at 7:00 park time
    weekly = "weekly"  # one digest a week, on Monday at 7:00 park time


class Subscription(SQLModel, table=True):
    """One address following one thing. Unconfirmed ones get nothing until the address
    owner confirms by the e-mailed link (double opt-in); signed-in users' are confirmed
    at once. The link's token is derived from the app's secret and `token_salt`, so
    every e-mail can carry it; only its SHA-256 is kept, to find the row by."""

    __table_args__ = (
        sa.UniqueConstraint("email", "scope", "target_id", name="uq_subscription_email_target"),
        sa.Index("ix_subscription_target", "scope", "target_id", "frequency"),
        sa.Index("ix_subscription_frequency_digest", "frequency", "last_digest_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)  # lower-case
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="CASCADE", index=True)
    scope: SubscriptionScope = Field(sa_type=enum_type(SubscriptionScope))
    target_id: int = 0  # the category's, building's or request's id; 0 for everything
    frequency: Frequency = Field(default=Frequency.immediate, sa_type=enum_type(Frequency))
    language: str = Field(default="fi", max_length=5)
    token_salt: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    confirmed_at: datetime | None = None
    last_digest_at: datetime | None = None
