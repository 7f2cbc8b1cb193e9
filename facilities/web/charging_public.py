"""Charging for everyone: the park's Charging page, building pages, chargers, QR reports."""

from __future__ import annotations

import hashlib
import math
from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from markupsafe import Markup
from sqlalchemy import func
from sqlmodel import select

from facilities.charging import qr
from facilities.charging.demand import demand_by_building, public_demand
from facilities.charging.models import Charger, ChargerLifecycle, OcpiEvse, OcpiParty
from facilities.charging.registry import CONNECTOR_LABELS, by_code
from facilities.charging.reports import (
    PROBLEM_LABELS,
    FaultReportCreate,
    confirm_report,
    read_photo,
    report_of_link,
    submit_report,
)
from facilities.charging.status import charger_states
from facilities.core.db import get_session
from facilities.core.errors import ValidationFailed
from facilities.core.models import utcnow
from facilities.core.storage import get_storage
from facilities.extensions import limiter
from facilities.park.models import Building, Visibility
from facilities.requests.models import ServiceRequest
from facilities.requests.roadmap import building_requests
from facilities.settings import get_settings
from facilities.web.access import (
    no_typed_address,
    public,
    recipient_key,
    seconds_to_wait,
    wants_json,
)
from facilities.web.caching import cached_fragment
from facilities.web.forms import parse_form
from facilities.web.htmx import render, render_with_part, wants_fragment

blueprint = Blueprint("charging", __name__)

REPORT_LIMIT = "5 per 10 minutes;20 per day"  # per connection: a person reports one or two
# per mailbox named (from any connection): a confirmation e-mail goes to it
REPORT_ADDRESS_LIMIT = "3 per 10 minutes;10 per day"
REFRESH_SECONDS = 30


def _stale_after() -> timedelta:
    return timedelta(minutes=get_settings().charging_stale_after_minutes)


def _status_version() -> str:
    """What the status block shows changes with the operators' last word (each push and
    pull moves one of these) and, through the kept generation, with the registry."""
    newest_evse = select(func.max(OcpiEvse.received_at)).scalar_subquery()
    newest_contact = select(func.max(OcpiParty.last_contact_at)).scalar_subquery()
    evse, contact = get_session().exec(select(newest_evse, newest_contact)).one()
    return f"{evse}|{contact}"


def _status_part(*, fragment_url: str, building: Building | None = None) -> Markup:
    """The self-refreshing status block, kept until a status, the registry or the minute
    changes (staleness and "no data for N minutes" move with the clock)."""

    def render_block() -> str:
        db = get_session()
        states = charger_states(
            db, stale_after=_stale_after(), building_id=building.id if building else None
        )
        demand = {
            entry.building.id: public_demand(entry)
            for entry in demand_by_building(db, with_companies=False)
            if building is None or entry.building.id == building.id
        }
        return render_template(
            "charging/_status.html",
            states=states,
            demand=demand,
            show_buildings=building is None,
            fragment_url=fragment_url,
            **_context(),
        )

    minute = utcnow().strftime("%Y%m%d%H%M")
    return cached_fragment(
        "charger-status",
        (fragment_url, building.id if building else "", _status_version(), minute),
        render_block,
    )


def _context() -> dict:
    return {"connector_labels": CONNECTOR_LABELS, "refresh_seconds": REFRESH_SECONDS}


