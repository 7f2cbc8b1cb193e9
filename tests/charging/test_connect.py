"""The OCPI credentials handshake started from our side, against an operator on a real
HTTP server that calls our versions endpoint back with token B, as the spec requires."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from facilities.charging import ocpi
from facilities.charging.client import OcpiClientError
from facilities.charging.connect import connect_operator, refresh_endpoints
from facilities.charging.models import OcpiLocation, OcpiParty
from facilities.cli import cli
from facilities.core.db import get_engine
from tests.api.test_ocpi_locations import auth
from tests.charging.fake_operator import TOKEN_A, TOKEN_C, FakeOperator, location, served
from tests.conftest import TEST_SECRET

# their bodies' last_updated times are of late 2026: not in the future on any day
pytestmark = pytest.mark.usefixtures("operators_clock")


@pytest.fixture
def operator():
    with FakeOperator() as operator:
        yield operator


@pytest.fixture
def base_url(app):
    with served(app) as url:
        yield url


def _connect(db, operator: FakeOperator, base_url: str, **options) -> OcpiParty:
    return connect_operator(
        db,
        **{
            "name": "Kemin Lataus",
            "versions_url": operator.versions_url,
            "token_a": TOKEN_A,
            "base_url": base_url,
            "business_name": "Digipolis",
            **options,
        },
    )


def _parties(db) -> list[OcpiParty]:
    db.expire_all()
    return list(db.exec(select(OcpiParty)).all())


def test_the_handshake_keeps_their_token_and_endpoints_and_lets_them_in_with_ours(
    db, client, operator, base_url
):
    party = _connect(db, operator, base_url)

    # They got our credentials with token A, and read our endpoints with token B meanwhile.
    (post,) = [r for r in operator.received if r.method == "POST"]
    assert post.token == TOKEN_A and post.path == "/ocpi/2.2.1/credentials"
    token_b = post.body["token"]
    assert post.body["url"] == f"{base_url}/ocpi/versions"
    assert post.body["roles"] == [
        {
            "role": "NSP",
            "country_code": "FI",
            "party_id": "DGP",
            "business_details": {"name": "Digipolis"},
        }
    ]
    assert operator.callbacks == [200, 200] and operator.token_b == token_b

    (stored,) = _parties(db)
    assert stored.id == party.id
    assert stored.token_hash == ocpi.hash_token(token_b) and stored.remote_token == TOKEN_C
    assert token_b not in (stored.token_hash, stored.remote_token, TOKEN_A)
    assert (stored.country_code, stored.party_id, stored.name) == ("FI", "KLO", "Kemin Lataus")
    assert stored.registered and stored.active and stored.pull_enabled
    assert stored.versions_url == operator.versions_url
    assert stored.roles[0]["role"] == "CPO" and stored.last_contact_at is not None
    assert stored.endpoints == operator.endpoints()

    assert client.get("/ocpi/versions", headers=auth(token_b)).status_code == 200
    pushed = client.put(
        "/ocpi/2.2.1/locations/FI/KLO/LOC1",
        json=location(1, "2026-11-29T10:00:00Z"),
        headers=auth(token_b),
    )
    assert pushed.status_code == 200, pushed.get_json()


def test_they_push_for_every_cpo_role_their_credentials_name(db, client, operator, base_url):
    operator.more_roles = [
        {"role": "CPO", "country_code": "FI", "party_id": "KL2", "business_details": {}},
        {"role": "EMSP", "country_code": "FI", "party_id": "KLM", "business_details": {}},
    ]
    _connect(db, operator, base_url)
    token_b = operator.token_b or ""

    second = location(1, "2026-11-29T10:00:00Z", party_id="KL2")
    pushed = client.put("/ocpi/2.2.1/locations/FI/KL2/LOC1", json=second, headers=auth(token_b))
    assert pushed.status_code == 200, pushed.get_json()
    as_emsp = client.put(
        "/ocpi/2.2.1/locations/FI/KLM/LOC1",
        json=second | {"party_id": "KLM"},
        headers=auth(token_b),
    )
    assert as_emsp.status_code == 403


def test_a_wrong_token_a_is_a_clear_error_and_nothing_is_stored(db, operator, base_url):
    with pytest.raises(OcpiClientError) as refused:
        _connect(db, operator, base_url, token_a="not-their-token")

    assert str(refused.value) == (
        f"GET {operator.versions_url}: HTTP 401 Unauthorized (Unknown token)"
    )
    assert refused.value.http_status == 401 and refused.value.status_code == 2000
    assert _parties(db) == []
    assert not [r for r in operator.received if r.method == "POST"]


def test_when_they_cannot_call_us_back_nothing_is_stored(db, operator):
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"

    with pytest.raises(OcpiClientError, match=r"OCPI status 3001 \(Unable to use the client's API"):
        _connect(db, operator, nowhere)

    assert _parties(db) == [] and operator.token_b is None


def test_an_operator_answering_with_another_partys_role_is_refused(db, operator, base_url):
    other, _token = ocpi.add_party(db, name="Pohjolan Reitti", country_code="FI", party_id="PRB")
    other.roles = [{"role": "CPO", "country_code": "FI", "party_id": "KLO"}]
    db.commit()

    with pytest.raises(
        OcpiClientError, match="Their credentials name FI/KLO: another party's role"
    ):
        _connect(db, operator, base_url)

    assert [party.party_id for party in _parties(db)] == ["PRB"]


def test_an_operator_without_ocpi_2_2_1_is_refused_before_our_post(db, base_url):
    with FakeOperator(versions=("2.1.1", "2.2")) as old, pytest.raises(OcpiClientError) as refused:
        _connect(db, old, base_url)

    assert "no OCPI 2.2.1 (they offer: 2.1.1, 2.2)" in str(refused.value)
    assert not [r for r in old.received if r.method == "POST"] and _parties(db) == []


def test_pulling_needs_their_locations_sender_pushing_does_not(db, base_url):
    with FakeOperator(has_locations_sender=False) as pusher:
        with pytest.raises(OcpiClientError, match="no Locations sender to pull from"):
            _connect(db, pusher, base_url)
        assert not [r for r in pusher.received if r.method == "POST"]

        party = _connect(db, pusher, base_url, pull=False)
        assert party.registered and not party.pull_enabled


def test_an_operator_we_already_know_is_connected_anew_keeping_its_locations(
    db, operator, base_url
):
    known, _token = ocpi.add_party(db, name="KLO", country_code="FI", party_id="KLO")
    ocpi.put_location(db, party=known, location_id="LOC1", body=location(1, "2026-11-29T10:00:00Z"))
    known.pulled_until = known.created_at
    db.commit()

    party = _connect(db, operator, base_url)

    (stored,) = _parties(db)
    assert stored.id == party.id == known.id
    assert stored.registered and stored.remote_token == TOKEN_C
    assert stored.token_hash == ocpi.hash_token(operator.token_b or "")
    assert stored.pulled_until is None  # everything is pulled again
    assert db.exec(select(OcpiLocation).where(OcpiLocation.party_ref_id == known.id)).one()


def test_endpoints_are_read_again_with_their_token_c(db, operator, base_url):
    party = _connect(db, operator, base_url)
    operator.locations_path = "/ocpi/cpo/2.2.1/locations-moved"

    endpoints = refresh_endpoints(db, party=party)
    db.commit()

    assert {e["url"] for e in endpoints} >= {f"{operator.base_url}/ocpi/cpo/2.2.1/locations-moved"}
    assert operator.received[-1].token == TOKEN_C
    (stored,) = _parties(db)
    assert stored.endpoints == endpoints


def test_facilities_ocpi_connect_says_what_it_did_and_never_shows_a_token(
    database_url, app, operator, base_url
):
    # No `db` here: the command would run in its app context, not in one made from `env`.
    result = CliRunner().invoke(
        cli,
        [
            "ocpi",
            "connect",
            "--name",
            "Kemin Lataus",
            "--versions-url",
            operator.versions_url,
            "--no-pull",
        ],
        input=f"{TOKEN_A}\n",  # asked for, not shown
        env={
            "DATABASE_URL": database_url,
            "FACILITIES_SECRET_KEY": TEST_SECRET,
            "FACILITIES_ENV": "testing",
            "FACILITIES_BASE_URL": base_url,
        },
    )

    assert result.exit_code == 0, result.output
    assert "Connected to Kemin Lataus (FI/KLO), OCPI 2.2.1." in result.output
    assert "credentials (SENDER), locations (SENDER)" in result.output
    assert "not pulled" in result.output
    for token in (TOKEN_A, TOKEN_C, operator.token_b or "-"):
        assert token not in result.output

    again = CliRunner().invoke(
        cli,
        [
            "ocpi",
            "connect",
            "--name",
            "X",
            "--versions-url",
            operator.versions_url,
            "--token-a",
            TOKEN_A,
        ],
        env={
            "DATABASE_URL": database_url,
            "FACILITIES_SECRET_KEY": TEST_SECRET,
            "FACILITIES_ENV": "testing",
        },
    )
    assert again.exit_code == 1
    assert "Not connected: GET" in again.output and "HTTP 401" in again.output  # A is spent
    with Session(get_engine(app)) as session:
        (party,) = session.exec(select(OcpiParty)).all()
    assert party.registered and not party.pull_enabled and party.remote_token == TOKEN_C
