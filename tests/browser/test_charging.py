"""Charging in real Chromium: a driver's phone from the QR code to the thank-you page, and
the Charging page with and without JavaScript."""

from __future__ import annotations

import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlmodel import select

from facilities.charging.models import FaultReport
from facilities.core.models import Outbox, utcnow
from facilities.requests.models import ServiceRequest
from tests import factories
from tests.browser.test_journey import assert_accessible
from tests.charging.helpers import mapped_charger, push_status

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def _photo(tmp_path):
    path = tmp_path / "laturi.jpg"
    Image.new("RGB", (64, 48), (30, 90, 160)).save(path, format="JPEG")
    return path


def test_a_driver_reports_a_fault_from_the_qr_code_on_a_phone(live_server, new_page, db, tmp_path):
    factories.site(db)
    charger = factories.charger(db, code="SEN-2", name="Sensori 2")
    db.commit()
    page = new_page(**PHONE)
    page.goto(f"{live_server}/charging/{charger.code}/report")  # what the QR code holds
    assert_accessible(page)
    # fits the phone: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.locator("#problem-cable_damaged").check()
    page.locator("#details").fill("Kaapelin pää on haljennut.")
    page.locator("#photo").set_input_files(str(_photo(tmp_path)))
    page.locator("#email").fill("not an address")
    page.locator("form.card button[type=submit]").click()
    # a mistake keeps what was typed, and says what is wrong
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#details")).to_have_value("Kaapelin pää on haljennut.")
    expect(page.locator("#problem-cable_damaged")).to_be_checked()
    assert_accessible(page)

    page.locator("#email").fill("kuljettaja@example.fi")
    page.locator("#photo").set_input_files(str(_photo(tmp_path)))  # files are not kept
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url("**/report/sent**")
    expect(page.locator("h1")).to_be_visible()
    assert_accessible(page)

    report = db.exec(select(FaultReport)).one()
    assert report.email == "kuljettaja@example.fi" and report.photo_key
    item = db.get(ServiceRequest, report.request_id)
    assert item.reference in page.content()


def test_the_reporter_confirms_the_address_with_a_button_without_javascript(
    live_server, new_page, db, tmp_path
):
    """The e-mailed link opens a page that asks; only the button confirms (a mail
    scanner following the link confirms nothing)."""
    factories.site(db)
    charger = factories.charger(db, code="SEN-3", name="Sensori 3")
    db.commit()
    page = new_page(java_script_enabled=False, **PHONE)
    page.goto(f"{live_server}/charging/{charger.code}/report")
    page.locator("#problem-stopped").check()
    page.locator("#email").fill("kuljettaja@example.fi")
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url("**/report/sent**")
    [mail] = db.exec(select(Outbox)).all()
    link = re.search(r"https?://\S+(/charging/reports/confirm/\S+)", mail.body_text)
    assert link, mail.body_text

    checked = new_page(**PHONE)  # axe needs script; opening the link changes nothing
    checked.goto(f"{live_server}{link.group(1)}")
    assert "kuljettaja@example.fi" in checked.content()
    assert_accessible(checked)
    assert checked.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone
    checked.screenshot(path=str(tmp_path / "confirm.png"), full_page=True)
    db.expire_all()
    assert db.exec(select(FaultReport)).one().confirmed_at is None

    page.goto(f"{live_server}{link.group(1)}")
    page.locator("section.card form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("vahvistettu")
    db.expire_all()
    assert db.exec(select(FaultReport)).one().confirmed_at is not None


def test_the_charging_page_without_javascript_and_refreshing_itself_with_it(
    live_server, new_page, db, monkeypatch
):
    monkeypatch.setattr("facilities.web.charging_public.REFRESH_SECONDS", 1)
    charger = mapped_charger(db, status="AVAILABLE", at=utcnow().replace(microsecond=0))
    plain = new_page(java_script_enabled=False)
    plain.goto(f"{live_server}/charging")
    card = plain.locator(".charger-card", has_text=charger.code)
    expect(card.locator(".live--available")).to_be_visible()
    plain.get_by_role("link", name=charger.code).click()  # a real link, no script needed
    assert plain.url.endswith(f"/charging/{charger.code}")

    live = new_page()
    live.goto(f"{live_server}/charging")
    assert_accessible(live)
    push_status(db, "CHARGING", utcnow())
    # the fragment polls its own URL: the new status arrives without a reload
    expect(
        live.locator(".charger-card", has_text=charger.code).locator(".live--charging")
    ).to_be_visible(timeout=5_000)
    assert live.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_every_charging_page_passes_axe(live_server, new_page, db):
    from facilities.accounts.models import Role
    from tests.browser.test_journey import sign_in

    charger = mapped_charger(db, status="OUTOFORDER", at=utcnow().replace(microsecond=0))
    building = charger.building_id
    from facilities.park.models import Building

    code = db.get(Building, building).code
    member = factories.user(db)
    staff = factories.staff(db)
    admin = factories.user(db, role=Role.admin)
    db.commit()

    visitor = new_page()
    for path in (f"/buildings/{code}", f"/charging/{charger.code}", "/charging"):
        visitor.goto(live_server + path)
        assert_accessible(visitor)

    tenant = new_page()
    sign_in(tenant, live_server, member.email, check_accessibility=False)
    tenant.goto(f"{live_server}/tenant/charging")
    assert_accessible(tenant)
    tenant.locator("#vehicles").fill("0")
    tenant.locator("form.card button[type=submit]").click()
    expect(tenant.locator(".error-summary")).to_be_visible()
    assert_accessible(tenant)

    staff_page = new_page()
    sign_in(staff_page, live_server, staff.email, check_accessibility=False)
    for path in (
        "/staff/chargers",
        f"/staff/chargers/{charger.code}",
        "/staff/charging/demand",
        f"/staff/buildings/{code}/qr-sheet",
        "/staff/chargers/new",
    ):
        staff_page.goto(live_server + path)
        assert_accessible(staff_page)
    staff_page.locator("form.card button[type=submit]").click()  # the empty new-charger form
    expect(staff_page.locator(".error-summary")).to_be_visible()
    assert_accessible(staff_page)

    admin_page = new_page()
    sign_in(admin_page, live_server, admin.email, check_accessibility=False)
    admin_page.goto(f"{live_server}/staff/ocpi")
    assert_accessible(admin_page)


def test_a_fault_can_be_reported_by_keyboard_alone(live_server, new_page, db):
    factories.site(db)
    charger = factories.charger(db)
    db.commit()
    page = new_page()
    page.goto(f"{live_server}/charging/{charger.code}/report")
    page.locator("#problem-will_not_start").focus()
    page.keyboard.press("Space")  # choose the first option
    page.keyboard.press("ArrowDown")  # radios move with the arrow keys
    expect(page.locator("#problem-stopped")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.locator("#details")).to_be_focused()
    page.keyboard.type("Lataus katkesi 10 minuutin jälkeen.")
    page.keyboard.press("Tab")  # the photo button
    page.keyboard.press("Tab")
    expect(page.locator("#email")).to_be_focused()
    page.keyboard.press("Tab")  # past the hidden honeypot, straight to the button
    expect(page.locator("form.card button[type=submit]")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url("**/report/sent**")
    report = db.exec(select(FaultReport)).one()
    assert report.problem.value == "stopped" and "katkesi" in report.details