def _no_cache(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-cache"  # statuses change: always ask again
    return response


@blueprint.get("/charging")
@public
def charging_page():
    part = _status_part(fragment_url=url_for("charging.charging_page"))
    return _no_cache(render_with_part("charging/park.html", part))


@blueprint.get("/buildings/<code>")
@public
def building_page(code: str):
    """A building's chargers (live, so never kept whole) and its public requests: open,
    planned and recently done. The answer has an ETag of what it shows, so a browser
    that has this very page gets a 304."""
    db = get_session()
    building = db.exec(select(Building).where(Building.code == code.upper()[:40])).first()
    if building is None:
        abort(404)
    part = _status_part(
        fragment_url=url_for("charging.building_page", code=building.code), building=building
    )
    if wants_fragment():
        return _no_cache(render_with_part("charging/building.html", part))
    assert building.id is not None
    response = make_response(
        render_with_part(
            "charging/building.html",
            part,
            building=building,
            sections=building_requests(db, building_id=building.id, now=utcnow()),
        )
    )
    return _conditional(_no_cache(response))


def _conditional(response: Response) -> Response:
    """A weak ETag of what the page shows; 304 when the browser has it. A form's CSRF
    token is signed anew on each rendering, so the tag leaves it out and holds the
    session's own token instead (a new session gets a new page)."""
    if response.status_code != 200:
        return response
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    body = response.get_data()
    signed = g.get(field)
    if signed:
        body = body.replace(signed.encode(), b"") + str(session.get(field, "")).encode()
    response.set_etag(hashlib.sha256(body).hexdigest()[:20], weak=True)
    response.make_conditional(request)  # turns it into a 304 in place
    return response


def _charger_or_404(code: str) -> Charger:
    charger = by_code(get_session(), code)
    if charger is None or charger.lifecycle is ChargerLifecycle.removed:
        abort(404)
    return charger


@blueprint.get("/charging/<code>")
@public
def charger_page(code: str):
    charger = _charger_or_404(code)
    states = charger_states(get_session(), stale_after=_stale_after(), charger_id=charger.id)
    response = render(
        "charging/charger.html",
        "charging/_status.html",
        state=states[0],
        states=states,
        demand={},
        show_buildings=False,
        fragment_url=url_for("charging.charger_page", code=charger.code),
        **_context(),
    )
    return _no_cache(response)


@blueprint.get("/charging/<code>/qr.svg")
@public
def qr_svg(code: str):
    response = make_response(qr.qr_svg(_charger_or_404(code), scale=8))
    response.mimetype = "image/svg+xml"
    response.headers["Content-Disposition"] = f'inline; filename="charger-{code.upper()}.svg"'
    return response


@blueprint.get("/charging/<code>/qr.png")
@public
def qr_png(code: str):
    response = make_response(qr.qr_png(_charger_or_404(code)))
    response.mimetype = "image/png"
    response.headers["Content-Disposition"] = f'inline; filename="charger-{code.upper()}.png"'
    return response


def _report_form(charger: Charger, form: dict, errors: dict, status: int = 200) -> Response:
    return make_response(
        render_template(
            "charging/report.html",
            charger=charger,
            form=form,
            errors=errors,
            problems=PROBLEM_LABELS,
        ),
        status,
    )


def _too_many_reports(limit: RequestLimit) -> Response:
    minutes = math.ceil(seconds_to_wait(limit) / 60)
    message = ngettext(
        "Too many reports from this connection. Try again in %(num)s minute.",
        "Too many reports from this connection. Try again in %(num)s minutes.",
        minutes,
    )
    return _report_refused(message, minutes)


def _too_many_for_address(limit: RequestLimit) -> Response:
    minutes = math.ceil(seconds_to_wait(limit) / 60)
    message = ngettext(
        "Too many reports with this e-mail address. Send the report without an e-mail "
        "address, or try again in %(num)s minute.",
        "Too many reports with this e-mail address. Send the report without an e-mail "
        "address, or try again in %(num)s minutes.",
        minutes,
    )
    return _report_refused(message, minutes)


def _report_refused(message: str, minutes: int) -> Response:
    """The form again with what was typed, saying why and when to try again."""
    charger = by_code(get_session(), request.view_args.get("code", "") if request.view_args else "")
    if charger is None:
        return make_response(message, 429)
    response = _report_form(charger, request.form.to_dict(), {"__all__": message}, 429)
    response.headers["Retry-After"] = str(minutes * 60)
    return response


def _report_taken(response: Response) -> bool:
    """Only a report taken counts against the limits: a form sent back to correct (a
    missing choice, a photo too large) stored and sent nothing."""
    return response.status_code < 400


@blueprint.route("/charging/<code>/report", methods=["GET", "POST"])
@public
@limiter.limit(
    REPORT_LIMIT, methods=["POST"], on_breach=_too_many_reports, deduct_when=_report_taken
)
@limiter.limit(
    REPORT_ADDRESS_LIMIT,
    key_func=recipient_key("report"),
    methods=["POST"],
    on_breach=_too_many_for_address,
    exempt_when=no_typed_address,
    deduct_when=_report_taken,
)
def report_fault(code: str):
    charger = _charger_or_404(code)
    if request.method == "GET":
        return _report_form(charger, {"problem": request.args.get("problem", "")}, {})
    if request.form.get("website"):
        # the honeypot: people never see this field; a bot that fills it is thanked and ignored
        return redirect(url_for("charging.report_sent", code=charger.code))
    data, errors = parse_form(FaultReportCreate, request.form)
    photo = None
    upload = request.files.get("photo")
    db = get_session()
    try:
        if upload is not None and upload.filename:
            photo = read_photo(upload.read(), max_bytes=get_settings().upload_max_bytes)
        if data is not None and not errors:
            outcome = submit_report(
                db,
                charger=charger,
                data=data,
                language=str(get_locale() or "fi")[:2],
                photo=photo,
                storage=get_storage(),
                now=utcnow(),
            )
            db.commit()
            return redirect(
                url_for(
                    "charging.report_sent",
                    code=charger.code,
                    reference=outcome.service_request.reference,
                    merged=int(outcome.merged),
                    email=int(bool(outcome.report.email)),
                )
            )
    except ValidationFailed as failure:
        db.rollback()
        errors = {**errors, **{key: str(message) for key, message in failure.errors.items()}}
    return _report_form(charger, request.form.to_dict(), errors, 422)


@blueprint.get("/charging/<code>/report/sent")
@public
def report_sent(code: str):
    charger = _charger_or_404(code)
    reference = request.args.get("reference", "")
    service_request = None
    if reference:
        service_request = (
            get_session()
            .exec(select(ServiceRequest).where(ServiceRequest.reference == reference[:30]))
            .first()
        )
        if service_request is not None and service_request.visibility != Visibility.public:
            service_request = None
    return render_template(
        "charging/report_sent.html",
        charger=charger,
        service_request=service_request,
        merged=request.args.get("merged") == "1",
        asked_email=request.args.get("email") == "1",
    )


@blueprint.route("/charging/reports/confirm/<token>", methods=["GET", "POST"])
@public
def confirm_report_email(token: str):
    """GET asks to confirm with a button: mail scanners follow links, they press none."""
    db = get_session()
    if request.method == "GET":
        report = report_of_link(db, token=token, now=utcnow())
    else:
        report = confirm_report(db, token=token, now=utcnow())
        db.commit()
    if report is None:
        if wants_json():
            abort(404)
        return make_response(
            render_template("charging/report_confirmed.html", report=None, charger=None), 404
        )
    charger = db.get(Charger, report.charger_id)
    asking = request.method == "GET" and report.confirmed_at is None  # once done, say so
    template = "report_confirm.html" if asking else "report_confirmed.html"
    return render_template(f"charging/{template}", report=report, charger=charger, token=token)


_ = _  # gettext is used by templates through the app; keep the import for extraction
