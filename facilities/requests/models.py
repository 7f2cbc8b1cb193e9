"""Requests, their statuses and timelines: tables, input models and enums.

No `from __future__ import annotations` here: SQLModel reads the annotations at runtime.
"""

import unicodedata
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Optional

import sqlalchemy as sa
from pydantic import field_validator
from pydantic_core import PydanticCustomError
from sqlmodel import JSON, Column, Field, Relationship, SQLModel

from facilities.accounts.models import ApiKey, User
from facilities.core.cache import watch
from facilities.core.models import enum_type, utcnow
from facilities.park.models import Building, Category, Tenant, Visibility
from facilities.requests.workflow import StatusKind


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class RequestSource(StrEnum):
    """How a request came in: sent by the company itself, or entered by staff from the
    park's development project (interviews, surveys, workshops) and other channels."""

    web = "web"
    interview = "interview"
    survey = "survey"
    workshop = "workshop"
    email = "email"
    phone = "phone"
    walk_round = "walk_round"
    charger = "charger"  # a charger's fault, reported by its QR code or its status
    api = "api"  # sent by a machine client with its API key (Open311)


# What staff choose from when they enter requests for companies.
ENTERED_SOURCES = (
    RequestSource.interview,
    RequestSource.survey,
    RequestSource.workshop,
    RequestSource.email,
    RequestSource.phone,
    RequestSource.walk_round,
)


class UpdateKind(StrEnum):
    public_update = "public_update"
    internal_note = "internal_note"
    comment = "comment"
    status_change = "status_change"
    system = "system"


# Kinds of update anyone who may see the request may read; the rest are staff-only.
PUBLIC_UPDATE_KINDS = frozenset({UpdateKind.public_update, UpdateKind.status_change})


class Status(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, unique=True)
    kind: StatusKind = Field(sa_type=enum_type(StatusKind))
    names: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    position: int = 0
    active: bool = True


# --- requests --------------------------------------------------------------------------


class RequestCounter(SQLModel, table=True):
    """The last reference number handed out per site and year (DP-2026-0042)."""

    __tablename__ = "request_counter"

    site_id: int = Field(foreign_key="site.id", primary_key=True)
    year: int = Field(primary_key=True)
    last_number: int = 0


# Characters that turn the direction of the text around them: in a title they can make
# it read differently from what it says (U+202E "RIGHT-TO-LEFT OVERRIDE" and friends).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Invisible characters that join letters in some scripts and emoji: kept.
JOINERS = frozenset("\u200c\u200d")


def clean_one_line(value: str) -> str:
    """A one-line text as people see it: no invisible characters, single spaces.

    Refuses text-direction controls and characters that could not be read (U+FFFD,
    what a form that was not UTF-8 turns into), so the user is asked to fix them.
    """
    if any(character in BIDI_CONTROLS for character in value):
        raise PydanticCustomError("text_direction_controls", "text-direction controls")
    if "\ufffd" in value:
        raise PydanticCustomError("unreadable_characters", "unreadable characters")
    visible = "".join(
        character
        for character in value
        if character in JOINERS or unicodedata.category(character) != "Cf"
    )
    return " ".join(visible.split())


# Ids and versions typed into forms stay within a 32-bit integer, which every database takes.
MAX_ID = 2**31 - 1


class ServiceRequestBase(SQLModel):
    title: str = Field(min_length=5, max_length=140)
    description: str = Field(default="", max_length=10_000)
    location_note: str = Field(default="", max_length=300)


