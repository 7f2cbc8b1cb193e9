"""Admin screens for buildings, statuses, tenant companies and users: each change is
checked, kept on error, audited; lists cost the same queries whatever their length."""

from __future__ import annotations

import pytest
from sqlmodel import select

from facilities.accounts.models import RememberToken, Role, User
from facilities.core.db import get_engine
from facilities.core.models import AuditEvent
from facilities.park.models import Building, Tenant, TenantBuilding
from facilities.park.queries import business_id
from facilities.requests.models import Status
from facilities.requests.workflow import StatusKind
from tests import factories
from tests.conftest import count_queries, csrf_token, sign_in
from tests.web.test_hostile_input import HOSTILE_VALUES, REPEATED
from tests.web.test_hostile_input import ROUTES as HOSTILE_ROUTES
from tests.web.test_hostile_input import send as hostile_send


@pytest.fixture
def admin(app, db):
    """An admin signed in on the `desk` client, reading English."""
    user = factories.user(db, role=Role.admin, preferred_language="en", name="Anna Admin")
    db.commit()
    desk = app.test_client()
    desk.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(desk, user.email)
    return user, desk


def _post(client, url: str, form: dict):
    return client.post(url, data={"csrf_token": csrf_token(client, "/admin/categories"), **form})


def _fresh(db) -> None:
    """See what the views committed, not what this session remembers."""
    db.rollback()
    db.expire_all()


def _audit(db, action: str) -> list[AuditEvent]:
    _fresh(db)
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


# --- buildings ------------------------------------------------------------------------


def test_an_admin_adds_and_edits_a_building(db, admin):
    _user, desk = admin
    form = {"code": "sensori", "name": "Sensori", "address": "Tietokatu 1, Kemi",
            "latitude": "65,7364", "longitude": ""}  # fmt: skip
    refused = _post(desk, "/admin/buildings/new", form)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Give both latitude and longitude, or neither." in text
    assert 'value="Tietokatu 1, Kemi"' in text and 'value="65,7364"' in text  # kept
    assert 'class="error-summary"' in text

    form["longitude"] = "24,5637"
    saved = _post(desk, "/admin/buildings/new", form)
    assert saved.status_code == 302 and saved.headers["Location"] == "/admin/buildings"
    building = db.exec(select(Building).where(Building.code == "SENSORI")).one()
    assert (building.latitude, building.longitude) == (65.7364, 24.5637)
    assert "SENSORI" in desk.get("/admin/buildings").get_data(as_text=True)
    assert _audit(db, "building.added")[0].after["code"] == "SENSORI"

    edited = _post(desk, f"/admin/buildings/{building.id}", {**form, "name": "Sensori-talo"})
    assert edited.status_code == 302
    (event,) = _audit(db, "building.saved")
    assert (event.before["name"], event.after["name"]) == ("Sensori", "Sensori-talo")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("code", "SÄHKÖ TALO", "Use letters A–Z, digits and hyphens"),
        ("code", "TAKEN", "Another building already has this code."),
        ("latitude", "91", "between -90 and 90"),
        ("longitude", "east", "between -180 and 180"),
        ("latitude", "NaN", "between -90 and 90"),
        ("name", "", "This field is required."),
    ],
)
def test_bad_building_input_is_explained_and_kept(db, admin, field, value, message):
    _user, desk = admin
    factories.building(db, code="TAKEN")
    db.commit()
    form = {"code": "NEW-1", "name": "New", "latitude": "65", "longitude": "24", field: value}
    refused = _post(desk, "/admin/buildings/new", form)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert message in text
    assert db.exec(select(Building).where(Building.name == "New")).first() is None


def test_an_edited_building_may_keep_its_own_code(db, admin):
    _user, desk = admin
    building = factories.building(db, code="KEEP")
    db.commit()
    page = desk.get(f"/admin/buildings/{building.id}").get_data(as_text=True)
    assert 'value="KEEP"' in page
    saved = _post(desk, f"/admin/buildings/{building.id}", {"code": "KEEP", "name": "Kept"})
    assert saved.status_code == 302
    assert desk.get("/admin/buildings/999999").status_code == 404


# --- statuses -------------------------------------------------------------------------


