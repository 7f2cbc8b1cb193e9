"""Every response says how it may be framed, sniffed, cached and scripted."""

import pytest

from facilities.accounts.models import Role
from tests import factories
from tests.conftest import make_test_app, sign_in

EVERYWHERE = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _check_common(response):
    for name, value in EVERYWHERE.items():
        assert response.headers.get(name) == value, name
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/", {}),
        ("/", {"HX-Request": "true"}),
        ("/login", {}),
        ("/no/such/page", {}),
        ("/healthz", {}),
        ("/static/css/app.css", {}),
    ],
)
def test_public_responses_carry_the_headers_and_may_be_cached(client, path, headers):
    response = client.get(path, headers=headers)
    _check_common(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert "Strict-Transport-Security" not in response.headers  # http base URL


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.member, "/tenant/requests"),
        (Role.member, "/tenant/requests/new"),
        (Role.staff, "/staff/queue"),
    ],
)
def test_pages_for_signed_in_users_are_never_stored(client, db, role, path):
    user = factories.user(db, role=role)
    db.commit()
    sign_in(client, user.email)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get(path, headers=headers)
        assert response.status_code == 200
        _check_common(response)
        assert response.headers["Cache-Control"] == "private, no-store"
        assert "Cookie" in response.headers["Vary"]


def test_a_private_request_page_is_never_stored(client, db):
    member = factories.user(db)
    item = factories.service_request(db, submitter=member)
    staff = factories.staff(db)
    factories.triage(db, item, actor=staff, visibility="private")
    db.commit()
    sign_in(client, member.email)
    response = client.get(f"/requests/{item.reference}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


def test_https_adds_strict_transport_security(database_url):
    app = make_test_app(database_url, base_url="https://palvelut.example.fi")
    response = app.test_client().get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_the_page_needs_no_inline_script_or_style(client):
    html = client.get("/login").get_data(as_text=True)
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert '"includeIndicatorStyles":false' in html and '"allowEval":false' in html
