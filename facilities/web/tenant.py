"""Tenant members: send a request, follow the company's requests."""

from __future__ import annotations

import math
from collections.abc import Mapping

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter import RequestLimit
from flask_login import current_user
from sqlmodel import col, select

from facilities.accounts.models import Role, User
from facilities.accounts.tokens import invite, pending_invitations
from facilities.accounts.users import deactivate_user
from facilities.charging.demand import (
    InterestForm,
    interests_of_tenant,
    record_interest,
    withdraw_interest,
)
from facilities.charging.models import ChargingInterest
from facilities.core.db import get_session
from facilities.core.errors import ValidationFailed
from facilities.core.models import utcnow
from facilities.core.pagination import page_number
from facilities.core.storage import get_storage
from facilities.extensions import limiter
from facilities.park.queries import active_categories, buildings
from facilities.park.questions import check_answers, questions_of, raw_answers
from facilities.requests import queries as request_service
from facilities.requests.attachments import check_files, uploads_from
from facilities.requests.intake import SUBMIT_LIMIT, submit_request
from facilities.requests.models import MAX_ID, ServiceRequestCreate
from facilities.requests.search import search_requests, search_words
from facilities.settings import get_settings
from facilities.web.access import (
    allow,
    no_typed_address,
    person_key,
    recipient_key,
    seconds_to_wait,
    tenant_only,
)
from facilities.web.caching import cached_fragment, kept_for_user
from facilities.web.forms import parse_form
from facilities.web.htmx import render_with_part
from facilities.web.i18n import LANGUAGE_NAMES
from facilities.web.templating import canonical_path, keeps_query

blueprint = Blueprint("tenant", __name__, url_prefix="/tenant")


@blueprint.get("/requests")
@tenant_only
@keeps_query("page", "supported_page")
@kept_for_user
def requests_page():
    def request_list() -> str:
        db = get_session()
        per_page = get_settings().per_page
        page = request_service.tenant_requests(
            db,
            tenant_id=current_user.tenant_id,
            page=page_number(request.args.get("page")),
            per_page=per_page,
        )
        supported = request_service.tenant_supported_requests(
            db,
            tenant_id=current_user.tenant_id,
            page=page_number(request.args.get("supported_page")),
            per_page=per_page,
        )
        return render_template("tenant/_request_list.html", page=page, supported=supported)

    # The same for everyone in the company, kept until one of its requests changes.
    part = cached_fragment(
        "company-requests", (current_user.tenant_id, canonical_path()), request_list
    )
    return render_with_part("tenant/requests.html", part)


def _category_id(form: Mapping[str, str]) -> int | None:
    value = form.get("category_id", "")
    if not (value.isascii() and value.isdigit()):  # "²" is a digit to isdigit()
        return None
    return int(value) if 0 < int(value) <= MAX_ID else None


def _form_page(
    form: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    *,
    answers: dict[str, list[str]] | None = None,
    similar: list | None = None,
    looked: bool = False,
):
    db = get_session()
    return render_template(
        "tenant/new_request.html",
        form=form,
        errors=errors,
        categories=active_categories(db),
        buildings=buildings(db),
        questions=questions_of(db, _category_id(form)),
        answers=answers or {},
        similar=similar or [],
        looked=looked,
    ), status


def _prefilled() -> dict[str, str]:
    """The form as a link or the no-JavaScript "look for similar" button fills it:
    `?building=SENSORI&category=ev-charging&location=…` (codes or ids) and typed text."""
    db = get_session()
    args = request.args
    form = {
        key: args.get(key, "")[:limit]
        for key, limit in (("title", 140), ("description", 10_000), ("location_note", 300))
    }
    form["location_note"] = form["location_note"] or args.get("location", "")[:300]
    if args.get("show_name"):
        form["show_name"] = "1"
    category = args.get("category_id") or args.get("category", "")
    for choice in active_categories(db):
        if category in (str(choice.id), choice.slug):
            form["category_id"] = str(choice.id)
    building = args.get("building_id") or args.get("building", "")
    for place in buildings(db):
        if building.upper() in (str(place.id), place.code):
            form["building_id"] = str(place.id)
    return form


