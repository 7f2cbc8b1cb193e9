"""Tables of the infrastructure: the outbox, the audit trail, job runs, the scheduler lease.

No `from __future__ import annotations` in model modules: SQLModel reads annotations at
runtime. Times are aware datetimes stored in UTC and shown in the park's time zone.
"""

from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel


def utcnow() -> datetime:
    """Now, aware, in UTC: the form every stored time has."""
    return datetime.now(UTC)


def enum_type(enum_class: type[Enum]) -> sa.Enum:
    """Enums stored as their values in a plain VARCHAR, so adding a member needs no DDL."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda members: [member.value for member in members],
    )


class CacheGeneration(SQLModel, table=True):
    """One row whose number changes in the same transaction as anything public.

    Cached pages are stored under the number they were made at, so the commit that
    changes what the public sees also retires every cached page, in every process.
    """

    __tablename__ = "cache_generation"

    id: int = Field(default=1, primary_key=True)
    value: int = Field(default=0, sa_type=sa.BigInteger)


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # gave up after the last attempt


class OutboxKind(StrEnum):
    email = "email"
    webhook = "webhook"  # an HTTP POST of a JSON payload


class Outbox(SQLModel, table=True):
    """Every e-mail and webhook post the app sends, sent by a job with retries.

    A row carries all its sending needs (core knows no domain): an e-mail its rendered
    text; a webhook post (`kind` webhook) its url, JSON payload, format and the secret
    that signs a generic post. `recipient` and `subject` name it for the admins' list."""

    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    kind: OutboxKind = Field(default=OutboxKind.email, sa_type=enum_type(OutboxKind))
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_type=sa.Text)
    headers: dict[str, str] | None = Field(default=None, sa_column=Column(JSON))  # e-mail's extra
    status: OutboxStatus = Field(default=OutboxStatus.pending, sa_type=enum_type(OutboxStatus))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    # webhook posts only (migration 0019)
    url: str = Field(default="", max_length=2000, sa_column_kwargs={"server_default": ""})
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    format: str = Field(default="", max_length=20, sa_column_kwargs={"server_default": ""})
    signing_secret: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})


class AuditEvent(SQLModel, table=True):
    """Who changed what, when, before and after. Rows are only ever added."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    action: str = Field(max_length=60)
    entity: str = Field(max_length=40)
    entity_id: int | None = None
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class JobRun(SQLModel, table=True):
    __tablename__ = "job_run"
    __table_args__ = (sa.Index("ix_job_run_job_started", "job_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=60)
    holder: str = Field(max_length=120)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    outcome: str = Field(default="running", max_length=20)  # running, ok, failed
    items: int = 0
    detail: str = Field(default="", sa_type=sa.Text)


class SchedulerLease(SQLModel, table=True):
    """The one row that says which scheduler process may run jobs now."""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=120)
    acquired_at: datetime | None = None  # when this holder took it (renewals keep it)
    expires_at: datetime