def _statuses(db) -> list[Status]:
    _fresh(db)
    return list(db.exec(select(Status).order_by(Status.position, Status.id)).all())


def test_statuses_are_listed_in_order_and_can_be_added_moved_and_renamed(db, admin):
    _user, desk = admin
    page = desk.get("/admin/statuses").get_data(as_text=True)
    assert page.index("Under review") < page.index("Not planned")

    refused = _post(
        desk, "/admin/statuses", {"name_fi": "", "name_en": "On hold", "kind": "waiting"}
    )
    assert refused.status_code == 422
    assert 'value="On hold"' in refused.get_data(as_text=True)
    added = _post(
        desk, "/admin/statuses",
        {"name_fi": "Tilattu", "name_en": "Ordered", "name_sv": "Beställd", "kind": "active"},
    )  # fmt: skip
    assert added.status_code == 302
    ordered = _statuses(db)
    new = ordered[-1]
    assert (new.slug, new.kind, new.names["sv"]) == ("ordered", StatusKind.active, "Beställd")
    assert _audit(db, "status.added")

    assert _post(desk, f"/admin/statuses/{new.id}/move", {"direction": "up"}).status_code == 302
    assert _statuses(db)[-2].id == new.id
    assert _audit(db, "status.moved")

    renamed = _post(
        desk, f"/admin/statuses/{new.id}",
        {"name_fi": "Tilattu urakoitsijalta", "kind": "waiting", "place": "1"},
    )  # fmt: skip
    assert renamed.status_code == 302
    first = _statuses(db)[0]
    assert (first.id, first.kind, first.names) == (
        new.id, StatusKind.waiting, {"fi": "Tilattu urakoitsijalta"},
    )  # fmt: skip
    assert [status.position for status in _statuses(db)] == list(range(len(ordered)))


def test_a_status_in_use_keeps_its_kind_and_is_retired_not_deleted(db, admin):
    _user, desk = admin
    staff = factories.staff(db)
    item = factories.service_request(db)
    factories.triage(db, item, actor=staff, to="planned")
    db.commit()
    _post(desk, "/admin/statuses", {"name_fi": "Arvioitavana", "kind": "review"})
    spare = _statuses(db)[-1]  # never used, and not the only one of its kind: may go
    spare_id, spare_slug = spare.id, spare.slug
    planned = factories.status(db, "planned")
    planned_id = planned.id

    changed = _post(
        desk, f"/admin/statuses/{planned_id}", {"name_fi": "Suunniteltu", "kind": "done"}
    )
    assert changed.status_code == 422
    assert "Requests have had this status, so its kind stays." in changed.get_data(as_text=True)

    page = desk.get("/admin/statuses").get_data(as_text=True)
    assert f"/admin/statuses/{planned_id}/delete" not in page
    assert f"/admin/statuses/{spare_id}/delete" in page
    refused = _post(desk, f"/admin/statuses/{planned_id}/delete", {})
    assert refused.status_code == 302
    assert "retire it instead of deleting it" in desk.get("/admin/statuses").get_data(as_text=True)
    assert db.get(Status, planned_id) is not None

    # another status of the kind exists, so this one may be retired
    _post(desk, "/admin/statuses", {"name_fi": "Aikataulutettu", "kind": "planned"})
    assert _post(desk, f"/admin/statuses/{planned_id}/active", {"active": "0"}).status_code == 302
    _fresh(db)
    assert db.get(Status, planned_id).active is False
    assert _audit(db, "status.retired")[0].entity_id == planned_id
    # requests in it keep it
    db.refresh(item)
    assert item.status_id == planned_id

    assert _post(desk, f"/admin/statuses/{spare_id}/delete", {}).status_code == 302
    _fresh(db)
    assert db.exec(select(Status).where(Status.id == spare_id)).first() is None
    assert _audit(db, "status.deleted")[0].before["slug"] == spare_slug


