"""The demo park's chargers, and a charge point operator that pushes OCPI status changes.

Outside the app's import graph, like demo.py: only `facilities demo` uses it. The demo
operator talks to the app over HTTP through the same OCPI receiver a real one uses.
"""

from __future__ import annotations

import base64
import logging
import random
from datetime import datetime, timedelta
from typing import NamedTuple

import httpx
from sqlmodel import Session, col, select

from facilities.charging import ocpi
from facilities.charging.demand import attach_to_request
from facilities.charging.faults import sync_faults
from facilities.charging.models import (
    Charger,
    ChargerLifecycle,
    ChargingInterest,
    ChargingTime,
    EvseStatus,
    FaultProblem,
    OcpiEvse,
)
from facilities.charging.reports import FaultReportCreate, submit_report
from facilities.core.jobs import Job
from facilities.park.models import Building, Tenant
from facilities.requests.models import ServiceRequest

log = logging.getLogger(__name__)

OPERATOR = ("Kemin Lataus Oy", "FI", "KLO")
LOCATIONS = {  # location id: building code, street address
    "KLO-SENSORI": ("SENSORI", "Tietokatu 1"),
    "KLO-TEKNO": ("TEKNOLOGIATALO", "Tietokatu 5"),
    "KLO-HALLI5": ("HALLI5", "Teollisuustie 12"),
}


class DemoCharger(NamedTuple):
    code: str
    building: str
    name: str
    note: str
    kw: int
    connectors: list[str]
    lifecycle: str
    ocpi: tuple[str, str] | None  # location id, EVSE uid


CHARGERS = [
    DemoCharger(
        "SEN-1",
        "SENSORI",
        "Sensori 1",
        "Pääoven edusta, paikka 12",
        22,
        ["IEC_62196_T2"],
        "operational",
        ("KLO-SENSORI", "SEN1"),
    ),
    DemoCharger(
        "SEN-2",
        "SENSORI",
        "Sensori 2",
        "Pääoven edusta, paikka 13",
        22,
        ["IEC_62196_T2"],
        "operational",
        ("KLO-SENSORI", "SEN2"),
    ),
    DemoCharger(
        "SEN-3",
        "SENSORI",
        "Sensori 3",
        "Pääoven edusta, paikka 14",
        22,
        ["IEC_62196_T2"],
        "operational",
        ("KLO-SENSORI", "SEN3"),
    ),
    DemoCharger(
        "SEN-4",
        "SENSORI",
        "Sensori pikalaturi",
        "Pysäköintialueen pääty",
        50,
        ["IEC_62196_T2_COMBO", "CHADEMO"],
        "operational",
        ("KLO-SENSORI", "SEN4"),
    ),
    DemoCharger(
        "SEN-5", "SENSORI", "Sensori 5", "Esteetön paikka 1", 11, ["IEC_62196_T2"], "planned", None
    ),
    DemoCharger(
        "SEN-6", "SENSORI", "Sensori 6", "Esteetön paikka 2", 11, ["IEC_62196_T2"], "planned", None
    ),
    DemoCharger(
        "TEK-1",
        "TEKNOLOGIATALO",
        "Teknologiatalo 1",
        "Huoltopiha",
        11,
        ["IEC_62196_T2"],
        "operational",
        ("KLO-TEKNO", "TEK1"),
    ),
    DemoCharger(
        "TEK-2",
        "TEKNOLOGIATALO",
        "Teknologiatalo 2",
        "Huoltopiha",
        11,
        ["IEC_62196_T2", "DOMESTIC_F"],
        "operational",
        ("KLO-TEKNO", "TEK2"),
    ),
]
START_STATUS = {
    "SEN1": "CHARGING",
    "SEN2": "AVAILABLE",
    "SEN3": "CHARGING",
    "SEN4": "OUTOFORDER",
    "TEK1": "AVAILABLE",
    "TEK2": "RESERVED",
    "H5-1": "AVAILABLE",
}
DEMAND = [  # company, building, vehicles, km a day, when
    ("Arktinen Anturi Oy", "SENSORI", 6, 45, ChargingTime.work_hours),
    ("Pohjoisen Prosessianalytiikka Oy", "SENSORI", 4, 80, ChargingTime.work_hours),
    ("Kemin Datapaja Oy", "SENSORI", 3, 30, ChargingTime.both),
    ("Perämeren Automaatio Oy", "SENSORI", 2, 120, ChargingTime.overnight),
    ("Lumo Circular Oy", "HALLI5", 5, 150, ChargingTime.overnight),
    ("Perämeren Automaatio Oy", "HALLI5", 3, 90, ChargingTime.both),
]


def _id(row: Building | Tenant) -> int:
    assert row.id is not None
    return row.id


def _evse(uid: str, status: str, kw: int, connectors: list[str], at: datetime) -> dict:
    return {
        "uid": uid,
        "evse_id": f"FI*KLO*E{uid}",
        "status": status,
        "connectors": [
            {
                "id": str(number),
                "standard": standard,
                "format": "CABLE" if kw >= 50 else "SOCKET",
                "power_type": "DC" if kw >= 50 else "AC_3_PHASE",
                "max_voltage": 500 if kw >= 50 else 400,
                "max_amperage": 125 if kw >= 50 else 32,
                "last_updated": at.isoformat(),
            }
            for number, standard in enumerate(connectors, start=1)
        ],
        "last_updated": at.isoformat(),
    }


