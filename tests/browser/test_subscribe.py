"""A neighbour without an account follows EV charging by e-mail with JavaScript off:
the roadmap's form, the e-mailed link read from a real SMTP server, the confirm button,
an update e-mail and its unsubscribe page. axe-core checks every subscription page in
Finnish and English (in pages with JavaScript on: axe runs as JavaScript)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from facilities.subscriptions.models import Subscription
from tests import factories
from tests.browser import test_people_journey
from tests.browser.test_journey import assert_accessible

pytestmark = pytest.mark.browser

world = test_people_journey.world  # the app on a port, with a real SMTP server
link_for = test_people_journey._link_for


def _park(db):
    ev = factories.category(
        db, slug="ev-charging", names={"fi": "Sähköautojen lataus", "en": "EV charging"}
    )
    staff = factories.staff(db)
    item = factories.service_request(db, category_=ev, title="Latauspisteet Sensorin eteen")
    db.commit()
    return ev, staff, item


def test_subscribe_confirm_and_unsubscribe_with_javascript_off(world, new_page):
    app, db, inbox, base = world
    _ev, staff, item = _park(db)
    page = new_page(java_script_enabled=False)

    page.goto(f"{base}/?category=ev-charging")
    box = page.locator("details.subscribe-box")
    box.locator("summary").click()
    box.locator("input[type=email]").fill("naapuri@example.fi")
    box.locator("select[name=frequency]").select_option("immediate")
    box.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Tarkista sähköpostisi")
    expect(page.locator("main")).to_contain_text("naapuri@example.fi")

    page.goto(link_for(app, inbox, "naapuri@example.fi", "/subscriptions/confirm/"))
    db.expire_all()
    assert db.exec(select(Subscription)).one().confirmed_at is None  # a visit confirms nothing
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    db.expire_all()
    subscription = db.exec(select(Subscription)).one()
    assert subscription.confirmed_at is not None
    assert (subscription.scope.value, subscription.target_id) == ("category", item.category_id)

    factories.triage(db, item, actor=staff, public_update="Asennus alkaa huhtikuussa.")
    db.commit()
    page.goto(link_for(app, inbox, "naapuri@example.fi", "/subscriptions/unsubscribe/"))
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    db.expire_all()
    assert db.exec(select(Subscription)).first() is None


@pytest.mark.parametrize("locale", ["fi-FI", "en-GB"])
def test_the_subscription_pages_pass_axe(world, new_page, locale):
    app, db, inbox, base = world
    _ev, staff, item = _park(db)
    page = new_page(locale=locale)
    address = f"axe-{locale.lower()}@example.fi"

    page.goto(f"{base}/requests/{item.reference}")
    page.locator("details.subscribe-box summary").click()
    assert_accessible(page)  # the request page with the form open

    page.goto(f"{base}/subscribe?scope=category&id=ev-charging")
    assert_accessible(page)
    page.locator("#subscribe-email").fill("not an address")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#subscribe-email")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)  # with its error
    page.locator("#subscribe-email").fill(address)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text(address)
    assert_accessible(page)  # check your e-mail

    page.goto(link_for(app, inbox, address, "/subscriptions/confirm/"))
    assert_accessible(page)  # confirm
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert_accessible(page)  # confirmed

    factories.triage(db, item, actor=staff, public_update="Urakoitsija on valittu.")
    db.commit()
    page.goto(link_for(app, inbox, address, "/subscriptions/unsubscribe/"))
    assert_accessible(page)  # unsubscribe
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert_accessible(page)  # unsubscribed
    page.goto(f"{base}/subscriptions/confirm/not-a-link")
    assert_accessible(page)  # a link that does not work
