"""The OCPI 2.2.1 Locations receiver, fed the specification's own example bodies."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlmodel import select

from facilities.charging import ocpi
from facilities.charging.models import EvseStatus, OcpiEvse, OcpiLocation, OcpiParty
from tests.conftest import skip_or_fail

# their bodies' last_updated times are of late 2026: not in the future on any day
pytestmark = pytest.mark.usefixtures("operators_clock")

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


def registered(db, *, country_code: str, party_id: str, token: str) -> OcpiParty:
    """A party as the credentials exchange leaves it: `token` is its token C."""
    party, _token = ocpi.add_party(
        db, name=f"Operator {party_id}", country_code=country_code, party_id=party_id, token=token
    )
    party.registered = True
    party.roles = [{"role": "CPO", "country_code": country_code, "party_id": party_id}]
    db.commit()
    return party


@pytest.fixture
def operator(db):
    return registered(db, country_code="BE", party_id="BEC", token=TOKEN)


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


def test_ids_are_case_insensitive_as_cistring_says(client, db, operator):
    """Location ids, EVSE uids and connector ids are CiString(36) (types.asciidoc)."""
    location = {**example("location_example.json"), "id": "Loc-Kemi"}
    upper = BASE.rsplit("/", 1)[0] + "/LOC-KEMI"
    lower = BASE.rsplit("/", 1)[0].lower() + "/loc-kemi"
    _ok(client.put(upper.replace("LOC-KEMI", "Loc-Kemi"), json=location, headers=auth()))
    assert _ok(client.get(upper, headers=auth()))["data"]["id"] == "Loc-Kemi"
    assert _ok(client.get(lower, headers=auth()))["data"]["id"] == "Loc-Kemi"  # as first sent
    evse = location["evses"][0]
    assert _ok(client.get(f"{upper}/{evse['uid']}/2", headers=auth()))["data"]["id"] == "2"
    renamed = {**location, "id": "LOC-KEMI", "name": "Sensori, piha"}
    renamed["last_updated"] = "2026-12-01T10:00:00Z"
    _ok(client.put(upper, json=renamed, headers=auth()))  # the same location, not a second
    assert _ok(client.get(lower, headers=auth()))["data"]["name"] == "Sensori, piha"
    assert len(db.exec(select(OcpiLocation)).all()) == 1


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
    unknown_status = _ok(
        client.patch(
            f"{BASE}/3256",
            json={"status": "ON_FIRE", "last_updated": "2026-12-01T00:00:00Z"},
            headers=auth(),
        ),
        http_status=400,
        status_code=2001,
    )
    assert "status" in unknown_status["status_message"]


# --- one operator's objects are its own ------------------------------------------------

KLO_TOKEN, PRB_TOKEN = "token-c-of-kemin-lataus", "token-c-of-pohjolan-reitti"


def test_another_operator_cannot_change_a_charger_mapped_to_ones_evse(app, client, db):
    from facilities.charging.status import charger_states, unmapped_evses
    from tests import factories
    from tests.charging.fake_operator import location

    klo = registered(db, country_code="FI", party_id="KLO", token=KLO_TOKEN)
    prb = registered(db, country_code="FI", party_id="PRB", token=PRB_TOKEN)
    _ok(client.put(KLO_LOC1, json=location(1, "2026-11-29T10:00:00Z"), headers=auth(KLO_TOKEN)))
    charger = factories.charger(
        db, ocpi_party_ref_id=klo.id, ocpi_location_id="LOC1", ocpi_evse_uid="1-1"
    )
    db.commit()

    # PRB sends its own location under KLO's ids: stored as PRB's, KLO's charger unmoved.
    impostor = location(1, "2026-12-01T10:00:00Z", status="OUTOFORDER", party_id="PRB")
    _ok(client.put("/ocpi/2.2.1/locations/FI/PRB/LOC1", json=impostor, headers=auth(PRB_TOKEN)))
    _ok(
        client.patch(
            "/ocpi/2.2.1/locations/FI/PRB/LOC1/1-1",
            json={"status": "INOPERATIVE", "last_updated": "2026-12-02T10:00:00Z"},
            headers=auth(PRB_TOKEN),
        )
    )
    # Nor can it name KLO, in the address or in the body.
    _ok(
        client.put(KLO_LOC1, json=impostor | {"party_id": "KLO"}, headers=auth(PRB_TOKEN)),
        http_status=403,
        status_code=2001,
    )
    _ok(
        client.patch(f"{KLO_LOC1}/1-1", json=_status_patch("BLOCKED"), headers=auth(PRB_TOKEN)),
        http_status=403,
        status_code=2001,
    )
    own_address_their_body = location(2, "2026-12-01T10:00:00Z", party_id="KLO")
    _ok(
        client.put(
            "/ocpi/2.2.1/locations/FI/PRB/LOC2",
            json=own_address_their_body,
            headers=auth(PRB_TOKEN),
        ),
        http_status=400,
        status_code=2001,
    )
    _ok(
        client.get("/ocpi/2.2.1/locations/FI/PRB/LOC2", headers=auth(PRB_TOKEN)),
        http_status=404,
        status_code=2003,
    )

    db.expire_all()
    from datetime import timedelta

    (state,) = charger_states(db, stale_after=timedelta(days=3650), charger_id=charger.id)
    assert state.evse is not None and state.evse.status is EvseStatus.AVAILABLE
    assert _ok(client.get(f"{KLO_LOC1}/1-1", headers=auth(KLO_TOKEN)))["data"]["status"] == (
        "AVAILABLE"
    )
    # PRB's own EVSE is there for staff to map, as PRB's.
    assert {(p.party_id, e.uid, e.status) for e, _l, p in unmapped_evses(db)} >= {
        ("PRB", "1-1", EvseStatus.INOPERATIVE)
    }
    assert prb.id != klo.id


KLO_LOC1 = "/ocpi/2.2.1/locations/FI/KLO/LOC1"


def _status_patch(status: str, last_updated: str = "2026-12-01T10:00:00Z") -> dict:
    return {"status": status, "last_updated": last_updated}


def test_the_body_must_name_the_owner_and_ids_of_the_address(client, operator):
    location = example("location_example.json")
    for change in ({"country_code": "NL"}, {"party_id": "EXA"}, {"id": "LOC2"}):
        _ok(
            client.put(BASE, json=location | change, headers=auth()),
            http_status=400,
            status_code=2001,
        )
    _ok(client.get(BASE, headers=auth()), http_status=404, status_code=2003)  # nothing stored

    _ok(client.put(BASE, json=location, headers=auth()))
    evse = example("location_put_example_add_evse.json")
    _ok(client.put(f"{BASE}/3257", json=evse, headers=auth()), http_status=400, status_code=2001)
    connector = location["evses"][0]["connectors"][0]
    _ok(
        client.put(f"{BASE}/3256/2", json=connector, headers=auth()),
        http_status=400,
        status_code=2001,
    )
    _ok(
        client.patch(
            BASE, json={"party_id": "XYZ", "last_updated": "2019-06-24T12:39:09Z"}, headers=auth()
        ),
        http_status=400,
        status_code=2001,
    )
    assert _ok(client.get(BASE, headers=auth()))["data"] == location


# --- last_updated ----------------------------------------------------------------------


def test_a_last_updated_in_the_future_is_refused(client, operator):
    from datetime import timedelta

    from facilities.core.models import utcnow

    def ahead(minutes: float) -> str:
        return (utcnow() + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")

    location = example("location_example.json")
    refused = client.put(
        BASE, json=location | {"last_updated": ahead(60 * 24 * 365)}, headers=auth()
    )
    assert "future" in _ok(refused, http_status=400, status_code=2001)["status_message"]
    _ok(client.put(BASE, json=location, headers=auth()))

    far = _status_patch("OUTOFORDER", ahead(10))
    _ok(client.patch(f"{BASE}/3256", json=far, headers=auth()), http_status=400, status_code=2001)
    evse = example("location_put_example_add_evse.json") | {"last_updated": ahead(10)}
    _ok(client.put(f"{BASE}/3256", json=evse, headers=auth()), http_status=400, status_code=2001)
    assert _ok(client.get(f"{BASE}/3256", headers=auth()))["data"]["status"] == "AVAILABLE"

    # A clock a little ahead is fine, and an honest update after it still wins.
    _ok(client.patch(f"{BASE}/3256", json=_status_patch("CHARGING", ahead(3)), headers=auth()))
    assert _ok(client.get(f"{BASE}/3256", headers=auth()))["data"]["status"] == "CHARGING"


def test_an_evse_or_connector_update_sets_its_parents_last_updated(client, operator):
    location = example("location_example.json")
    _ok(client.put(BASE, json=location, headers=auth()))
    evse = example("location_put_example_add_evse.json")
    _ok(client.put(f"{BASE}/3256", json=evse, headers=auth()))
    assert _ok(client.get(BASE, headers=auth()))["data"]["last_updated"] == evse["last_updated"]

    connector = {**location["evses"][1]["connectors"][0], "last_updated": "2020-01-02T03:04:05Z"}
    _ok(client.put(f"{BASE}/3257/1", json=connector, headers=auth()))
    assert _ok(client.get(f"{BASE}/3257", headers=auth()))["data"]["last_updated"] == (
        "2020-01-02T03:04:05Z"
    )
    assert _ok(client.get(BASE, headers=auth()))["data"]["last_updated"] == "2020-01-02T03:04:05Z"

    tariff = {"tariff_ids": ["15"], "last_updated": "2021-01-02T03:04:05Z"}
    _ok(client.patch(f"{BASE}/3257/1", json=tariff, headers=auth()))
    status = example("location_patch_example_status.json")  # 2019: older than the connector
    answer = _ok(client.patch(f"{BASE}/3257", json=status, headers=auth()))
    assert "not applied" in answer["status_message"]
    stored = _ok(client.get(BASE, headers=auth()))["data"]
    assert stored["last_updated"] == "2021-01-02T03:04:05Z"
    assert stored["evses"][1]["last_updated"] == "2021-01-02T03:04:05Z"
    assert stored["evses"][1]["connectors"][0]["tariff_ids"] == ["15"]


# --- caps, hostile bodies and bulk writes ----------------------------------------------


def _evses(count: int, *, status: str = "AVAILABLE", last_updated: str = "2026-11-29T10:00:00Z"):
    template = example("location_example.json")["evses"][0]
    return [
        {**template, "uid": f"E{n}", "status": status, "last_updated": last_updated}
        for n in range(count)
    ]


def test_a_location_with_more_evses_or_connectors_than_the_caps_is_refused(client, operator):
    location = example("location_example.json")
    many = location | {"evses": _evses(ocpi.MAX_EVSES + 1)}
    answer = _ok(client.put(BASE, json=many, headers=auth()), http_status=400, status_code=2001)
    assert f"at most {ocpi.MAX_EVSES} EVSEs" in answer["status_message"]
    (evse,) = _evses(1)
    connectors = [{**evse["connectors"][0], "id": str(n)} for n in range(ocpi.MAX_CONNECTORS + 1)]
    crowded = location | {"evses": [evse | {"connectors": connectors}]}
    answer = _ok(client.put(BASE, json=crowded, headers=auth()), http_status=400, status_code=2001)
    assert f"at most {ocpi.MAX_CONNECTORS} connectors" in answer["status_message"]
    _ok(client.get(BASE, headers=auth()), http_status=404, status_code=2003)


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"id": "LOC1", "name": "' + b"[" * 50 + b'", "x": ' + b"[" * 25 + b"]" * 25 + b"}",
    ],
    ids=["deep-list", "deep-object", "deep-after-a-string-of-brackets"],
)
def test_deeply_nested_json_is_refused_in_the_envelope(client, operator, raw):
    answer = client.put(BASE, data=raw, content_type="application/json", headers=auth())
    assert "nests deeper" in _ok(answer, http_status=400, status_code=2001)["status_message"]


@pytest.mark.parametrize(
    "raw",
    [b'"\\' * 300_000, b'"' + b"[" * 300_000, b'["a' * 300_000],
    ids=["escapes-without-end", "unterminated-string", "strings-without-ends"],
)
def test_hostile_bodies_are_read_in_one_pass_and_refused(client, operator, raw):
    answer = client.put(BASE, data=raw, content_type="application/json", headers=auth())
    _ok(answer, http_status=400, status_code=2001)


def test_nul_and_control_characters_in_ids_are_refused(client, operator):
    location = example("location_example.json")
    with_nul = location | {"evses": [location["evses"][0] | {"uid": "32\x0056"}]}
    _ok(client.put(BASE, json=with_nul, headers=auth()), http_status=400, status_code=2001)
    with_tab = location | {"evses": [location["evses"][0] | {"uid": "32\t56"}]}
    _ok(client.put(BASE, json=with_tab, headers=auth()), http_status=400, status_code=2001)
    nul_name = location | {"name": "Gent\x00Zuid"}
    _ok(client.put(BASE, json=nul_name, headers=auth()), http_status=400, status_code=2001)
    _ok(client.put(BASE, json=location, headers=auth()))
    for address in (f"{BASE}/32%0056", f"{BASE}/3256/1%01", "/ocpi/2.2.1/locations/BE/BEC/L%00C1"):
        body = location["evses"][0]
        _ok(client.put(address, json=body, headers=auth()), http_status=400, status_code=2001)
        _ok(client.get(address, headers=auth()), http_status=400, status_code=2001)


def test_the_largest_location_is_written_in_a_fixed_number_of_statements(app, client, operator):
    from facilities.core.db import get_engine
    from tests.conftest import count_queries

    def statements(evses: list[dict], location_id: str) -> int:
        body = example("location_example.json") | {"id": location_id, "evses": evses}
        with count_queries(get_engine(app)) as seen:
            _ok(
                client.put(f"/ocpi/2.2.1/locations/BE/BEC/{location_id}", json=body, headers=auth())
            )
        return len(seen)

    few = statements(_evses(2), "SMALL")
    assert statements(_evses(ocpi.MAX_EVSES), "LARGE") == few  # all new
    updated = _evses(ocpi.MAX_EVSES, status="CHARGING", last_updated="2026-11-30T10:00:00Z")
    updated[0]["status"] = "AVAILABLE"  # some change status, some do not
    assert statements(updated, "LARGE") <= few + 1
    stored = _ok(client.get("/ocpi/2.2.1/locations/BE/BEC/LARGE", headers=auth()))["data"]
    assert len(stored["evses"]) == ocpi.MAX_EVSES
    assert stored["evses"][-1]["status"] == "CHARGING"


# --- transport: request ids, the envelope for every error ------------------------------


def _raw_exchange(base_url: str, request: bytes) -> tuple[bytes, bytes]:
    """Send bytes to our server and return the response's head and body as they came."""
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return head, body


