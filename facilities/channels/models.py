"""A channel: one outbound webhook and which public news it receives.

No `from __future__ import annotations` here: SQLModel reads annotations at runtime.
"""

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from facilities.core.models import enum_type, utcnow


class ChannelFormat(StrEnum):
    generic = "generic"  # our own JSON, signed with the channel's secret
    slack = "slack"  # a Slack incoming webhook: text and blocks
    teams = "teams"  # a Microsoft Teams (Workflows) incoming webhook: an Adaptive Card


class Channel(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    url: str = Field(max_length=2000)
    format: ChannelFormat = Field(default=ChannelFormat.generic, sa_type=enum_type(ChannelFormat))
    # Signs generic posts (HMAC-SHA256); admins may read it on the channel's page.
    secret: str = Field(max_length=100)
    wants_updates: bool = True  # public updates of public requests
    wants_status_changes: bool = True
    wants_weekly: bool = False  # the Monday "what changed on the roadmap" post
    active: bool = True
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


# A channel's fields as its audit events record them: never the secret.
AUDITED_FIELDS = (
    "name",
    "url",
    "format",
    "wants_updates",
    "wants_status_changes",
    "wants_weekly",
    "active",
    "note",
)
