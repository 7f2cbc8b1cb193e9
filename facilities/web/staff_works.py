"""Staff: a request's scheduled works (dates the public calendar and page show)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from facilities.core.db import get_session
from facilities.core.errors import ValidationFailed
from facilities.requests.models import ScheduledWork, ServiceRequest
from facilities.requests.works import (
    ScheduledWorkForm,
    add_work,
    delete_work,
    update_work,
    work_form,
    work_of_request,
)
from facilities.web.access import staff_only
from facilities.web.forms import parse_form
from facilities.web.staff import _load, blueprint


def _work(service_request: ServiceRequest, work_id: int) -> ScheduledWork:
    work = work_of_request(get_session(), service_request, work_id)
    if work is None:
        abort(404)
    return work


def _page(
    service_request: ServiceRequest,
    work: ScheduledWork | None,
    form: dict,
    errors: dict,
    status: int = 200,
):
    return render_template(
        "staff/work.html", service_request=service_request, work=work, form=form, errors=errors
    ), status


def _back(service_request: ServiceRequest) -> Response:
    return redirect(url_for("staff.request_page", reference=service_request.reference) + "#works")


def _save(service_request: ServiceRequest, work: ScheduledWork | None):
    """Add or change the work from the form; the form again with messages when it fails."""
    db = get_session()
    data, errors = parse_form(ScheduledWorkForm, request.form)
    if data is not None:
        try:
            if work is None:
                add_work(db, actor=current_user, service_request=service_request, data=data)
            else:
                update_work(db, actor=current_user, work=work, data=data)
        except ValidationFailed as failure:
            db.rollback()
            errors = {key: str(message) for key, message in failure.errors.items()}
        else:
            db.commit()
            flash(_("The scheduled work was saved."), "success")
            return _back(service_request)
    return _page(service_request, work, request.form.to_dict(), errors, 422)


@blueprint.get("/requests/<reference>/works/new")
@staff_only
def new_work_page(reference: str):
    return _page(_load(reference), None, {}, {})


@blueprint.post("/requests/<reference>/works")
@staff_only
def add_work_view(reference: str):
    return _save(_load(reference), None)


@blueprint.get("/requests/<reference>/works/<int:work_id>")
@staff_only
def edit_work_page(reference: str, work_id: int):
    service_request = _load(reference)
    work = _work(service_request, work_id)
    return _page(service_request, work, work_form(work), {})


@blueprint.post("/requests/<reference>/works/<int:work_id>")
@staff_only
def save_work_view(reference: str, work_id: int):
    service_request = _load(reference)
    return _save(service_request, _work(service_request, work_id))


@blueprint.post("/requests/<reference>/works/<int:work_id>/delete")
@staff_only
def delete_work_view(reference: str, work_id: int):
    db = get_session()
    service_request = _load(reference)
    delete_work(db, actor=current_user, work=_work(service_request, work_id))
    db.commit()
    flash(_("The scheduled work was removed."), "success")
    return _back(service_request)
