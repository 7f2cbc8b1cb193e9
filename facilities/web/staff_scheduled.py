"""Staff: changing or cancelling a scheduled update until the scheduler publishes it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from facilities.core.db import get_session
from facilities.core.errors import ValidationFailed
from facilities.core.models import utcnow
from facilities.requests.models import RequestUpdate, ServiceRequest
from facilities.requests.scheduled import (
    AlreadyPublished,
    ScheduledUpdateForm,
    cancel_scheduled,
    edit_scheduled,
    pending_update,
)
from facilities.web.access import staff_only
from facilities.web.forms import parse_form, utc_from_park_time
from facilities.web.i18n import utc_to_local
from facilities.web.staff import _load, blueprint

LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what a datetime-local field holds


def _gone(service_request: ServiceRequest) -> Response:
    """Published or cancelled meanwhile: say so on the request's page."""
    flash(
        _(
            "The update is no longer waiting: it was published or cancelled meanwhile. "
            "The request's history shows it as it is now."
        ),
        "error",
    )
    return redirect(url_for("staff.request_page", reference=service_request.reference))


def _page(
    service_request: ServiceRequest, entry: RequestUpdate, form: dict, errors: dict, status=200
):
    return render_template(
        "staff/scheduled_update.html",
        service_request=service_request,
        entry=entry,
        form=form,
        errors=errors,
    ), status


@blueprint.get("/requests/<reference>/scheduled/<int:update_id>")
@staff_only
def edit_scheduled_update(reference: str, update_id: int):
    service_request = _load(reference)
    entry = pending_update(get_session(), service_request, update_id)
    if entry is None or entry.publish_at is None:
        return _gone(service_request)
    form = {"body": entry.body, "publish_at": utc_to_local(entry.publish_at).strftime(LOCAL_INPUT)}
    return _page(service_request, entry, form, {})


@blueprint.post("/requests/<reference>/scheduled/<int:update_id>")
@staff_only
def save_scheduled_update(reference: str, update_id: int):
    db = get_session()
    service_request = _load(reference)
    entry = pending_update(db, service_request, update_id)
    if entry is None:
        return _gone(service_request)
    data, errors = parse_form(ScheduledUpdateForm, request.form)
    if data is not None:
        try:
            publish_at = utc_from_park_time(data.publish_at, "publish_at")
            edit_scheduled(
                db,
                actor=current_user,
                entry=entry,
                body=data.body,
                publish_at=publish_at,
                now=utcnow(),
            )
        except ValidationFailed as failure:
            db.rollback()
            errors = {key: str(message) for key, message in failure.errors.items()}
        except AlreadyPublished:
            db.rollback()
            return _gone(service_request)
        else:
            db.commit()
            flash(
                _(
                    "The update was changed. It will be published %(time)s.",
                    time=format_datetime(publish_at, "short"),
                ),
                "success",
            )
            return redirect(url_for("staff.request_page", reference=reference))
    return _page(service_request, entry, request.form.to_dict(), errors, 422)


@blueprint.post("/requests/<reference>/scheduled/<int:update_id>/cancel")
@staff_only
def cancel_scheduled_update(reference: str, update_id: int):
    db = get_session()
    service_request = _load(reference)
    entry = pending_update(db, service_request, update_id)
    if entry is None:
        return _gone(service_request)
    try:
        cancel_scheduled(db, actor=current_user, entry=entry)
    except AlreadyPublished:
        db.rollback()
        return _gone(service_request)
    db.commit()
    flash(_("The scheduled update was cancelled: it will not be published."), "success")
    return redirect(url_for("staff.request_page", reference=reference))
