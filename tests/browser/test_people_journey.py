"""A tenant member signs in with a link read from a real SMTP server, finds the same idea
while typing and supports it, sends a new request with a photo and an answer to the
category's question; the company's admin invites a colleague, who joins from the e-mailed
link and sees both requests under "our requests"."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect
from sqlmodel import Session
from werkzeug.serving import make_server

from facilities.accounts.models import Role
from facilities.core.db import get_engine
from facilities.core.jobs import run_job
from facilities.park.models import QuestionKind
from facilities.schedule import JOBS_BY_ID
from tests import factories
from tests.browser.test_journey import assert_accessible, sign_in
from tests.conftest import make_test_app
from tests.core.test_outbox import Inbox, free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def world(database_url):
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    app = make_test_app(database_url, smtp_host="127.0.0.1", smtp_port=smtp.port)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.extensions["facilities.settings"].base_url = base  # the links in the e-mails
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with app.app_context(), Session(get_engine(app), expire_on_commit=False) as db:
        yield app, db, inbox, base
    server.shutdown()
    thread.join(timeout=10)
    smtp.stop()
    get_engine(app).dispose()


def _link_for(app, inbox, address: str, path: str) -> str:
    run_job(app, JOBS_BY_ID["send-outbox"], holder="test")
    for recipients, message in reversed(inbox.messages):
        if address in recipients:
            body = message.get_body(preferencelist=("plain",)).get_content()
            found = re.search(rf"(https?://\S+{re.escape(path)}\S+)", body)
            if found:
                return found.group(1)
    raise AssertionError(f"no {path} link for {address}")


def test_from_a_magic_link_to_a_colleague_who_sees_the_request(world, new_page):
    app, db, inbox, base = world
    ours = factories.tenant(db, name="Arktinen Anturi Oy")
    admin = factories.user(db, role=Role.tenant_admin, tenant_id=ours.id, name="Jari Kemppainen")
    member = factories.user(db, tenant_id=ours.id, name="Aino Virtanen")
    parking = factories.category(db, names={"fi": "Pysäköinti", "en": "Parking", "sv": "Parkering"})
    factories.question(
        db,
        parking,
        code="bikes",
        kind=QuestionKind.number,
        prompt_fi="Montako pyöräpaikkaa tarvitaan?",
        required=True,
    )
    existing = factories.service_request(db, title="Sähköautojen latauspisteet Sensorin eteen")
    db.commit()

    aino = new_page()
    aino.goto(f"{base}/login/link")
    assert_accessible(aino)
    aino.locator("#email").fill(member.email)
    aino.locator("#email").press("Enter")
    expect(aino.locator("h1")).to_have_text("Tarkista sähköpostisi")
    aino.goto(_link_for(app, inbox, member.email, "/login/link/"))
    assert_accessible(aino)
    aino.locator("main form button[type=submit]").click()
    aino.wait_for_url("**/tenant/requests")

    aino.goto(f"{base}/tenant/requests/new")
    aino.locator("#title").press_sequentially("Latauspisteitä Sensorille", delay=20)
    expect(aino.locator("#similar").get_by_role("link", name=existing.title)).to_be_visible()
    aino.locator("#similar button").first.click()
    aino.wait_for_url(f"**/requests/{existing.reference}")
    expect(aino.locator("#support")).to_contain_text("1")

    aino.goto(f"{base}/tenant/requests/new")
    aino.locator("#title").fill("Katettu pyöräkatos Sensorin pääovelle")
    aino.locator("#category_id").select_option(label="Pysäköinti (julkinen)")
    question = aino.get_by_label("Montako pyöräpaikkaa tarvitaan?")  # htmx brings it
    expect(question).to_be_visible()
    assert_accessible(aino)
    question.fill("24")
    aino.locator("#description").fill("Talvella pyörät jäätyvät telineisiin.")
    aino.locator("#files").set_input_files(
        files=[{"name": "telineet.png", "mimeType": "image/png", "buffer": factories.png()}]
    )
    aino.locator("form.card button[type=submit]").last.click()
    expect(aino.locator("h1")).to_have_text("Katettu pyöräkatos Sensorin pääovelle")
    expect(aino.get_by_role("img", name="Kuva: telineet.png")).to_be_visible()
    expect(aino.locator(".answers")).to_contain_text("24")
    assert_accessible(aino)

    jari = new_page()
    sign_in(jari, base, admin.email, check_accessibility=False)
    jari.goto(f"{base}/tenant/people")
    assert_accessible(jari)
    jari.locator("#invite-name").fill("Uusi Kollega")
    jari.locator("#invite-email").fill("kollega@example.fi")
    jari.locator("#invite-email").press("Enter")
    expect(jari.locator(".flash--success")).to_be_visible()

    newcomer = new_page()
    newcomer.goto(_link_for(app, inbox, "kollega@example.fi", "/invitations/"))
    assert_accessible(newcomer)
    newcomer.locator("#password").fill("kemi kollega 2026")
    newcomer.locator("#repeated_password").fill("kemi kollega 2026")
    newcomer.locator("main form button[type=submit]").click()
    newcomer.wait_for_url("**/tenant/requests")
    expect(
        newcomer.get_by_role("link", name="Katettu pyöräkatos Sensorin pääovelle")
    ).to_be_visible()
    supported = newcomer.locator("#request-list").get_by_role("link", name=existing.title)
    expect(supported).to_be_visible()  # under "supported by us"
    assert_accessible(newcomer)