def test_the_last_active_status_of_a_kind_stays(db, admin):
    _user, desk = admin
    done = factories.status(db, "done")
    assert _post(desk, f"/admin/statuses/{done.id}/active", {"active": "0"}).status_code == 302
    page = desk.get("/admin/statuses").get_data(as_text=True)
    assert "This is the only active status of its kind: it cannot be retired." in page
    refused = _post(desk, f"/admin/statuses/{done.id}", {"name_fi": "Valmis", "kind": "review"})
    assert refused.status_code == 422
    assert "only active status of its kind" in refused.get_data(as_text=True)
    refused = _post(desk, f"/admin/statuses/{done.id}/delete", {})
    _fresh(db)
    assert db.get(Status, done.id).active is True
    assert not _audit(db, "status.retired") and not _audit(db, "status.deleted")


# --- tenant companies -----------------------------------------------------------------


def test_an_admin_adds_a_company_with_its_buildings(db, admin):
    _user, desk = admin
    sensori = factories.building(db, name="Sensori")
    factories.building(db, name="Digitalo")
    taken = factories.tenant(db)
    db.commit()
    form = {"name": "Lapin Laser Oy", "business_id": "1234567-8", "buildings": [str(sensori.id)]}
    refused = _post(desk, "/admin/companies/new", form)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "The check digit does not match" in text
    assert 'value="Lapin Laser Oy"' in text
    assert f'value="{sensori.id}" checked' in text  # the ticks are kept too

    refused = _post(desk, "/admin/companies/new", {**form, "business_id": taken.business_id})
    assert "Another company already has this business ID." in refused.get_data(as_text=True)
    refused = _post(desk, "/admin/companies/new", {**form, "business_id": "12345678"})
    assert "seven digits, a hyphen and a check digit" in refused.get_data(as_text=True)
    refused = _post(desk, "/admin/companies/new", {**form, "buildings": ["999999"]})
    assert "Choose among the buildings listed." in refused.get_data(as_text=True)

    good = business_id("1234567")
    assert _post(desk, "/admin/companies/new", {**form, "business_id": good}).status_code == 302
    tenant = db.exec(select(Tenant).where(Tenant.business_id == good)).one()
    links = db.exec(select(TenantBuilding).where(TenantBuilding.tenant_id == tenant.id)).all()
    assert [link.building_id for link in links] == [sensori.id]
    assert _audit(db, "tenant.added")[0].after["buildings"] == [sensori.id]

    edited = _post(
        desk, f"/admin/companies/{tenant.id}", {**form, "business_id": good, "buildings": []}
    )
    assert edited.status_code == 302
    _fresh(db)
    assert not db.exec(select(TenantBuilding).where(TenantBuilding.tenant_id == tenant.id)).all()
    (event,) = _audit(db, "tenant.saved")
    assert (event.before["buildings"], event.after["buildings"]) == ([sensori.id], [])


def test_companies_are_searched_by_name_and_paginated(app, db, admin):
    _user, desk = admin
    for number in range(3):
        factories.tenant(db, name=f"Kemin Kala {number} Oy")
    factories.tenant(db, name="Perämeren Automaatio Oy")
    db.commit()
    app.extensions["facilities.settings"].per_page = 2
    page = desk.get("/admin/companies?q=kala").get_data(as_text=True)
    assert "Kemin Kala 0 Oy" in page and "Perämeren" not in page
    assert "Page 1 of 2" in page and 'value="kala"' in page
    assert "Kemin Kala 2 Oy" in desk.get("/admin/companies?q=kala&page=2").get_data(as_text=True)
    assert "No company matches" in desk.get("/admin/companies?q=100%25").get_data(as_text=True)


# --- users ----------------------------------------------------------------------------


def _user_form(user: User, **changes) -> dict:
    return {
        "name": user.name,
        "role": user.role.value,
        "tenant_id": str(user.tenant_id or ""),
        "preferred_language": user.preferred_language,
        "active": "1" if user.active else "",
        **changes,
    }


