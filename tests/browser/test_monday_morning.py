"""Issue 10's journey in Chromium: a property manager's Monday morning. Filter the queue
to new EV-charging requests, assign three at once, answer one with a response template,
merge a duplicate, and watch the counts per status change; axe on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from facilities.core.models import utcnow
from facilities.requests.models import ResponseTemplate
from facilities.requests.supports import support_request
from tests import factories
from tests.browser.test_journey import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def _count_of(page, status_name: str) -> int:
    link = page.locator(".status-counts a", has_text=status_name)
    return int(link.locator(".status-counts__number").inner_text())


def test_monday_morning_in_the_queue(live_server, new_page, db):
    ev = factories.category(db, names={"fi": "Sähköautojen lataus", "en": "EV charging"})
    staff = factories.staff(db, name="Mikko Rautio", preferred_language="en")
    factories.staff(db, name="Kaisa Pelkonen")
    original = factories.service_request(db, category_=ev, title="EV charging outside Sensori")
    fresh = [
        factories.service_request(db, category_=ev, title=f"Charging post for Halli {n}")
        for n in (1, 2, 3)
    ]
    duplicate = factories.service_request(db, category_=ev, title="Chargers at Sensori please")
    for _ in range(2):
        support_request(db, user=factories.user(db), service_request=duplicate, now=utcnow())
    support_request(db, user=factories.user(db), service_request=original, now=utcnow())
    other = factories.service_request(db, title="Bench in front of Halli 5")
    db.add(
        ResponseTemplate(
            name="Looking into it",
            bodies={
                "fi": "Kiitos! Selvitämme asiaa {reference}.",
                "en": "Thank you! We are looking into {reference}.",
                "sv": "Tack! Vi utreder {reference}.",
            },
            category_id=ev.id,
        )
    )
    db.commit()

    page = new_page()
    sign_in(page, live_server, staff.email, check_accessibility=False)
    page.goto(f"{live_server}/staff/queue")
    # filter to new EV-charging requests (htmx reloads the list and the address)
    page.locator("#filter-category").select_option(label="EV charging")
    expect(page.locator("#queue-list")).not_to_contain_text(other.title)
    page.locator("#filter-status").select_option(label="New")
    expect(page).to_have_url(re.compile(r"status=new"))
    expect(page.locator("#queue-list")).to_contain_text(duplicate.title)
    assert _count_of(page, "New") == 5
    assert_accessible(page)

    # three at once to Kaisa
    for item in fresh:
        page.locator(f"#r{item.id}-select").check()
    page.locator(".bulk summary").click()
    page.locator("#bulk-assignee").select_option(label="Kaisa Pelkonen")
    page.get_by_role("button", name="Apply to the ticked requests").click()
    expect(page.locator(".lead")).to_contain_text("3 requests were changed.")
    assert_accessible(page)
    page.get_by_role("link", name="Back to the work queue").click()
    for item in fresh:
        expect(page.locator(f"#request-{item.id}")).to_contain_text("Assigned to Kaisa Pelkonen")

    # answer the first with a template, in the sender's language
    page.goto(f"{live_server}/staff/requests/{fresh[0].reference}")
    card = page.locator(f"#request-{fresh[0].id}")
    card.get_by_label("Template").select_option(label="Looking into it")
    card.get_by_label("Language").select_option("en")
    card.get_by_role("button", name="Use template").click()
    update = card.get_by_label("Public update")
    expect(update).to_have_value(f"Thank you! We are looking into {fresh[0].reference}.")
    page.get_by_label("Status", exact=True).select_option(label="Under review")
    assert_accessible(page)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".timeline")).to_contain_text("We are looking into")

    # merge the duplicate into the original
    page.goto(f"{live_server}/staff/requests/{duplicate.reference}")
    page.get_by_label("Status", exact=True).select_option(label="Duplicate")
    page.get_by_label("Duplicate of (reference)").fill(original.reference)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".flash--success")).to_be_visible()
    page.goto(f"{live_server}/requests/{duplicate.reference}")
    expect(page.locator(".flash--info")).to_contain_text(original.reference)
    assert_accessible(page)
    page.goto(f"{live_server}/requests/{original.reference}")
    expect(page.locator("main")).to_contain_text("3 people")

    # the counts moved: two fewer New, one more Under review and Duplicate
    page.goto(f"{live_server}/staff/queue?category={ev.id}&status=all")
    assert _count_of(page, "New") == 3
    assert _count_of(page, "Under review") == 1
    assert _count_of(page, "Duplicate") == 1

    page.goto(f"{live_server}/staff/requests/enter")
    assert_accessible(page)
