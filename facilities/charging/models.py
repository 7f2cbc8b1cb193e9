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
    # Their endpoints from version details: [{"identifier", "role", "url"}].
    endpoints: list[dict[str, Any]] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False, server_default=sa.text("'[]'")),
    )
    # Pulling their Locations sender, for operators that do not push.
    pull_enabled: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    pulled_until: datetime | None = None  # date_from of the next pull
    pull_failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    next_pull_at: datetime | None = None  # backoff after failures
    last_pull_error: str = Field(
        default="", max_length=500, sa_column_kwargs={"server_default": ""}
    )


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
    # The OCPI EVSE whose status this charger shows: one party's location id and EVSE uid
    # (another operator may use the same ids for its own).
    ocpi_party_ref_id: int | None = Field(
        default=None, foreign_key="ocpi_party.id", ondelete="SET NULL", index=True
    )
    ocpi_location_id: str = Field(default="", max_length=36)
    ocpi_evse_uid: str = Field(default="", max_length=36, index=True)
    lifecycle: ChargerLifecycle = Field(
        default=ChargerLifecycle.planned, sa_type=enum_type(ChargerLifecycle)
    )
    request_id: int | None = Field(default=None, foreign_key="service_request.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class ChargerFault(SQLModel, table=True):
    """A fault request of a charger: opened by its status, or by a report from its QR code.

    `open` is True while the fault is open and NULL after: with the unique constraint a
    charger has at most one open fault, however many pushes or reports arrive at once.
    """

    __tablename__ = "charger_fault"
    __table_args__ = (sa.UniqueConstraint("charger_id", "open", name="uq_charger_open_fault"),)

    id: int | None = Field(default=None, primary_key=True)
    charger_id: int = Field(foreign_key="charger.id", index=True)
    request_id: int = Field(foreign_key="service_request.id", index=True)
    open: bool | None = True
    automatic: bool = False  # opened by the operator's status: closes itself on recovery
    opened_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class FaultProblem(StrEnum):
    """What a person at the charger can pick in the QR form."""

    will_not_start = "will_not_start"
    stopped = "stopped"
    cable_damaged = "cable_damaged"
    card_or_app = "card_or_app"
    blocked = "blocked"
    other = "other"


class FaultReport(SQLModel, table=True):
    """One report from a charger's QR code, by someone who need not have an account."""

    __tablename__ = "fault_report"

    id: int | None = Field(default=None, primary_key=True)
    charger_id: int = Field(foreign_key="charger.id", index=True)
    request_id: int = Field(foreign_key="service_request.id", index=True)
    problem: FaultProblem = Field(sa_type=enum_type(FaultProblem))
    details: str = Field(default="", max_length=2000)
    email: str = Field(default="", max_length=254)
    # the mailbox it reaches (core.mailboxes.mailbox_key): one pending confirmation each
    email_key: str = Field(
        default="", max_length=254, index=True, sa_column_kwargs={"server_default": ""}
    )
    language: str = Field(default="fi", max_length=5)
    confirm_token_hash: str = Field(default="", max_length=64, index=True)
    confirmed_at: datetime | None = None
    photo_key: str = Field(default="", max_length=200)
    photo_type: str = Field(default="", max_length=40)
    created_at: datetime = Field(default_factory=utcnow)


class ChargingTime(StrEnum):
    work_hours = "work_hours"
    overnight = "overnight"
    both = "both"


class ChargingInterest(SQLModel, table=True):
    """A tenant company's need for charging at one building."""

    __tablename__ = "charging_interest"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "building_id", name="uq_charging_interest"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    building_id: int = Field(foreign_key="building.id", index=True)
    vehicles: int = Field(ge=1, le=500)
    daily_km: int = Field(default=0, ge=0, le=2000)  # typical driving per vehicle and day
    charging_time: ChargingTime = Field(
        default=ChargingTime.work_hours, sa_type=enum_type(ChargingTime)
    )
    request_id: int | None = Field(default=None, foreign_key="service_request.id", index=True)
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow)


# Public pages will show chargers. Live EVSE status is not watched: operators push it
# every few seconds, and retiring every kept page each time would defeat keeping them;
# the status fragment will read it fresh.
watch(Charger, ChargerFault, ChargingInterest)