def test_request_and_correlation_ids_come_back_on_the_wire(app, operator):
    from tests.charging.fake_operator import served

    body = json.dumps(example("location_example.json")).encode()
    token = auth()["Authorization"]
    with served(app) as base_url:
        ok_head, ok_body = _raw_exchange(
            base_url,
            b"PUT /ocpi/2.2.1/locations/BE/BEC/LOC1 HTTP/1.1\r\nHost: test\r\n"
            + f"Authorization: {token}\r\n".encode()
            + b"X-Request-ID: 1234-request\r\nX-Correlation-ID: 5678-correlation\r\n"
            + b"Content-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body,
        )
        refused_head, _ = _raw_exchange(
            base_url,
            b"DELETE /ocpi/2.2.1/locations/BE/BEC/LOC1 HTTP/1.1\r\nHost: test\r\n"
            b"X-Request-ID: 9-delete\r\nX-Correlation-ID: 9-correlation\r\nConnection: close\r\n\r\n",
        )
        unnamed_head, _ = _raw_exchange(
            base_url, b"GET /ocpi/versions HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
        )
    assert ok_head.startswith(b"HTTP/1.1 200")
    assert b"\r\nX-Request-ID: 1234-request" in ok_head
    assert b"\r\nX-Correlation-ID: 5678-correlation" in ok_head
    assert json.loads(ok_body)["status_code"] == 1000
    assert (
        refused_head.startswith(b"HTTP/1.1 405") and b"\r\nX-Request-ID: 9-delete" in refused_head
    )
    assert b"\r\nX-Correlation-ID: 9-correlation" in refused_head
    assert b"\r\nX-Request-ID: " in unnamed_head and b"\r\nX-Correlation-ID: " in unnamed_head


