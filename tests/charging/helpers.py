"""An operator's EVSE behind a charger of ours, and status changes pushed at given times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from facilities.charging import ocpi
from facilities.charging.models import Charger, OcpiParty
from tests import factories

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def operator(db, *, code: str = "OPR") -> OcpiParty:
    party, _token = ocpi.add_party(db, name="Kemi Lataus Oy", country_code="FI", party_id=code)
    return party


def evse_body(uid: str, status: str, at: datetime) -> dict:
    return {
        "uid": uid,
        "evse_id": f"FI*OPR*E{uid}",
        "status": status,
        "connectors": [
            {
                "id": "1",
                "standard": "IEC_62196_T2",
                "format": "SOCKET",
                "power_type": "AC_3_PHASE",
                "max_voltage": 400,
                "max_amperage": 32,
                "last_updated": at.isoformat(),
            }
        ],
        "last_updated": at.isoformat(),
    }


def mapped_charger(db, *, status: str = "AVAILABLE", at: datetime = T0, **fields) -> Charger:
    """A charger mapped to EVSE 1 of location LOC1, which the operator has sent."""
    party = operator(db)
    location = {
        "country_code": "FI",
        "party_id": party.party_id,
        "id": "LOC1",
        "publish": True,
        "address": "Tietokatu 6",
        "city": "Kemi",
        "country": "FIN",
        "coordinates": {"latitude": "65.7363", "longitude": "24.5637"},
        "time_zone": "Europe/Helsinki",
        "evses": [evse_body("1", status, at)],
        "last_updated": at.isoformat(),
    }
    ocpi.put_location(db, party=party, location_id="LOC1", body=location, now=at)
    party.last_contact_at = at
    charger = factories.charger(
        db, ocpi_party_ref_id=party.id, ocpi_location_id="LOC1", ocpi_evse_uid="1", **fields
    )
    db.commit()
    return charger


def push_status(db, status: str, at: datetime, *, uid: str = "1") -> bool:
    party = db.exec(__import__("sqlmodel").select(OcpiParty)).first()
    stored = ocpi.patch_object(
        db,
        party=party,
        location_id="LOC1",
        evse_uid=uid,
        body={"status": status, "last_updated": at.isoformat()},
        now=at,
    )
    party.last_contact_at = at
    db.add(party)
    db.commit()
    return stored
