"""Requests that came through the Open311 API as staff, the company and the public see them:
staff read the client and whom to contact; nobody else reads the contact."""

from __future__ import annotations

import html

import pytest

from facilities.accounts.api_keys import ApiKeyCreate, issue_key, revoke_key
from facilities.accounts.models import Role
from facilities.core.db import get_engine
from facilities.core.models import utcnow
from facilities.park.models import Visibility
from facilities.requests.intake import open_request
from facilities.requests.models import RequestSource, ServiceRequest
from tests import factories
from tests.conftest import count_queries, sign_in

CONTACT = {
    "first_name": "Aino",
    "last_name": "Asukas",
    "email": "aino.asukas@example.org",
    "phone": "+358 40 123 4567",
    "device_id": "device-77",
    "media_url": "https://photos.example.net/pothole.jpg",
}


def _api_request(db, *, key=None, tenant=None, contact=None, **fields) -> ServiceRequest:
    """A request as the API opens it: no person as sender, the client's key, its contact."""
    admin = factories.user(db, role=Role.admin)
    if key is None:
        key, _raw = issue_key(db, admin=admin, data=ApiKeyCreate(name="City feedback app"))
    item = open_request(
        db,
        category=factories.category(db),
        building=None,
        title="Pothole by the Sensori entrance",
        submitter=None,
        now=utcnow(),
        source=RequestSource.api,
        tenant=tenant,
    )
    item.api_key_id = key.id
    item.contact = dict(CONTACT if contact is None else contact)
    item.latitude, item.longitude = 60.169912, 24.938379
    item.visibility = Visibility.public
    for name, value in fields.items():
        setattr(item, name, value)
    db.commit()
    return item


@pytest.fixture
def staff_client(client, db, signed_in):
    signed_in(Role.staff, preferred_language="en")
    return client


def test_staff_see_the_api_client_the_contact_and_the_pin(staff_client, db):
    item = _api_request(db)

    page = staff_client.get(f"/staff/requests/{item.reference}").get_data(as_text=True)

    assert "Sent through the API by City feedback app" in page
    assert "/admin/api-keys/" not in page  # the key's admin page is for admins
    assert "(revoked)" not in page
    assert "Aino Asukas" in page
    assert '<a href="mailto:aino.asukas@example.org">aino.asukas@example.org</a>' in page
    assert '<a href="tel:+358401234567">+358 40 123 4567</a>' in page
    assert "device-77" in page
    # the photo's address is text: nothing on the page loads or links it
    assert "https://photos.example.net/pothole.jpg" in page
    assert 'src="https://photos.example.net' not in page
    assert 'href="https://photos.example.net' not in page
    assert "60.169912, 24.938379" in page
    assert 'href="https://www.openstreetmap.org/?mlat=60.169912&amp;mlon=24.938379"' in page


def test_admins_get_a_link_to_the_key_and_see_that_it_was_revoked(client, db):
    admin = factories.user(db, role=Role.admin, preferred_language="en")
    key, _raw = issue_key(db, admin=admin, data=ApiKeyCreate(name="Old kiosk"))
    item = _api_request(db, key=key)
    revoke_key(db, admin=admin, key=key)
    db.commit()
    sign_in(client, admin.email)

    page = client.get(f"/staff/requests/{item.reference}").get_data(as_text=True)

    assert f'<a href="/admin/api-keys/{key.id}">Old kiosk</a> (revoked)' in page


def test_the_queue_names_the_source_and_filters_to_api_requests(staff_client, db):
    from_api = _api_request(db)
    from_web = factories.service_request(db, title="Sent with the web form")
    db.commit()

    page = staff_client.get("/staff/queue?status=all&source=api").get_data(as_text=True)

    assert from_api.reference in page and "Open API" in page
    assert from_web.reference not in page
    assert '<option value="api" selected>Open API</option>' in page
    everything = staff_client.get("/staff/queue?status=all").get_data(as_text=True)
    assert from_api.reference in everything and from_web.reference in everything


def test_the_company_and_the_public_never_read_the_contact(client, db):
    member = factories.user(db, preferred_language="en")
    item = _api_request(db, tenant=member.tenant)
    db.commit()

    public = client.get(f"/requests/{item.reference}")
    assert public.status_code == 200
    sign_in(client, member.email)
    own = client.get(f"/requests/{item.reference}").get_data(as_text=True)
    listed = client.get("/tenant/requests").get_data(as_text=True)

    assert item.reference in listed and "Sent through the API" in listed
    assert "Heard by the property manager" not in listed
    for page in (public.get_data(as_text=True), own, listed):
        assert item.title in page
        for value in ("aino.asukas@example.org", "123 4567", "Asukas", "device-77", "pothole.jpg"):
            assert value not in page
    assert client.get(f"/staff/requests/{item.reference}").status_code in (302, 403, 404)


def test_hostile_contact_values_are_shown_as_text(staff_client, db):
    hostile = '"><script>alert(1)</script>'
    item = _api_request(
        db,
        contact={
            "first_name": hostile,
            "email": 'x@example.org" onmouseover="alert(1)',
            "phone": "javascript:alert(1)",
            "media_url": "javascript:alert(1)//<img src=x onerror=alert(1)>",
            "<b>odd</b>": hostile,
        },
    )

    page = staff_client.get(f"/staff/requests/{item.reference}").get_data(as_text=True)

    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page and "<b>odd</b>" not in page
    assert 'onmouseover="alert' not in page
    assert 'href="javascript:' not in page
    assert html.escape(hostile) in page or "&#34;&gt;&lt;script&gt;" in page
    assert '<a href="mailto:x@example.org%22%20onmouseover%3D%22alert%281%29">' in page
    assert "tel:1" in page  # only what a phone can dial goes into the link


def test_a_request_after_retention_shows_the_client_but_no_contact(staff_client, db):
    item = _api_request(db, contact={}, latitude=None, longitude=None)

    page = staff_client.get(f"/staff/requests/{item.reference}").get_data(as_text=True)

    assert "Sent through the API by City feedback app" in page
    assert "Contact given with the request" not in page and "openstreetmap" not in page


def test_the_key_comes_with_the_request_not_in_a_query_of_its_own(app, staff_client, db):
    item = _api_request(db)
    path = f"/staff/requests/{item.reference}"
    staff_client.get(path)  # the first request of a session loads what later ones keep

    with count_queries(get_engine(app)) as statements:
        assert staff_client.get(path).status_code == 200

    assert "City feedback app" in staff_client.get(path).get_data(as_text=True)
    assert not [sql for sql in statements if "FROM api_key" in sql]
