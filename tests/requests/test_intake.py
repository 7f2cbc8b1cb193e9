from datetime import UTC, datetime

import pytest
from sqlmodel import select

from facilities.core.errors import ValidationFailed
from facilities.core.models import AuditEvent
from facilities.park.models import Visibility
from facilities.requests.intake import submit_request
from facilities.requests.models import ServiceRequest, ServiceRequestCreate
from facilities.requests.workflow import StatusKind
from tests import factories
from tests.conftest import csrf_token, sign_in


def test_submitted_request_gets_reference_status_tenant_and_visibility(db):
    member = factories.user(db)
    private_category = factories.category(db, default_visibility=Visibility.private)
    now = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)

    first = factories.service_request(db, submitter=member, category_=private_category, now=now)
    second = factories.service_request(db, submitter=member, category_=private_category, now=now)

    assert (first.reference, second.reference) == ("DP-2026-0001", "DP-2026-0002")
    assert first.status.kind == StatusKind.new
    assert first.tenant_id == member.tenant_id
    assert first.visibility == Visibility.private
    audit = db.exec(
        select(AuditEvent).where(
            AuditEvent.entity == "service_request", AuditEvent.entity_id == first.id
        )
    ).one()
    assert audit.action == "request.submitted" and audit.actor_id == member.id


def test_reference_numbers_restart_each_year(db):
    member = factories.user(db)
    factories.service_request(db, submitter=member, now=datetime(2026, 12, 31, 12, tzinfo=UTC))
    next_year = factories.service_request(
        db, submitter=member, now=datetime(2027, 1, 1, 12, tzinfo=UTC)
    )
    assert next_year.reference == "DP-2027-0001"


def test_unknown_or_inactive_category_is_refused(db):
    member = factories.user(db)
    inactive = factories.category(db, active=False)
    with pytest.raises(ValidationFailed) as failure:
        submit_request(
            db,
            submitter=member,
            data=ServiceRequestCreate(title="Bike racks please", category_id=inactive.id),
        )
    assert set(failure.value.errors) == {"category_id"}


def test_unknown_building_is_refused(db):
    member = factories.user(db)
    category = factories.category(db)
    with pytest.raises(ValidationFailed) as failure:
        submit_request(
            db,
            submitter=member,
            data=ServiceRequestCreate(
                title="Bike racks please", category_id=category.id, building_id=999
            ),
        )
    assert set(failure.value.errors) == {"building_id"}


def test_create_model_strips_and_limits_text():
    data = ServiceRequestCreate(title="  Bike racks  ", category_id=1, building_id="")
    assert data.title == "Bike racks" and data.building_id is None
    with pytest.raises(ValueError):
        ServiceRequestCreate(title="abc", category_id=1)


def test_reference_year_is_the_year_in_helsinki(db):
    member = factories.user(db)
    # 22:30 UTC on New Year's Eve is already 00:30 on 1 January in Helsinki
    item = factories.service_request(
        db, submitter=member, now=datetime(2026, 12, 31, 22, 30, tzinfo=UTC)
    )
    assert item.reference == "DP-2027-0001"


def test_titles_are_one_line():
    data = ServiceRequestCreate(title="Hello\r\nBcc: someone@example.com", category_id=1)
    assert data.title == "Hello Bcc: someone@example.com"


