"""Chargers and what the charge point operator tells us about them (OCPI 2.2.1).

No `from __future__ import annotations` here: SQLModel reads the annotations at runtime.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from facilities.core.cache import watch
from facilities.core.models import enum_type, utcnow


class EvseStatus(StrEnum):
    """OCPI 2.2.1 EVSE status, as the operator reports it."""

    AVAILABLE = "AVAILABLE"
    BLOCKED = "BLOCKED"
    CHARGING = "CHARGING"
    INOPERATIVE = "INOPERATIVE"
    OUTOFORDER = "OUTOFORDER"
    PLANNED = "PLANNED"
    REMOVED = "REMOVED"
    RESERVED = "RESERVED"
    UNKNOWN = "UNKNOWN"


class ChargerLifecycle(StrEnum):
    planned = "planned"
    installing = "installing"
    operational = "operational"
    removed = "removed"


class OcpiParty(SQLModel, table=True):
    """A charge point operator that talks OCPI with us."""

    __tablename__ = "ocpi_party"
    __table_args__ = (sa.UniqueConstraint("country_code", "party_id", name="uq_ocpi_party"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    country_code: str = Field(max_length=2)
    party_id: str = Field(max_length=3)
    # The token the operator uses with us (credentials token C), kept as a SHA-256 hash:
    # we only ever compare it.
    token_hash: str = Field(max_length=64, unique=True)
    versions_url: str = Field(default="", max_length=500)
    # The token the operator gave us to call them (credentials token B or C): we have to
    # send it, so it cannot be hashed.
    remote_token: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    registered: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    roles: list[dict[str, Any]] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False, server_default=sa.text("'[]'")),
    )
    active: bool = True
    last_contact_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class OcpiLocation(SQLModel, table=True):
    """A location as the operator last sent it (its EVSEs are rows of their own)."""

    __tablename__ = "ocpi_location"
    __table_args__ = (sa.UniqueConstraint("party_ref_id", "location_id", name="uq_ocpi_location"),)

    id: int | None = Field(default=None, primary_key=True)
    party_ref_id: int = Field(foreign_key="ocpi_party.id", ondelete="CASCADE")
    location_id: str = Field(max_length=36)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    last_updated: datetime
    received_at: datetime = Field(default_factory=utcnow)


class OcpiEvse(SQLModel, table=True):
    """One EVSE of a location with its connectors, as the operator last sent it.

    Kept whether or not a charger of ours is mapped to it: admins map unknown ones.
    """

    __tablename__ = "ocpi_evse"
    __table_args__ = (sa.UniqueConstraint("location_ref_id", "uid", name="uq_ocpi_evse"),)

    id: int | None = Field(default=None, primary_key=True)
    location_ref_id: int = Field(foreign_key="ocpi_location.id", ondelete="CASCADE")
    uid: str = Field(max_length=36)
    status: EvseStatus = Field(default=EvseStatus.UNKNOWN, sa_type=enum_type(EvseStatus))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    last_updated: datetime
    status_changed_at: datetime = Field(default_factory=utcnow)
    received_at: datetime = Field(default_factory=utcnow)


class Charger(SQLModel, table=True):
    """A charge point of the park, in our registry."""

    id: int | None = Field(default=None, primary_key=True)
    building_id: int = Field(foreign_key="building.id", index=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    location_note: str = Field(default="", max_length=300)
    power_kw: float = Field(default=11.0, ge=0, le=1000)
    connectors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    operator: str = Field(default="", max_length=200)
    ocpi_location_id: str = Field(default="", max_length=36)
    ocpi_evse_uid: str = Field(default="", max_length=36, index=True)
    lifecycle: ChargerLifecycle = Field(
        default=ChargerLifecycle.planned, sa_type=enum_type(ChargerLifecycle)
    )
    request_id: int | None = Field(default=None, foreign_key="service_request.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


# Public pages will show chargers. Live EVSE status is not watched: operators push it
# every few seconds, and retiring every kept page each time would defeat keeping them;
# the status fragment will read it fresh.
watch(Charger)
