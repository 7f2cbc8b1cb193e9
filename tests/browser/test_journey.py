"""The foundation journey in real Chromium: submit → triage → roadmap → scheduled update."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from facilities.core.jobs import run_job
from facilities.core.models import utcnow
from facilities.park.models import Visibility
from facilities.schedule import JOBS_BY_ID
from facilities.web.i18n import utc_to_local
from tests import factories

pytestmark = pytest.mark.browser
axe = Axe()


def assert_accessible(page) -> None:
    results = axe.run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def sign_in(page, base: str, email: str, *, check_accessibility: bool = True) -> None:
    page.goto(f"{base}/login")
    if check_accessibility:  # axe runs as JavaScript in the page
        assert_accessible(page)
    page.get_by_label("Sähköpostiosoite").fill(email)
    page.get_by_label("Salasana").fill(factories.PASSWORD)
    page.get_by_label("Salasana").press("Enter")  # by keyboard, as people do
    page.wait_for_load_state()


@pytest.fixture
def park(db):
    """What the journey needs: a building, a category, a tenant member and a staff member."""
    sensori = factories.building(db, name="Sensori", code="SENSORI")
    ev = factories.category(
        db,
        slug="ev-charging",
        default_visibility=Visibility.public,
        names={"fi": "Sähköautojen lataus", "en": "EV charging", "sv": "Laddning"},
    )
    member = factories.user(db, name="Aino Virtanen")
    staff = factories.staff(db, name="Mikko Rautio")
    db.commit()
    return {"building": sensori, "category": ev, "member": member, "staff": staff}


def test_request_goes_from_tenant_to_roadmap_and_gets_a_scheduled_update(
    app, live_server, new_page, park
):
    # A tenant member sends a request.
    tenant = new_page()
    sign_in(tenant, live_server, park["member"].email)
    expect(tenant).to_have_url(re.compile(r"/tenant/requests$"))
    assert_accessible(tenant)
    tenant.get_by_role("link", name="Uusi pyyntö").first.click()
    assert_accessible(tenant)
    tenant.get_by_label("Otsikko").fill("Sähköautojen latauspisteet Sensorin eteen")
    tenant.get_by_label("Luokka").select_option(label="Sähköautojen lataus (julkinen)")
    tenant.get_by_label("Rakennus").select_option(label="Sensori")
    tenant.get_by_label("Kuvaus").fill("Neljä **latauspistettä** pääoven eteen.")
    tenant.get_by_role("button", name="Lähetä pyyntö").click()
    expect(tenant.locator("h1")).to_have_text("Sähköautojen latauspisteet Sensorin eteen")
    reference = re.search(r"/requests/(DP-\d{4}-\d{4})$", tenant.url).group(1)
    expect(tenant.locator(".flash--success")).to_contain_text(reference)
    assert_accessible(tenant)

    # Staff find it in the queue and plan it inline, with htmx: no page load.
    staff = new_page()
    sign_in(staff, live_server, park["staff"].email)
    expect(staff).to_have_url(re.compile(r"/staff/queue$"))
    assert_accessible(staff)
    staff.evaluate("window.sameDocument = true")
    card = staff.locator("article.queue-card", has_text=reference)
    card.locator("summary").click()
    card.get_by_label("Tila", exact=True).select_option(label="Suunniteltu")
    card.get_by_label("Julkinen päivitys", exact=True).fill(
        "Latauspisteet on hyväksytty ensi vuoden suunnitelmaan."
    )
    card.get_by_role("button", name="Tallenna").click()
    card = staff.locator("article.queue-card", has_text=reference)
    expect(card.locator(".badge--planned")).to_have_text("Suunniteltu")
    expect(staff.locator("#flashes .flash--success")).to_contain_text(reference)
    assert staff.evaluate("window.sameDocument") is True
    assert_accessible(staff)

    # Staff schedule a public update for ten minutes from now on the request's own page.
    staff.goto(f"{live_server}/staff/requests/{reference}")
    publish_at = utc_to_local_for(app, utcnow() + timedelta(minutes=10))
    staff.get_by_label("Julkinen päivitys", exact=True).fill("Urakoitsija on valittu.")
    staff.get_by_label("Julkaise päivitys myöhemmin (valinnainen)").fill(publish_at)
    staff.get_by_role("button", name="Tallenna").click()
    expect(staff.locator(".timeline__item--scheduled")).to_contain_text("Urakoitsija on valittu.")
    assert_accessible(staff)

    # The public sees it on the roadmap, without the scheduled post yet: planned with no
    # target quarter, it is under Later.
    visitor = new_page()
    visitor.goto(live_server)
    planned = visitor.locator(".roadmap__column--later")
    expect(planned).to_contain_text("Sähköautojen latauspisteet Sensorin eteen")
    assert_accessible(visitor)
    planned.get_by_role("link", name="Sähköautojen latauspisteet Sensorin eteen").click()
    expect(visitor.locator(".timeline")).to_contain_text("hyväksytty")
    expect(visitor.locator(".timeline")).not_to_contain_text("Urakoitsija")
    assert_accessible(visitor)

    # The scheduler's job runs once the time has come; the update appears.
    run = run_job(
        app,
        JOBS_BY_ID["publish-scheduled-updates"],
        holder="browser-test",
        now=utcnow() + timedelta(minutes=11),
    )
    assert run.items == 1
    visitor.reload()
    expect(visitor.locator(".timeline")).to_contain_text("Urakoitsija on valittu.")


def utc_to_local_for(app, moment) -> str:
    with app.app_context():
        return utc_to_local(moment).strftime("%Y-%m-%dT%H:%M")


def test_staff_triage_works_without_javascript(live_server, new_page, park, db):
    item = factories.service_request(db, submitter=park["member"], category_=park["category"])
    db.commit()
    staff = new_page(java_script_enabled=False)
    sign_in(staff, live_server, park["staff"].email, check_accessibility=False)
    card = staff.locator("article.queue-card", has_text=item.reference)
    card.locator("summary").click()
    card.get_by_label("Tila", exact=True).select_option(label="Käsittelyssä")
    card.get_by_label("Prioriteetti").select_option(label="Kiireellinen")
    card.get_by_role("button", name="Tallenna").click()
    expect(staff).to_have_url(re.compile(r"/staff/queue$"))
    card = staff.locator("article.queue-card", has_text=item.reference)
    expect(card.locator(".badge--review")).to_have_text("Käsittelyssä")
    expect(card.locator(".badge--priority-urgent")).to_be_visible()
    expect(staff.locator(".flash--success")).to_contain_text(item.reference)


def test_language_switch_and_error_page_are_accessible(live_server, new_page):
    page = new_page()
    page.goto(f"{live_server}/no-such-page")
    assert_accessible(page)
    page.get_by_role("link", name="English").click()  # a link for visitors not signed in
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Roadmap")  # a missing page is not worth returning to


def tab_to(page, element_id: str, *, limit: int = 40) -> None:
    """Press Tab until the element with `element_id` has focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with Tab")


