"""Staff: the charger registry, EVSEs to map, faults and reports, demand, QR sheets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

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
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from facilities.charging.client import OcpiClientError
from facilities.charging.connect import connect_operator, endpoint_url, our_versions_url
from facilities.charging.demand import attach_to_request, demand_by_building
from facilities.charging.models import (
    Charger,
    ChargerFault,
    ChargerLifecycle,
    FaultReport,
    OcpiParty,
)
from facilities.charging.ocpi import OcpiError, add_party
from facilities.charging.registry import (
    CONNECTOR_LABELS,
    CONNECTOR_TYPES,
    ChargerForm,
    add_charger,
    by_code,
    change_charger,
    form_values,
    map_evse,
    operator_choices,
)
from facilities.charging.reports import PROBLEM_LABELS
from facilities.charging.status import charger_states, unmapped_evses
from facilities.core import audit
from facilities.core.db import get_session
from facilities.core.errors import ValidationFailed
from facilities.core.uploads import IMAGE_FORMATS
from facilities.park.models import Building
from facilities.park.queries import buildings
from facilities.requests.models import ServiceRequest
from facilities.settings import get_settings
from facilities.web.access import admin_only, staff_only
from facilities.web.files import stored_file
from facilities.web.forms import parse_form

blueprint = Blueprint("charging_staff", __name__, url_prefix="/staff")


def _stale_after() -> timedelta:
    return timedelta(minutes=get_settings().charging_stale_after_minutes)


@blueprint.get("/chargers")
@staff_only
def chargers_page():
    db = get_session()
    states = charger_states(
        db, stale_after=_stale_after(), include_removed=True, public_requests_only=False
    )
    parties = db.exec(
        select(OcpiParty).where(OcpiParty.country_code != "").order_by(col(OcpiParty.name))
    ).all()
    open_faults = {
        fault.charger_id: fault
        for fault in db.exec(select(ChargerFault).where(col(ChargerFault.open).is_(True)))
    }
    fault_requests = (
        {
            item.id: item
            for item in db.exec(
                select(ServiceRequest).where(
                    col(ServiceRequest.id).in_([f.request_id for f in open_faults.values()])
                )
            )
        }
        if open_faults
        else {}
    )
    return render_template(
        "charging/staff/chargers.html",
        states=states,
        parties=parties,
        unmapped=unmapped_evses(db),
        open_faults=open_faults,
        fault_requests=fault_requests,
        connector_labels=CONNECTOR_LABELS,
        chargers=[
            state.charger for state in states if state.charger.lifecycle != ChargerLifecycle.removed
        ],
    )


def _form_page(*, charger: Charger | None, form: dict, errors: dict, status: int = 200) -> Response:
    db = get_session()
    faults: Sequence[tuple[ChargerFault, ServiceRequest]] = []
    reports: Sequence[FaultReport] = []
    if charger is not None:
        faults = db.exec(
            select(ChargerFault, ServiceRequest)
            .join(ServiceRequest, col(ServiceRequest.id) == ChargerFault.request_id)
            .where(ChargerFault.charger_id == charger.id)
            .order_by(col(ChargerFault.opened_at).desc())
            .limit(20)
        ).all()
        reports = db.exec(
            select(FaultReport)
            .where(FaultReport.charger_id == charger.id)
            .order_by(col(FaultReport.created_at).desc())
            .limit(20)
        ).all()
    return make_response(
        render_template(
            "charging/staff/charger_form.html",
            charger=charger,
            form=form,
            errors=errors,
            buildings=buildings(db),
            connector_types=CONNECTOR_TYPES,
            connector_labels=CONNECTOR_LABELS,
            ocpi_parties=operator_choices(db),
            lifecycles=list(ChargerLifecycle),
            faults=faults,
            reports=reports,
            problems=PROBLEM_LABELS,
        ),
        status,
    )


def _submitted_form() -> dict[str, Any]:
    form: dict[str, Any] = request.form.to_dict()
    form["connectors"] = request.form.getlist("connectors")
    return form


@blueprint.route("/chargers/new", methods=["GET", "POST"])
@staff_only
def new_charger():
    if request.method == "GET":
        return _form_page(
            charger=None,
            form={
                "lifecycle": "planned",
                "connectors": ["IEC_62196_T2"],
                "power_kw": "11",
                "building_id": request.args.get("building", ""),
            },
            errors={},
        )
    data, errors = parse_form(ChargerForm, request.form)
    if data is not None:
        db = get_session()
        try:
            charger = add_charger(db, actor=current_user, data=data)
        except ValidationFailed as failure:
            db.rollback()
            errors = {key: str(message) for key, message in failure.errors.items()}
        else:
            db.commit()
            flash(_("Charger %(code)s was added.", code=charger.code), "success")
            return redirect(url_for("charging_staff.chargers_page"))
    return _form_page(charger=None, form=_submitted_form(), errors=errors, status=422)


@blueprint.route("/chargers/<code>", methods=["GET", "POST"])
@staff_only
def edit_charger(code: str):
    db = get_session()
    charger = by_code(db, code)
    if charger is None:
        abort(404)
    if request.method == "GET":
        values = form_values(db, charger)
        return _form_page(charger=charger, form=values, errors={})
    data, errors = parse_form(ChargerForm, request.form)
    if data is not None:
        try:
            changed = change_charger(db, actor=current_user, charger=charger, data=data)
        except ValidationFailed as failure:
            db.rollback()
            errors = {key: str(message) for key, message in failure.errors.items()}
        else:
            db.commit()
            if changed:
                flash(_("Charger %(code)s was saved.", code=charger.code), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for("charging_staff.edit_charger", code=charger.code))
    db.rollback()
    charger = by_code(db, code) or charger
    return _form_page(charger=charger, form=_submitted_form(), errors=errors, status=422)


@blueprint.post("/chargers/map")
@staff_only
def map_charger():
    db = get_session()
    charger = by_code(db, request.form.get("charger", ""))
    party_id = request.form.get("party_id", "")
    location_id = request.form.get("location_id", "")[:36]
    evse_uid = request.form.get("evse_uid", "")[:36]
    if charger is None:
        flash(_("Choose the charger this EVSE belongs to."), "error")
        return redirect(url_for("charging_staff.chargers_page") + "#unmapped")
    try:
        map_evse(
            db,
            actor=current_user,
            charger=charger,
            party_id=int(party_id) if party_id.isdigit() else None,
            location_id=location_id,
            evse_uid=evse_uid,
        )
    except (ValidationFailed, ValueError) as failure:
        db.rollback()
        messages = getattr(failure, "errors", {}) or {"": _("Check this value.")}
        flash(" ".join(str(message) for message in messages.values()), "error")
    else:
        db.commit()
        flash(
            _(
                "Charger %(code)s now shows the status of EVSE %(uid)s.",
                code=charger.code,
                uid=evse_uid,
            ),
            "success",
        )
    return redirect(url_for("charging_staff.chargers_page"))


@blueprint.get("/charging/reports/<int:report_id>/photo")
@staff_only
def report_photo(report_id: int):
    report = get_session().get(FaultReport, report_id)
    if report is None or not report.photo_key:
        abort(404)
    suffix = dict(IMAGE_FORMATS.values())  # content type → file suffix
    return stored_file(
        report.photo_key,
        content_type=report.photo_type or "application/octet-stream",
        filename=f"report-{report.id}{suffix.get(report.photo_type, '')}",
        download=False,
    )


@blueprint.get("/charging/demand")
@staff_only
def demand_page():
    return render_template(
        "charging/staff/demand.html",
        entries=demand_by_building(get_session(), with_companies=True),
    )


@blueprint.post("/charging/demand/<code>/attach")
@staff_only
def attach_demand(code: str):
    db = get_session()
    building = db.exec(select(Building).where(Building.code == code.upper())).first()
    if building is None:
        abort(404)
    reference = request.form.get("reference", "").strip().upper()[:30]
    service_request = None
    if reference:
        service_request = db.exec(
            select(ServiceRequest).where(ServiceRequest.reference == reference)
        ).first()
        if service_request is None:
            flash(_("No request has the reference %(reference)s.", reference=reference), "error")
            return redirect(url_for("charging_staff.demand_page"))
    count = attach_to_request(
        db, actor=current_user, building=building, service_request=service_request
    )
    db.commit()
    if service_request:
        flash(
            ngettext(
                "The demand of %(building)s (%(num)s company) is attached to %(reference)s.",
                "The demand of %(building)s (%(num)s companies) is attached to %(reference)s.",
                count,
                building=building.name,
                reference=service_request.reference,
            ),
            "success",
        )
    else:
        flash(
            _(
                "The demand of %(building)s is no longer attached to a request.",
                building=building.name,
            ),
            "info",
        )
    return redirect(url_for("charging_staff.demand_page"))


@blueprint.get("/buildings/<code>/qr-sheet")
@staff_only
def qr_sheet(code: str):
    db = get_session()
    building = db.exec(select(Building).where(Building.code == code.upper())).first()
    if building is None:
        abort(404)
    chargers = db.exec(
        select(Charger)
        .where(
            Charger.building_id == building.id,
            col(Charger.lifecycle).in_([ChargerLifecycle.operational, ChargerLifecycle.installing]),
        )
        .order_by(col(Charger.code))
    ).all()
    return render_template("charging/staff/qr_sheet.html", building=building, chargers=chargers)


def _operators_page(*, form: dict, error: str = "", issued: dict | None = None, status: int = 200):
    db = get_session()
    parties = db.exec(
        select(OcpiParty).where(OcpiParty.country_code != "").order_by(col(OcpiParty.name))
    ).all()
    return make_response(
        render_template(
            "charging/staff/operators.html",
            parties=parties,
            form=form,
            error=error,
            issued=issued,
            our_versions_url=our_versions_url(get_settings().base_url),
        ),
        status,
    )


@blueprint.get("/ocpi")
@admin_only
def operators_page():
    return _operators_page(form={"pull": "1"})


@blueprint.post("/ocpi/connect")
@admin_only
def connect_to_operator():
    """The handshake from our side: the operator gave us their versions URL and token A."""
    form = request.form.to_dict()
    db = get_session()
    settings = get_settings()
    try:
        party = connect_operator(
            db,
            name=form.get("name", ""),
            versions_url=form.get("versions_url", ""),
            token_a=form.get("token_a", ""),
            base_url=settings.base_url,
            business_name=settings.park_name,
            pull=bool(form.get("pull")),
        )
    except OcpiClientError as failure:
        db.rollback()
        form.pop("token_a", None)  # a secret: typed again, never echoed back
        return _operators_page(form=form, error=str(failure), status=422)
    audit.record(
        db,
        actor=current_user,
        action="ocpi.connected",
        entity="ocpi_party",
        entity_id=party.id,
        after={
            "name": party.name,
            "party": f"{party.country_code}/{party.party_id}",
            "versions_url": party.versions_url,
            "pull": party.pull_enabled,
        },
    )
    db.commit()
    code = f"{party.country_code}/{party.party_id}"
    flash(
        _("Connected to %(name)s (%(party)s).", name=party.name, party=code),
        "success",
    )
    return redirect(url_for("charging_staff.operators_page"))


@blueprint.post("/ocpi/invite")
@admin_only
def invite_operator():
    """The other direction: a token for an operator who will register with us."""
    form = request.form.to_dict()
    db = get_session()
    try:
        party, token = add_party(
            db,
            name=form.get("invite_name", "").strip()[:200] or "?",
            country_code=form.get("country_code", ""),
            party_id=form.get("party_id", ""),
        )
    except OcpiError as failure:
        db.rollback()
        return _operators_page(form=form, error=failure.message, status=422)
    except IntegrityError:
        db.rollback()
        return _operators_page(
            form=form,
            error=_("An operator with this country code and party id is already registered."),
            status=422,
        )
    audit.record(
        db,
        actor=current_user,
        action="ocpi.invited",
        entity="ocpi_party",
        entity_id=party.id,
        after={"name": party.name, "party": f"{party.country_code}/{party.party_id}"},
    )
    db.commit()
    # shown once: only its hash is kept
    return _operators_page(form={"pull": "1"}, issued={"name": party.name, "token": token})


@blueprint.post("/ocpi/<int:party_id>/pull")
@admin_only
def toggle_pull(party_id: int):
    db = get_session()
    party = db.get(OcpiParty, party_id)
    if party is None:
        abort(404)
    wanted = request.form.get("pull") == "1"
    if wanted and endpoint_url(party.endpoints, "locations", "SENDER") is None:
        flash(_("%(name)s offers no Locations sender to pull from.", name=party.name), "error")
        return redirect(url_for("charging_staff.operators_page"))
    party.pull_enabled, party.next_pull_at, party.pull_failures = wanted, None, 0
    db.add(party)
    audit.record(
        db,
        actor=current_user,
        action="ocpi.pull_changed",
        entity="ocpi_party",
        entity_id=party.id,
        after={"pull": wanted},
    )
    db.commit()
    flash(
        _("Pulling from %(name)s is on.", name=party.name)
        if wanted
        else _("Pulling from %(name)s is off.", name=party.name),
        "success",
    )
    return redirect(url_for("charging_staff.operators_page"))
