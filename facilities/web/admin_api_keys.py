"""Admins: API keys for machine clients, issued (the secret shown once), listed with
their use, and revoked; each key's calls are listed as its audit trail."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from facilities.accounts.admin import companies
from facilities.accounts.api_keys import (
    MAX_RATE_LIMIT,
    ApiKeyCreate,
    admin_names,
    find_keys,
    issue_key,
    revoke_key,
    use_counts,
    uses_of,
)
from facilities.accounts.models import ApiKey, ApiScope
from facilities.core.db import get_session
from facilities.core.errors import ValidationFailed
from facilities.core.pagination import page_number
from facilities.settings import get_settings
from facilities.web.access import admin_only
from facilities.web.admin import blueprint
from facilities.web.forms import parse_form
from facilities.web.templating import keeps_query

DEFAULT_FORM = {"rate_limit_per_minute": "60", "scopes": ["read"]}


def _key(key_id: int) -> ApiKey:
    key = get_session().get(ApiKey, key_id)
    if key is None:
        abort(404)
    return key


@blueprint.get("/api-keys")
@admin_only
@keeps_query("page")
def api_keys_page():
    db = get_session()
    page = find_keys(
        db, page=page_number(request.args.get("page")), per_page=get_settings().per_page
    )
    return render_template(
        "admin/api_keys.html",
        page=page,
        uses=use_counts(db, [key.id for key in page.items if key.id is not None]),
        names=admin_names(db, page.items),
    )


def _form_page(form: dict, errors: dict[str, str], status: int = 200):
    return render_template(
        "admin/api_key_new.html",
        form=form,
        errors=errors,
        scopes=list(ApiScope),
        companies=companies(get_session()),
        max_rate_limit=MAX_RATE_LIMIT,
    ), status


@blueprint.route("/api-keys/new", methods=["GET", "POST"])
@admin_only
def new_api_key():
    if request.method == "GET":
        return _form_page(DEFAULT_FORM, {})
    db = get_session()
    data, errors = parse_form(ApiKeyCreate, request.form)
    if "rate_limit_per_minute" in errors:  # pydantic's words fit no number field well
        errors["rate_limit_per_minute"] = _(
            "Enter a whole number from 1 to %(max)s.", max=MAX_RATE_LIMIT
        )
    if "tenant_id" in errors:
        errors["tenant_id"] = _("Choose one of the companies.")
    if "scopes" in errors:
        errors["scopes"] = _("Choose among the permissions listed.")
    if data is not None:
        try:
            key, secret = issue_key(db, admin=current_user, data=data)
            db.commit()
        except ValidationFailed as failure:
            db.rollback()
            errors = {field: str(message) for field, message in failure.errors.items()}
        except IntegrityError:  # another admin took the name a moment ago
            db.rollback()
            errors = {"name": _("A key with this name exists already. Choose another name.")}
        else:
            # Shown here once, never redirected to: the secret is in no address, no
            # session and no cache.
            response = make_response(
                render_template("admin/api_key_issued.html", key=key, secret=secret)
            )
            response.headers["Cache-Control"] = "no-store, private"
            return response
    kept = {
        "name": request.form.get("name", ""),
        "scopes": request.form.getlist("scopes"),
        "rate_limit_per_minute": request.form.get("rate_limit_per_minute", ""),
        "tenant_id": request.form.get("tenant_id", ""),
    }
    return _form_page(kept, errors, 422)


@blueprint.get("/api-keys/<int:key_id>")
@admin_only
@keeps_query("page")
def api_key_page(key_id: int):
    key = _key(key_id)
    db = get_session()
    assert key.id is not None
    calls, last_use = use_counts(db, [key.id]).get(key.id, (0, None))
    return render_template(
        "admin/api_key.html",
        key=key,
        calls=calls,
        last_use=last_use,
        names=admin_names(db, [key]),
        uses=uses_of(
            db, key, page=page_number(request.args.get("page")), per_page=get_settings().per_page
        ),
    )


@blueprint.post("/api-keys/<int:key_id>/revoke")
@admin_only
def revoke_api_key(key_id: int):
    key = _key(key_id)
    db = get_session()
    if revoke_key(db, admin=current_user, key=key):
        db.commit()
        flash(
            _(
                "The key “%(name)s” was revoked: clients using it are refused from now on.",
                name=key.name,
            ),
            "success",
        )
    else:
        flash(_("The key “%(name)s” was already revoked.", name=key.name), "info")
    return redirect(url_for("admin.api_key_page", key_id=key.id))
