"""The property manager's dashboard in Chromium: filtered by keyboard, axe clean at
desktop and phone widths."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from facilities.core.models import utcnow
from tests import factories
from tests.browser.test_journey import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_staff_read_the_dashboard_and_filter_it_by_building(live_server, new_page, db):
    sensori = factories.building(db, name="Sensori")
    pajala = factories.building(db, name="Pajala")
    staff = factories.staff(db)
    member = factories.user(db)
    for days, building in ((3, sensori), (40, sensori), (75, pajala), (200, None)):
        factories.service_request(
            db,
            submitter=member,
            title=f"Valo ei pala, {days} päivää sitten",
            building_id=building.id if building else None,
            now=utcnow() - timedelta(days=days),
        )
    supported = factories.service_request(db, submitter=member, building_id=pajala.id)
    supported.support_people, supported.support_companies = 4, 2
    db.commit()

    desk = new_page()
    sign_in(desk, live_server, staff.email, check_accessibility=False)
    desk.goto(f"{live_server}/staff/dashboard")
    expect(desk.locator("#open-heading + .table-scroll")).to_contain_text("Sensori")
    chart = desk.locator(".month-chart[role=img]")
    assert "5" in (chart.get_attribute("aria-label") or "")  # five received in the months
    assert_accessible(desk)

    desk.locator("#dashboard-building").select_option(label="Pajala")
    desk.locator("#dashboard-building").press("Tab")
    desk.keyboard.press("Enter")  # on "Show": htmx swaps the figures and keeps the address
    expect(desk).to_have_url(f"{live_server}/staff/dashboard?category=&building={pajala.id}")
    expect(desk.locator("#open-heading + .table-scroll")).not_to_contain_text("Sensori")
    expect(desk.locator("#support-heading + .table-scroll")).to_contain_text(supported.reference)
    assert_accessible(desk)

    desk.set_viewport_size({"width": 390, "height": 844})
    assert desk.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways page
    assert_accessible(desk)
