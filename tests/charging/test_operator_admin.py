"""Admins connect operators from the web: the handshake, its errors, tokens shown once."""

from __future__ import annotations

from sqlmodel import select

from facilities.accounts.models import Role
from facilities.charging import ocpi
from facilities.charging.models import OcpiParty
from facilities.core.models import AuditEvent
from tests.charging.fake_operator import TOKEN_A, FakeOperator, served
from tests.conftest import csrf_token


def test_an_admin_connects_an_operator_and_a_wrong_token_keeps_the_form(app, client, db, signed_in):
    signed_in(Role.admin)
    with FakeOperator() as operator, served(app) as base_url:
        app.extensions["facilities.settings"].base_url = base_url
        token = csrf_token(client, "/staff/ocpi")
        form = {
            "csrf_token": token,
            "name": "Kemin Lataus Oy",
            "versions_url": operator.versions_url,
            "token_a": "wrong-token",
            "pull": "1",
        }
        refused = client.post("/staff/ocpi/connect", data=form)
        page = refused.get_data(as_text=True)
        assert refused.status_code == 422 and "401" in page
        assert 'value="Kemin Lataus Oy"' in page and "wrong-token" not in page  # never echoed
        assert db.exec(select(OcpiParty)).all() == []

        connected = client.post("/staff/ocpi/connect", data={**form, "token_a": TOKEN_A})
        assert connected.status_code == 302
    db.expire_all()
    party = db.exec(select(OcpiParty)).one()
    assert (party.country_code, party.party_id, party.registered, party.pull_enabled) == (
        "FI",
        "KLO",
        True,
        True,
    )
    listed = client.get("/staff/ocpi").get_data(as_text=True)
    assert "Kemin Lataus Oy" in listed and "FI/KLO" in listed
    stopped = client.post(f"/staff/ocpi/{party.id}/pull", data={"csrf_token": token, "pull": "0"})
    assert stopped.status_code == 302
    db.expire_all()
    assert db.get(OcpiParty, party.id).pull_enabled is False
    actions = db.exec(select(AuditEvent.action).where(AuditEvent.entity == "ocpi_party")).all()
    assert actions == ["ocpi.connected", "ocpi.pull_changed"]


def test_a_token_made_for_an_operator_is_shown_once_and_kept_hashed(app, client, db, signed_in):
    signed_in(Role.admin)
    token = csrf_token(client, "/staff/ocpi")
    made = client.post(
        "/staff/ocpi/invite",
        data={
            "csrf_token": token,
            "invite_name": "Lataus Pohjoinen",
            "country_code": "fi",
            "party_id": "lpo",
        },
    )
    page = made.get_data(as_text=True)
    assert made.status_code == 200
    party = db.exec(select(OcpiParty)).one()
    shown = next(t for t in page.split("<code>")[1:] if not t.startswith("http")).split("</code>")[
        0
    ]
    assert party.token_hash == ocpi.hash_token(shown) and shown not in party.token_hash
    assert shown not in client.get("/staff/ocpi").get_data(as_text=True)
    again = client.post(
        "/staff/ocpi/invite",
        data={"csrf_token": token, "invite_name": "Again", "country_code": "FI", "party_id": "LPO"},
    )
    assert again.status_code == 422 and 'value="Again"' in again.get_data(as_text=True)
    bad = client.post(
        "/staff/ocpi/invite",
        data={"csrf_token": token, "invite_name": "Bad", "country_code": "FIN", "party_id": "X"},
    )
    assert bad.status_code == 422
