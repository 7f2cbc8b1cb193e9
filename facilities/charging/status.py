"""What the park's chargers are doing, from the last status the operator gave us.

Pages read only what is stored here: never a call to the operator while a page renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_
from sqlmodel import Session, col, select

from facilities.charging.models import (
    Charger,
    ChargerLifecycle,
    EvseStatus,
    OcpiEvse,
    OcpiLocation,
    OcpiParty,
)
from facilities.core.models import utcnow
from facilities.park.models import Building, Visibility
from facilities.requests.models import ServiceRequest


class LiveStatus(StrEnum):
    """What a driver needs to know, in the words shown to them."""

    available = "available"
    charging = "charging"
    reserved = "reserved"
    blocked = "blocked"
    out_of_order = "out_of_order"
    inoperative = "inoperative"
    unknown = "unknown"


_FROM_OCPI = {
    EvseStatus.AVAILABLE: LiveStatus.available,
    EvseStatus.CHARGING: LiveStatus.charging,
    EvseStatus.RESERVED: LiveStatus.reserved,
    EvseStatus.BLOCKED: LiveStatus.blocked,
    EvseStatus.OUTOFORDER: LiveStatus.out_of_order,
    EvseStatus.INOPERATIVE: LiveStatus.inoperative,
}
FAULTY = frozenset({EvseStatus.OUTOFORDER, EvseStatus.INOPERATIVE})


@dataclass(frozen=True)
class ChargerState:
    charger: Charger
    building: Building
    evse: OcpiEvse | None
    heard_at: datetime | None  # the last time the operator told us anything of it
    stale: bool
    request: ServiceRequest | None  # the request that brought it, when public

    @property
    def status(self) -> LiveStatus:
        if self.evse is None or self.stale:
            return LiveStatus.unknown
        return _FROM_OCPI.get(self.evse.status, LiveStatus.unknown)

    @property
    def silent_minutes(self) -> int | None:
        """For a stale status: how long we have had no data."""
        if not self.stale or self.heard_at is None:
            return None
        return int((utcnow() - self.heard_at).total_seconds() // 60)

    @property
    def planned(self) -> bool:
        return self.charger.lifecycle in (ChargerLifecycle.planned, ChargerLifecycle.installing)


def charger_states(
    session: Session,
    *,
    stale_after: timedelta,
    building_id: int | None = None,
    charger_id: int | None = None,
    include_removed: bool = False,
    public_requests_only: bool = True,
    now: datetime | None = None,
) -> list[ChargerState]:
    """Every charger (of a building, or one) with its live status, in one query."""
    now = now or utcnow()
    statement = (
        select(  # type: ignore[call-overload]  # five entities: beyond sqlmodel's overloads
            Charger, Building, OcpiEvse, OcpiParty.last_contact_at, ServiceRequest
        )
        .join(Building, col(Building.id) == Charger.building_id)
        .outerjoin(
            OcpiLocation,
            and_(
                col(OcpiLocation.party_ref_id) == Charger.ocpi_party_ref_id,
                col(OcpiLocation.location_id) == Charger.ocpi_location_id,
                col(Charger.ocpi_location_id) != "",
            ),
        )
        .outerjoin(OcpiParty, col(OcpiParty.id) == OcpiLocation.party_ref_id)
        .outerjoin(
            OcpiEvse,
            and_(
                col(OcpiEvse.location_ref_id) == OcpiLocation.id,
                col(OcpiEvse.uid) == Charger.ocpi_evse_uid,
            ),
        )
        .outerjoin(ServiceRequest, col(ServiceRequest.id) == Charger.request_id)
        .order_by(col(Building.name), col(Charger.code))
    )
    if building_id is not None:
        statement = statement.where(col(Charger.building_id) == building_id)
    if charger_id is not None:
        statement = statement.where(col(Charger.id) == charger_id)
    if not include_removed:
        statement = statement.where(col(Charger.lifecycle) != ChargerLifecycle.removed)
    states: dict[int, ChargerState] = {}
    for charger, building, evse, last_contact, request in session.exec(statement).all():
        assert charger.id is not None
        heard = [evse.received_at if evse else None, last_contact]
        heard_at = max((moment for moment in heard if moment is not None), default=None)
        stale = evse is not None and (heard_at is None or now - heard_at > stale_after)
        if request is not None and public_requests_only and request.visibility != Visibility.public:
            request = None
        states[charger.id] = ChargerState(
            charger=charger,
            building=building,
            evse=evse,
            heard_at=heard_at,
            stale=stale,
            request=request,
        )
    return list(states.values())


def unmapped_evses(session: Session) -> list[tuple[OcpiEvse, OcpiLocation, OcpiParty]]:
    """EVSEs operators have sent that no charger of ours points at: for admins to map."""
    mapped = select(Charger.id).where(
        col(Charger.ocpi_party_ref_id) == OcpiLocation.party_ref_id,
        col(Charger.ocpi_evse_uid) == OcpiEvse.uid,
        col(Charger.ocpi_location_id) == OcpiLocation.location_id,
    )
    rows = session.exec(
        select(OcpiEvse, OcpiLocation, OcpiParty)
        .join(OcpiLocation, col(OcpiLocation.id) == OcpiEvse.location_ref_id)
        .join(OcpiParty, col(OcpiParty.id) == OcpiLocation.party_ref_id)
        .where(~mapped.exists())
        .order_by(col(OcpiParty.name), col(OcpiLocation.location_id), col(OcpiEvse.uid))
        .limit(200)
    ).all()
    return [(evse, location, party) for evse, location, party in rows]