def load_charging(
    session: Session, *, now: datetime, token: str, users: dict, ev_request: ServiceRequest
) -> None:
    """Chargers, the operator's locations as if it had pushed them, demand, one open fault."""
    name, country, party_code = OPERATOR
    party, _ = ocpi.add_party(
        session, name=name, country_code=country, party_id=party_code, token=token
    )
    party.registered, party.last_contact_at = True, now
    buildings = {b.code: b for b in session.exec(select(Building)).all()}
    specs = {spec.ocpi[1]: spec for spec in CHARGERS if spec.ocpi}
    since = now - timedelta(hours=3)
    for location_id, (building_code, street) in LOCATIONS.items():
        building = buildings[building_code]
        evses = [
            _evse(uid, START_STATUS[uid], spec.kw, spec.connectors, since)
            for uid, spec in specs.items()
            if spec.ocpi and spec.ocpi[0] == location_id
        ]
        if location_id == "KLO-HALLI5":  # sent by the operator, mapped by nobody yet
            evses = [_evse("H5-1", "AVAILABLE", 22, ["IEC_62196_T2"], since)]
        ocpi.put_location(
            session,
            party=party,
            location_id=location_id,
            body={
                "country_code": country,
                "party_id": party_code,
                "id": location_id,
                "publish": True,
                "name": building.name,
                "address": street,
                "city": "Kemi",
                "postal_code": "94600",
                "country": "FIN",
                "coordinates": {
                    "latitude": f"{building.latitude:.6f}",
                    "longitude": f"{building.longitude:.6f}",
                },
                "time_zone": "Europe/Helsinki",
                "evses": evses,
                "last_updated": since.isoformat(),
            },
            now=since,
        )
    for code, building_code, title, note, kw, connectors, lifecycle, mapping in CHARGERS:
        session.add(
            Charger(
                building_id=_id(buildings[building_code]),
                code=code,
                name=title,
                location_note=note,
                power_kw=kw,
                connectors=connectors,
                operator=name,
                ocpi_party_ref_id=party.id if mapping else None,
                ocpi_location_id=mapping[0] if mapping else "",
                ocpi_evse_uid=mapping[1] if mapping else "",
                lifecycle=ChargerLifecycle(lifecycle),
                request_id=ev_request.id if building_code == "SENSORI" else None,
            )
        )
    tenants = {t.name: t for t in session.exec(select(Tenant)).all()}
    for company, building_code, vehicles, km, when in DEMAND:
        session.add(
            ChargingInterest(
                tenant_id=_id(tenants[company]),
                building_id=_id(buildings[building_code]),
                vehicles=vehicles,
                daily_km=km,
                charging_time=when,
                updated_at=now - timedelta(days=20),
            )
        )
    session.flush()
    attach_to_request(
        session,
        actor=users["huolto@digipolis.example"],
        building=buildings["SENSORI"],
        service_request=ev_request,
    )
    # SEN-4 has been out of order for three hours: its fault opened itself, and a driver
    # reported it from the QR code too.
    sync_faults(session, now)
    fast = session.exec(select(Charger).where(Charger.code == "SEN-4")).one()
    submit_report(
        session,
        charger=fast,
        data=FaultReportCreate(
            problem=FaultProblem.will_not_start,
            details="Näytössä lukee 'Error 42', maksu ei käynnisty.",
        ),
        language="fi",
        photo=None,
        storage=None,
        now=now - timedelta(minutes=40),
    )
    session.flush()


class DemoOperator:
    """Every run, one charger of the demo operator changes status, as drivers come and go,
    sent as an OCPI PATCH to the app's own receiver. SEN-4 stays broken: its fault is the
    demo's open one."""

    NEXT = {
        "AVAILABLE": ["CHARGING", "CHARGING", "RESERVED"],
        "CHARGING": ["AVAILABLE", "AVAILABLE", "CHARGING"],
        "RESERVED": ["CHARGING", "AVAILABLE"],
        "BLOCKED": ["AVAILABLE"],
    }

    def __init__(self, *, base_url: str, token: str, seed: int | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.random = random.Random(seed)

    def __call__(self, session: Session, now: datetime) -> int:
        rows = session.exec(
            select(OcpiEvse.uid, OcpiEvse.status, col(OcpiEvse.location_ref_id))
            .join(Charger, col(Charger.ocpi_evse_uid) == OcpiEvse.uid)
            .where(col(OcpiEvse.status).in_(list(self.NEXT)))
        ).all()
        if not rows:
            return 0
        uid, status, _location_ref = self.random.choice(rows)
        location_id = next(loc for loc, _ in LOCATIONS.items() if self._has(session, loc, uid))
        new_status = self.random.choice(self.NEXT[EvseStatus(status).value])
        _, country, party_code = OPERATOR
        try:
            response = httpx.patch(
                f"{self.base_url}/ocpi/2.2.1/locations/{country}/{party_code}/{location_id}/{uid}",
                json={"status": new_status, "last_updated": now.isoformat()},
                headers={
                    "Authorization": "Token " + base64.b64encode(self.token.encode()).decode()
                },
                timeout=10,
            )
        except httpx.ConnectError:
            log.info("demo operator: the app is not listening yet")
            return 0
        response.raise_for_status()
        log.info("demo operator: EVSE %s %s -> %s", uid, status, new_status)
        return 1

    @staticmethod
    def _has(session: Session, location_id: str, uid: str) -> bool:
        return (
            session.exec(
                select(Charger.id).where(
                    Charger.ocpi_location_id == location_id, Charger.ocpi_evse_uid == uid
                )
            ).first()
            is not None
        )


def demo_operator_job(*, base_url: str, token: str) -> Job:
    return Job(
        id="demo-ocpi-operator",
        function=DemoOperator(base_url=base_url, token=token),
        interval_seconds=20,
    )
