from datetime import timedelta

import pytest
from sqlmodel import select

from facilities.accounts.models import Role
from facilities.core.models import AuditEvent, utcnow
from facilities.park.models import Visibility
from facilities.requests.models import ServiceRequest, UpdateKind
from tests import factories
from tests.conftest import csrf_token, sign_in


def _planned_public_request(db, title="EV charging points outside Sensori"):
    staff = factories.staff(db)
    item = factories.service_request(db, title=title)
    factories.triage(
        db,
        item,
        actor=staff,
        to="planned",
        public_update="Coming in spring.",
        target_quarter="2027-Q2",
    )
    db.commit()
    return item


def test_roadmap_page_and_its_htmx_fragment_come_from_one_template(client, db):
    _planned_public_request(db)

    page = client.get("/")
    fragment = client.get("/", headers={"HX-Request": "true"})

    assert page.status_code == fragment.status_code == 200
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
    page_html, fragment_html = page.get_data(as_text=True), fragment.get_data(as_text=True)
    assert "<html" in page_html and "<html" not in fragment_html
    assert 'id="roadmap"' in page_html and 'id="roadmap"' in fragment_html
    assert "EV charging points outside Sensori" in fragment_html
    assert "Q2/2027" in fragment_html


def test_roadmap_shows_empty_columns_kindly(client):
    html = client.get("/").get_data(as_text=True)
    assert (
        "Suunnitelmissa ei ole" in html or "Nothing is planned" in html or 'class="empty"' in html
    )


def test_roadmap_leaves_out_private_and_unplanned_requests(client, db):
    _planned_public_request(db, title="Visible planned improvement")
    factories.service_request(db, title="Brand new idea not on roadmap")
    db.commit()
    html = client.get("/").get_data(as_text=True)
    assert "Visible planned improvement" in html
    assert "Brand new idea not on roadmap" not in html


def test_roadmap_columns_paginate(client, db, app):
    staff = factories.staff(db)
    for number in range(app.extensions["facilities.settings"].per_page + 3):
        item = factories.service_request(db, title=f"Improvement number {number:02d}")
        factories.triage(db, item, actor=staff, to="planned")
    db.commit()
    first = client.get("/").get_data(as_text=True)
    # planned without a target quarter: the Later column
    assert 'href="/?later_page=2"' in first
    second = client.get("/?later_page=2").get_data(as_text=True)
    assert second.count('class="roadmap-card"') == 3


def test_public_request_page_shows_public_updates_only(client, db):
    item = _planned_public_request(db)
    staff = factories.staff(db)
    factories.triage(db, item, actor=staff, internal_note="Budget line 4411.")
    db.commit()
    html = client.get(f"/requests/{item.reference}").get_data(as_text=True)
    assert "Coming in spring." in html
    assert "Budget line 4411." not in html


def test_user_text_is_escaped_and_markdown_sanitised(client, db):
    item = factories.service_request(
        db, title="<img src=x onerror=alert(1)> title", description="**bold** <script>x()</script>"
    )
    db.commit()
    html = client.get(f"/requests/{item.reference}").get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert "<strong>bold</strong>" in html and "<script>x()" not in html


def test_tenant_sees_the_whole_company_list_with_pagination(client, db, app):
    member = factories.user(db)
    colleague = factories.user(db, tenant_id=member.tenant_id)
    other_company = factories.user(db)
    per_page = app.extensions["facilities.settings"].per_page
    for number in range(per_page + 1):
        factories.service_request(db, submitter=colleague, title=f"Colleague request {number:02d}")
    factories.service_request(db, submitter=other_company, title="Another company's request")
    db.commit()

    sign_in(client, member.email)
    first = client.get("/tenant/requests").get_data(as_text=True)
    assert first.count('class="request-row"') == per_page
    assert "Another company&#39;s request" not in first and "Another company's request" not in first
    second = client.get("/tenant/requests?page=2", headers={"HX-Request": "true"})
    assert second.get_data(as_text=True).count('class="request-row"') == 1
    assert "<html" not in second.get_data(as_text=True)


def test_tenant_list_empty_state_invites_the_first_request(client, db, signed_in):
    signed_in()
    html = client.get("/tenant/requests").get_data(as_text=True)
    assert 'class="empty-state"' in html and 'href="/tenant/requests/new"' in html


