"""Saved views: named queue filters per member of staff, saved and deleted here."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from facilities.core.db import get_session
from facilities.core.errors import ValidationFailed
from facilities.requests.saved_views import delete_view, kept_query, save_view
from facilities.web.access import staff_only
from facilities.web.staff import blueprint


def _queue_url(query: str) -> str:
    return url_for("staff.queue_page") + (f"?{query}" if query else "")


@blueprint.post("/views")
@staff_only
def save_queue_view():
    db = get_session()
    name = request.form.get("view_name", "")[:200]
    query = kept_query(request.form.get("query", "")[:2000])
    try:
        view = save_view(db, user=current_user, name=name, query=query)
    except ValidationFailed as failure:
        db.rollback()
        errors = {key: str(message) for key, message in failure.errors.items()}
        return render_template(
            "staff/saved_view.html", name=name, query=query, errors=errors, back=_queue_url(query)
        ), 422
    db.commit()
    flash(_("View “%(name)s” saved.", name=view.name), "success")
    return redirect(_queue_url(view.query))


@blueprint.post("/views/<int:view_id>/delete")
@staff_only
def delete_queue_view(view_id: int):
    db = get_session()
    if not delete_view(db, user=current_user, view_id=view_id):
        abort(404)
    db.commit()
    flash(_("View deleted."), "success")
    return redirect(url_for("staff.queue_page"))
