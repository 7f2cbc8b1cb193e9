"""Staff: putting a response template into a request's public update."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import Session

from facilities import policy
from facilities.core.db import get_session
from facilities.requests.models import ResponseTemplate, ServiceRequest
from facilities.requests.responses import LANGUAGES, sender_language, with_template
from facilities.requests.timeline import timeline
from facilities.web.access import staff_only
from facilities.web.htmx import render
from facilities.web.staff import _details_context, _load, _triage_context, blueprint


def _chosen(session: Session, service_request: ServiceRequest, raw: str) -> ResponseTemplate | None:
    """The template picked, if it is one offered on this request."""
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        return None
    template = session.get(ResponseTemplate, int(raw))
    if template is None or not template.active:
        return None
    if template.category_id not in (None, service_request.category_id):
        return None
    return template


@blueprint.post("/requests/<reference>/response-template")
@staff_only
def use_response_template(reference: str):
    """The triage form again, everything typed kept, the template's reply added to the
    public update in the language chosen (the sender's by default). Saves nothing:
    htmx takes only the update field from the answer."""
    db = get_session()
    service_request = _load(reference)
    form = request.form.to_dict()
    language = form.get("template_language", "")
    if language not in LANGUAGES:
        language = sender_language(service_request)
    template = _chosen(db, service_request, form.get("response_template", ""))
    errors = {}
    if template is None:
        errors["response_template"] = _("Choose one of the templates.")
    else:
        form["public_update"] = with_template(
            form.get("public_update", ""), template, language, service_request
        )
    access = policy.for_request(current_user, service_request)
    return render(
        "staff/request.html",
        "staff/_request_card.html",
        status=422 if errors else 200,
        access=access,
        service_request=service_request,
        updates=timeline(db, service_request, kinds=access.timeline_kinds),
        form=form,
        errors=errors,
        focus_update=template is not None,
        **_details_context(service_request),
        **_triage_context([service_request]),
    )
