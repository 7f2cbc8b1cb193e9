"""Staff: the work queue and triage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from babel.numbers import format_decimal
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from facilities import policy
from facilities.accounts.users import staff_members
from facilities.charging.demand import demand_of_request
from facilities.charging.registry import charger_of_fault, chargers_of_request
from facilities.core.db import get_session, joined
from facilities.core.errors import ValidationFailed, VersionConflict
from facilities.core.models import utcnow
from facilities.core.pagination import page_number
from facilities.extensions import htmx
from facilities.park.queries import active_categories, buildings, companies
from facilities.park.questions import answer_rows, questions_of
from facilities.requests import queries as request_service
from facilities.requests.attachments import attachments_of
from facilities.requests.deadlines import next_deadline
from facilities.requests.models import MAX_ID, Priority, ServiceRequest, ServiceRequestTriage
from facilities.requests.queries import (
    QUEUE_ARGS,
    QueueFilter,
    queue,
    queue_statement,
    status_counts,
    status_ids_by_kind,
    statuses,
)
from facilities.requests.reports import sla_report
from facilities.requests.responses import sender_language, templates_for
from facilities.requests.saved_views import views_of
from facilities.requests.supports import supporting_companies
from facilities.requests.targets import quarter_choices, quarter_of
from facilities.requests.timeline import timeline
from facilities.requests.triage import BulkChange, bulk_triage, triage_request
from facilities.requests.workflow import allowed_targets
from facilities.requests.works import works_of
from facilities.settings import get_settings
from facilities.web.access import staff_only
from facilities.web.caching import cached_fragment, kept_for_user, per_generation
from facilities.web.changes import what_changed
from facilities.web.exports import csv_response
from facilities.web.forms import parse_form, utc_from_park_time
from facilities.web.htmx import render, render_fragment, render_with_part
from facilities.web.i18n import utc_to_local
from facilities.web.request_contact import api_sender
from facilities.web.safety import page_to_return_to, safe_next
from facilities.web.templating import (
    PRIORITY_LABELS,
    VISIBILITY_LABELS,
    canonical_path,
    current_language,
    keeps_query,
    name_in_locale,
)

blueprint = Blueprint("staff", __name__, url_prefix="/staff")


def _int_or_none(raw: str | None) -> int | None:
    """An id from a query string; anything else (², 10**30, x) means no filter."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) < 10:
        return int(raw)
    return None


def _assignee_filter(value: str) -> str:
    if value in ("mine", "nobody"):
        return value
    user_id = _int_or_none(value)
    return str(user_id) if user_id is not None else ""


def _triage_context(items: list[ServiceRequest]) -> dict:
    """What the triage form needs besides the request, worked out once per page: the
    status choices from each status, and the target quarters with their labels."""
    db = get_session()
    quarters = quarter_choices(utc_to_local(utcnow()).date())
    for item in items:  # keep a target set earlier selectable
        current = quarter_of(item.target_start, item.target_end)
        if current and current not in quarters:
            quarters.insert(0, current)
    every_status = statuses(db)
    names = {status.id: name_in_locale(status.names) for status in every_status}
    status_choices = {
        current.id: [
            (str(status.id), names[status.id])
            for status in every_status
            if status.active
            and (status.id == current.id or status.kind in allowed_targets(current.kind))
        ]
        for current in every_status
    }
    quarter_labels = []
    for quarter in quarters:
        year, number = quarter.split("-Q")
        quarter_labels.append((quarter, _("Q%(quarter)s/%(year)s", quarter=number, year=year)))
    now = utcnow()
    return {
        "staff_choices": [
            (str(user.id), user.name)
            for user in per_generation("staff-members", lambda: staff_members(db))
        ],
        "statuses": every_status,
        "status_choices": status_choices,
        "quarter_labels": quarter_labels,
        "deadlines": {item.id: next_deadline(item, now) for item in items},
    }


def _queue_filters() -> QueueFilter:
    """The queue's filters from the address (the list and its CSV share them)."""
    sort = request.args.get("sort")
    return QueueFilter(
        status=request.args.get("status") or "open",
        category_id=_int_or_none(request.args.get("category")),
        building_id=_int_or_none(request.args.get("building")),
        search=request.args.get("q", "").strip()[:100],
        sort=sort if sort in ("support", "due", "oldest", "newest") else "urgency",
        overdue=request.args.get("overdue") == "1",
        tenant_id=_int_or_none(request.args.get("tenant")),
        source=request.args.get("source", "")[:20],
        supported=request.args.get("supported") == "1",
        # deadlines pass as time does: the kept list is worked out again each minute
        now=utcnow().replace(second=0, microsecond=0),
        assignee=_assignee_filter(request.args.get("assignee", "")),
        viewer_id=current_user.id,
    )


