"""The Charging pages read stored statuses, refresh themselves, and keep companies private."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from facilities.charging.demand import PUBLIC_MINIMUM_COMPANIES
from facilities.charging.models import Charger, ChargerLifecycle, ChargingInterest
from facilities.core.db import get_engine
from facilities.core.models import AuditEvent, utcnow
from facilities.park.models import Building
from tests import factories
from tests.charging.helpers import mapped_charger, push_status
from tests.conftest import count_queries, csrf_token, sign_in

# their bodies' last_updated times are of late 2026: not in the future on any day
pytestmark = pytest.mark.usefixtures("operators_clock")


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_charging_page_shows_each_status_with_its_time(app, client, db):
    now = utcnow().replace(microsecond=0)
    charger = mapped_charger(db, status="CHARGING", at=now)
    page = _text(client.get("/charging", headers={"Accept-Language": "en"}))
    client.get("/language/en")
    page = _text(client.get("/charging"))
    assert charger.code in page and "Charging" in page and "As of" in page
    # without JavaScript the page has it all; with htmx the fragment polls its own URL
    fragment = _text(client.get("/charging", headers={"HX-Request": "true"}))
    assert "<html" not in fragment and charger.code in fragment
    assert re.search(r'hx-get="/charging"[^>]*hx-trigger="every 30s"', fragment)
    assert 'hx-target="this"' in fragment

    push_status(db, "OUTOFORDER", utcnow())
    assert "Out of order" in _text(client.get("/charging"))


def test_a_status_not_heard_of_for_too_long_is_unknown(app, client, db):
    from datetime import timedelta

    long_ago = utcnow() - timedelta(minutes=95)
    charger = mapped_charger(db, status="AVAILABLE", at=long_ago)
    client.get("/language/en")
    page = _text(client.get(f"/charging/{charger.code}"))
    assert "Status unknown" in page and "No data for 95 minutes" in page
    assert "Available" not in page


def test_planned_chargers_show_their_public_target(app, client, db):
    staff = factories.staff(db)
    item = factories.service_request(db, title="EV charging points outside Sensori")
    factories.triage(db, item, actor=staff, to="planned", target_quarter="2027-Q2")
    charger = factories.charger(db, lifecycle=ChargerLifecycle.planned, request_id=item.id)
    db.commit()
    client.get("/language/en")
    page = _text(client.get("/charging"))
    assert "Planned" in page and "Q2/2027" in page and item.reference in page
    request_page = _text(client.get(f"/requests/{item.reference}"))
    assert f"/charging/{charger.code}" in request_page  # the request lists its chargers


def test_the_building_page_has_its_chargers_and_open_requests(app, client, db):
    building = factories.building(db, name="Sensori")
    charger = factories.charger(db, building_id=building.id)
    other = factories.charger(db)
    item = factories.service_request(db, building_id=building.id, title="Bike shelter roof leaks")
    db.commit()
    page = _text(client.get(f"/buildings/{building.code.lower()}"))
    assert charger.code in page and other.code not in page and item.title in page
    assert client.get("/buildings/NOWHERE").status_code == 404


def _interest(db, building, vehicles):
    tenant = factories.tenant(db)
    db.add(ChargingInterest(tenant_id=tenant.id, building_id=building.id, vehicles=vehicles))
    return tenant


def test_demand_totals_never_reveal_a_company(app, client, db):
    building = factories.building(db, name="Tutkimus")
    factories.charger(db, building_id=building.id)
    tenants = [_interest(db, building, 4) for _ in range(PUBLIC_MINIMUM_COMPANIES - 1)]
    db.commit()
    client.get("/language/en")
    for path in ("/charging", f"/buildings/{building.code}"):
        page = _text(client.get(path))
        assert "Demand:" not in page  # two companies: their numbers would tell too much
        assert not any(tenant.name in page for tenant in tenants)

    tenants.append(_interest(db, building, 5))
    db.commit()
    for path in ("/charging", f"/buildings/{building.code}"):
        page = _text(client.get(path))
        assert "Demand: 13 vehicles" in page and "3 companies" in page
        assert not any(tenant.name in page for tenant in tenants)

    staff = factories.staff(db)
    db.commit()
    sign_in(client, staff.email)
    staff_page = _text(client.get("/staff/charging/demand"))
    assert all(tenant.name in staff_page for tenant in tenants)


def test_a_member_records_and_withdraws_the_company_need(app, client, db, signed_in):
    member = signed_in()
    building = factories.building(db)
    db.commit()
    token = csrf_token(client, "/tenant/charging")
    bad = client.post(
        "/tenant/charging",
        data={
            "csrf_token": token,
            "building_id": str(building.id),
            "vehicles": "0",
            "daily_km": "40",
        },
    )
    assert bad.status_code == 422 and 'value="40"' in bad.get_data(as_text=True)
    for vehicles in ("3", "5"):  # the second replaces the first
        saved = client.post(
            "/tenant/charging",
            data={
                "csrf_token": token,
                "building_id": str(building.id),
                "vehicles": vehicles,
                "daily_km": "60",
                "charging_time": "overnight",
            },
        )
        assert saved.status_code == 302
    [interest] = db.exec(select(ChargingInterest)).all()
    assert (interest.tenant_id, interest.vehicles) == (member.tenant_id, 5)
    assert (
        client.post(
            f"/tenant/charging/{interest.id}/withdraw", data={"csrf_token": token}
        ).status_code
        == 302
    )
    db.expire_all()
    assert db.exec(select(ChargingInterest)).all() == []


def test_staff_add_and_change_a_charger_audited(app, client, db, signed_in):
    from facilities.accounts.models import Role

    signed_in(Role.staff, preferred_language="en")
    building = factories.building(db)
    item = factories.service_request(db)
    db.commit()
    token = csrf_token(client, "/staff/chargers/new")
    form = {
        "csrf_token": token,
        "code": "sen-3",
        "name": "Sensori east 3",
        "building_id": str(building.id),
        "power_kw": "22",
        "connectors": ["IEC_62196_T2", "CHADEMO"],
        "lifecycle": "planned",
        "request_reference": item.reference,
        "ocpi_location_id": "LOC1",
        "ocpi_evse_uid": "",
    }
    refused = client.post("/staff/chargers/new", data=form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'value="Sensori east 3"' in page
    assert "Give both the OCPI location id and the EVSE uid" in page
    assert (
        client.post("/staff/chargers/new", data={**form, "ocpi_location_id": ""}).status_code == 302
    )
    charger = db.exec(select(Charger)).one()
    assert (charger.code, charger.request_id, charger.connectors) == (
        "SEN-3",
        item.id,
        ["IEC_62196_T2", "CHADEMO"],
    )
    changed = client.post(
        "/staff/chargers/SEN-3", data={**form, "ocpi_location_id": "", "lifecycle": "operational"}
    )
    assert changed.status_code == 302
    actions = db.exec(select(AuditEvent.action).where(AuditEvent.entity == "charger")).all()
    assert actions == ["charger.added", "charger.changed"]
    assert (
        client.post("/staff/chargers/new", data={**form, "ocpi_location_id": ""}).status_code == 422
    )


def test_an_evse_nobody_mapped_is_kept_for_staff_to_map(app, client, db, signed_in):
    from facilities.accounts.models import Role

    charger = mapped_charger(db)
    loose = factories.charger(db, building_id=charger.building_id)
    from facilities.charging import ocpi
    from facilities.charging.models import OcpiParty
    from tests.charging.helpers import T0, evse_body

    party = db.exec(select(OcpiParty)).one()
    ocpi.put_evse(
        db, party=party, location_id="LOC1", evse_uid="2", body=evse_body("2", "AVAILABLE", T0)
    )
    db.commit()
    signed_in(Role.staff)
    page = _text(client.get("/staff/chargers"))
    assert 'name="evse_uid" value="2"' in page and 'name="evse_uid" value="1"' not in page
    token = csrf_token(client, "/staff/chargers")
    mapped = client.post(
        "/staff/chargers/map",
        data={"csrf_token": token, "charger": loose.code, "location_id": "LOC1", "evse_uid": "2"},
    )
    assert mapped.status_code == 302
    db.expire_all()
    assert db.get(Charger, loose.id).ocpi_evse_uid == "2"
    assert 'name="evse_uid" value="2"' not in _text(client.get("/staff/chargers"))


def test_the_charging_page_costs_the_same_queries_for_1_and_20_chargers(app, client, db):
    building = factories.building(db)
    factories.charger(db, building_id=building.id)
    db.commit()

    def queries() -> int:
        with count_queries(get_engine(app)) as statements:
            _text(client.get("/charging"))
        return len(statements)

    few = queries()
    for _ in range(19):
        factories.charger(db, building_id=factories.building(db).id)
    db.commit()
    assert queries() == few
    assert db.exec(select(Building)).all()


def test_a_fault_request_names_its_charger_for_the_public_and_staff(app, client, db):
    from facilities.accounts.models import Role
    from facilities.charging.faults import sync_faults
    from facilities.charging.models import ChargerFault
    from tests.charging.helpers import minutes

    charger = mapped_charger(db)
    push_status(db, "OUTOFORDER", minutes(1))
    sync_faults(db, minutes(20))
    db.commit()
    fault = db.exec(select(ChargerFault)).one()
    from facilities.requests.models import ServiceRequest

    reference = db.get(ServiceRequest, fault.request_id).reference
    assert f'href="/charging/{charger.code}"' in _text(client.get(f"/requests/{reference}"))
    staff = factories.user(db, role=Role.staff)
    db.commit()
    sign_in(client, staff.email)
    staff_page = _text(client.get(f"/staff/requests/{reference}"))
    assert f'href="/staff/chargers/{charger.code}"' in staff_page


def test_staff_map_a_charger_to_one_operators_evse_when_two_sent_the_same_ids(
    app, client, db, signed_in
):
    from datetime import timedelta

    from facilities.accounts.models import Role
    from facilities.charging import ocpi
    from facilities.charging.models import EvseStatus
    from facilities.charging.status import charger_states
    from tests.charging.fake_operator import location

    klo, _ = ocpi.add_party(db, name="Kemin Lataus", country_code="FI", party_id="KLO")
    prb, _ = ocpi.add_party(db, name="Pohjolan Reitti", country_code="FI", party_id="PRB")
    ocpi.put_location(db, party=klo, location_id="LOC1", body=location(1, "2026-11-29T10:00:00Z"))
    newer = location(1, "2026-11-30T10:00:00Z", status="OUTOFORDER", party_id="PRB")
    ocpi.put_location(db, party=prb, location_id="LOC1", body=newer)
    building = factories.building(db)
    db.commit()
    signed_in(Role.staff, preferred_language="en")
    token = csrf_token(client, "/staff/chargers/new")
    form = {
        "csrf_token": token,
        "code": "SEN-9",
        "name": "Sensori 9",
        "building_id": str(building.id),
        "power_kw": "22",
        "connectors": ["IEC_62196_T2"],
        "lifecycle": "operational",
        "ocpi_location_id": "LOC1",
        "ocpi_evse_uid": "1-1",
        "ocpi_party_ref_id": "",
    }
    refused = client.post("/staff/chargers/new", data=form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Choose the operator: none or several have sent this EVSE." in page
    assert f'<option value="{klo.id}">Kemin Lataus (FI/KLO)</option>' in page

    saved = client.post("/staff/chargers/new", data={**form, "ocpi_party_ref_id": str(klo.id)})
    assert saved.status_code == 302
    charger = db.exec(select(Charger).where(Charger.code == "SEN-9")).one()
    assert charger.ocpi_party_ref_id == klo.id
    (state,) = charger_states(db, stale_after=timedelta(days=3650), charger_id=charger.id)
    assert state.evse is not None and state.evse.status is EvseStatus.AVAILABLE  # KLO's

    # PRB's EVSE 1-1 stays unmapped, offered with its own party; KLO's is mapped.
    page = _text(client.get("/staff/chargers"))
    assert page.count('name="evse_uid" value="1-1"') == 1
    assert f'name="party_id" value="{prb.id}"' in page
