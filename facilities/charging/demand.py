"""Demand for charging per building: what tenant companies say they need.

Staff see each company's need; the public sees totals only, and only where enough
companies stand behind them that no single company can be read from the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from facilities.accounts.models import User
from facilities.charging.models import Charger, ChargerLifecycle, ChargingInterest, ChargingTime
from facilities.core import audit
from facilities.core.errors import ValidationFailed
from facilities.core.models import utcnow
from facilities.park.models import Building, Tenant
from facilities.requests.models import ServiceRequest

# Totals of fewer companies than this would tell one company's fleet to anyone who asks.
PUBLIC_MINIMUM_COMPANIES = 3


class InterestForm(BaseModel):
    building_id: int = Field(ge=1, le=2**31 - 1)
    vehicles: int = Field(ge=1, le=500)
    daily_km: int = Field(default=0, ge=0, le=2000)
    charging_time: ChargingTime = ChargingTime.work_hours


def _snapshot(interest: ChargingInterest) -> dict[str, Any]:
    return {
        "building_id": interest.building_id,
        "vehicles": interest.vehicles,
        "daily_km": interest.daily_km,
        "charging_time": interest.charging_time.value,
        "request_id": interest.request_id,
    }


def record_interest(session: Session, *, actor: User, data: InterestForm) -> ChargingInterest:
    """The actor's company's need at a building: a new row, or the one it had replaced."""
    if actor.tenant_id is None:
        raise ValidationFailed({"building_id": _l("Only tenant companies record demand.")})
    if session.get(Building, data.building_id) is None:
        raise ValidationFailed({"building_id": _l("Choose one of the buildings.")})
    interest = session.exec(
        select(ChargingInterest).where(
            ChargingInterest.tenant_id == actor.tenant_id,
            ChargingInterest.building_id == data.building_id,
        )
    ).first()
    before = _snapshot(interest) if interest else None
    if interest is None:
        interest = ChargingInterest(
            tenant_id=actor.tenant_id, building_id=data.building_id, vehicles=data.vehicles
        )
    interest.vehicles, interest.daily_km = data.vehicles, data.daily_km
    interest.charging_time = data.charging_time
    interest.updated_by_id, interest.updated_at = actor.id, utcnow()
    session.add(interest)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="charging_interest.recorded",
        entity="charging_interest",
        entity_id=interest.id,
        before=before,
        after=_snapshot(interest),
    )
    return interest


def withdraw_interest(session: Session, *, actor: User, interest: ChargingInterest) -> None:
    audit.record(
        session,
        actor=actor,
        action="charging_interest.withdrawn",
        entity="charging_interest",
        entity_id=interest.id,
        before=_snapshot(interest),
    )
    session.delete(interest)
    session.flush()


def interests_of_tenant(
    session: Session, tenant_id: int
) -> list[tuple[ChargingInterest, Building]]:
    rows = session.exec(
        select(ChargingInterest, Building)
        .join(Building, col(Building.id) == ChargingInterest.building_id)
        .where(ChargingInterest.tenant_id == tenant_id)
        .order_by(col(Building.name))
    ).all()
    return [(interest, building) for interest, building in rows]


def attach_to_request(
    session: Session, *, actor: User, building: Building, service_request: ServiceRequest | None
) -> int:
    """Attach the building's demand to the request that proposes chargers there (or
    detach it with None); returns how many companies' needs moved."""
    interests = session.exec(
        select(ChargingInterest).where(ChargingInterest.building_id == building.id)
    ).all()
    request_id = service_request.id if service_request else None
    for interest in interests:
        interest.request_id = request_id
        session.add(interest)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="charging_interest.attached",
        entity="building",
        entity_id=building.id,
        after={"request": service_request.reference if service_request else None},
    )
    return len(interests)


@dataclass
class BuildingDemand:
    building: Building
    companies: int = 0
    vehicles: int = 0
    work_hours: int = 0  # vehicles charging during the working day
    overnight: int = 0
    daily_km: int = 0  # vehicle-weighted mean
    operational: int = 0
    planned: int = 0
    rows: list[tuple[ChargingInterest, Tenant]] = field(default_factory=list)  # staff only
    request: ServiceRequest | None = None

    @property
    def shown_publicly(self) -> bool:
        return self.companies >= PUBLIC_MINIMUM_COMPANIES


def demand_by_building(session: Session, *, with_companies: bool) -> list[BuildingDemand]:
    """Each building's demand beside its chargers, in a fixed number of queries.
    `with_companies` (staff only) adds each company's row."""
    result = {
        building.id: BuildingDemand(building=building)
        for building in session.exec(select(Building).order_by(col(Building.name)))
    }
    charger_counts = session.exec(
        select(Charger.building_id, Charger.lifecycle, func.count()).group_by(
            col(Charger.building_id), col(Charger.lifecycle)
        )
    ).all()
    for building_id, lifecycle, count in charger_counts:
        entry = result.get(building_id)
        if entry is None:
            continue
        if lifecycle == ChargerLifecycle.operational:
            entry.operational += count
        elif lifecycle in (ChargerLifecycle.planned, ChargerLifecycle.installing):
            entry.planned += count
    rows = session.exec(
        select(ChargingInterest, Tenant)
        .join(Tenant, col(Tenant.id) == ChargingInterest.tenant_id)
        .order_by(col(Tenant.name))
    ).all()
    km_total: dict[int, int] = {}
    request_ids: dict[int, int] = {}
    for interest, tenant in rows:
        entry = result.get(interest.building_id)
        if entry is None:
            continue
        entry.companies += 1
        entry.vehicles += interest.vehicles
        if interest.charging_time in (ChargingTime.work_hours, ChargingTime.both):
            entry.work_hours += interest.vehicles
        if interest.charging_time in (ChargingTime.overnight, ChargingTime.both):
            entry.overnight += interest.vehicles
        km_total[interest.building_id] = (
            km_total.get(interest.building_id, 0) + interest.daily_km * interest.vehicles
        )
        if interest.request_id:
            request_ids[interest.building_id] = interest.request_id
        if with_companies:
            entry.rows.append((interest, tenant))
    requests = (
        {
            request.id: request
            for request in session.exec(
                select(ServiceRequest).where(col(ServiceRequest.id).in_(set(request_ids.values())))
            )
        }
        if request_ids
        else {}
    )
    for key, entry in result.items():
        if entry.vehicles:
            entry.daily_km = round(km_total.get(key or 0, 0) / entry.vehicles)
        request_id = request_ids.get(key or 0)
        entry.request = requests.get(request_id) if request_id else None
    return list(result.values())


def public_demand(entry: BuildingDemand) -> dict[str, int] | None:
    """What anyone may see of a building's demand: totals, or nothing when too few
    companies stand behind them."""
    if not entry.shown_publicly:
        return None
    return {"companies": entry.companies, "vehicles": entry.vehicles}


def demand_of_request(session: Session, service_request: ServiceRequest) -> dict[str, int]:
    """Totals of the demand attached to a request (counts only)."""
    companies, vehicles = session.exec(
        select(func.count(), func.coalesce(func.sum(ChargingInterest.vehicles), 0)).where(
            ChargingInterest.request_id == service_request.id
        )
    ).one()
    return {"companies": int(companies), "vehicles": int(vehicles)}


def public_request_demand(totals: dict[str, int]) -> dict[str, int] | None:
    """A request's attached demand as anyone may see it (see PUBLIC_MINIMUM_COMPANIES)."""
    return totals if totals["companies"] >= PUBLIC_MINIMUM_COMPANIES else None