EXPORT_LIMIT = 10_000  # rows in one CSV: years of the park's requests


@blueprint.get("/queue.csv")
@staff_only
def queue_csv():
    """The filtered queue as a spreadsheet, every row rather than a page."""
    db = get_session()
    statement = queue_statement(_queue_filters(), status_ids_by_kind(db))
    items = db.exec(statement.limit(EXPORT_LIMIT)).all()
    header = [
        _("Reference"),
        _("Title"),
        _("Status"),
        _("Priority"),
        _("Category"),
        _("Building"),
        _("Company"),
        _("Assignee"),
        _("Sent"),
        _("First answer due"),
        _("Resolution due"),
        _("Supporting companies"),
        _("Supporting people"),
        _("Visibility"),
    ]

    def local(moment: datetime | None) -> str:
        return utc_to_local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""

    rows = (
        [
            item.reference,
            item.title,
            name_in_locale(item.status.names),
            str(PRIORITY_LABELS[item.priority]),
            name_in_locale(item.category.names),
            item.building.name if item.building else "",
            item.tenant.name if item.tenant else "",
            item.assignee.name if item.assignee else "",
            local(item.created_at),
            local(item.response_due_at),
            local(item.sla_due_at),
            item.support_companies,
            item.support_people,
            str(VISIBILITY_LABELS[item.visibility]),
        ]
        for item in items
    )
    day = utc_to_local(utcnow()).date().isoformat()
    return csv_response(header, rows, filename=f"work-queue-{day}.csv")


def _report_month(value: str | None) -> date:
    """`2026-11` from the address; this month when missing or odd."""
    today = utc_to_local(utcnow()).date()
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        chosen = date(year, month, 1)
    except ValueError:
        return today.replace(day=1)
    return chosen if date(2000, 1, 1) <= chosen <= today else today.replace(day=1)


def _months_back(first: date, count: int) -> list[date]:
    months = [first]
    while len(months) < count:
        previous = months[-1] - timedelta(days=1)
        months.append(previous.replace(day=1))
    return months


@blueprint.get("/reports/sla")
@staff_only
def sla_report_page():
    """How each category kept its deadlines in a month."""
    month = _report_month(request.args.get("month"))
    this_month = utc_to_local(utcnow()).date().replace(day=1)
    return render_template(
        "staff/sla_report.html",
        month=month,
        months=_months_back(this_month, 12),
        rows=sla_report(get_session(), month=month, now=utcnow()),
    )


@blueprint.get("/reports/sla.csv")
@staff_only
def sla_report_csv():
    month = _report_month(request.args.get("month"))
    rows = sla_report(get_session(), month=month, now=utcnow())
    header = [
        _("Category"),
        _("Requests sent"),
        _("First answer in time"),
        _("First answer late"),
        _("First answer not yet due"),
        _("Median hours to first answer"),
        _("Resolved in time"),
        _("Resolved late"),
        _("Resolution not yet due"),
        _("Median hours to resolution"),
    ]

    def number(value: float | None) -> str:
        return "" if value is None else format_decimal(value, locale=current_language())

    lines = (
        [
            name_in_locale(row.category.names),
            row.received,
            row.response.met,
            row.response.missed,
            row.response.open,
            number(row.response.median_hours),
            row.resolution.met,
            row.resolution.missed,
            row.resolution.open,
            number(row.resolution.median_hours),
        ]
        for row in rows
    )
    return csv_response(header, lines, filename=f"sla-{month:%Y-%m}.csv")


BULK_LIMIT = 100  # two pages of the queue at most, so one click cannot rewrite the park