def test_users_are_filtered_by_role_company_and_words(app, db, admin):
    _user, desk = admin
    company = factories.tenant(db, name="Arktinen Anturi Oy")
    aino = factories.user(db, tenant_id=company.id, name="Aino Virtanen")
    factories.user(db, role=Role.tenant_admin, tenant_id=company.id, name="Jari Kemppainen")
    factories.staff(db, name="Mikko Huolto")
    db.commit()
    by_company = desk.get(f"/admin/users?company={company.id}").get_data(as_text=True)
    assert "Aino Virtanen" in by_company and "Mikko Huolto" not in by_company
    members = desk.get(f"/admin/users?company={company.id}&role=member").get_data(as_text=True)
    assert "Aino Virtanen" in members and "Jari Kemppainen" not in members
    found = desk.get(f"/admin/users?q={aino.email.upper()}").get_data(as_text=True)
    assert "Aino Virtanen" in found and "Jari Kemppainen" not in found
    odd = desk.get("/admin/users?role=king&company=abc&q=%25_")
    assert odd.status_code == 200


def test_an_admin_changes_a_role_and_a_company(db, admin):
    _user, desk = admin
    company = factories.tenant(db)
    person = factories.user(db, tenant_id=company.id)
    db.commit()
    url = f"/admin/users/{person.id}"
    refused = _post(desk, url, _user_form(person, role="staff", name="Uusi Nimi"))
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Staff and admins belong to no company" in text and 'value="Uusi Nimi"' in text
    refused = _post(desk, url, _user_form(person, tenant_id=""))
    assert "Members and company admins need a company." in refused.get_data(as_text=True)

    assert _post(desk, url, _user_form(person, role="staff", tenant_id="")).status_code == 302
    _fresh(db)
    changed = db.get(User, person.id)
    assert (changed.role, changed.tenant_id) == (Role.staff, None)
    (event,) = _audit(db, "user.saved")
    assert (event.before["role"], event.after["role"]) == ("member", "staff")


def test_deactivating_ends_the_user_s_sessions_and_reactivating_lets_them_back(app, db, admin):
    _user, desk = admin
    person = factories.user(db)
    db.commit()
    theirs = app.test_client()
    sign_in(theirs, person.email)
    db.add(RememberToken(user_id=person.id, selector="s", validator_hash="h",
                         expires_at=person.created_at.replace(year=2999)))  # fmt: skip
    db.commit()
    assert theirs.get("/tenant/requests").status_code == 200

    assert (
        _post(desk, f"/admin/users/{person.id}", _user_form(person, active="")).status_code == 302
    )
    assert theirs.get("/tenant/requests").status_code == 302  # signed out: to the sign-in page
    _fresh(db)
    assert db.get(User, person.id).active is False
    assert not db.exec(select(RememberToken).where(RememberToken.user_id == person.id)).all()
    assert _audit(db, "user.deactivated")

    form = _user_form(db.get(User, person.id), active="1")
    assert _post(desk, f"/admin/users/{person.id}", form).status_code == 302
    assert _audit(db, "user.reactivated")
    sign_in(theirs, person.email)


def test_an_admin_can_neither_deactivate_nor_demote_themselves(db, admin):
    user, desk = admin
    url = f"/admin/users/{user.id}"
    refused = _post(desk, url, _user_form(user, active=""))
    assert refused.status_code == 422
    assert "You cannot deactivate yourself." in refused.get_data(as_text=True)
    refused = _post(desk, url, _user_form(user, role="staff"))
    assert "You cannot take away your own admin rights." in refused.get_data(as_text=True)
    _fresh(db)
    assert (db.get(User, user.id).active, db.get(User, user.id).role) == (True, Role.admin)
    assert desk.get("/admin/users").status_code == 200  # still signed in, still an admin


# --- every list: the same queries whatever the data -------------------------------------


def _fill(db, count: int) -> None:
    for _ in range(count):
        building = factories.building(db)
        tenant = factories.tenant(db)
        db.add(TenantBuilding(tenant_id=tenant.id, building_id=building.id))
        factories.user(db, tenant_id=tenant.id, password=None)
    db.commit()


@pytest.mark.parametrize(
    "path", ["/admin/buildings", "/admin/statuses", "/admin/companies", "/admin/users"]
)
def test_admin_lists_cost_the_same_queries_whatever_their_length(app, db, admin, path):
    _user, desk = admin
    staff = factories.staff(db)
    item = factories.service_request(db)
    factories.triage(db, item, actor=staff, to="planned")
    _fill(db, 2)

    def queries() -> int:
        desk.get(path)  # after a change, the first request reloads the signed-in user
        with count_queries(get_engine(app)) as statements:
            assert desk.get(path).status_code == 200
        return len(statements)

    few = queries()
    _fill(db, 12)
    for _ in range(5):
        factories.triage(db, factories.service_request(db), actor=staff, to="done")
    db.commit()
    assert queries() == few


