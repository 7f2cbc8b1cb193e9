"""Staff enter requests for companies: a workshop's ideas in one sitting, or one call."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from pydantic import ValidationError

from facilities.core.db import get_session
from facilities.core.errors import ValidationFailed
from facilities.core.models import utcnow
from facilities.park.queries import active_categories, buildings, companies
from facilities.requests.entry import (
    MAX_ROWS,
    EnteredRequest,
    check_rows,
    check_sitting,
    enter_requests,
    row_is_blank,
)
from facilities.requests.models import ENTERED_SOURCES, RequestSource
from facilities.web.access import staff_only
from facilities.web.forms import messages_for
from facilities.web.i18n import utc_to_local
from facilities.web.staff import blueprint

ROW_FIELDS = ("tenant_id", "category_id", "building_id", "title", "description")
ROWS_AT_FIRST = 5
ROWS_ADDED = 5


def _row_count() -> int:
    raw = request.form.get("row_count", "")
    count = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 4 else ROWS_AT_FIRST
    return min(max(count, 1), MAX_ROWS)


def _rows_sent(count: int) -> list[dict[str, str]]:
    return [
        {field: request.form.get(f"rows-{number}-{field}", "") for field in ROW_FIELDS}
        for number in range(count)
    ]


def _form_page(form: dict, rows: list[dict[str, str]], errors: dict[str, str], status: int = 200):
    db = get_session()
    return render_template(
        "staff/enter.html",
        form=form,
        rows=rows,
        errors=errors,
        sources=ENTERED_SOURCES,
        companies=companies(db),
        categories=active_categories(db),
        buildings=buildings(db),
        max_rows=MAX_ROWS,
    ), status


@blueprint.get("/requests/enter")
@staff_only
def enter_page():
    """A company given in the address (from its page) fills every row's company."""
    today = utc_to_local(utcnow()).date()
    preset = {"tenant_id": request.args.get("tenant", "")[:12]}
    rows = [{field: preset.get(field, "") for field in ROW_FIELDS} for _ in range(ROWS_AT_FIRST)]
    form = {"source": request.args.get("source", "")[:20], "source_date": today.isoformat()}
    return _form_page(form, rows, {})


@blueprint.post("/requests/enter")
@staff_only
def enter_requests_for_companies():
    count = _row_count()
    rows = _rows_sent(count)
    form = {
        "source": request.form.get("source", "")[:20],
        "source_date": request.form.get("source_date", "")[:10],
    }
    if "more_rows" in request.form:  # without JavaScript too: everything typed comes back
        rows += [
            {field: "" for field in ROW_FIELDS}
            for _ in range(min(ROWS_ADDED, MAX_ROWS - len(rows)))
        ]
        return _form_page(form, rows, {})
    today = utc_to_local(utcnow()).date()
    try:
        source_date: date | None = date.fromisoformat(form["source_date"])
    except ValueError:
        source_date = None
    errors = check_sitting(form["source"], source_date, today=today)
    parsed: dict[int, EnteredRequest] = {}
    for number, row in enumerate(rows):
        if row_is_blank(row):
            continue
        try:
            parsed[number] = EnteredRequest.model_validate(row)
        except ValidationError as error:
            for field, message in messages_for(error).items():
                errors[f"rows-{number}-{field}"] = message
    if not parsed and not any(key.startswith("rows-") for key in errors):
        errors["rows-0-title"] = _("Write at least one request: a title on one row.")
    db = get_session()
    errors.update(check_rows(db, parsed)[0])  # every row's problems at once
    if not errors:
        assert source_date is not None
        try:
            opened = enter_requests(
                db,
                actor=current_user,
                source=RequestSource(form["source"]),
                source_date=source_date,
                rows=parsed,
                now=utcnow(),
            )
        except ValidationFailed as failure:
            db.rollback()
            errors = {key: str(message) for key, message in failure.errors.items()}
        else:
            db.commit()
            flash(
                ngettext(
                    "%(num)s request entered: %(references)s.",
                    "%(num)s requests entered: %(references)s.",
                    len(opened),
                    references=", ".join(item.reference for item in opened),
                ),
                "success",
            )
            return redirect(url_for("staff.queue_page", source=form["source"], sort="newest"))
    return _form_page(form, rows, errors, 422)