@blueprint.post("/queue/bulk")
@staff_only
def bulk_change():
    """One change to the requests ticked in the queue, each checked and told as if done
    one by one; the page after lists what went through and what was refused, and why."""
    db = get_session()
    back = page_to_return_to(request.form.get("next")) or url_for("staff.queue_page")
    seen: dict[str, int] = {}
    for value in request.form.getlist("selected")[:BULK_LIMIT]:
        reference, _sep, version = value.rpartition(":")
        if reference and version.isascii() and version.isdigit() and int(version) <= MAX_ID:
            seen[reference] = int(version)
    status_id = _int_or_none(request.form.get("bulk_status"))
    priority = request.form.get("bulk_priority", "")
    assignee = request.form.get("bulk_assignee", "keep")
    change = BulkChange(
        status_id=status_id,
        priority=Priority(priority) if priority in Priority.__members__ else None,
        # "keep" (or anything odd): as each one has it; "": nobody; an id: checked per row
        assignee=assignee
        if assignee == "" or (assignee.isascii() and assignee.isdigit())
        else None,
        public_update=request.form.get("bulk_update", "").strip()[:5000],
    )
    if not seen or change == BulkChange():
        flash(
            _("Tick the requests to change, and choose what to change.")
            if not seen
            else _("Choose what to change: a status, a priority, an assignee or an update."),
            "error",
        )
        return redirect(back)
    found = {item.reference: item for item in request_service.by_references(db, list(seen))}
    outcomes = bulk_triage(
        db,
        items=[(found[ref], version) for ref, version in seen.items() if ref in found],
        change=change,
        actor=current_user,
    )
    db.commit()
    changed_meanwhile = {
        outcome.service_request.id: what_changed(
            db, outcome.service_request, seen[outcome.service_request.reference]
        )
        for outcome in outcomes
        if outcome.conflict
    }
    return render_template(
        "staff/bulk_result.html",
        outcomes=outcomes,
        back=back,
        changed_meanwhile=changed_meanwhile,
    )


@blueprint.get("/queue")
@staff_only
@keeps_query(*QUEUE_ARGS, "page")
@kept_for_user
def queue_page():
    db = get_session()
    filters = _queue_filters()
    minute = filters.now

    def queue_list() -> str:
        ids = status_ids_by_kind(db)  # for the list and its counts alike
        page = queue(
            db,
            filters=filters,
            page=page_number(request.args.get("page")),
            per_page=get_settings().per_page,
            ids=ids,
        )
        kept = {key: value for key, value in request.args.items() if key in QUEUE_ARGS and value}
        csv_url = url_for("staff.queue_csv") + (f"?{urlencode(kept)}" if kept else "")
        return render_template(
            "staff/_queue_list.html",
            page=page,
            filters=filters,
            csv_url=csv_url,
            current_query=urlencode(kept),
            counts=status_counts(db, filters, ids),
            **_triage_context(page.items),
        )

    # The same for every member of staff: kept until a request, status or the park
    # changes, or the day (and with it the target quarters offered) does.
    # "mine" is each person's own list; every other view is shared by all staff
    whose = current_user.id if filters.assignee == "mine" else None
    part = cached_fragment("staff-queue", (canonical_path(), minute, whose), queue_list)
    return render_with_part(
        "staff/queue.html",
        part,
        filters=filters,
        staff=per_generation("staff-members", lambda: staff_members(db)),
        statuses=per_generation("statuses", lambda: statuses(db)),
        categories=per_generation("active-categories", lambda: active_categories(db)),
        buildings=per_generation("buildings", lambda: buildings(db)),
        companies=per_generation("companies", lambda: companies(db)),
        saved_views=views_of(db, current_user),
        current_query=urlencode(
            [(key, request.args[key]) for key in QUEUE_ARGS if request.args.get(key)]
        ),
    )


def _load(reference: str) -> ServiceRequest:
    # with the API client's key in the same query: the page names it (request_contact)
    service_request = (
        get_session()
        .exec(
            request_service.with_details(select(ServiceRequest))
            .options(*joined(ServiceRequest.api_key))
            .where(ServiceRequest.reference == reference.upper())
        )
        .first()
    )
    if service_request is None:
        abort(404)
    return service_request


@blueprint.get("/requests/<reference>")
@staff_only
def request_page(reference: str):
    service_request = _load(reference)
    access = policy.for_request(current_user, service_request)
    return render(
        "staff/request.html",
        "staff/_request_card.html",
        service_request=service_request,
        access=access,
        updates=timeline(get_session(), service_request, kinds=access.timeline_kinds),
        form=None,
        errors={},
        **_details_context(service_request),
        **_triage_context([service_request]),
    )


