"""Admins: buildings, statuses, tenant companies and users. Routes of the admin
blueprint (web/admin.py); every change goes through an audited operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import col, select

from facilities.accounts.admin import (
    UserForm,
    companies,
    find_users,
    people_per_company,
    save_user,
    user_form,
)
from facilities.accounts.models import Role, User
from facilities.core.db import get_session
from facilities.core.errors import ValidationFailed
from facilities.core.pagination import page_number
from facilities.park.buildings import BuildingForm, building_form, save_building
from facilities.park.models import Building, Tenant
from facilities.park.tenants import (
    TenantForm,
    building_ids_of,
    buildings_of_tenants,
    find_tenants,
    save_tenant,
    tenant_form,
)
from facilities.requests import statuses
from facilities.requests.models import MAX_ID, Status
from facilities.requests.workflow import StatusKind
from facilities.settings import SUPPORTED_LOCALES, get_settings
from facilities.web.access import admin_only
from facilities.web.admin import blueprint
from facilities.web.forms import parse_form
from facilities.web.i18n import LANGUAGE_NAMES
from facilities.web.templating import keeps_query

SEARCH_MAX = 100  # longer search words are cut: no name is that long


def _attempt(operation: Callable[[], Any]) -> dict[str, str]:
    """Run one operation and commit; or roll back and give its messages per field."""
    db = get_session()
    try:
        operation()
    except ValidationFailed as failure:
        db.rollback()
        return {key: str(message) for key, message in failure.errors.items()}
    db.commit()
    return {}


def _get_or_404(model: type, item_id: int) -> Any:
    item = get_session().get(model, item_id)
    if item is None:
        abort(404)
    return item


def _search() -> str:
    return " ".join(request.args.get("q", "").split())[:SEARCH_MAX]


# --- buildings ------------------------------------------------------------------------


@blueprint.get("/buildings")
@admin_only
def buildings_page():
    db = get_session()
    buildings = db.exec(select(Building).order_by(col(Building.name), col(Building.id))).all()
    return render_template("admin/buildings.html", buildings=buildings)


def _building_page(building: Building | None, form: dict, errors: dict, status: int = 200):
    return render_template(
        "admin/building.html", building=building, form=form, errors=errors
    ), status


def _save_building(building: Building | None):
    data, errors = parse_form(BuildingForm, request.form)
    if data is not None:
        errors = _attempt(
            lambda: save_building(
                get_session(),
                actor=current_user,
                data=data,
                building=building,
                site_name=get_settings().park_name,
            )
        )
        if not errors:
            flash(_("The building %(code)s was saved.", code=data.code), "success")
            return redirect(url_for("admin.buildings_page"))
    return _building_page(building, request.form.to_dict(), errors, 422)


@blueprint.route("/buildings/new", methods=["GET", "POST"])
@admin_only
def new_building():
    if request.method == "GET":
        return _building_page(None, {}, {})
    return _save_building(None)


@blueprint.route("/buildings/<int:building_id>", methods=["GET", "POST"])
@admin_only
def edit_building(building_id: int):
    building = _get_or_404(Building, building_id)
    if request.method == "GET":
        return _building_page(building, building_form(building), {})
    return _save_building(building)


# --- statuses -------------------------------------------------------------------------


def _statuses_page(form: dict, errors: dict, status: int = 200):
    db = get_session()
    return render_template(
        "admin/statuses.html",
        statuses=statuses.ordered(db),
        in_use=statuses.statuses_in_use(db),
        counts=statuses.request_counts(db),
        kinds=list(StatusKind),
        form=form,
        errors=errors,
    ), status


@blueprint.get("/statuses")
@admin_only
def statuses_page():
    return _statuses_page({"kind": StatusKind.review.value}, {})


@blueprint.post("/statuses")
@admin_only
def add_status():
    data, errors = parse_form(statuses.StatusForm, request.form)
    if data is not None:
        errors = _attempt(
            lambda: statuses.save_status(get_session(), actor=current_user, data=data)
        )
        if not errors:
            flash(_("The status “%(name)s” was added.", name=data.name_fi), "success")
            return redirect(url_for("admin.statuses_page"))
    return _statuses_page(request.form.to_dict(), errors, 422)


def _status_page(status: Status, form: dict, errors: dict, code: int = 200):
    db = get_session()
    return render_template(
        "admin/status.html",
        status=status,
        in_use=statuses.is_in_use(db, status),
        kinds=list(StatusKind),
        count=len(statuses.ordered(db)),
        form=form,
        errors=errors,
    ), code


@blueprint.route("/statuses/<int:status_id>", methods=["GET", "POST"])
@admin_only
def edit_status(status_id: int):
    status = _get_or_404(Status, status_id)
    if request.method == "GET":
        place = [item.id for item in statuses.ordered(get_session())].index(status.id) + 1
        return _status_page(status, statuses.status_form(status, place), {})
    data, errors = parse_form(statuses.StatusForm, request.form)
    if data is not None:
        errors = _attempt(
            lambda: statuses.save_status(
                get_session(), actor=current_user, data=data, status=status
            )
        )
        if not errors:
            flash(_("The status “%(name)s” was saved.", name=data.name_fi), "success")
            return redirect(url_for("admin.statuses_page"))
    return _status_page(status, request.form.to_dict(), errors, 422)


def _status_action(status_id: int, operation: Callable[[Status], Any], done: str):
    """A button on the status list: do it and come back, saying what happened or why not."""
    status = _get_or_404(Status, status_id)
    errors = _attempt(lambda: operation(status))
    if errors:
        for message in errors.values():
            flash(message, "error")
    elif done:
        flash(done, "success")
    return redirect(url_for("admin.statuses_page"))


@blueprint.post("/statuses/<int:status_id>/move")
@admin_only
def move_status(status_id: int):
    steps = {"up": -1, "down": 1}.get(request.form.get("direction", ""), 0)
    return _status_action(
        status_id,
        lambda status: statuses.move_status(
            get_session(), actor=current_user, status=status, steps=steps
        ),
        "",
    )


@blueprint.post("/statuses/<int:status_id>/active")
@admin_only
def toggle_status(status_id: int):
    active = request.form.get("active") == "1"
    return _status_action(
        status_id,
        lambda status: statuses.set_status_active(
            get_session(), actor=current_user, status=status, active=active
        ),
        _("The status is offered again.") if active else _("The status was retired."),
    )


@blueprint.post("/statuses/<int:status_id>/delete")
@admin_only
def delete_status(status_id: int):
    return _status_action(
        status_id,
        lambda status: statuses.delete_status(get_session(), actor=current_user, status=status),
        _("The status was deleted."),
    )


# --- tenant companies -----------------------------------------------------------------


@blueprint.get("/companies")
@admin_only
@keeps_query("q", "page")
def tenants_page():
    db = get_session()
    page = find_tenants(
        db,
        search=_search(),
        page=page_number(request.args.get("page")),
        per_page=get_settings().per_page,
    )
    ids = [tenant.id for tenant in page.items if tenant.id is not None]
    return render_template(
        "admin/tenants.html",
        page=page,
        search=_search(),
        buildings_of=buildings_of_tenants(db, ids),
        people=people_per_company(db, ids),
    )


def _tenant_page(tenant: Tenant | None, form: dict, errors: dict, status: int = 200):
    db = get_session()
    buildings = db.exec(select(Building).order_by(col(Building.name), col(Building.id))).all()
    return render_template(
        "admin/tenant.html", tenant=tenant, buildings=buildings, form=form, errors=errors
    ), status


def _save_tenant(tenant: Tenant | None):
    data, errors = parse_form(TenantForm, request.form)
    if data is not None:
        errors = _attempt(
            lambda: save_tenant(
                get_session(),
                actor=current_user,
                data=data,
                tenant=tenant,
                site_name=get_settings().park_name,
            )
        )
        if not errors:
            flash(_("The company %(name)s was saved.", name=data.name), "success")
            return redirect(url_for("admin.tenants_page"))
    form = {**request.form.to_dict(), "buildings": request.form.getlist("buildings")}
    return _tenant_page(tenant, form, errors, 422)


@blueprint.route("/companies/new", methods=["GET", "POST"])
@admin_only
def new_tenant():
    if request.method == "GET":
        return _tenant_page(None, {}, {})
    return _save_tenant(None)


@blueprint.route("/companies/<int:tenant_id>", methods=["GET", "POST"])
@admin_only
def edit_tenant(tenant_id: int):
    tenant = _get_or_404(Tenant, tenant_id)
    if request.method == "GET":
        assert tenant.id is not None
        return _tenant_page(
            tenant, tenant_form(tenant, building_ids_of(get_session(), tenant.id)), {}
        )
    return _save_tenant(tenant)


# --- users ----------------------------------------------------------------------------


def _company_filter() -> int | None:
    raw = request.args.get("company", "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID else None


@blueprint.get("/users")
@admin_only
@keeps_query("q", "role", "company", "page")
def users_page():
    db = get_session()
    role = request.args.get("role", "")
    chosen_role = Role(role) if role in Role.__members__ else None
    page = find_users(
        db,
        search=_search(),
        role=chosen_role,
        tenant_id=_company_filter(),
        page=page_number(request.args.get("page")),
        per_page=get_settings().per_page,
    )
    everyone = companies(db)
    return render_template(
        "admin/users.html",
        page=page,
        search=_search(),
        role=chosen_role.value if chosen_role else "",
        company=_company_filter(),
        companies=everyone,
        company_names={tenant.id: tenant.name for tenant in everyone},
        roles=list(Role),
    )


def _user_page(user: User, form: dict, errors: dict, status: int = 200):
    return render_template(
        "admin/user.html",
        user=user,
        companies=companies(get_session()),
        roles=list(Role),
        languages={code: LANGUAGE_NAMES[code] for code in SUPPORTED_LOCALES},
        form=form,
        errors=errors,
    ), status


@blueprint.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def edit_user(user_id: int):
    user = _get_or_404(User, user_id)
    if request.method == "GET":
        return _user_page(user, user_form(user), {})
    data, errors = parse_form(UserForm, request.form)
    if data is not None:
        errors = _attempt(
            lambda: save_user(get_session(), actor=current_user, user=user, data=data)
        )
        if not errors:
            flash(_("%(name)s was saved.", name=data.name), "success")
            return redirect(url_for("admin.users_page"))
    return _user_page(user, request.form.to_dict(), errors, 422)