class ServiceRequestInput(ServiceRequestBase):
    """A request as people type it, in a tenant's form or a row staff enter: the text
    cleaned, and where it belongs."""

    category_id: int = Field(ge=1, le=MAX_ID)
    building_id: int | None = Field(default=None, ge=1, le=MAX_ID)

    @field_validator("title", "location_note", mode="before")
    @classmethod
    def one_line(cls, value: Any) -> Any:
        """Single-line fields: readable characters only, runs of spaces as one space."""
        return clean_one_line(value) if isinstance(value, str) else value

    @field_validator("description", mode="before")
    @classmethod
    def strip_text(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("building_id", mode="before")
    @classmethod
    def blank_building_is_none(cls, value: Any) -> Any:
        return None if value in ("", None) else value


class ServiceRequestCreate(ServiceRequestInput):
    """What a tenant member sends in the submit form."""

    show_name: bool = False

    @field_validator("show_name", mode="before")
    @classmethod
    def checkbox(cls, value: Any) -> Any:
        return value not in (None, "", "0", "false")


class ServiceRequest(ServiceRequestBase, table=True):
    __tablename__ = "service_request"
    __table_args__ = (
        sa.UniqueConstraint("site_id", "ref_year", "ref_number", name="uq_request_reference"),
        sa.Index("ix_service_request_status_created", "status_id", "created_at"),
        sa.Index("ix_service_request_tenant_created_id", "tenant_id", "created_at", "id"),
        sa.Index(
            "ix_service_request_public_status_updated",
            "visibility",
            "status_id",
            "updated_at",
            "id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=30, unique=True)
    site_id: int = Field(foreign_key="site.id")
    ref_year: int
    ref_number: int
    description: str = Field(default="", sa_type=sa.Text)
    category_id: int = Field(foreign_key="category.id", index=True)
    building_id: int | None = Field(default=None, foreign_key="building.id", index=True)
    submitter_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    tenant_id: int | None = Field(default=None, foreign_key="tenant.id")
    status_id: int = Field(foreign_key="status.id")
    priority: Priority = Field(default=Priority.normal, sa_type=enum_type(Priority))
    assignee_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    visibility: Visibility = Field(default=Visibility.public, sa_type=enum_type(Visibility))
    target_start: date | None = None
    target_end: date | None = None
    # The SLA clock (requests.deadlines): when the first answer and the resolution are
    # due in business hours, and when they came. sla_due_at is the resolution's.
    sla_due_at: datetime | None = None
    response_due_at: datetime | None = None
    responded_at: datetime | None = None
    resolved_at: datetime | None = None
    duplicate_of_id: int | None = Field(default=None, foreign_key="service_request.id")
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    # Kept in step with the support table by requests.supports, so that lists show the
    # counts without a query per card.
    support_people: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    support_companies: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The sender chose to be named on the public page (staff and the company always see).
    show_name: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # Where it came from; for requests staff entered, when (the workshop's day) and who.
    source: RequestSource = Field(
        default=RequestSource.web,
        sa_type=enum_type(RequestSource),
        sa_column_kwargs={"server_default": "web"},
    )
    source_date: date | None = None
    entered_by_id: int | None = Field(default=None, foreign_key="user.id")
    # Sent through the API: the client's key, the pin it gave, and whom to contact
    # (Open311's email, first_name, last_name, phone; personal data, see follow_up).
    api_key_id: int | None = Field(default=None, foreign_key="api_key.id")
    api_token: str | None = Field(default=None, max_length=40, unique=True, index=True)  # Open311
    latitude: float | None = None
    longitude: float | None = None
    contact: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    # Answers to the category's extra questions by question code: text, number or choices.
    answers: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    # What the follow-up jobs (requests.follow_up) did, so that each thing goes once:
    # flagged as stale; warned of and escalated for which deadline (its due moment);
    # asked "is it fixed?" (the one-click link's hash, the answer); personal data removed.
    stale_flagged_at: datetime | None = None
    sla_warned_due_at: datetime | None = None
    sla_escalated_due_at: datetime | None = None
    fixed_asked_at: datetime | None = None
    fixed_token_hash: str | None = Field(default=None, max_length=64, unique=True, index=True)
    fixed_answer: str | None = Field(default=None, max_length=10)  # "yes" or "no"
    fixed_answered_at: datetime | None = None
    anonymised_at: datetime | None = None

    category: Category = Relationship()
    building: Building | None = Relationship()
    status: Status = Relationship()
    tenant: Tenant | None = Relationship()
    submitter: User | None = Relationship(
        sa_relationship_kwargs={"foreign_keys": "ServiceRequest.submitter_id"}
    )
    assignee: User | None = Relationship(
        sa_relationship_kwargs={"foreign_keys": "ServiceRequest.assignee_id"}
    )
    api_key: ApiKey | None = Relationship()
    duplicate_of: Optional["ServiceRequest"] = Relationship(
        sa_relationship_kwargs={"remote_side": "ServiceRequest.id"}
    )

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.public


class ServiceRequestTriage(SQLModel):
    """What staff change on a request in one go: the inline queue form and the detail page."""

    version: int = Field(ge=1, le=MAX_ID)
    status_id: int = Field(ge=1, le=MAX_ID)
    priority: Priority
    visibility: Visibility
    target_quarter: str = ""  # "2027-Q2", or empty for no public target
    public_update: str = Field(default="", max_length=5_000)
    publish_at: datetime | None = None  # the form sends park-local time; the view makes it UTC
    internal_note: str = Field(default="", max_length=5_000)
    duplicate_of_reference: str = Field(default="", max_length=30)
    # The member of staff to work on it: a user id, "" for nobody; None keeps who it is
    # (callers that do not assign, such as scripts).
    assignee: str | None = Field(default=None, max_length=12)
    # Staff confirm that updates so far seen by the company only become public with it.
    publish_history: bool = False

    @field_validator(
        "public_update",
        "internal_note",
        "duplicate_of_reference",
        "target_quarter",
        "assignee",
        mode="before",
    )
    @classmethod
    def strip_text(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("publish_history", mode="before")
    @classmethod
    def checkbox(cls, value: Any) -> Any:
        return value not in (None, "", "0", "false")

    @field_validator("publish_at", mode="before")
    @classmethod
    def blank_time_is_none(cls, value: Any) -> Any:
        return None if value in ("", None) else value


class RequestUpdate(SQLModel, table=True):
    """One entry on a request's timeline."""

    __tablename__ = "request_update"
    __table_args__ = (
        sa.Index("ix_request_update_request_created", "request_id", "created_at"),
        sa.Index("ix_request_update_due", "published_at", "publish_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="service_request.id", ondelete="CASCADE")
    kind: UpdateKind = Field(sa_type=enum_type(UpdateKind))
    body: str = Field(default="", sa_type=sa.Text)
    author_id: int | None = Field(default=None, foreign_key="user.id")
    from_status_id: int | None = Field(default=None, foreign_key="status.id")
    to_status_id: int | None = Field(default=None, foreign_key="status.id")
    created_at: datetime = Field(default_factory=utcnow)
    publish_at: datetime | None = None  # set for scheduled posts
    published_at: datetime | None = None  # null until visible

    request: ServiceRequest = Relationship()
    author: User | None = Relationship()
    from_status: Status | None = Relationship(
        sa_relationship_kwargs={"foreign_keys": "RequestUpdate.from_status_id"}
    )
    to_status: Status | None = Relationship(
        sa_relationship_kwargs={"foreign_keys": "RequestUpdate.to_status_id"}
    )


class Support(SQLModel, table=True):
    """One person's +1 for a request, counted for their company too."""

    __table_args__ = (
        sa.UniqueConstraint("user_id", "request_id", name="uq_support_user_request"),
        sa.Index("ix_support_request_tenant", "request_id", "tenant_id"),
        sa.Index("ix_support_tenant_request", "tenant_id", "request_id"),  # "supported by us"
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="service_request.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    tenant_id: int = Field(foreign_key="tenant.id")
    created_at: datetime = Field(default_factory=utcnow)


class FollowReason(StrEnum):
    support = "support"
    chosen = "chosen"


class RequestFollower(SQLModel, table=True):
    """A signed-in user who hears of a request's public updates by e-mail."""

    __tablename__ = "request_follower"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "request_id", name="uq_request_follower"),
        sa.Index("ix_request_follower_request", "request_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="service_request.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    reason: FollowReason = Field(default=FollowReason.chosen, sa_type=enum_type(FollowReason))
    created_at: datetime = Field(default_factory=utcnow)


class Attachment(SQLModel, table=True):
    """A photo or file sent with a request (`update_id` None) or with a comment.

    The bytes live in core.storage under random keys; the request's readers may fetch a
    request's files, only the conversation's (its company and staff) a comment's.
    """

    __table_args__ = (sa.Index("ix_attachment_request_update", "request_id", "update_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="service_request.id", ondelete="CASCADE")
    update_id: int | None = Field(default=None, foreign_key="request_update.id", ondelete="CASCADE")
    uploader_id: int | None = Field(default=None, foreign_key="user.id")
    storage_key: str = Field(max_length=120)
    thumbnail_key: str = Field(default="", max_length=120)
    content_type: str = Field(max_length=60)
    filename: str = Field(max_length=120)
    size_bytes: int = 0
    width: int | None = None
    height: int | None = None
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


# What the public pages show: a write to these changes them (see core.cache).
watch(Status, ServiceRequest, RequestUpdate, Support, RequestFollower, Attachment)


class ResponseTemplate(SQLModel, table=True):
    """A ready-made public reply staff may put into an update, written per language.

    `bodies` is {"fi": ..., "en": ..., "sv": ...} (Finnish required); a template without
    a category is offered on every request, one with a category on that category's.
    """

    __tablename__ = "response_template"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    bodies: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    category_id: int | None = Field(default=None, foreign_key="category.id", index=True)
    position: int = 0
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    category: Category | None = Relationship()


class SavedView(SQLModel, table=True):
    """A member of staff's named set of queue filters ("New EV requests", "Mine, late"),
    kept as the queue's query string."""

    __tablename__ = "saved_view"
    __table_args__ = (sa.UniqueConstraint("user_id", "name", name="uq_saved_view_user_name"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    name: str = Field(max_length=60)
    query: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)


class ScheduledWork(SQLModel, table=True):
    """Work on a request's behalf on given park dates ("the parking area is closed for
    the chargers' installation 12.–14.4."), shown on its page and in the works calendar.

    `names` is {"fi": ..., "en": ..., "sv": ...} (Finnish required), as Category.names.
    """

    __tablename__ = "scheduled_work"
    __table_args__ = (
        sa.CheckConstraint("ends_on >= starts_on", name="ck_scheduled_work_dates"),
        sa.Index("ix_scheduled_work_request_starts", "request_id", "starts_on"),
        sa.Index("ix_scheduled_work_starts", "starts_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="service_request.id", ondelete="CASCADE")
    names: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    starts_on: date
    ends_on: date
    location_note: str = Field(default="", max_length=300)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    request: ServiceRequest = Relationship()


watch(ScheduledWork)  # the request page and the calendars show them
