"""The staff's triage form through the test client: htmx, plain HTML, errors, conflicts."""

from datetime import date

import pytest

from facilities.accounts.models import Role
from facilities.core.models import utcnow
from facilities.requests.models import ServiceRequest
from tests import factories
from tests.conftest import csrf_token


@pytest.fixture
def staff_client(client, db, signed_in):
    staff = signed_in(Role.staff)
    client.staff = staff
    return client


def post_triage(client, item, *, htmx: bool = False, **fields):
    """Send the card's form as the page would, with the request's current values by default."""
    token = csrf_token(client, "/staff/queue")
    form = {
        "version": str(item.version),
        "status_id": str(item.status_id),
        "priority": item.priority.value,
        "visibility": item.visibility.value,
        **{name: str(value) for name, value in fields.items()},
    }
    if htmx:  # htmx sends the token as a header (base.html's hx-headers)
        headers = {"HX-Request": "true", "X-CSRFToken": token}
    else:
        headers, form["csrf_token"] = {}, token
    return client.post(f"/staff/requests/{item.reference}/triage", data=form, headers=headers)


def test_inline_triage_with_htmx_returns_the_card(staff_client, db):
    item = factories.service_request(db)
    planned = factories.status(db, "planned")
    db.commit()

    response = post_triage(
        staff_client, item, htmx=True, status_id=planned.id, public_update="Planned for spring."
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert html.startswith(f'<article id="request-{item.id}"')
    assert 'hx-swap-oob="true"' in html and "<html" not in html
    assert f'role="status" tabindex="-1" autofocus>{item.reference} tallennettu.</p>' in html
    db.expire_all()
    assert db.get(ServiceRequest, item.id).status_id == planned.id


def test_triage_without_javascript_redirects_back(staff_client, db):
    item = factories.service_request(db)
    review = factories.status(db, "review")
    db.commit()

    response = post_triage(
        staff_client, item, status_id=review.id, priority="high", next="/staff/queue?status=all"
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/queue?status=all"
    db.expire_all()
    stored = db.get(ServiceRequest, item.id)
    assert (stored.status_id, stored.priority.value) == (review.id, "high")


def test_triage_errors_keep_the_text(staff_client, db):
    item = factories.service_request(db)
    declined = factories.status(db, "not-planned")
    db.commit()

    response = post_triage(
        staff_client, item, status_id=declined.id, internal_note="Talked with the owner."
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="r{item.id}-public_update-error"' in html
    assert "Talked with the owner." in html
    db.expire_all()
    assert db.get(ServiceRequest, item.id).version == 1


def test_triage_conflict_shows_the_new_state_and_keeps_text(staff_client, db):
    item = factories.service_request(db)
    factories.triage(db, item, actor=staff_client.staff, to="review")  # saved elsewhere: v2
    db.commit()

    response = post_triage(staff_client, item, version=1, public_update="My careful words.")

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'role="alert"' in html and "My careful words." in html
    assert 'name="version" value="2"' in html
    # what the other save changed, who and when
    assert f"<li>{staff_client.staff.name}, " in html
    assert "Uusi → Käsittelyssä" in html


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status_id", "99999999999999999999"),
        ("publish_at", "0001-01-01T00:00"),
        ("version", "abc"),
        ("priority", "extreme"),
    ],
)
def test_odd_triage_input_is_a_message_not_a_crash(staff_client, db, field, value):
    item = factories.service_request(db)
    db.commit()

    response = post_triage(staff_client, item, public_update="Kept text.", **{field: value})

    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Kept text." in html
    if field == "version":  # a hidden field: the message stands above the form
        assert 'class="form-error" role="alert"><p>Lomake oli puutteellinen.' in html
    else:  # next to the field, marked invalid
        assert f'{field}-error">' in html and 'aria-invalid="true"' in html


def test_scheduling_says_when_the_update_will_be_published(staff_client, db):
    item = factories.service_request(db)
    db.commit()

    response = post_triage(
        staff_client,
        item,
        htmx=True,
        public_update="Contractor chosen.",
        publish_at="2031-06-01T09:00",
    )

    assert "Päivitys julkaistaan 1.6.2031 9.00." in response.get_data(as_text=True)


def test_the_public_page_shows_staff_what_the_public_sees(staff_client, db):
    item = factories.service_request(db)
    factories.triage(
        db,
        item,
        actor=staff_client.staff,
        internal_note="Budget line 4411.",
        public_update="Ordered.",
    )
    db.commit()
    html = staff_client.get(f"/requests/{item.reference}").get_data(as_text=True)
    assert "Ordered." in html and "Budget line" not in html


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2027-03-28T03:30", "kellot siirtyvät tunnilla eteenpäin"),  # spring forward: no 03:30
        ("2027-10-31T03:30", "kellot siirtyvät tunnilla taaksepäin"),  # fall back: 03:30 twice
    ],
)
def test_a_publish_time_that_daylight_saving_skips_or_repeats_is_asked_again(
    staff_client, db, typed, message
):
    item = factories.service_request(db)
    db.commit()
    response = post_triage(staff_client, item, public_update="Closed for a day.", publish_at=typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and f'value="{typed}"' in html and "Closed for a day." in html


def test_a_publish_time_next_to_the_change_is_taken_as_helsinki_time(staff_client, db):
    from sqlmodel import select

    from facilities.requests.models import RequestUpdate, UpdateKind

    # the night summer time ends next (the last Sunday of October), whatever today is
    today = utcnow().date()
    year = today.year + (today >= date(today.year, 10, 24))
    change = max(date(year, 10, day) for day in range(25, 32) if date(year, 10, day).weekday() == 6)
    item = factories.service_request(db)
    db.commit()
    response = post_triage(
        staff_client, item, public_update="Night work.", publish_at=f"{change}T04:30"
    )
    assert response.status_code == 302
    scheduled = db.exec(
        select(RequestUpdate).where(RequestUpdate.kind == UpdateKind.public_update)
    ).one()
    assert scheduled.publish_at.isoformat() == f"{change}T02:30:00+00:00"  # EET, +2


def test_making_a_private_request_public_asks_before_its_history_goes_public(staff_client, db):
    member = factories.user(db)
    item = factories.service_request(db, submitter=member)
    factories.triage(db, item, actor=staff_client.staff, visibility="private")
    factories.triage(db, item, actor=staff_client.staff, to="review", public_update="Seen.")
    db.commit()

    refused = post_triage(staff_client, item, visibility="public")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Sen 1 päivitystä on tähän asti näkynyt vain yritykselle." in html
    assert 'name="publish_history"' in html
    db.expire_all()
    assert db.get(ServiceRequest, item.id).visibility.value == "private"

    confirmed = post_triage(staff_client, item, visibility="public", publish_history="1")
    assert confirmed.status_code == 302
    db.expire_all()
    assert db.get(ServiceRequest, item.id).visibility.value == "public"


def test_a_private_request_without_public_entries_goes_public_without_asking(staff_client, db):
    item = factories.service_request(db)
    factories.triage(db, item, actor=staff_client.staff, visibility="private")
    db.commit()
    assert post_triage(staff_client, item, visibility="public").status_code == 302
