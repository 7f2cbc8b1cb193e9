"""The admins' API key screens: issue (the secret shown once), list, a key's calls, revoke."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from facilities.accounts.api_keys import ApiKeyCreate, issue_key, record_use
from facilities.accounts.models import ApiKey, ApiScope, Role
from facilities.core.db import get_engine
from facilities.core.models import AuditEvent, utcnow
from tests import factories
from tests.conftest import count_queries, csrf_token, sign_in
from tests.web.test_hostile_input import HOSTILE_VALUES, LONG, REPEATED
from tests.web.test_hostile_input import send as hostile_send

SECRET = re.compile(r"fac_[A-Za-z0-9_-]{40}")


@pytest.fixture
def admin(signed_in):
    return signed_in(Role.admin, preferred_language="en", name="Kaisa Pelkonen")


def _form(client, **fields) -> dict:
    return {
        "csrf_token": csrf_token(client, "/admin/api-keys/new"),
        "name": "Kemin kaupungin palautejärjestelmä",
        "scopes": ["read", "submit"],
        "rate_limit_per_minute": "120",
        "tenant_id": "",
        **fields,
    }


def _key(db, admin, name="Puiston uutiskanava", **fields) -> tuple[ApiKey, str]:
    key, secret = issue_key(db, admin=admin, data=ApiKeyCreate(name=name, **fields))
    db.commit()
    return key, secret


def _fine(status: int | str) -> bool:
    """Not a server error (hostile_send gives what the app raised as text)."""
    return isinstance(status, int) and status < 500


def _uses(db, key, count: int) -> None:
    start = utcnow() - timedelta(days=2)
    for number in range(count):
        record_use(
            db,
            key=key,
            method="POST" if number % 2 else "GET",
            path=f"/api/open311/v2/requests/{number}.json",
            status_code=201 if number % 2 else 200,
            remote_addr="198.51.100.23",
            detail=f"DP-2026-{number:04d}" if number % 2 else "",
            now=start + timedelta(minutes=number),
        )
    db.commit()


@pytest.mark.parametrize("role", [Role.member, Role.tenant_admin, Role.staff])
def test_only_admins_reach_the_screens(client, db, signed_in, role):
    someone = factories.user(db, role=Role.admin, password=None)
    key, _secret = _key(db, someone)
    signed_in(role, preferred_language="en")
    token = csrf_token(client)
    for path in ("/admin/api-keys", "/admin/api-keys/new", f"/admin/api-keys/{key.id}"):
        assert client.get(path).status_code == 403
    refused = client.post("/admin/api-keys/new", data={"name": "Minun", "csrf_token": token})
    assert refused.status_code == 403
    revoke = client.post(f"/admin/api-keys/{key.id}/revoke", data={"csrf_token": token})
    assert revoke.status_code == 403
    db.expire_all()
    assert db.get(ApiKey, key.id).active
    assert len(db.exec(select(ApiKey)).all()) == 1


def test_the_empty_list_explains_keys_and_links_the_api_docs(client, admin):
    page = client.get("/admin/api-keys").get_data(as_text=True)
    assert "No API keys yet" in page
    assert 'href="/api/docs"' in page
    assert 'href="/admin/api-keys/new"' in page
    menu = client.get("/admin/categories").get_data(as_text=True)
    assert 'href="/admin/api-keys"' in menu and "API keys" in menu


def test_issuing_shows_the_secret_once_and_never_again(client, db, admin):
    form_page = client.get("/admin/api-keys/new").get_data(as_text=True)
    assert 'name="csrf_token"' in form_page
    assert 'value="60"' in form_page  # the default rate limit
    company = factories.tenant(db, name="Arktinen Anturi Oy")
    db.commit()

    issued = client.post("/admin/api-keys/new", data=_form(client, tenant_id=str(company.id)))
    html = issued.get_data(as_text=True)
    assert issued.status_code == 200  # rendered, not redirected: the secret is in no address
    assert "no-store" in issued.headers["Cache-Control"]
    [secret] = set(SECRET.findall(html))
    assert re.search(rf'<input[^>]*readonly[^>]*value="{secret}"', html)
    assert "it will not be shown again" in html
    assert 'href="/admin/api-keys"' in html

    key = db.exec(select(ApiKey)).one()
    assert key.name == "Kemin kaupungin palautejärjestelmä"
    assert (key.scopes, key.rate_limit_per_minute, key.tenant_id) == (
        ["read", "submit"],
        120,
        company.id,
    )
    assert secret.startswith(key.prefix) and secret not in key.key_hash
    [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "api_key.issued")).all()
    assert event.actor_id == admin.id and secret not in str(event.after)

    listing = client.get("/admin/api-keys").get_data(as_text=True)
    detail = client.get(f"/admin/api-keys/{key.id}").get_data(as_text=True)
    for page in (listing, detail):
        assert secret not in page and not SECRET.search(page)
        assert f"<code>{key.prefix}…</code>" in page
        assert "Reading with its own limit, Sending requests" in page
        assert "120 / min" in page and "Arktinen Anturi Oy" in page
        assert "Kaisa Pelkonen" in page


def test_errors_are_shown_by_their_fields_with_the_input_kept(client, db, admin):
    _key(db, admin, name="Puiston uutiskanava")
    response = client.post(
        "/admin/api-keys/new",
        data=_form(client, name="Puiston uutiskanava", scopes=["submit"]),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "A key with this name exists already. Choose another name." in html
    assert 'id="name-error"' in html and 'aria-invalid="true"' in html
    assert 'value="Puiston uutiskanava"' in html and 'value="120"' in html
    assert re.search(r'value="submit"[^>]*checked', html)
    assert not re.search(r'value="read"[^>]*checked', html)
    assert not SECRET.search(html)

    response = client.post(
        "/admin/api-keys/new",
        data=_form(client, name="x", rate_limit_per_minute="6001", tenant_id="999999"),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter at least 3 characters." in html
    assert "Enter a whole number from 1 to 6000." in html
    assert 'id="rate_limit_per_minute-error"' in html and 'value="6001"' in html
    assert len(db.exec(select(ApiKey)).all()) == 1


def test_the_company_must_be_one_of_them(client, db, admin):
    response = client.post("/admin/api-keys/new", data=_form(client, tenant_id="999999"))
    assert response.status_code == 422
    assert "Choose one of the companies." in response.get_data(as_text=True)
    assert db.exec(select(ApiKey)).all() == []


def test_a_post_without_the_csrf_token_is_refused(client, db, admin):
    form = _form(client)
    del form["csrf_token"]
    assert client.post("/admin/api-keys/new", data=form).status_code == 400
    assert db.exec(select(ApiKey)).all() == []


def test_revoking_stops_the_key_and_twice_says_it_was_already_revoked(client, db, admin):
    key, _secret = _key(db, admin)
    page = client.get(f"/admin/api-keys/{key.id}").get_data(as_text=True)
    assert "Revoke key — clients using it stop working at once" in page
    token = csrf_token(client, f"/admin/api-keys/{key.id}")

    first = client.post(f"/admin/api-keys/{key.id}/revoke", data={"csrf_token": token})
    assert first.status_code == 302
    assert first.headers["Location"] == f"/admin/api-keys/{key.id}"
    after = client.get(f"/admin/api-keys/{key.id}").get_data(as_text=True)
    assert "was revoked: clients using it are refused from now on" in after
    assert "Revoke key —" not in after and "Revoked" in after
    db.expire_all()
    assert db.get(ApiKey, key.id).revoked_by_id == admin.id

    second = client.post(f"/admin/api-keys/{key.id}/revoke", data={"csrf_token": token})
    assert second.status_code == 302
    again = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "The key “Puiston uutiskanava” was already revoked." in again
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "api_key.revoked")).all()
    assert len(events) == 1
    assert client.post("/admin/api-keys/999999/revoke", data={"csrf_token": token}).status_code == (
        404
    )


def test_the_list_shows_calls_and_last_use_and_costs_the_same_queries(app, client, db, admin):
    names = iter(range(100))

    def fill(count: int) -> None:
        company = factories.tenant(db)
        for _ in range(count):
            key, _secret = _key(
                db, admin, name=f"Avain {next(names)}", scopes=[ApiScope.read], tenant_id=company.id
            )
            _uses(db, key, 3)

    def queries() -> int:
        client.get("/admin/api-keys")
        with count_queries(get_engine(app)) as statements:
            assert client.get("/admin/api-keys").status_code == 200
        return len(statements)

    fill(2)
    few = queries()
    fill(25)  # past one page of 20
    assert queries() == few
    html = client.get("/admin/api-keys").get_data(as_text=True)
    assert "Page 1 of 2" in html and "Keys: 27" in html
    assert re.search(r"<td>3<br><span class=\"meta meta--small\">last ", html)


def test_a_keys_page_lists_its_calls_newest_first_in_pages(app, client, db, admin):
    key, _secret = _key(db, admin)
    _uses(db, key, 25)
    html = client.get(f"/admin/api-keys/{key.id}").get_data(as_text=True)
    assert "Calls made with the key (25)" in html
    assert html.index("/requests/24.json") < html.index("/requests/23.json")
    assert "/requests/4.json" not in html  # on the second page
    assert "DP-2026-0023" in html and "198.51.100.23" in html
    assert '<td class="number">201</td>' in html
    second = client.get(f"/admin/api-keys/{key.id}?page=2").get_data(as_text=True)
    assert "/requests/4.json" in second and "/requests/0.json" in second
    assert "/requests/24.json" not in second

    def queries() -> int:
        with count_queries(get_engine(app)) as statements:
            assert client.get(f"/admin/api-keys/{key.id}").status_code == 200
        return len(statements)

    few = queries()
    _uses(db, key, 30)
    assert queries() == few
    assert client.get("/admin/api-keys/999999").status_code == 404


def test_call_times_are_shown_in_park_time(client, db, admin):
    key, _secret = _key(db, admin)
    summer = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    record_use(db, key=key, method="GET", path="/x", status_code=200, remote_addr="", now=summer)
    db.commit()
    html = client.get(f"/admin/api-keys/{key.id}").get_data(as_text=True)
    assert "12:30:00" in html  # 9:30 UTC is 12:30 in Helsinki in summer


@pytest.mark.parametrize("value", [*HOSTILE_VALUES[:-1], LONG[:5000]])
def test_hostile_values_get_no_server_error(client, db, admin, value):
    key, _secret = _key(db, admin)
    token = csrf_token(client, "/admin/api-keys/new")
    for field in ("name", "scopes", "rate_limit_per_minute", "tenant_id"):
        response = client.post("/admin/api-keys/new", data=_form(client, **{field: value}))
        assert response.status_code < 500, (field, value[:40])
    for path in ("/admin/api-keys", f"/admin/api-keys/{key.id}"):
        assert _fine(hostile_send(client, "GET", path, query_string={"page": value[:200]}))
    status = hostile_send(
        client, "POST", f"/admin/api-keys/{key.id}/revoke", data={"x": value, "csrf_token": token}
    )
    assert _fine(status), status


def test_repeated_and_raw_fields_get_no_server_error(client, db, admin):
    token = csrf_token(client, "/admin/api-keys/new")
    names = ("name", "scopes", "rate_limit_per_minute", "tenant_id")
    for values in REPEATED:
        data = {**{name: values for name in names}, "csrf_token": token}
        assert _fine(hostile_send(client, "POST", "/admin/api-keys/new", data=data))
    for raw in (b"\xff\xfe", b"%ff%fe", b"a\x00b"):
        body = b"&".join(name.encode() + b"=" + raw for name in names)
        status = hostile_send(
            client, "POST", "/admin/api-keys/new", data=body + b"&csrf_token=" + token.encode()
        )
        assert _fine(status), status


def test_the_sign_in_of_another_admin_sees_the_key_but_not_its_secret(app, db, admin):
    _issued, secret = _key(db, admin)
    other = factories.user(db, role=Role.admin, preferred_language="en")
    db.commit()
    desk = app.test_client()
    sign_in(desk, other.email)
    page = desk.get("/admin/api-keys").get_data(as_text=True)
    assert "Puiston uutiskanava" in page and secret not in page