def _similar(title: str) -> list:
    return search_requests(get_session(), typed=title, viewer=current_user, limit=5, open_only=True)


@blueprint.get("/requests/new")
@tenant_only
def new_request_page():
    form = _prefilled()
    return _form_page(
        form,
        {},
        answers=raw_answers(request.args),
        similar=_similar(form.get("title", "")),
        looked="look" in request.args,
    )


@blueprint.get("/requests/questions")
@tenant_only
def category_questions():
    """The chosen category's extra questions (htmx, when the category changes)."""
    questions = questions_of(get_session(), _category_id(request.args))
    return render_template("tenant/_questions.html", questions=questions, answers={}, errors={})


@blueprint.get("/requests/similar")
@tenant_only
def similar_requests():
    """While the title is typed (htmx): requests like it, to support instead."""
    title = request.args.get("title", "")[:140]
    return render_template(
        "tenant/_similar.html", similar=_similar(title), looked=bool(search_words(title))
    )


def _too_many_requests(_limit: object):
    body, status = _form_page(
        request.form.to_dict(),
        {"__all__": _("You have sent many requests in a short time. Try again later.")},
        status=429,
        answers=raw_answers(request.form),
    )
    return make_response(body, status)


def _only_looking() -> bool:
    """The form's own buttons without JavaScript: look for similar requests, or show the
    chosen category's questions. They post the form so nothing typed is lost and no
    token lands in an address; they send nothing."""
    return bool(request.form.get("look") or request.form.get("show_questions"))


@blueprint.post("/requests/new")
@tenant_only
@limiter.limit(
    SUBMIT_LIMIT, key_func=person_key, on_breach=_too_many_requests, exempt_when=_only_looking
)
def submit():
    db = get_session()
    if _only_looking():
        form = request.form.to_dict()
        return _form_page(
            form,
            {},
            answers=raw_answers(request.form),
            similar=_similar(form.get("title", "")[:140]),
            looked=bool(request.form.get("look")),
        )
    data, errors = parse_form(ServiceRequestCreate, request.form)
    answers = raw_answers(request.form)
    max_bytes = get_settings().upload_max_bytes
    uploads = uploads_from(request.files, max_bytes=max_bytes)
    files = []
    try:
        # every part checked, so that one answer lists every mistake
        check_answers(questions_of(db, _category_id(request.form)), answers)
    except ValidationFailed as failure:
        errors.update({key: str(message) for key, message in failure.errors.items()})
    try:
        files = check_files(uploads, max_bytes=max_bytes)
    except ValidationFailed as failure:
        errors.update({key: str(message) for key, message in failure.errors.items()})
    if data is not None and not errors:
        try:
            service_request = submit_request(
                db,
                submitter=current_user,
                data=data,
                answers=answers,
                files=files,
                storage=get_storage(),
            )
        except ValidationFailed as failure:
            db.rollback()
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
    if uploads and "files" not in errors:
        # a browser cannot be given files back: say so rather than lose them silently
        errors["files"] = _("Nothing was saved yet: choose your files again.")
    # its summary lists the errors
    return _form_page(request.form.to_dict(), errors, status=422, answers=answers)


def _demand_page(form: dict[str, str], errors: dict[str, str], status: int = 200):
    db = get_session()
    return render_template(
        "charging/tenant_demand.html",
        form=form,
        errors=errors,
        buildings=buildings(db),
        interests=interests_of_tenant(db, current_user.tenant_id),
    ), status


@blueprint.get("/charging")
@tenant_only
def charging_demand_page():
    return _demand_page({"charging_time": "work_hours"}, {})