def test_submitting_a_request_end_to_end(client, db):
    member = factories.user(db)
    category = factories.category(db)
    building = factories.building(db, name="Sensori")
    db.commit()
    sign_in(client, member.email)

    response = client.post(
        "/tenant/requests/new",
        data={
            "title": "EV charging points outside Sensori",
            "description": "Four chargers, please.",
            "category_id": str(category.id),
            "building_id": str(building.id),
            "csrf_token": csrf_token(client, "/tenant/requests/new"),
        },
    )
    assert response.status_code == 302
    stored = db.exec(select(ServiceRequest)).one()
    assert response.headers["Location"] == f"/requests/{stored.reference}"
    assert stored.building_id == building.id and stored.submitter_id == member.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert stored.reference in page and "EV charging points outside Sensori" in page


def test_bad_submission_explains_and_keeps_the_input(client, db):
    member = factories.user(db)
    factories.category(db)
    db.commit()
    sign_in(client, member.email)

    response = client.post(
        "/tenant/requests/new",
        data={
            "title": "EV",
            "description": "My long description that must not be lost.",
            "category_id": "",
            "csrf_token": csrf_token(client, "/tenant/requests/new"),
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="title-error"' in html and 'id="category_id-error"' in html
    assert 'class="error-summary" role="alert"' in html and 'href="#title"' in html
    assert "My long description that must not be lost." in html and 'value="EV"' in html
    assert db.exec(select(ServiceRequest)).first() is None


def test_staff_request_page_shows_internal_notes_and_scheduled_posts(client, db):
    staff = factories.staff(db)
    item = factories.service_request(db)
    factories.triage(db, item, actor=staff, internal_note="Ask the electrician.")
    factories.triage(
        db,
        item,
        actor=staff,
        public_update="Work starts in May.",
        publish_at=utcnow() + timedelta(days=3),
    )
    db.commit()
    sign_in(client, staff.email)
    html = client.get(f"/staff/requests/{item.reference}").get_data(as_text=True)
    assert "Ask the electrician." in html
    assert f"timeline__item--{UpdateKind.internal_note.value}" in html
    assert "timeline__item--scheduled" in html and "Work starts in May." in html


def test_sender_is_named_to_the_company_and_staff_but_not_the_public(client, db):
    member = factories.user(db, name="Aino Virtanen")
    colleague = factories.user(db, tenant_id=member.tenant_id)
    item = factories.service_request(db, submitter=member)
    db.commit()
    path = f"/requests/{item.reference}"
    assert "Aino Virtanen" not in client.get(path).get_data(as_text=True)
    sign_in(client, colleague.email)
    assert "Aino Virtanen" in client.get(path).get_data(as_text=True)


def test_a_private_original_is_not_named_on_a_public_duplicate(client, db):
    staff = factories.staff(db)
    secret = factories.service_request(db, title="Secret layoffs: 40 desks free")
    secret.visibility = Visibility.private
    public_copy = factories.service_request(db, title="Desks for rent")
    factories.triage(
        db, public_copy, actor=staff, to="duplicate", duplicate_of_reference=secret.reference
    )
    db.commit()
    html = client.get(f"/requests/{public_copy.reference}").get_data(as_text=True)
    assert secret.reference in html and "Secret layoffs" not in html


def test_timeline_fragment_keeps_private_requests_and_notes_to_insiders(client, db):
    member = factories.user(db)
    outsider = factories.user(db)
    staff = factories.staff(db)
    private = factories.service_request(db, submitter=member)
    private.visibility = Visibility.private
    public = factories.service_request(db, submitter=member, title="Public one here")
    factories.triage(
        db, public, actor=staff, internal_note="Budget line 4411.", public_update="Ordered."
    )
    db.commit()
    sign_in(client, outsider.email)
    hx = {"HX-Request": "true"}
    assert client.get(f"/requests/{private.reference}", headers=hx).status_code == 404
    fragment = client.get(f"/requests/{public.reference}", headers=hx).get_data(as_text=True)
    assert "Ordered." in fragment and "Budget line" not in fragment and "<html" not in fragment


def test_back_button_restores_the_whole_page(client, db, signed_in):
    signed_in(Role.staff)
    restore = client.get(
        "/staff/queue?status=all",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    html = restore.get_data(as_text=True)
    assert "<html" in html and 'class="filters' in html


def test_scheduled_update_takes_its_place_when_published(client, db, app):
    from facilities.core.jobs import run_job
    from facilities.schedule import JOBS_BY_ID

    staff = factories.staff(db)
    item = factories.scheduled_update(db, actor=staff, body="Scheduled first, published last.")
    factories.triage(db, item, actor=staff, to="planned", public_update="Planned now.")
    db.commit()
    run_job(
        app,
        JOBS_BY_ID["publish-scheduled-updates"],
        holder="t",
        now=utcnow() + timedelta(minutes=6),
    )
    html = client.get(f"/requests/{item.reference}").get_data(as_text=True)
    assert html.index("Planned now.") < html.index("Scheduled first, published last.")


@pytest.mark.parametrize(
    "path",
    [
        "/staff/queue?category=²",
        "/staff/queue?building=99999999999999999999",
        "/staff/queue?status=all&_method=POST&_external=1",
        "/staff/queue?page=-1&q=%25_%5C",
    ],
)
def test_odd_queue_addresses_still_show_the_queue(client, db, path, app):
    staff = factories.staff(db)
    for number in range(app.extensions["facilities.settings"].per_page + 1):
        factories.service_request(db, title=f"Request number {number:02d}")
    db.commit()
    sign_in(client, staff.email)
    assert client.get(path).status_code == 200


def test_odd_submit_input_is_a_message_not_a_crash(client, db, signed_in):
    signed_in()
    response = client.post(
        "/tenant/requests/new",
        data={
            "title": "Bike racks please",
            "category_id": "99999999999999999999",
            "description": "Kept description.",
            "csrf_token": csrf_token(client, "/tenant/requests/new"),
        },
    )
    assert response.status_code == 422
    assert "Kept description." in response.get_data(as_text=True)


def test_saving_a_card_without_javascript_returns_to_the_same_filtered_list(client, db):
    staff = factories.staff(db)
    factories.service_request(db)
    db.commit()
    sign_in(client, staff.email)
    html = client.get("/staff/queue?status=all&page=1").get_data(as_text=True)
    # the same filtered list, its arguments in a canonical order
    assert 'name="next" value="/staff/queue?page=1&amp;status=all"' in html


def test_changing_language_is_remembered_and_audited(client, db, signed_in):
    member = signed_in()
    client.post("/language", data={"locale": "sv", "csrf_token": csrf_token(client)})
    db.expire_all()
    assert db.get(type(member), member.id).preferred_language == "sv"
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "user.language_changed")).one()
    assert event.after == {"preferred_language": "sv"}


def test_nul_bytes_are_refused_before_they_reach_the_database(client, db):
    db.commit()
    response = client.post(
        "/login",
        data={"email": "a\x00@example.com", "password": "x", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 400
    assert client.get("/?planned_page=%00").status_code == 400


def test_an_empty_title_is_called_required(client, db, signed_in):
    signed_in()
    html = client.post(
        "/tenant/requests/new",
        data={"title": "", "csrf_token": csrf_token(client, "/tenant/requests/new")},
    ).get_data(as_text=True)
    assert '<p class="field__error" id="title-error">Tämä kenttä on pakollinen.</p>' in html


def test_a_form_that_is_not_utf8_comes_back_with_a_message_and_the_text(client, db):
    member = factories.user(db)
    category = factories.category(db)
    db.commit()
    sign_in(client, member.email)
    token = csrf_token(client, "/tenant/requests/new")
    body = (
        f"csrf_token={token}&category_id={category.id}&title=Broken+lamp+".encode()
        + b"\xff\xfe"
        + b"&description=The+lamp+by+the+door"
    )
    response = client.post(
        "/tenant/requests/new", data=body, content_type="application/x-www-form-urlencoded"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Joitakin merkkejä ei voitu lukea" in html
    assert "The lamp by the door" in html and "Broken lamp" in html
    assert db.exec(select(ServiceRequest)).all() == []
