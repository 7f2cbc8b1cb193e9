"""Wrong passwords pause an address's password sign-in: the page says the e-mailed link
still works and asks for it right there; an admin inviting an address that cannot be
invited is told so plainly. In real Chromium, checked with axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from facilities.accounts.models import Role
from facilities.core.models import Outbox
from tests import factories
from tests.browser.test_journey import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_a_paused_password_sign_in_offers_the_link_on_the_page(live_server, new_page, db):
    member = factories.user(db)
    db.commit()
    page = new_page()
    page.goto(f"{live_server}/login")
    for _ in range(6):
        page.locator("#email").fill(member.email)
        page.locator("#password").fill("not the password")
        page.locator("#password").press("Enter")
        page.wait_for_load_state()
    expect(page.locator("#login-error")).to_contain_text("Kirjautumislinkki")
    expect(page.locator("#link-email")).to_have_value(member.email)
    assert_accessible(page)
    page.get_by_role("button", name="Lähetä minulle kirjautumislinkki").click()
    page.wait_for_load_state()
    assert "/login/link/" in db.exec(select(Outbox)).one().body_text


def test_an_address_that_cannot_be_invited_is_said_so(live_server, new_page, db):
    admin = factories.user(db, role=Role.tenant_admin)
    elsewhere = factories.user(db)  # a member of another company
    db.commit()
    page = new_page()
    sign_in(page, live_server, admin.email, check_accessibility=False)
    page.goto(f"{live_server}/tenant/people")
    page.locator("#invite-name").fill("Joku")
    page.locator("#invite-email").fill(elsewhere.email)
    page.locator("#invite-email").press("Enter")
    expect(page.locator("#invite-email-error")).to_contain_text("ei voi kutsua")
    expect(page.locator("#invite-name")).to_have_value("Joku")
    assert_accessible(page)
