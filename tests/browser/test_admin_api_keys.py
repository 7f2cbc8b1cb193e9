"""An admin issues an API key in Chromium, copies it from the page shown once, reads its
calls and revokes it with plain forms, each page clean by axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from facilities.accounts.api_keys import key_for, record_use
from facilities.accounts.models import Role
from tests import factories
from tests.browser.test_journey import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_an_admin_issues_reads_and_revokes_a_key(live_server, new_page, db):
    admin = factories.user(db, role=Role.admin, name="Kaisa Pelkonen", preferred_language="en")
    factories.tenant(db, name="Arktinen Anturi Oy")
    db.commit()
    desk = new_page()
    sign_in(desk, live_server, admin.email, check_accessibility=False)

    desk.goto(f"{live_server}/admin/api-keys")
    expect(desk.locator("main a[href='/api/docs']")).to_be_visible()
    assert_accessible(desk)

    desk.locator("a[href='/admin/api-keys/new']").first.click()
    desk.locator("#name").fill("ab")
    desk.locator("#rate_limit_per_minute").fill("0")
    desk.locator("#rate_limit_per_minute").press("Enter")
    expect(desk.locator("#rate_limit_per_minute-error")).to_be_visible()
    expect(desk.locator("#name")).to_have_value("ab")
    assert_accessible(desk)

    desk.locator("#name").fill("Kemin kaupungin palautejärjestelmä")
    desk.locator("#scope-submit").check()
    desk.locator("#rate_limit_per_minute").fill("120")
    desk.locator("#tenant_id").select_option(label="Arktinen Anturi Oy")
    desk.locator("button[type=submit].button--primary").click()
    secret = desk.locator("#secret").input_value()
    assert re.fullmatch(r"fac_[A-Za-z0-9_-]{40}", secret)
    expect(desk.locator("#secret")).to_have_attribute("readonly", "")
    assert_accessible(desk)

    key = key_for(db, secret)
    assert key is not None and key.scopes == ["read", "submit"]
    record_use(
        db,
        key=key,
        method="POST",
        path="/api/open311/v2/requests.json",
        status_code=201,
        remote_addr="198.51.100.23",
        detail="DP-2026-0042",
    )
    db.commit()

    desk.locator(f"a[href='/admin/api-keys/{key.id}']").click()
    expect(desk.locator("table")).to_contain_text("DP-2026-0042")
    assert secret not in desk.content()
    assert_accessible(desk)
    desk.get_by_role("button", name=re.compile("Revoke key")).click()
    expect(desk.locator(".flash--success")).to_contain_text("Kemin kaupungin palautejärjestelmä")
    expect(desk.get_by_role("button", name=re.compile("Revoke key"))).to_have_count(0)