def test_a_request_can_be_sent_by_keyboard_alone(live_server, new_page, park):
    page = new_page()
    sign_in(page, live_server, park["member"].email, check_accessibility=False)
    page.goto(f"{live_server}/tenant/requests/new")
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Siirry sisältöön")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()  # the skip link shows itself on focus
    tab_to(page, "title")
    page.keyboard.type("Penkkejä Sensorin pihalle")
    tab_to(page, "category_id")
    page.keyboard.press("ArrowDown")  # the first category
    tab_to(page, "description")
    page.keyboard.type("Kaksi penkkiä sisäänkäynnin viereen.")
    page.keyboard.press("Tab")
    expect(page.locator("#files")).to_be_focused()  # the photos, then the naming choice
    tab_to(page, "show_name")
    page.keyboard.press("Space")
    expect(page.locator("#show_name")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Lähetä pyyntö")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Penkkejä Sensorin pihalle")
    expect(page.locator(".badge--new")).to_be_visible()


def test_a_password_change_with_its_errors_is_accessible(live_server, new_page, park):
    page = new_page()
    sign_in(page, live_server, park["member"].email, check_accessibility=False)
    page.get_by_role("link", name="Salasana").click()
    expect(page.locator("h1")).to_have_text("Vaihda salasana")
    assert_accessible(page)
    page.get_by_label("Nykyinen salasana").fill("not my password")
    page.get_by_label("Uusi salasana", exact=True).fill("short")
    page.get_by_label("Uusi salasana uudelleen").fill("short")
    page.get_by_role("button", name="Vaihda salasana").click()
    expect(page.locator("#current_password-error")).to_have_text("Nykyinen salasana on väärä.")
    assert_accessible(page)
    page.get_by_label("Nykyinen salasana").fill(factories.PASSWORD)
    page.get_by_label("Uusi salasana", exact=True).fill("kaksi kuusta ja kolme koivua")
    page.get_by_label("Uusi salasana uudelleen").fill("kaksi kuusta ja kolme koivua")
    page.get_by_label("Uusi salasana uudelleen").press("Enter")
    expect(page.locator(".flash--success")).to_contain_text("Salasanasi vaihdettiin.")