def test_the_admin_menu_links_every_admin_screen(admin):
    _user, desk = admin
    page = desk.get("/admin/categories").get_data(as_text=True)
    for path in ("/admin/buildings", "/admin/statuses", "/admin/companies", "/admin/users"):
        assert f'href="{path}"' in page


# --- hostile input, as an admin (tests/web/test_hostile_input.py has no admin persona) ---

SCREENS = (
    "admin.buildings_page", "admin.new_building", "admin.edit_building", "admin.statuses_page",
    "admin.add_status", "admin.edit_status", "admin.move_status", "admin.toggle_status",
    "admin.delete_status", "admin.tenants_page", "admin.new_tenant", "admin.edit_tenant",
    "admin.users_page", "admin.edit_user",
)  # fmt: skip
ADMIN_ROUTES = [
    (method, route.path, route.fields)
    for (endpoint, method), route in sorted(HOSTILE_ROUTES.items())
    if endpoint in SCREENS
]


@pytest.mark.parametrize(("method", "path", "fields"), ADMIN_ROUTES, ids=lambda v: str(v)[:40])
def test_hostile_input_to_admin_screens_gets_no_server_error(app, db, admin, method, path, fields):
    _user, desk = admin
    factories.building(db)
    factories.tenant(db)
    db.commit()
    token = csrf_token(desk, "/admin/categories")
    failures = []

    def check(label: str, **kwargs) -> None:
        status = hostile_send(desk, method, path, **kwargs)
        if not isinstance(status, int) or status >= 500:
            failures.append(f"{status} {method} {path} {label}")

    names = sorted({*fields, "page", "q", "role", "company"})
    for value in HOSTILE_VALUES:
        data = {name: value for name in names} if method == "POST" else None
        query = [(name, value) for name in names]
        check(f"*={value[:30]!r}", data={**(data or {}), "csrf_token": token}, query_string=query)
    for values in REPEATED:
        check(f"*={values[:2]!r}", data={**{name: values for name in names}, "csrf_token": token})
    for raw in (b"\xff\xfe", b"%ff%fe", b"a\x00b"):
        body = b"&".join(name.encode() + b"=" + raw for name in names)
        check(f"raw {raw!r}", data=body + b"&csrf_token=" + token.encode())
    assert not failures, "\n".join(failures[:30])


def test_hostile_values_in_otherwise_valid_admin_forms_get_no_server_error(db, admin):
    """One field at a time, the rest valid, so the values reach the operations."""
    user, desk = admin
    building = factories.building(db)
    tenant = factories.tenant(db)
    person = factories.user(db, tenant_id=tenant.id)
    db.commit()
    token = csrf_token(desk, "/admin/categories")
    review = factories.status(db, "review")
    valid = {
        "/admin/buildings/new": {"code": "NEW", "name": "New building"},
        f"/admin/buildings/{building.id}": {"code": building.code, "name": "Renamed"},
        "/admin/statuses": {"name_fi": "Uusi tila", "kind": "review"},
        f"/admin/statuses/{review.id}": {"name_fi": "Käsittelyssä", "kind": "review"},
        "/admin/companies/new": {"name": "Uusi Oy", "business_id": business_id("7654321")},
        f"/admin/companies/{tenant.id}": {"name": "Vanha Oy", "business_id": tenant.business_id},
        f"/admin/users/{person.id}": _user_form(person),
        f"/admin/users/{user.id}": _user_form(user),
    }
    failures = []
    for path, form in valid.items():
        for name in [*form, "buildings", "place", "latitude", "longitude", "active"]:
            for value in [*HOSTILE_VALUES, str(building.id), str(2**31), "-1"]:
                status = hostile_send(
                    desk, "POST", path, data={**form, name: value, "csrf_token": token}
                )
                if not isinstance(status, int) or status >= 500:
                    failures.append(f"{status} {path} {name}={value[:30]!r}")
    assert not failures, "\n".join(failures[:30])