def test_concurrent_submissions_never_share_a_reference(app, db):
    """Two sessions at once, as two web workers would be, each taking numbers."""
    import threading

    from sqlmodel import Session

    from facilities.core.db import get_engine
    from facilities.park.models import Site
    from facilities.requests.intake import next_reference

    site = factories.site(db)
    db.commit()
    rounds, numbers, errors = 5, [], []
    barrier = threading.Barrier(2)

    def take_numbers():
        try:
            with app.app_context(), Session(get_engine(app)) as session:
                park = session.get(Site, site.id)
                for _ in range(rounds):
                    barrier.wait(timeout=30)  # both start each round together
                    numbers.append(next_reference(session, site=park, year=2031)[0])
                    session.commit()
        except Exception as error:  # reported below; a thread cannot fail the test itself
            errors.append(error)
            barrier.abort()

    workers = [threading.Thread(target=take_numbers) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    assert sorted(numbers) == list(range(1, 2 * rounds + 1))


@pytest.mark.parametrize(
    ("title", "error_type"),
    [
        ("\u200b\u200b\u200b\u200b\u200b\u200b", "string_too_short"),  # only invisible
        ("\u2060\ufeff\u200b  \u00ad\u00ad\u00ad", "string_too_short"),
        ("Invoice \u202egnp.exe", "text_direction_controls"),
        ("Charger \u2066broken\u2069 again", "text_direction_controls"),
        ("Broken \ufffd\ufffd lamp", "unreadable_characters"),
    ],
)
def test_titles_must_be_readable(title, error_type):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as failure:
        ServiceRequestCreate(title=title, category_id=1)
    assert [error["type"] for error in failure.value.errors()] == [error_type]


def test_invisible_characters_are_dropped_from_titles_but_joiners_kept():
    data = ServiceRequestCreate(title="Sauna\u200b for \u00adall 👩\u200d🔧", category_id=1)
    assert data.title == "Sauna for all 👩\u200d🔧"


def test_too_many_requests_from_one_person_are_refused_with_the_form_kept(app, client, db):
    from tests import factories as made
    from tests.conftest import csrf_token, sign_in

    member = made.user(db, preferred_language="en")
    category = made.category(db)
    db.commit()
    sign_in(client, member.email)
    token = csrf_token(client, "/tenant/requests/new")
    form = {"csrf_token": token, "category_id": str(category.id), "description": "Details."}
    statuses = [
        client.post(
            "/tenant/requests/new", data={**form, "title": f"Request number {n}"}
        ).status_code
        for n in range(11)
    ]
    assert statuses == [302] * 10 + [429]
    refused = client.post("/tenant/requests/new", data={**form, "title": "The twelfth one"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429 and 'value="The twelfth one"' in page
    assert "many requests in a short time" in page


def test_the_sender_is_named_publicly_only_when_they_chose_so(app, db):
    sender = factories.user(db, name="Aino Virtanen")
    category = factories.category(db)
    db.commit()
    client = app.test_client()
    sign_in(client, sender.email)
    token = csrf_token(client, "/tenant/requests/new")
    for title, show in (("Quiet request", ""), ("Named request", "1")):
        form = {"csrf_token": token, "title": title, "category_id": str(category.id)}
        assert (
            client.post("/tenant/requests/new", data={**form, "show_name": show}).status_code == 302
        )
    db.expire_all()
    for title, named in (("Quiet request", False), ("Named request", True)):
        item = db.exec(select(ServiceRequest).where(ServiceRequest.title == title)).one()
        assert item.show_name is named
        public = app.test_client().get(f"/requests/{item.reference}").get_data(as_text=True)
        assert ("Aino Virtanen" in public) is named
        # the company sees who sent it either way
        assert "Aino Virtanen" in client.get(f"/requests/{item.reference}").get_data(as_text=True)


def test_a_poster_link_opens_the_prefilled_form_after_sign_in(app, db):
    member = factories.user(db)
    building = factories.building(db, code="SENSORI")
    category = factories.category(db, slug="ev-charging")
    db.commit()
    client = app.test_client()
    link = "/requests/new?building=SENSORI&category=ev-charging&location=P-alue+2"
    first = client.get(link)
    assert first.status_code == 302 and first.location.startswith("/tenant/requests/new?")
    to_login = client.get(first.location)
    assert to_login.status_code == 302 and "/login?next=" in to_login.location
    sign_in(client, member.email)
    form = client.get(first.location).get_data(as_text=True)
    assert f'<option value="{building.id}" selected' in form
    assert f'<option value="{category.id}" selected' in form
    assert 'value="P-alue 2"' in form
