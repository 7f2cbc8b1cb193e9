"""Response templates: admins define them per language; staff put one into a public update,
in the sender's language, with the request's details filled in; without JavaScript too."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select
from werkzeug.datastructures import MultiDict

from facilities.accounts.models import Role
from facilities.core.errors import ValidationFailed
from facilities.core.models import AuditEvent
from facilities.requests.models import ResponseTemplate, ServiceRequest
from facilities.requests.responses import (
    ResponseTemplateForm,
    filled_in,
    save_template,
    sender_language,
    set_template_active,
    templates_for,
    with_template,
)
from facilities.web.forms import parse_form
from tests import factories
from tests.conftest import csrf_token

THANKS = {
    "name": "Thanks",
    "body_fi": "Kiitos! Katsomme pyyntöä {reference} ({title}), tila: {status}.",
    "body_en": "Thanks! We are looking into {reference} ({title}), status: {status}.",
    "body_sv": "Tack! Vi tittar på {reference} ({title}), status: {status}.",
}


def _form(**fields: str) -> ResponseTemplateForm:
    data, errors = parse_form(ResponseTemplateForm, MultiDict({**THANKS, **fields}))
    assert data is not None, errors
    return data


def _template(db, **fields: str) -> ResponseTemplate:
    admin = factories.user(db, role=Role.admin, password=None)
    return save_template(db, actor=admin, data=_form(**fields))


def _events(db, action: str) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


# --- operations ------------------------------------------------------------------------


def test_adding_and_changing_a_template_is_audited(app, db):
    template = _template(db)
    admin = factories.user(db, role=Role.admin, password=None)
    save_template(db, actor=admin, data=_form(name="Thanks a lot", body_sv=""), template=template)
    db.commit()

    assert template.name == "Thanks a lot" and set(template.bodies) == {"fi", "en"}
    added, saved = _events(db, "response_template.added"), _events(db, "response_template.saved")
    assert added[0].after["name"] == "Thanks"
    assert saved[0].before["name"] == "Thanks" and saved[0].after["name"] == "Thanks a lot"
    assert saved[0].actor_id == admin.id and saved[0].entity_id == template.id


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"body_fi": ""}, "body_fi"),
        ({"body_en": "x" * 5001}, "body_en"),
        ({"position": "first"}, "position"),
    ],
)
def test_the_form_model_refuses_what_is_missing_or_odd(fields, field):
    data, errors = parse_form(ResponseTemplateForm, MultiDict({**THANKS, **fields}))
    assert data is None and field in errors


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "THANKS"}, "name"),  # the same name, in other letters
        ({"body_en": "Dear {name}"}, "body_en"),  # a placeholder nothing fills in
        ({"category": "999999"}, "category"),
        ({"category": "²"}, "category"),
    ],
)
def test_domain_rules_are_told_per_field(app, db, fields, field):
    _template(db)
    admin = factories.user(db, role=Role.admin, password=None)
    with pytest.raises(ValidationFailed) as failure:
        save_template(db, actor=admin, data=_form(**{"name": "Another", **fields}))
    assert set(failure.value.errors) == {field}


def test_retired_templates_are_not_offered_and_come_back(app, db):
    ev = factories.category(db, slug="ev-charging")
    other = factories.category(db, slug="cleaning")
    general = _template(db, name="General")
    charging = _template(db, name="Charging", category=str(ev.id), position="1")
    admin = factories.user(db, role=Role.admin, password=None)

    assert templates_for(db, ev.id) == [general, charging]
    assert templates_for(db, other.id) == [general]
    set_template_active(db, actor=admin, template=general, active=False)
    assert templates_for(db, ev.id) == [charging]
    set_template_active(db, actor=admin, template=general, active=True)
    assert templates_for(db, ev.id) == [general, charging]
    assert [e.after for e in _events(db, "response_template.retired")] == [
        {"name": "General", "active": False}
    ]
    assert len(_events(db, "response_template.restored")) == 1


def test_placeholders_are_filled_in_the_language_chosen(app, db):
    template = _template(db)
    item = factories.service_request(db, title="Chargers at Sensori")
    planned = factories.status(db, "planned")
    item.status, item.status_id = planned, planned.id

    english = filled_in(template, "en", item)
    assert english == (
        f"Thanks! We are looking into {item.reference} (Chargers at Sensori), status: "
        f"{planned.names['en']}."
    )
    assert filled_in(template, "fi", item).startswith(f"Kiitos! Katsomme pyyntöä {item.reference}")
    template.bodies = {"fi": template.bodies["fi"]}
    assert filled_in(template, "sv", item).startswith("Kiitos!")  # no Swedish: Finnish


def test_text_from_the_request_is_never_read_as_a_placeholder(app, db):
    template = _template(db)
    template.bodies = {"fi": "x", "en": "About {title}: {unknown} stays"}  # typed in the database
    item = factories.service_request(db, title="Why {reference} and {status}?")
    assert filled_in(template, "en", item) == "About Why {reference} and {status}?: {unknown} stays"


def test_a_template_follows_what_was_typed(app, db):
    template = _template(db, body_en="Planned for {reference}.")
    item = factories.service_request(db)
    assert with_template("", template, "en", item) == f"Planned for {item.reference}."
    assert with_template("Hello.\n\n ", template, "en", item) == (
        f"Hello.\n\nPlanned for {item.reference}."
    )


def test_the_sender_is_answered_in_their_language(app, db):
    swede = factories.user(db, preferred_language="sv")
    assert sender_language(factories.service_request(db, submitter=swede)) == "sv"
    odd = factories.user(db, preferred_language="de")
    assert sender_language(factories.service_request(db, submitter=odd)) == "fi"
    item = factories.service_request(db)
    item.submitter, item.submitter_id = None, None
    assert sender_language(item) == "fi"


# --- admin screens ---------------------------------------------------------------------


@pytest.fixture
def admin_client(client, signed_in):
    signed_in(Role.admin, preferred_language="en")
    return client


def test_admins_add_edit_and_retire_templates(admin_client, db):
    token = csrf_token(admin_client, "/admin/templates")
    response = admin_client.post("/admin/templates", data={**THANKS, "csrf_token": token})
    assert response.status_code == 302 and response.location == "/admin/templates"
    template = db.exec(select(ResponseTemplate)).one()

    page = admin_client.get("/admin/templates").get_data(as_text=True)
    assert "The template “Thanks” was saved." in page and "Thanks" in page

    edit = admin_client.get(f"/admin/templates/{template.id}").get_data(as_text=True)
    assert THANKS["body_sv"] in edit
    response = admin_client.post(
        f"/admin/templates/{template.id}",
        data={**THANKS, "name": "Thank you", "csrf_token": token},
    )
    assert response.status_code == 302
    response = admin_client.post(
        f"/admin/templates/{template.id}/active", data={"active": "0", "csrf_token": token}
    )
    assert response.status_code == 302
    page = admin_client.get("/admin/templates").get_data(as_text=True)
    assert "is no longer offered" in page and "Offer again" in page
    db.expire_all()
    assert db.get(ResponseTemplate, template.id).name == "Thank you"
    assert not db.get(ResponseTemplate, template.id).active


def test_a_bad_template_form_keeps_the_input_and_names_the_field(admin_client, db):
    token = csrf_token(admin_client, "/admin/templates")
    response = admin_client.post(
        "/admin/templates",
        data={**THANKS, "body_fi": "", "body_en": "Hi {who}", "csrf_token": token},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#body_fi"' in html and "Reply in Finnish" in html
    assert "Hi {who}</textarea>" in html and THANKS["body_sv"] in html
    response = admin_client.post(
        "/admin/templates", data={**THANKS, "body_en": "Hi {who}", "csrf_token": token}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'href="#body_en"' in html
    assert "Unknown placeholder {who}. Use {reference}" in html
    assert db.exec(select(ResponseTemplate)).first() is None


# --- staff: using a template -----------------------------------------------------------


@pytest.fixture
def staff_client(client, signed_in):
    signed_in(Role.staff, preferred_language="en")
    return client


def _request_with_templates(db):
    ev = factories.category(db, slug="ev-charging")
    other = factories.category(db, slug="cleaning")
    general = _template(db, name="General")
    charging = _template(db, name="Charging", category=str(ev.id), body_sv="Laddning {reference}")
    cleaning = _template(db, name="Cleaning only", category=str(other.id))
    swede = factories.user(db, preferred_language="sv")
    item = factories.service_request(db, submitter=swede, category_=ev, title="Chargers, please")
    db.commit()
    return item, general, charging, cleaning


def test_the_request_page_offers_its_templates_in_the_senders_language(staff_client, db):
    item, general, charging, _cleaning = _request_with_templates(db)
    html = staff_client.get(f"/staff/requests/{item.reference}").get_data(as_text=True)

    offered = re.findall(r'<option value="(\d+)">([^<]+)</option>', html)
    assert (str(general.id), "General") in offered and (str(charging.id), "Charging") in offered
    assert "Cleaning only" not in html
    assert re.search(r'<option value="sv" selected>Swedish – the sender', html)
    assert f'formaction="/staff/requests/{item.reference}/response-template"' in html


def test_using_a_template_without_javascript_keeps_everything_typed(staff_client, db):
    item, _general, charging, _cleaning = _request_with_templates(db)
    planned = factories.status(db, "planned")
    token = csrf_token(staff_client, f"/staff/requests/{item.reference}")
    form = {
        "csrf_token": token,
        "version": str(item.version),
        "status_id": str(planned.id),
        "priority": "high",
        "visibility": "public",
        "public_update": "Hello.",
        "internal_note": "Call the contractor",
        "publish_at": "2031-05-01T09:00",
        "response_template": str(charging.id),
        "template_language": "sv",
        "use_template": "1",
    }
    response = staff_client.post(f"/staff/requests/{item.reference}/response-template", data=form)
    html = response.get_data(as_text=True)

    assert response.status_code == 200 and "<html" in html
    assert f"Hello.\n\nLaddning {item.reference}</textarea>" in html
    assert "Call the contractor</textarea>" in html and 'value="2031-05-01T09:00"' in html
    assert f'<option value="{planned.id}" selected>' in html
    assert '<option value="high" selected>' in html
    assert f'<option value="{charging.id}" selected>' in html
    db.expire_all()
    assert db.get(ServiceRequest, item.id).version == item.version  # nothing saved


def test_using_a_template_with_htmx_answers_with_the_update_field(staff_client, db):
    item, general, _charging, _cleaning = _request_with_templates(db)
    token = csrf_token(staff_client, f"/staff/requests/{item.reference}")
    response = staff_client.post(
        f"/staff/requests/{item.reference}/response-template",
        data={"response_template": str(general.id), "template_language": "en"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    field = re.search(rf'<textarea id="r{item.id}-public-update"[^>]*>([^<]*)</textarea>', html)
    assert field and field[1].startswith(f"Thanks! We are looking into {item.reference}")
    assert "autofocus" in field[0]
    assert f'id="r{item.id}-templates"' in html  # the row htmx swaps out of band


@pytest.mark.parametrize("chosen", ["", "abc", "999999", "cleaning"])
def test_a_template_not_offered_is_a_message(staff_client, db, chosen):
    item, _general, _charging, cleaning = _request_with_templates(db)
    token = csrf_token(staff_client, f"/staff/requests/{item.reference}")
    response = staff_client.post(
        f"/staff/requests/{item.reference}/response-template",
        data={
            "csrf_token": token,
            "response_template": str(cleaning.id) if chosen == "cleaning" else chosen,
            "public_update": "Kept",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose one of the templates." in html and "Kept</textarea>" in html
