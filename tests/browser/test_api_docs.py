"""The API documentation page in real Chromium: axe-core in Finnish and English, its
contents used by keyboard, and the page whole without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from facilities.api import docs
from facilities.api.open311 import openapi
from tests.browser.test_journey import assert_accessible

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["fi-FI", "en-GB"])
def test_the_api_docs_pass_axe_in_finnish_and_english(live_server, new_page, locale):
    page = new_page(locale=locale)
    page.goto(f"{live_server}/api/docs")
    expect(page.locator("html")).to_have_attribute("lang", locale[:2])
    expect(page.locator("h1")).to_be_visible()
    assert_accessible(page)


def test_the_contents_lead_to_each_operation_by_keyboard(live_server, new_page):
    first = docs.describe(openapi.document(server_url=live_server)).operations[0]
    page = new_page(locale="en-GB")
    page.goto(f"{live_server}/api/docs")
    contents = page.get_by_role("navigation", name="Contents")
    link = contents.locator(f'a[href="#{first.anchor}"]')
    # from the skip link onwards, Tab reaches the operation's link in the contents
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    for _ in range(60):
        page.keyboard.press("Tab")
        if link.evaluate("element => element === document.activeElement"):
            break
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"#{first.anchor}$"))
    expect(page.locator(f"#{first.anchor}")).to_be_in_viewport()
    # and back to the contents from the operation
    page.locator(f"#{first.anchor} .api-back a").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#contents-heading$"))
    expect(page.locator("#contents-heading")).to_be_in_viewport()


def test_the_page_is_whole_without_javascript(live_server, new_page):
    described = docs.describe(openapi.document(server_url=live_server))
    page = new_page(java_script_enabled=False, locale="en-GB")
    page.goto(f"{live_server}/api/docs")
    operations = page.locator("section.api-operation")
    expect(operations).to_have_count(len(described.operations))
    expect(page.locator("section.api-schema")).to_have_count(len(described.schemas))
    page.get_by_role("link", name="/api/openapi.json").click()
    expect(page).to_have_url(re.compile("/api/openapi.json$"))
