"""The OCPI 2.2.1 Credentials handshake, the operator registering with the token we gave.

Their platform is a real HTTP server (tests/charging/fake_operator.py): before we answer
a POST or PUT we read its versions and endpoints with the token in its credentials.
"""

from __future__ import annotations

import socket

import pytest

from facilities.charging import ocpi
from facilities.charging.models import OcpiParty
from tests.api.test_ocpi_locations import auth, example
from tests.charging.fake_operator import FakeOperator

TOKEN_A = "token-a-given-to-the-operator"
URL = "/ocpi/2.2.1/credentials"
LOCATIONS = "/ocpi/2.2.1/locations"


@pytest.fixture
def operator(db):
    party, _token = ocpi.add_party(
        db, name="Example Operator", country_code="NL", party_id="EXA", token=TOKEN_A
    )
    db.commit()
    return party


@pytest.fixture
def platform():
    """Their platform, which lets us in with the token of the spec's credentials example."""
    theirs = example("credentials_example.json")
    with FakeOperator(country_code="NL", party_id="EXA", tokens=(theirs["token"],)) as platform:
        yield platform


def _credentials(platform: FakeOperator, **changes) -> dict:
    """The spec's example, with the versions URL of the platform we can reach."""
    return {**example("credentials_example.json"), "url": platform.versions_url, **changes}


def _data(response, http_status: int = 200) -> dict:
    body = response.get_json()
    assert response.status_code == http_status, body
    return body.get("data", body)


def _envelope(response, http_status: int, status_code: int) -> dict:
    body = response.get_json()
    assert (response.status_code, body["status_code"]) == (http_status, status_code), body
    assert body["timestamp"].endswith("Z") and "status_message" in body
    return body


def test_the_spec_example_registers_and_token_a_is_replaced(client, db, operator, platform):
    theirs = _credentials(platform)
    ours = _data(client.post(URL, json=theirs, headers=auth(TOKEN_A)))
    assert set(ours) == {"token", "url", "roles"} and ours["url"].endswith("/ocpi/versions")
    token_c = ours["token"]
    assert token_c != TOKEN_A and len(token_c) >= 32

    # Before answering we read their versions and 2.2.1 endpoints with their token.
    asked = [(r.method, r.path, r.token) for r in platform.received]
    assert asked == [
        ("GET", "/ocpi/versions", theirs["token"]),
        ("GET", "/ocpi/2.2.1", theirs["token"]),
    ]
    db.expire_all()
    party = db.get(OcpiParty, operator.id)
    assert party.registered and party.remote_token == theirs["token"]
    assert party.versions_url == theirs["url"]
    assert party.endpoints == platform.endpoints()
    assert party.token_hash == ocpi.hash_token(token_c)  # a hash: the token itself is not kept

    assert client.get("/ocpi/versions", headers=auth(TOKEN_A)).status_code == 401
    assert client.get("/ocpi/versions", headers=auth(token_c)).status_code == 200
    assert _data(client.get(URL, headers=auth(token_c)))["token"] == token_c

    again = client.post(URL, json=theirs, headers=auth(token_c))
    _envelope(again, 405, 2000)


def test_an_update_hands_out_a_new_token_and_delete_ends_it(client, operator, platform):
    theirs = _credentials(platform)
    token_c = _data(client.post(URL, json=theirs, headers=auth(TOKEN_A)))["token"]
    platform.tokens += ("their-new-token",)
    platform.received.clear()
    newer = _data(
        client.put(URL, json={**theirs, "token": "their-new-token"}, headers=auth(token_c))
    )["token"]
    assert newer != token_c
    assert [(r.path, r.token) for r in platform.received] == [
        ("/ocpi/versions", "their-new-token"),
        ("/ocpi/2.2.1", "their-new-token"),
    ]
    assert client.get("/ocpi/versions", headers=auth(token_c)).status_code == 401
    assert _data(client.delete(URL, headers=auth(newer))) is not None
    assert client.get("/ocpi/versions", headers=auth(newer)).status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        {"token": ""},
        {"token": "tökën-with-non-ascii"},
        {"token": "x" * 65},
        {"url": "ftp://example.com/versions"},
        {"roles": []},
        {"roles": [{"role": "CPO", "country_code": "BE", "party_id": "BEC"}]},  # not this party
    ],
)
def test_bad_credentials_are_refused_in_the_envelope(client, operator, platform, change):
    response = client.post(URL, json=_credentials(platform, **change), headers=auth(TOKEN_A))
    _envelope(response, 400, 2001)
    assert client.get("/ocpi/versions", headers=auth(TOKEN_A)).status_code == 200  # unchanged


def test_put_before_post_is_refused(client, operator, platform):
    response = client.put(URL, json=_credentials(platform), headers=auth(TOKEN_A))
    _envelope(response, 405, 2000)


