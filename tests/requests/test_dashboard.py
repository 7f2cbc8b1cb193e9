"""The property manager's dashboard: its numbers for crafted data, and its page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from facilities.core.db import get_engine
from facilities.requests.dashboard import (
    OPEN_KIND_ORDER,
    DashboardFilter,
    dashboard,
    last_months,
)
from facilities.requests.workflow import StatusKind
from tests import factories
from tests.conftest import count_queries, sign_in

HELSINKI = ZoneInfo("Europe/Helsinki")
NOW = datetime(2027, 1, 15, 12, 0, tzinfo=HELSINKI).astimezone(UTC)


def at(text: str) -> datetime:
    """A moment in park time, e.g. "2026-12-31 23:30", as the aware UTC datetime we store."""
    return datetime.fromisoformat(text).replace(tzinfo=HELSINKI).astimezone(UTC)


@pytest.fixture
def park(db):
    """Two buildings, two categories and a member who sends the requests."""
    return {
        "sensori": factories.building(db, name="Sensori"),
        "pajala": factories.building(db, name="Pajala"),
        "faults": factories.category(db, names={"fi": "Viat", "en": "Faults"}),
        "ideas": factories.category(db, names={"fi": "Ideat", "en": "Ideas"}),
        "member": factories.user(db),
    }


def send(db, park, when: str, *, building="sensori", category="faults", status=None, **fields):
    """A request sent at `when` (park time), moved straight to `status` with `fields` set."""
    item = factories.service_request(
        db,
        submitter=park["member"],
        category_=park[category],
        building_id=park[building].id if building else None,
        now=at(when),
    )
    if status is not None:
        item.status_id = factories.status(db, status).id
    for name, value in fields.items():
        setattr(item, name, at(value) if isinstance(value, str) else value)
    db.add(item)
    db.flush()
    return item


def test_the_months_are_the_last_twelve_in_park_time():
    # 31.12. 23:30 in Helsinki is still December in UTC's eyes: 1.1. is the park's month
    assert last_months(at("2027-01-01 00:30"), 12, "Europe/Helsinki")[-1] == date(2027, 1, 1)
    assert last_months(NOW, 12, "Europe/Helsinki") == [
        date(2026, month, 1) for month in range(2, 13)
    ] + [date(2027, 1, 1)]


def test_received_and_resolved_per_month_across_the_year_boundary(db, park):
    send(db, park, "2026-12-31 23:30")  # December
    send(db, park, "2027-01-01 00:30")  # January in Helsinki, still 2026 in UTC
    send(db, park, "2027-01-10 09:00", status="done", resolved_at="2027-01-12 10:00")
    send(db, park, "2026-10-05 09:00", status="done", resolved_at="2026-12-01 00:10")
    # sent before the twelve months, resolved inside them: counted as resolved only
    send(db, park, "2026-01-20 09:00", status="done", resolved_at="2026-02-02 09:00")
    send(db, park, "2025-12-01 09:00")  # outside altogether
    db.commit()

    board = dashboard(db, filters=DashboardFilter(), now=NOW)

    flows = {flow.month: (flow.received, flow.resolved) for flow in board.months}
    assert len(board.months) == 12
    assert flows[date(2027, 1, 1)] == (2, 1)
    assert flows[date(2026, 12, 1)] == (1, 1)
    assert flows[date(2026, 11, 1)] == (0, 0)  # an empty month is still there
    assert flows[date(2026, 10, 1)] == (1, 0)
    assert flows[date(2026, 2, 1)] == (0, 1)
    assert (board.received, board.resolved) == (4, 3)
    assert board.busiest_month == 2


def test_open_requests_by_building_and_status_kind(db, park):
    send(db, park, "2027-01-02 09:00")
    send(db, park, "2027-01-03 09:00")
    send(db, park, "2027-01-03 10:00", status="waiting")
    send(db, park, "2027-01-04 09:00", building="pajala", status="in-progress")
    send(db, park, "2027-01-05 09:00", building=None, status="review")
    send(db, park, "2027-01-05 10:00", status="done", resolved_at="2027-01-06 10:00")
    send(db, park, "2027-01-05 11:00", status="not-planned", resolved_at="2027-01-06 10:00")
    db.commit()

    board = dashboard(db, filters=DashboardFilter(), now=NOW)

    rows = {row.name: row for row in board.open.rows}
    assert [row.name for row in board.open.rows] == ["Pajala", "Sensori", None]  # none last
    assert rows["Sensori"].counts == {StatusKind.new: 2, StatusKind.waiting: 1}
    assert rows["Sensori"].total == 3
    assert rows["Pajala"].counts == {StatusKind.active: 1}
    assert rows[None].counts == {StatusKind.review: 1}
    assert board.open.total == 5
    assert board.open.largest == 3
    assert board.open.by_kind == {
        StatusKind.new: 2,
        StatusKind.review: 1,
        StatusKind.planned: 0,
        StatusKind.active: 1,
        StatusKind.waiting: 1,
    }
    assert list(board.open.by_kind) == list(OPEN_KIND_ORDER)


def test_medians_of_odd_and_even_counts(db, park):
    # first answers after 1, 3 and 10 hours: the median is 3
    for hours in (1, 3, 10):
        item = send(db, park, "2026-11-02 08:00")
        item.responded_at = item.created_at + timedelta(hours=hours)
    # resolutions after 24 and 48 hours: the median is 36
    for hours in (24, 48):
        item = send(db, park, "2026-11-03 08:00", status="done")
        item.resolved_at = item.created_at + timedelta(hours=hours)
    db.commit()

    board = dashboard(db, filters=DashboardFilter(), now=NOW)

    assert board.medians.response_hours == 3.0
    assert board.medians.resolution_hours == 36.0


def test_medians_are_none_without_answers(db, park):
    send(db, park, "2026-11-02 08:00")
    db.commit()
    board = dashboard(db, filters=DashboardFilter(), now=NOW)
    assert board.medians.response_hours is None
    assert board.medians.resolution_hours is None


def test_deadlines_met_missed_and_not_yet_due(db, park):
    send(
        db,
        park,
        "2026-12-01 09:00",
        response_due_at="2026-12-01 12:00",
        responded_at="2026-12-01 10:00",  # met
        sla_due_at="2026-12-03 12:00",
        resolved_at="2026-12-05 12:00",  # missed: late
        status="done",
    )
    send(
        db,
        park,
        "2026-12-02 09:00",
        response_due_at="2026-12-02 12:00",  # missed: never answered, and past
        sla_due_at="2027-02-01 12:00",  # not yet due
    )
    send(db, park, "2027-01-10 09:00")  # no deadlines: not counted
    db.commit()

    board = dashboard(db, filters=DashboardFilter(), now=NOW)

    december = next(flow for flow in board.months if flow.month == date(2026, 12, 1))
    assert (december.response.met, december.response.missed, december.response.open) == (1, 1, 0)
    assert (december.resolution.met, december.resolution.missed) == (0, 1)
    assert december.resolution.open == 1
    assert board.response.met_share == 50
    assert board.resolution.met_share == 0


def test_most_supported_open_requests_companies_first(db, park):
    many_people = send(db, park, "2026-12-01 09:00", support_companies=1, support_people=9)
    many_companies = send(db, park, "2026-12-02 09:00", support_companies=3, support_people=3)
    send(db, park, "2026-12-03 09:00")  # nobody supports it
    send(
        db,
        park,
        "2026-12-04 09:00",
        status="done",
        resolved_at="2026-12-05 09:00",
        support_companies=5,
        support_people=5,
    )  # done: no longer on the list
    db.commit()

    board = dashboard(db, filters=DashboardFilter(), now=NOW)

    assert [item.id for item in board.supported] == [many_companies.id, many_people.id]
    assert board.supported[0].status.kind == StatusKind.new  # loaded with the query


def test_filters_by_category_and_building(db, park):
    send(db, park, "2027-01-02 09:00", support_companies=1, support_people=1)
    send(db, park, "2027-01-02 10:00", building="pajala", category="ideas")
    send(db, park, "2027-01-02 11:00", building="pajala", status="done", resolved_at="2027-01-03")
    db.commit()

    ideas = dashboard(db, filters=DashboardFilter(category_id=park["ideas"].id), now=NOW)
    pajala = dashboard(db, filters=DashboardFilter(building_id=park["pajala"].id), now=NOW)
    both = DashboardFilter(category_id=park["ideas"].id, building_id=park["sensori"].id)
    nothing = dashboard(db, filters=both, now=NOW)

    assert (ideas.received, ideas.resolved, ideas.open.total) == (1, 0, 1)
    assert ideas.supported == []
    assert (pajala.received, pajala.resolved, pajala.open.total) == (2, 1, 1)
    assert [row.name for row in pajala.open.rows] == ["Pajala"]
    assert (nothing.received, nothing.open.total, nothing.open.rows) == (0, 0, [])


def test_the_dashboard_costs_the_same_queries_whatever_the_history(app, db, park):
    def queries() -> int:
        with count_queries(get_engine(app)) as statements:
            dashboard(db, filters=DashboardFilter(), now=NOW)
        return len(statements)

    send(db, park, "2026-12-01 09:00")
    db.commit()
    few = queries()
    for day in range(1, 29):
        send(db, park, f"2026-{day % 12 + 1:02d}-{day:02d} 09:00", support_people=day)
        send(
            db,
            park,
            f"2026-06-{day:02d} 09:00",
            building="pajala",
            status="done",
            resolved_at=f"2026-07-{day:02d} 09:00",
            responded_at=f"2026-06-{day:02d} 10:00",
        )
    db.commit()
    assert queries() == few == 5


# --- the page ---------------------------------------------------------------------------


def test_staff_see_the_dashboard_with_their_filters_kept(client, db, park):
    staff = factories.staff(db)
    send(db, park, "2027-01-02 09:00")
    db.commit()
    sign_in(client, staff.email)

    category, building = park["faults"].id, park["pajala"].id
    page = client.get(f"/staff/dashboard?category={category}&building={building}")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<option value="{category}" selected>' in html
    assert f'<option value="{building}" selected>' in html
    assert 'role="img"' in html


@pytest.mark.parametrize(
    "query",
    ["category=abc", "building=-1", "category=99999999999999999999", "building=²", "category="],
)
def test_odd_filter_values_show_everything(client, db, park, query):
    staff = factories.staff(db)
    db.commit()
    sign_in(client, staff.email)
    page = client.get(f"/staff/dashboard?{query}&building={park['sensori'].id + 1000}")
    assert page.status_code == 200
    assert " selected>" not in page.get_data(as_text=True)  # all categories, all buildings


def test_the_page_costs_the_same_queries_with_more_data(app, client, db, park):
    staff = factories.staff(db)
    db.commit()
    sign_in(client, staff.email)

    def queries() -> int:
        with count_queries(get_engine(app)) as statements:
            assert client.get("/staff/dashboard").status_code == 200
        return len(statements)

    send(db, park, "2026-12-01 09:00", support_people=1, support_companies=1)
    db.commit()
    few = queries()
    for number in range(30):
        send(
            db,
            park,
            f"2026-{number % 12 + 1:02d}-10 09:00",
            support_people=number + 1,
            building=("sensori", "pajala", None)[number % 3],
        )
    db.commit()
    assert queries() == few


def test_the_kept_dashboard_shows_a_new_request_at_once(client, db, park):
    staff = factories.staff(db, preferred_language="en")
    db.commit()
    sign_in(client, staff.email)
    before = client.get("/staff/dashboard").get_data(as_text=True)
    factories.service_request(db, submitter=park["member"], category_=park["faults"])
    db.commit()
    after = client.get("/staff/dashboard").get_data(as_text=True)
    # the figure "open now" goes from 0 to 1: the kept body is rebuilt after a change
    assert _open_now(before) == "0" and _open_now(after) == "1"


def _open_now(html: str) -> str:
    figure = html.split('dashboard-figure__label">Open now</span>', 1)[1]
    return re.search(r'dashboard-figure__value">\s*([^<\s]+)', figure).group(1)