@pytest.mark.parametrize(
    ("method", "path", "http_status"),
    [
        ("DELETE", BASE, 405),
        ("DELETE", f"{BASE}/3256", 405),
        ("POST", BASE, 405),
        ("DELETE", "/ocpi/versions", 405),
        ("GET", "/ocpi/2.2.1/tariffs/BE/BEC/T1", 404),
        ("GET", "/ocpi/2.1.1", 404),
    ],
)
def test_methods_and_paths_we_do_not_serve_answer_the_envelope(
    client, operator, method, path, http_status
):
    response = client.open(path, method=method, headers=auth() | {"X-Request-ID": "r-1"})
    assert response.mimetype == "application/json" and b"<html" not in response.data.lower()
    body = _ok(response, http_status=http_status, status_code=2000)
    assert set(body) == {"status_code", "status_message", "timestamp"}
    assert response.headers["X-Request-ID"] == "r-1"
    if http_status == 405:
        assert "GET" in response.headers["Allow"] and method not in response.headers["Allow"]


def test_a_database_outage_answers_the_envelope_with_503(app, client, operator):
    from facilities.core.db import ENGINE_KEY, make_engine

    # Nothing listens on port 1: every connection is refused, as when the server is down.
    app.extensions[ENGINE_KEY] = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/gone")
    for response in (
        client.get("/ocpi/versions", headers=auth()),
        client.put(BASE, json=example("location_example.json"), headers=auth()),
        client.post("/ocpi/2.2.1/credentials", json={}, headers=auth()),
    ):
        assert response.mimetype == "application/json"
        body = _ok(response, http_status=503, status_code=3000)
        assert response.headers["Retry-After"] == "30" and "database" in body["status_message"]
        assert response.headers["X-Request-ID"]


def test_an_options_request_carries_the_ids_too(client, operator):
    response = client.options(BASE, headers=auth() | {"X-Correlation-ID": "c-7"})
    assert response.headers["X-Correlation-ID"] == "c-7" and response.headers["X-Request-ID"]