def test_a_post_when_registered_is_405_whatever_the_body_names(client, operator, platform):
    token_c = _data(client.post(URL, json=_credentials(platform), headers=auth(TOKEN_A)))["token"]
    another = _credentials(
        platform, roles=[{"role": "CPO", "country_code": "BE", "party_id": "BEC"}]
    )
    for body in (another, {"not": "credentials"}):
        _envelope(client.post(URL, json=body, headers=auth(token_c)), 405, 2000)
    _envelope(client.post(URL, data="{not json", headers=auth(token_c)), 405, 2000)


def test_when_their_api_cannot_be_used_it_is_3001_and_nothing_changes(
    client, db, operator, platform
):
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/ocpi/versions"

    for body in (
        _credentials(platform, url=nowhere),
        _credentials(platform, token="a-token-they-do-not-know"),
    ):
        answer = _envelope(client.post(URL, json=body, headers=auth(TOKEN_A)), 200, 3001)
        assert answer["status_message"].startswith("Unable to use the client's API")
        assert "data" not in answer
        # nothing of what this server met on the way: no address, port or error to probe by
        assert "127.0.0.1" not in answer["status_message"]
        assert "Error" not in answer["status_message"] and "401" not in answer["status_message"]
    db.expire_all()
    party = db.get(OcpiParty, operator.id)
    assert not party.registered and party.remote_token == "" and party.endpoints == []
    assert client.get("/ocpi/versions", headers=auth(TOKEN_A)).status_code == 200  # still A


def test_token_a_opens_versions_and_credentials_only(client, operator, platform):
    location = example("location_example.json") | {"country_code": "NL", "party_id": "EXA"}
    address = f"{LOCATIONS}/NL/EXA/LOC1"
    for method in (client.get, client.put, client.patch):
        _envelope(method(address, json=location, headers=auth(TOKEN_A)), 401, 2000)
    _envelope(client.get(f"{LOCATIONS}/", headers=auth(TOKEN_A)), 401, 2000)
    assert client.get("/ocpi/2.2.1", headers=auth(TOKEN_A)).status_code == 200
    assert client.get(URL, headers=auth(TOKEN_A)).status_code == 200

    token_c = _data(client.post(URL, json=_credentials(platform), headers=auth(TOKEN_A)))["token"]
    assert client.put(address, json=location, headers=auth(token_c)).status_code == 200


def test_a_party_pushes_for_each_cpo_role_of_its_credentials(client, operator, platform):
    roles = [
        {"role": "CPO", "country_code": "NL", "party_id": "EXA"},
        {"role": "CPO", "country_code": "NL", "party_id": "EX2"},
        {"role": "EMSP", "country_code": "NL", "party_id": "EXM"},
    ]
    token_c = _data(
        client.post(URL, json=_credentials(platform, roles=roles), headers=auth(TOKEN_A))
    )["token"]
    second = example("location_example.json") | {"country_code": "NL", "party_id": "EX2"}
    assert client.put(
        f"{LOCATIONS}/NL/EX2/LOC1", json=second, headers=auth(token_c)
    ).status_code == (200)
    assert _data(client.get(f"{LOCATIONS}/NL/EX2/LOC1", headers=auth(token_c)))["id"] == "LOC1"
    # Not under its other role, nor as an eMSP role, nor as anyone else.
    _envelope(client.get(f"{LOCATIONS}/NL/EXA/LOC1", headers=auth(token_c)), 404, 2003)
    emsp = second | {"party_id": "EXM"}
    _envelope(client.put(f"{LOCATIONS}/NL/EXM/LOC1", json=emsp, headers=auth(token_c)), 403, 2001)


def test_a_role_of_another_party_cannot_be_claimed(client, db, operator, platform):
    ocpi.add_party(db, name="Someone Else", country_code="NL", party_id="OTH")
    db.commit()
    roles = [
        {"role": "CPO", "country_code": "NL", "party_id": "EXA"},
        {"role": "CPO", "country_code": "NL", "party_id": "OTH"},
    ]
    refused = client.post(URL, json=_credentials(platform, roles=roles), headers=auth(TOKEN_A))
    assert "NL/OTH" in _envelope(refused, 400, 2001)["status_message"]
    assert not platform.received  # refused before we call them


def test_a_party_cannot_be_added_under_a_role_another_one_registered(
    client, db, operator, platform
):
    roles = [
        {"role": "CPO", "country_code": "NL", "party_id": "EXA"},
        {"role": "CPO", "country_code": "NL", "party_id": "EX2"},
    ]
    client.post(URL, json=_credentials(platform, roles=roles), headers=auth(TOKEN_A))
    db.expire_all()  # the registration happened in the request's session
    with pytest.raises(ocpi.OcpiError, match="NL/EX2: another party's role"):
        ocpi.add_party(db, name="Impostor", country_code="NL", party_id="EX2")
