"""Staff operations in Chromium: deadlines in the queue, the SLA report and a category's
admin screen, by keyboard and with axe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from facilities.accounts.models import Role
from facilities.core.models import utcnow
from tests import factories
from tests.browser.test_journey import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_staff_find_what_is_late_assign_it_and_read_the_report(live_server, new_page, db):
    targets = {"normal": {"response": 4, "resolution": 16}}
    faults = factories.category(db, names={"fi": "Viat", "en": "Faults"}, sla_targets=targets)
    staff = factories.staff(db, name="Mikko Rautio")
    admin = factories.user(db, role=Role.admin, name="Kaisa Pelkonen")
    late = factories.service_request(
        db,
        category_=faults,
        title="Patteri kylmä Sensorin 2. kerroksessa",
        now=utcnow() - timedelta(days=10),
    )
    factories.service_request(db, category_=faults, title="Ovi narisee")
    db.commit()

    desk = new_page()
    sign_in(desk, live_server, staff.email, check_accessibility=False)
    desk.goto(f"{live_server}/staff/queue")
    desk.locator("#filter-overdue").check()  # htmx reloads the list
    expect(desk.locator("#queue-list")).not_to_contain_text("Ovi narisee")
    card = desk.locator(f"#request-{late.id}")
    expect(card).to_contain_text("Myöhässä")
    assert_accessible(desk)
    card.locator("summary").click()
    card.get_by_label("Vastuuhenkilö").select_option(label="Mikko Rautio")
    card.get_by_role("button", name="Tallenna").click()
    expect(desk.locator(f"#request-{late.id}")).to_contain_text("Vastuuhenkilö: Mikko Rautio")

    desk.get_by_role("link", name="Määräajat").click()
    expect(desk.locator("h1")).to_contain_text("Pidetyt määräajat")
    expect(desk.get_by_role("rowheader", name="Viat")).to_be_visible()
    assert_accessible(desk)

    office = new_page()
    sign_in(office, live_server, admin.email, check_accessibility=False)
    office.goto(f"{live_server}/admin/categories/{faults.slug}")
    assert_accessible(office)
    office.get_by_label("Kiireellinen: Ensimmäinen vastaus (tuntia)").fill("nopeasti")
    office.get_by_role("button", name="Tallenna").click()
    expect(office.locator(".error-summary")).to_contain_text("Kirjoita tunnit")
    assert_accessible(office)
    office.get_by_label("Kiireellinen: Ensimmäinen vastaus (tuntia)").fill("1")
    office.get_by_role("button", name="Tallenna").click()
    expect(office.locator(".flash--success")).to_be_visible()


def test_staff_filter_new_ev_requests_and_assign_three_at_once(live_server, new_page, db):
    ev = factories.category(db, names={"fi": "Sähköautojen lataus", "en": "EV charging"})
    staff = factories.staff(db, name="Mikko Rautio")
    factories.staff(db, name="Kaisa Pelkonen")
    wanted = [
        factories.service_request(db, category_=ev, title=f"Latauspiste Sensorille {n}")
        for n in range(3)
    ]
    other = factories.service_request(db, title="Penkki Halli 5:n eteen")
    db.commit()
    page = new_page(java_script_enabled=False)  # the bulk form needs no JavaScript
    sign_in(page, live_server, staff.email, check_accessibility=False)
    page.goto(f"{live_server}/staff/queue?category={ev.id}&status=new")
    expect(page.locator("#queue-list")).not_to_contain_text(other.title)
    for item in wanted:
        page.locator(f"#r{item.id}-select").check()
    page.locator(".bulk summary").click()
    page.locator("#bulk-assignee").select_option(label="Kaisa Pelkonen")
    page.get_by_role("button", name="Tee valituille pyynnöille").click()
    expect(page.locator("h1")).to_have_text("Muutettu kerralla")
    expect(page.locator(".lead")).to_contain_text("3 pyyntöä muutettiin.")
    db.expire_all()
    assert {item.assignee.name for item in wanted if item.assignee} == {"Kaisa Pelkonen"}
