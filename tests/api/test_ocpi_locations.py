"""The OCPI 2.2.1 Locations receiver, fed the specification's own example bodies."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from facilities.charging import ocpi
from facilities.charging.models import EvseStatus, OcpiEvse
from tests.conftest import skip_or_fail

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "specs" / "ocpi-2.2.1"
TOKEN = "ebf3b399-779f-4497-9b9d-ac6ad3cc44d2"
BASE = "/ocpi/2.2.1/locations/BE/BEC/LOC1"


def example(name: str) -> dict:
    path = SPECS / name
    if not path.exists():
        skip_or_fail(f"the OCPI examples are not at {SPECS}")  # fails under CI=true
    return json.loads(path.read_text())


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


@pytest.fixture
def operator(db):
    party, _token = ocpi.add_party(
        db, name="Example Operator", country_code="BE", party_id="BEC", token=TOKEN
    )
    db.commit()
    return party


def _ok(response, *, http_status: int = 200, status_code: int = 1000) -> dict:
    body = response.get_json()
    assert response.status_code == http_status, body
    assert body["status_code"] == status_code, body
    assert body["timestamp"].endswith("Z")
    return body


def test_versions_and_their_details(client, operator):
    versions = _ok(client.get("/ocpi/versions", headers=auth()))["data"]
    assert set(versions[0]) == set(example("versions_info_example.json")[0])  # version, url
    assert versions[0]["version"] == "2.2.1"
    details = _ok(client.get("/ocpi/2.2.1", headers=auth()))["data"]
    assert set(details) == set(example("version_details_example.json"))
    (locations,) = [e for e in details["endpoints"] if e["identifier"] == "locations"]
    assert locations["role"] == "RECEIVER" and locations["url"].endswith("/ocpi/2.2.1/locations/")


@pytest.mark.parametrize(
    "headers",
    [{}, auth("not-the-token"), {"Authorization": f"Bearer {TOKEN}"}, {"Authorization": "Token "}],
)
def test_a_missing_or_wrong_token_is_401_in_the_envelope(client, operator, headers):
    _ok(client.get("/ocpi/versions", headers=headers), http_status=401, status_code=2000)
    _ok(
        client.put(BASE, json=example("location_example.json"), headers=headers),
        http_status=401,
        status_code=2000,
    )


def test_a_plain_token_as_ocpi_2_1_1_sends_it_is_accepted(client, operator):
    _ok(client.get("/ocpi/versions", headers={"Authorization": f"Token {TOKEN}"}))


def test_the_location_example_is_stored_and_read_back(client, operator):
    location = example("location_example.json")
    _ok(client.put(BASE, json=location, headers=auth()))
    stored = _ok(client.get(BASE, headers=auth()))["data"]
    assert stored == location
    evse = _ok(client.get(f"{BASE}/3256", headers=auth()))["data"]
    assert evse["evse_id"] == "BE*BEC*E041503001" and evse["status"] == "AVAILABLE"
    connector = _ok(client.get(f"{BASE}/3256/2", headers=auth()))["data"]
    assert connector["format"] == "SOCKET"


def test_an_evse_put_a_status_patch_and_a_removal(client, db, operator):
    _ok(client.put(BASE, json=example("location_example.json"), headers=auth()))
    _ok(
        client.put(
            f"{BASE}/3256", json=example("location_put_example_add_evse.json"), headers=auth()
        )
    )
    assert _ok(client.get(f"{BASE}/3256", headers=auth()))["data"]["evse_id"] == "BE*BEC*E041503003"

    _ok(
        client.patch(
            f"{BASE}/3256", json=example("location_patch_example_status.json"), headers=auth()
        )
    )
    assert _ok(client.get(f"{BASE}/3256", headers=auth()))["data"]["status"] == "CHARGING"
    assert (
        db.exec(__import__("sqlmodel").select(OcpiEvse).where(OcpiEvse.uid == "3256")).one().status
        is EvseStatus.CHARGING
    )

    _ok(
        client.patch(
            f"{BASE}/3257", json=example("location_patch_example_remove_evse.json"), headers=auth()
        )
    )
    assert _ok(client.get(f"{BASE}/3257", headers=auth()))["data"]["status"] == "REMOVED"


def test_a_location_patch_changes_its_name(client, operator):
    _ok(client.put(BASE, json=example("location_example.json"), headers=auth()))
    _ok(client.patch(BASE, json=example("location_patch_example_location.json"), headers=auth()))
    stored = _ok(client.get(BASE, headers=auth()))["data"]
    assert stored["name"] == "Interparking Gent Zuid" and len(stored["evses"]) == 2


def test_an_older_update_never_overwrites_a_newer_status(client, operator):
    _ok(client.put(BASE, json=example("location_example.json"), headers=auth()))
    _ok(
        client.patch(
            f"{BASE}/3256", json=example("location_patch_example_status.json"), headers=auth()
        )
    )
    stale = {"status": "OUTOFORDER", "last_updated": "2019-06-24T12:00:00Z"}  # before CHARGING
    answer = _ok(client.patch(f"{BASE}/3256", json=stale, headers=auth()))
    assert "not applied" in answer["status_message"]
    assert _ok(client.get(f"{BASE}/3256", headers=auth()))["data"]["status"] == "CHARGING"


def test_refusals_come_in_the_envelope(client, operator):
    _ok(client.get(BASE, headers=auth()), http_status=404, status_code=2003)
    _ok(
        client.put(
            "/ocpi/2.2.1/locations/NL/EXA/LOC1",
            json=example("location_example.json"),
            headers=auth(),
        ),
        http_status=403,
        status_code=2001,
    )
    broken = client.put(BASE, data="{not json", content_type="application/json", headers=auth())
    _ok(broken, http_status=400, status_code=2001)
    no_time = {
        k: v
        for k, v in example("location_patch_example_status.json").items()
        if k != "last_updated"
    }
    _ok(client.put(BASE, json=example("location_example.json"), headers=auth()))
    _ok(
        client.patch(f"{BASE}/3256", json=no_time, headers=auth()),
        http_status=400,
        status_code=2001,
    )
    _ok(
        client.patch(
            f"{BASE}/3256",
            json={"status": "ON_FIRE", "last_updated": "2030-01-01T00:00:00Z"},
            headers=auth(),
        ),
        http_status=400,
        status_code=2001,
    )
