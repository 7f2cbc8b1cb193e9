"""The roadmap, a building page and the changelog in real Chromium: axe-core in Finnish
and English, and the roadmap's filters with JavaScript off and on."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from facilities.core.models import utcnow
from facilities.requests.targets import quarter_choices
from tests import factories
from tests.browser.test_journey import assert_accessible


def _quarter_after_next() -> str:
    """A target the roadmap shows under Later whatever today is."""
    return quarter_choices(utcnow().date(), ahead=3)[-1]


@pytest.fixture
def roadmap_park(db):
    sensori = factories.building(db, name="Sensori", code="SENSORI")
    halli = factories.building(db, name="Halli 5", code="HALLI5")
    ev = factories.category(
        db, slug="ev-charging", names={"fi": "Sähköautojen lataus", "en": "EV charging"}
    )
    staff = factories.staff(db)
    factories.charger(db, building_id=sensori.id, code="SEN-01")
    rows = (
        ("Latauspisteet Sensorin eteen", sensori, "in-progress", "", ev),
        ("Valot Halli 5:n pihalle", halli, "in-progress", "", None),
        ("Pyöräkatos Sensorille", sensori, "planned", _quarter_after_next(), None),
        ("Kierrätyspiste Halli 5:een", halli, "done", "", None),
        ("Aamiaistapaaminen", sensori, "review", "", None),
    )
    for title, building, status, quarter, category in rows:
        item = factories.service_request(
            db,
            title=title,
            building_id=building.id,
            **({"category_": category} if category else {}),
        )
        factories.triage(db, item, actor=staff, to=status, target_quarter=quarter)
        if status == "done":
            item.resolved_at = utcnow()
    db.commit()


@pytest.mark.parametrize("locale", ["fi-FI", "en-GB"])
def test_public_pages_pass_axe_in_finnish_and_english(live_server, new_page, roadmap_park, locale):
    page = new_page(locale=locale)  # the language follows the browser on a first visit
    for path in ("/", "/buildings/SENSORI", "/changelog"):
        page.goto(f"{live_server}{path}")
        expect(page.locator("html")).to_have_attribute("lang", locale[:2])
        assert_accessible(page)
    expect(page.locator("#changelog")).to_contain_text("Kierrätyspiste Halli 5:een")


def test_the_language_link_switches_the_roadmap_to_english(live_server, new_page, roadmap_park):
    page = new_page()
    page.goto(live_server)
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#column-now")).to_contain_text("Now")
    assert_accessible(page)


def test_the_roadmap_filter_works_with_javascript_off(live_server, new_page, roadmap_park):
    page = new_page(java_script_enabled=False)
    page.goto(live_server)
    expect(page.locator(".roadmap__column--now")).to_contain_text("Valot Halli 5:n pihalle")
    page.get_by_label(re.compile("^(Rakennus|Building)$")).select_option(label="Sensori")
    page.get_by_role("button", name=re.compile("^(Näytä|Show)$")).click()
    expect(page).to_have_url(re.compile(r"building=SENSORI"))
    now = page.locator(".roadmap__column--now")
    expect(now).to_contain_text("Latauspisteet Sensorin eteen")
    expect(now).not_to_contain_text("Valot Halli 5:n pihalle")
    expect(page.locator(".roadmap__column--later")).to_contain_text("Pyöräkatos Sensorille")
    # the form shows what the address chose
    expect(page.get_by_label(re.compile("^(Rakennus|Building)$"))).to_have_value("SENSORI")


def test_the_roadmap_filter_swaps_the_columns_with_htmx(live_server, new_page, roadmap_park):
    page = new_page()
    page.goto(live_server)
    page.evaluate("window.sameDocument = true")
    page.get_by_label(re.compile("^(Luokka|Category)$")).select_option(value="ev-charging")
    expect(page).to_have_url(re.compile(r"category=ev-charging"))
    expect(page.locator(".roadmap__column--now")).not_to_contain_text("Valot Halli 5:n pihalle")
    expect(page.locator(".roadmap__column--now")).to_contain_text("Latauspisteet Sensorin eteen")
    assert page.evaluate("window.sameDocument") is True  # swapped, not reloaded
    page.go_back()
    expect(page.locator(".roadmap__column--now")).to_contain_text("Valot Halli 5:n pihalle")
