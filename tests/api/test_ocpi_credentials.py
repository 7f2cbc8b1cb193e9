"""The OCPI 2.2.1 Credentials handshake, the operator registering with the token we gave."""

from __future__ import annotations

import pytest

from facilities.charging import ocpi
from facilities.charging.models import OcpiParty
from tests.api.test_ocpi_locations import auth, example

TOKEN_A = "token-a-given-to-the-operator"
URL = "/ocpi/2.2.1/credentials"


@pytest.fixture
def operator(db):
    party, _token = ocpi.add_party(
        db, name="Example Operator", country_code="NL", party_id="EXA", token=TOKEN_A
    )
    db.commit()
    return party


def _data(response, http_status: int = 200) -> dict:
    body = response.get_json()
    assert response.status_code == http_status, body
    return body.get("data", body)


def test_the_spec_example_registers_and_token_a_is_replaced(client, db, operator):
    theirs = example("credentials_example.json")
    ours = _data(client.post(URL, json=theirs, headers=auth(TOKEN_A)))
    assert set(ours) == {"token", "url", "roles"} and ours["url"].endswith("/ocpi/versions")
    token_c = ours["token"]
    assert token_c != TOKEN_A and len(token_c) >= 32

    db.expire_all()
    party = db.get(OcpiParty, operator.id)
    assert party.registered and party.remote_token == theirs["token"]
    assert party.versions_url == theirs["url"]
    assert party.token_hash == ocpi.hash_token(token_c)  # a hash: the token itself is not kept

    assert client.get("/ocpi/versions", headers=auth(TOKEN_A)).status_code == 401
    assert client.get("/ocpi/versions", headers=auth(token_c)).status_code == 200
    assert _data(client.get(URL, headers=auth(token_c)))["token"] == token_c

    again = client.post(URL, json=theirs, headers=auth(token_c))
    assert again.status_code == 405 and again.get_json()["status_code"] == 2000


def test_an_update_hands_out_a_new_token_and_delete_ends_it(client, operator):
    theirs = example("credentials_example.json")
    token_c = _data(client.post(URL, json=theirs, headers=auth(TOKEN_A)))["token"]
    newer = _data(
        client.put(URL, json={**theirs, "token": "their-new-token"}, headers=auth(token_c))
    )["token"]
    assert newer != token_c
    assert client.get("/ocpi/versions", headers=auth(token_c)).status_code == 401
    assert _data(client.delete(URL, headers=auth(newer))) is not None
    assert client.get("/ocpi/versions", headers=auth(newer)).status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        {"token": ""},
        {"url": "ftp://example.com/versions"},
        {"roles": []},
        {"roles": [{"role": "CPO", "country_code": "BE", "party_id": "BEC"}]},  # not this party
    ],
)
def test_bad_credentials_are_refused_in_the_envelope(client, operator, change):
    body = {**example("credentials_example.json"), **change}
    response = client.post(URL, json=body, headers=auth(TOKEN_A))
    assert response.status_code == 400 and response.get_json()["status_code"] == 2001
    assert client.get("/ocpi/versions", headers=auth(TOKEN_A)).status_code == 200  # unchanged


def test_put_before_post_is_refused(client, operator):
    response = client.put(URL, json=example("credentials_example.json"), headers=auth(TOKEN_A))
    assert response.status_code == 405