@blueprint.post("/requests/<reference>/triage")
@staff_only
def triage(reference: str):
    """Apply the triage form; htmx gets the card back, a plain form is redirected."""
    db = get_session()
    service_request = _load(reference)
    data, errors = _parse_triage_form()
    if data is not None:
        try:
            changed = triage_request(
                db, service_request=service_request, actor=current_user, data=data
            )
        except (VersionConflict, ValidationFailed) as failure:
            db.rollback()
            service_request = _load(reference)
            errors = _failure_messages(failure)
            if isinstance(failure, VersionConflict):
                meanwhile = what_changed(db, service_request, data.version)
                return _form_again(service_request, errors, changed_meanwhile=meanwhile)
        else:
            db.commit()
            return _saved(service_request, data, changed)
    return _form_again(service_request, errors)


def _parse_triage_form() -> tuple[ServiceRequestTriage | None, dict[str, str]]:
    """The form as a model, its publish time typed in park time made UTC (once, here)."""
    data, errors = parse_form(ServiceRequestTriage, request.form)
    if "version" in errors:  # a hidden field: say it where it can be seen
        errors["__all__"] = _("The form was incomplete. Reload the page and try again.")
    if data is None or data.publish_at is None:
        return data, errors
    try:
        data.publish_at = utc_from_park_time(data.publish_at, "publish_at")
    except ValidationFailed as failure:
        return None, failure.errors
    return data, errors


def _failure_messages(failure: VersionConflict | ValidationFailed) -> dict[str, str]:
    if isinstance(failure, VersionConflict):
        return {
            "__all__": _(
                "Someone else changed this request while you were editing. "
                "Its current state is shown; your text is kept below."
            )
        }
    return {key: str(message) for key, message in failure.errors.items()}


def _back(reference: str) -> str:
    return safe_next(request.form.get("next")) or url_for("staff.request_page", reference=reference)


def _saved(service_request: ServiceRequest, data: ServiceRequestTriage, changed: bool):
    reference = service_request.reference
    if not changed:
        notice = _("Nothing to change in %(reference)s.", reference=reference)
    elif data.publish_at is not None:
        notice = _(
            "%(reference)s saved. The update will be published %(time)s.",
            reference=reference,
            time=format_datetime(data.publish_at, "short"),
        )
    else:
        notice = _("%(reference)s saved.", reference=reference)
    flash(notice, "success" if changed else "info")
    if not htmx:
        return redirect(_back(reference))
    return render_fragment(  # htmx posts come from the queue's cards
        "staff/_request_card.html",
        compact=True,
        notice=notice,
        next_url=_back(reference),
        service_request=service_request,
        form=None,
        errors={},
        **_triage_context([service_request]),
    )


def _details_context(service_request: ServiceRequest) -> dict:
    """What the detail page shows beside the triage card: files, answers to the
    category's questions, chargers the request brought or is the fault of, demand."""
    db = get_session()
    return {
        "files": attachments_of(db, service_request, with_comments=True),
        "answers": answer_rows(
            questions_of(db, service_request.category_id, include_retired=True),
            service_request.answers,
        ),
        "fault_charger": charger_of_fault(db, service_request),
        "chargers": chargers_of_request(db, service_request),
        "demand": demand_of_request(db, service_request),
        "companies": supporting_companies(db, service_request),
        "response_templates": templates_for(db, service_request.category_id),
        "sender_language": sender_language(service_request),
        "works": works_of(db, service_request),
        "api_sender": api_sender(service_request, current_user),
    }


def _form_again(
    service_request: ServiceRequest, errors: dict[str, str], changed_meanwhile: Sequence[str] = ()
):
    """The form once more, with the messages and with what was typed (and, after a
    conflict, what the other save changed)."""
    reference = service_request.reference
    flash(
        _("%(reference)s was not saved: check the highlighted fields.", reference=reference),
        "error",
    )
    access = policy.for_request(current_user, service_request)
    return render(
        "staff/request.html",
        "staff/_request_card.html",
        status=422,
        access=access,
        compact=bool(htmx),
        next_url=_back(reference),
        service_request=service_request,
        updates=timeline(get_session(), service_request, kinds=access.timeline_kinds),
        form=request.form.to_dict(),
        errors=errors,
        changed_meanwhile=changed_meanwhile,
        **_details_context(service_request),
        **_triage_context([service_request]),
    )
