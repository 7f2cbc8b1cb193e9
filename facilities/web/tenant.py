"""Tenant members: send a request, follow the company's requests."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from facilities.core.db import get_session
from facilities.core.errors import ValidationFailed
from facilities.core.pagination import page_number
from facilities.park.queries import active_categories, buildings
from facilities.requests import queries as request_service
from facilities.requests.intake import submit_request
from facilities.requests.models import ServiceRequestCreate
from facilities.settings import get_settings
from facilities.web.access import tenant_only
from facilities.web.caching import cached_fragment, kept_for_user
from facilities.web.forms import parse_form
from facilities.web.htmx import render_with_part
from facilities.web.templating import canonical_path, keeps_query

blueprint = Blueprint("tenant", __name__, url_prefix="/tenant")


@blueprint.get("/requests")
@tenant_only
@keeps_query("page")
@kept_for_user
def requests_page():
    def request_list() -> str:
        page = request_service.tenant_requests(
            get_session(),
            tenant_id=current_user.tenant_id,
            page=page_number(request.args.get("page")),
            per_page=get_settings().per_page,
        )
        return render_template("tenant/_request_list.html", page=page)

    # The same for everyone in the company, kept until one of its requests changes.
    part = cached_fragment(
        "company-requests", (current_user.tenant_id, canonical_path()), request_list
    )
    return render_with_part("tenant/requests.html", part)


def _form_page(form: dict[str, str], errors: dict[str, str], status: int = 200):
    db = get_session()
    return render_template(
        "tenant/new_request.html",
        form=form,
        errors=errors,
        categories=active_categories(db),
        buildings=buildings(db),
    ), status


@blueprint.get("/requests/new")
@tenant_only
def new_request_page():
    return _form_page({"category_id": request.args.get("category", "")}, {})


@blueprint.post("/requests/new")
@tenant_only
def submit():
    data, errors = parse_form(ServiceRequestCreate, request.form)
    if data is not None:
        db = get_session()
        try:
            service_request = submit_request(db, submitter=current_user, data=data)
        except ValidationFailed as failure:
            errors = {key: str(message) for key, message in failure.errors.items()}
        else:
            db.commit()
            flash(
                _(
                    "Thank you! Your request %(reference)s was sent.",
                    reference=service_request.reference,
                ),
                "success",
            )
            return redirect(url_for("public.request_page", reference=service_request.reference))
    return _form_page(request.form.to_dict(), errors, status=422)  # its summary lists the errors
