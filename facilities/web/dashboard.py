"""Staff: the property manager's dashboard, its charts drawn on the server."""

from __future__ import annotations

import math
from collections.abc import Sequence

from flask import Blueprint, render_template, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from facilities.core.db import get_session
from facilities.core.models import utcnow
from facilities.park.queries import active_categories, buildings
from facilities.requests.dashboard import OPEN_KIND_ORDER, DashboardFilter, dashboard
from facilities.requests.models import MAX_ID
from facilities.requests.workflow import StatusKind
from facilities.web.access import staff_only
from facilities.web.caching import cached_fragment
from facilities.web.htmx import render_with_part
from facilities.web.templating import canonical_path, keeps_query

blueprint = Blueprint("dashboard", __name__, url_prefix="/staff")

KIND_LABELS = {
    StatusKind.new: _l("New"),
    StatusKind.review: _l("Under review"),
    StatusKind.planned: _l("Planned"),
    StatusKind.active: _l("In progress"),
    StatusKind.waiting: _l("Waiting"),
}


@blueprint.get("/dashboard")
@staff_only
@keeps_query("category", "building")
def page():
    """Open requests, the flow of the last twelve months, deadlines and support."""
    session = get_session()
    categories = active_categories(session)
    park_buildings = buildings(session)
    filters = DashboardFilter(
        category_id=_chosen(request.args.get("category"), [c.id for c in categories]),
        building_id=_chosen(request.args.get("building"), [b.id for b in park_buildings]),
    )
    # Kept for everyone on staff until the data, the language or the minute changes: the
    # twelve months' aggregates take a while at a large park's history.
    minute = utcnow().replace(second=0, microsecond=0)

    def body() -> str:
        board = dashboard(session, filters=filters, now=minute)
        return render_template(
            "staff/_dashboard_body.html",
            board=board,
            kinds=OPEN_KIND_ORDER,
            kind_labels={kind: str(label) for kind, label in KIND_LABELS.items()},
            month_scale=nice_ceiling(board.busiest_month),
            duration=duration,
            share=share,
        )

    part = cached_fragment("staff-dashboard", (canonical_path(), minute), body)
    return render_with_part(
        "staff/dashboard.html",
        part,
        filters=filters,
        categories=categories,
        buildings=park_buildings,
    )


def _chosen(raw: str | None, known: Sequence[int | None]) -> int | None:
    """An id from the address if it is one of `known`; anything else shows everything."""
    if not raw or not raw.isascii() or not raw.isdigit() or int(raw) > MAX_ID:
        return None
    number = int(raw)
    return number if number in known else None


def nice_ceiling(value: int) -> int:
    """The chart's top: 1, 2 or 5 times a power of ten, at least `value` (and at least 5)."""
    if value <= 5:
        return 5
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def share(part: int, whole: int) -> float:
    """`part` as a percentage of `whole`, for a bar's length (SVG attributes, not styles)."""
    return round(100 * part / whole, 2) if whole else 0.0


def duration(hours: float | None) -> str:
    """'45 min', '5,5 h' or '3,2 d' in the reader's language; '–' for none."""
    if hours is None:
        return "–"
    if hours < 1:
        return _("%(minutes)s min", minutes=format_decimal(round(hours * 60)))
    if hours < 48:
        return _("%(hours)s h", hours=format_decimal(round(hours, 1)))
    return _("%(days)s d", days=format_decimal(round(hours / 24, 1)))
