"""The tenants' voice in Chromium: a similar request found while typing, supported in one
click; the conversation and search pages pass axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from facilities.accounts.models import Role
from facilities.requests.models import Support
from tests import factories
from tests.browser.test_journey import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_typing_a_title_finds_the_same_idea_and_supports_it(live_server, new_page, db):
    existing = factories.service_request(db, title="Sähköautojen latauspisteet Sensorin eteen")
    member = factories.user(db)
    factories.category(db)
    db.commit()
    page = new_page()
    sign_in(page, live_server, member.email, check_accessibility=False)
    page.goto(f"{live_server}/tenant/requests/new")
    page.locator("#title").press_sequentially("Latauspisteitä Sensorille", delay=20)
    similar = page.locator("#similar")
    expect(similar.get_by_role("link", name=existing.title)).to_be_visible()
    assert_accessible(page)
    similar.get_by_role("button").first.click()
    page.wait_for_url(f"**/requests/{existing.reference}")
    expect(page.locator("#support")).to_contain_text("1")
    assert db.exec(select(Support)).one().user_id == member.id
    assert_accessible(page)  # the request page with the support block and conversation form


def test_search_and_conversation_pages_pass_axe(live_server, new_page, db):
    member = factories.user(db)
    item = factories.service_request(db, submitter=member, title="Pyöräkatos Innovaattorille")
    staff = factories.staff(db)
    db.commit()
    visitor = new_page()
    visitor.goto(f"{live_server}/search?q=pyöräkatos")
    expect(visitor.get_by_role("link", name=item.title)).to_be_visible()
    assert_accessible(visitor)
    desk = new_page()
    sign_in(desk, live_server, staff.email, check_accessibility=False)
    desk.goto(f"{live_server}/staff/requests/{item.reference}")
    desk.locator("#comment").fill("Kiitos, katsomme tämän.")
    desk.locator("#conversation button[type=submit]").click()
    desk.wait_for_url("**#conversation")
    expect(desk.locator(".timeline__item--comment")).to_contain_text("Kiitos, katsomme tämän.")
    assert_accessible(desk)


def test_an_admin_adds_a_question_that_a_tenant_answers_without_javascript(
    live_server, new_page, db
):
    factories.category(db, names={"fi": "Pyöräily", "en": "Cycling"})
    admin = factories.user(db, role=Role.admin)
    member = factories.user(db)
    db.commit()
    desk = new_page()
    sign_in(desk, live_server, admin.email, check_accessibility=False)
    desk.goto(f"{live_server}/admin/categories")
    assert_accessible(desk)
    desk.get_by_role("link", name="Kysymykset: Pyöräily").click()
    expect(desk.locator("h1")).to_contain_text("Pyöräily")
    assert_accessible(desk)
    desk.locator("label[for=kind-single_choice]").click()
    desk.locator("#prompt_fi").fill("Missä pyöräilet?")
    desk.locator("#choices_fi").fill("Keskustasta\nAjoskasta")
    desk.locator("#choices_en").fill("From the centre")  # one option short: refused
    desk.locator("form.card button[type=submit]").click()
    expect(desk.locator(".error-summary")).to_contain_text("(2)")
    assert_accessible(desk)
    expect(desk.locator("#prompt_fi")).to_have_value("Missä pyöräilet?")
    desk.locator("#choices_en").fill("From the centre\nFrom Ajos")
    desk.locator("form.card button[type=submit]").click()
    expect(desk.get_by_role("link", name="Missä pyöräilet?")).to_be_visible()

    plain = new_page(java_script_enabled=False)
    sign_in(plain, live_server, member.email, check_accessibility=False)
    plain.goto(f"{live_server}/tenant/requests/new")
    plain.locator("#category_id").select_option(label="Pyöräily (julkinen)")
    plain.get_by_role("button", name="Näytä luokan kysymykset").click()
    expect(plain.get_by_role("radio", name="Ajoskasta")).to_be_visible()
    # (axe needs JavaScript: the form with its questions is checked in the people journey)
    plain.locator("#title").fill("Pyörätie Ajoksesta Digipolikseen")
    plain.get_by_role("radio", name="Ajoskasta").check()
    plain.locator("form.card button[type=submit]").last.click()
    expect(plain.locator("h1")).to_have_text("Pyörätie Ajoksesta Digipolikseen")
    expect(plain.locator(".answers")).to_contain_text("Ajoskasta")