@blueprint.post("/charging")
@tenant_only
def record_charging_demand():
    data, errors = parse_form(InterestForm, request.form)
    if data is not None:
        db = get_session()
        try:
            record_interest(db, actor=current_user, data=data)
        except ValidationFailed as failure:
            db.rollback()
            errors = {key: str(message) for key, message in failure.errors.items()}
        else:
            db.commit()
            flash(_("Thank you: your company's need for charging was saved."), "success")
            return redirect(url_for("tenant.charging_demand_page"))
    return _demand_page(request.form.to_dict(), errors, status=422)


@blueprint.post("/charging/<int:interest_id>/withdraw")
@tenant_only
def withdraw_charging_demand(interest_id: int):
    db = get_session()
    interest = db.get(ChargingInterest, interest_id)
    if interest is None or interest.tenant_id != current_user.tenant_id:
        abort(404)
    withdraw_interest(db, actor=current_user, interest=interest)
    db.commit()
    flash(_("The need was removed."), "info")
    return redirect(url_for("tenant.charging_demand_page"))


tenant_admin_only = allow({Role.tenant_admin})


def _people_page(form: dict[str, str], errors: dict[str, str], status: int = 200):
    db = get_session()
    colleagues = db.exec(
        select(User).where(User.tenant_id == current_user.tenant_id).order_by(col(User.name))
    ).all()
    return render_template(
        "tenant/people.html",
        colleagues=colleagues,
        invitations=pending_invitations(db, tenant_id=current_user.tenant_id, now=utcnow()),
        form=form,
        errors=errors,
        language_names=LANGUAGE_NAMES,
    ), status


@blueprint.get("/people")
@tenant_admin_only
def people_page():
    return _people_page({"language": current_user.preferred_language}, {})


# Per mailbox invited, from any company: an invitation is an e-mail to a typed-in address.
INVITE_ADDRESS_LIMIT = "3 per day"


def _too_many_invitations(limit: RequestLimit) -> Response:
    hours = math.ceil(seconds_to_wait(limit) / 3600)
    message = ngettext(
        "Too many invitations to this address. Try again in %(num)s hour.",
        "Too many invitations to this address. Try again in %(num)s hours.",
        hours,
    )
    page, status = _people_page(request.form.to_dict(), {"email": message}, status=429)
    response = make_response(page, status)
    response.headers["Retry-After"] = str(hours * 3600)
    return response


@blueprint.post("/people/invite")
@tenant_admin_only
@limiter.limit("20 per hour", key_func=person_key)
@limiter.limit(
    INVITE_ADDRESS_LIMIT,
    key_func=recipient_key("invite"),
    on_breach=_too_many_invitations,
    exempt_when=no_typed_address,
)
def invite_colleague():
    db = get_session()
    form = request.form.to_dict()
    try:
        invite(
            db,
            inviter=current_user,
            email=form.get("email", ""),
            name=form.get("name", ""),
            language=form.get("language", ""),
            now=utcnow(),
        )
    except ValidationFailed as failure:
        db.rollback()
        errors = {key: str(message) for key, message in failure.errors.items()}
        return _people_page(form, errors, status=422)
    db.commit()
    flash(_("An invitation was sent to %(email)s.", email=form.get("email", "").strip()), "success")
    return redirect(url_for("tenant.people_page"))


@blueprint.post("/people/<int:user_id>/deactivate")
@tenant_admin_only
def deactivate_colleague(user_id: int):
    db = get_session()
    colleague = db.get(User, user_id)
    if colleague is None or colleague.tenant_id != current_user.tenant_id:
        abort(404)
    if colleague.id == current_user.id:
        flash(_("You cannot deactivate yourself."), "error")
        return redirect(url_for("tenant.people_page"))
    if colleague.active:
        deactivate_user(db, user=colleague, actor=current_user)
        db.commit()
        flash(_("%(name)s can no longer sign in.", name=colleague.name), "success")
    return redirect(url_for("tenant.people_page"))
