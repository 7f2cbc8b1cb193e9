"""Staff enter requests for companies: a workshop's ideas in one sitting, all or none,
each with its source and date; the company sees them, staff filter by source."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from facilities.accounts.models import Role
from facilities.core.models import AuditEvent, Outbox, utcnow
from facilities.requests.models import RequestSource, ServiceRequest
from tests import factories
from tests.conftest import csrf_token, sign_in


def sitting_day():
    """The workshop was held three weeks ago, whatever today is (a future date is refused)."""
    return utcnow().date() - timedelta(days=21)


def _sitting(db, **fields):
    companies = [factories.tenant(db, name=name) for name in ("Arktinen Anturi Oy", "Perämeri")]
    category = factories.category(db)
    building = factories.building(db, name="Sensori")
    form = {
        "source": "workshop",
        "source_date": sitting_day().isoformat(),
        "row_count": "5",
        "rows-0-tenant_id": str(companies[0].id),
        "rows-0-category_id": str(category.id),
        "rows-0-building_id": str(building.id),
        "rows-0-title": "Yhteinen sauna Sensorin kellariin",
        "rows-0-description": "Heard from three people at the table.",
        "rows-2-tenant_id": str(companies[1].id),
        "rows-2-category_id": str(category.id),
        "rows-2-title": "Kimppakyydit Kemin keskustaan",
        # a row with only a company chosen is blank and skipped
        "rows-3-tenant_id": str(companies[1].id),
        **fields,
    }
    return companies, form


def _staff_client(client, db):
    staff = factories.staff(db, name="Mikko Rautio", preferred_language="en")
    db.commit()
    sign_in(client, staff.email)
    return staff


def test_a_workshop_s_ideas_are_entered_in_one_sitting(app, client, db):
    staff = _staff_client(client, db)
    companies, form = _sitting(db)
    db.commit()
    response = client.post(
        "/staff/requests/enter", data={**form, "csrf_token": csrf_token(client, "/staff/queue")}
    )
    assert response.status_code == 302
    assert "source=workshop" in response.headers["Location"]
    entered = db.exec(select(ServiceRequest).order_by(ServiceRequest.id)).all()
    assert [item.title for item in entered] == [
        "Yhteinen sauna Sensorin kellariin",
        "Kimppakyydit Kemin keskustaan",
    ]
    assert [item.tenant_id for item in entered] == [companies[0].id, companies[1].id]
    assert {item.source for item in entered} == {RequestSource.workshop}
    assert {item.source_date for item in entered} == {sitting_day()}
    assert {item.entered_by_id for item in entered} == {staff.id}
    assert all(item.submitter_id is None for item in entered)
    audits = db.exec(select(AuditEvent).where(AuditEvent.action == "request.submitted")).all()
    assert [event.after["source"] for event in audits] == ["workshop", "workshop"]
    assert db.exec(select(Outbox)).first() is None  # nobody sent them: no receipts

    # the company sees its idea under Our requests, with where it came from
    member = factories.user(db, tenant_id=companies[0].id)
    db.commit()
    company_client = app.test_client()
    sign_in(company_client, member.email)
    page = company_client.get("/tenant/requests").get_data(as_text=True)
    assert "Yhteinen sauna Sensorin kellariin" in page
    assert "Kimppakyydit" not in page
    day = sitting_day()
    assert f"{day.day}.{day.month}.{day.year}" in page


def test_one_bad_row_saves_nothing_and_keeps_every_row(client, db):
    _staff_client(client, db)
    _companies, form = _sitting(db, **{"rows-2-title": "=1", "rows-0-category_id": "99999"})
    db.commit()
    response = client.post(
        "/staff/requests/enter", data={**form, "csrf_token": csrf_token(client, "/staff/queue")}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#rows-2-title"' in page and 'href="#rows-0-category_id"' in page
    assert 'value="Yhteinen sauna Sensorin kellariin"' in page
    assert 'value="=1"' in page
    assert db.exec(select(ServiceRequest)).first() is None


def test_the_sitting_needs_a_source_and_a_past_date(client, db):
    _staff_client(client, db)
    _companies, form = _sitting(db, source="web", source_date="2999-01-01")
    db.commit()
    response = client.post(
        "/staff/requests/enter", data={**form, "csrf_token": csrf_token(client, "/staff/queue")}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose where the ideas came from." in page
    assert "The date cannot be in the future." in page
    assert db.exec(select(ServiceRequest)).first() is None


def test_an_unknown_company_is_told_on_its_row(client, db):
    _staff_client(client, db)
    _companies, form = _sitting(db, **{"rows-2-tenant_id": "123456"})
    db.commit()
    response = client.post(
        "/staff/requests/enter", data={**form, "csrf_token": csrf_token(client, "/staff/queue")}
    )
    assert response.status_code == 422
    assert "Choose one of the companies." in response.get_data(as_text=True)
    assert db.exec(select(ServiceRequest)).first() is None


def test_more_rows_come_back_with_everything_typed(client, db):
    _staff_client(client, db)
    _companies, form = _sitting(db, more_rows="1")
    db.commit()
    response = client.post(
        "/staff/requests/enter", data={**form, "csrf_token": csrf_token(client, "/staff/queue")}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="rows-9-title"' in page and 'id="rows-10-title"' not in page
    assert 'value="Kimppakyydit Kemin keskustaan"' in page
    assert db.exec(select(ServiceRequest)).first() is None


def test_an_empty_sitting_asks_for_one_request(client, db):
    _staff_client(client, db)
    db.commit()
    response = client.post(
        "/staff/requests/enter",
        data={
            "source": "phone",
            "source_date": sitting_day().isoformat(),
            "csrf_token": csrf_token(client, "/staff/queue"),
        },
    )
    assert response.status_code == 422
    assert "Write at least one request" in response.get_data(as_text=True)


def test_the_queue_filters_by_source_company_and_support(client, db):
    staff = _staff_client(client, db)
    heard = factories.service_request(db, title="Heard at the workshop")
    heard.source = RequestSource.workshop
    sent = factories.service_request(db, title="Sent through the form")
    db.commit()
    page = client.get("/staff/queue?source=workshop").get_data(as_text=True)
    assert "Heard at the workshop" in page and "Sent through the form" not in page
    page = client.get(f"/staff/queue?tenant={sent.tenant_id}").get_data(as_text=True)
    assert "Sent through the form" in page and "Heard at the workshop" not in page
    supporter = factories.user(db, role=Role.member)
    from facilities.core.models import utcnow
    from facilities.requests.supports import support_request

    support_request(db, user=supporter, service_request=sent, now=utcnow())
    db.commit()
    page = client.get("/staff/queue?supported=1").get_data(as_text=True)
    assert "Sent through the form" in page and "Heard at the workshop" not in page
    page = client.get("/staff/queue?sort=newest").get_data(as_text=True)
    assert page.index("Sent through the form") < page.index("Heard at the workshop")
    assert staff.id
