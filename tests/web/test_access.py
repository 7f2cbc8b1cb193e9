import re

import pytest
from flask import Blueprint

from facilities.accounts.models import Role
from facilities.park.models import Visibility
from facilities.web.access import check_declared
from facilities.web.auth import REMEMBER_COOKIE
from tests import factories
from tests.conftest import sign_in


def test_a_view_without_an_access_rule_stops_the_app(app):
    forgotten = Blueprint("forgotten", __name__)
    forgotten.add_url_rule("/forgotten", "page", lambda: "oops")
    app.register_blueprint(forgotten)
    with pytest.raises(RuntimeError, match=r"forgotten\.page"):
        check_declared(app)


def test_admin_only_views_refuse_staff_and_tenants(app, db):
    from facilities.web.access import admin_only

    settings = Blueprint("settings_test", __name__)
    settings.add_url_rule("/admin-test", "page", admin_only(lambda: "admin page"))
    app.register_blueprint(settings)
    check_declared(app)  # declared: the app may start
    people = {
        "admin": factories.user(db, role=Role.admin),
        "staff": factories.staff(db),
        "tenant admin": factories.user(db, role=Role.tenant_admin),
    }
    db.commit()
    answers = {}
    for name, user in people.items():
        client = app.test_client()
        sign_in(client, user.email)
        answers[name] = client.get("/admin-test").status_code
    assert answers == {"admin": 200, "staff": 403, "tenant admin": 403}
    assert app.test_client().get("/admin-test").status_code == 302


@pytest.mark.parametrize("path", ["/staff/queue", "/tenant/requests", "/tenant/requests/new"])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kirjaudu sisään jatkaaksesi." in login_page


def test_htmx_requests_get_a_redirect_header_instead(client):
    response = client.get("/staff/queue", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")


def test_tenant_members_cannot_open_the_work_queue(client, db, signed_in):
    signed_in()
    assert client.get("/staff/queue").status_code == 403


def test_staff_without_a_company_cannot_use_tenant_pages(client, db):
    staff = factories.user(db, role=Role.staff)
    db.commit()
    sign_in(client, staff.email)
    assert client.get("/tenant/requests").status_code == 403


def test_triage_post_needs_staff(client, db):
    from tests.conftest import csrf_token

    member = factories.user(db)
    item = factories.service_request(db, submitter=member)
    db.commit()
    sign_in(client, member.email)
    without_token = client.post(f"/staff/requests/{item.reference}/triage", data={})
    assert without_token.status_code == 400  # CSRF is checked before anything else
    with_token = client.post(
        f"/staff/requests/{item.reference}/triage", data={"csrf_token": csrf_token(client)}
    )
    assert with_token.status_code == 403


def test_private_request_is_hidden_from_outsiders(client, db):
    member = factories.user(db)
    outsider = factories.user(db)
    item = factories.service_request(db, submitter=member)
    item.visibility = Visibility.private
    db.commit()

    assert client.get(f"/requests/{item.reference}").status_code == 404
    sign_in(client, outsider.email)
    assert client.get(f"/requests/{item.reference}").status_code == 404
    client.post(
        "/logout", data={"csrf_token": __import__("tests.conftest").conftest.csrf_token(client)}
    )
    sign_in(client, member.email)
    assert client.get(f"/requests/{item.reference}").status_code == 200


def test_wrong_password_keeps_the_email_and_says_why(client, db):
    member = factories.user(db)
    db.commit()
    from tests.conftest import csrf_token

    response = client.post(
        "/login",
        data={
            "email": member.email,
            "password": "wrong",
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 401
    assert f'value="{member.email}"' in body and 'role="alert"' in body


def test_login_refuses_a_foreign_next_url(client, db):
    member = factories.user(db)
    db.commit()
    from tests.conftest import csrf_token

    response = client.post(
        "/login",
        data={
            "email": member.email,
            "password": factories.PASSWORD,
            "next": "https://evil.example/",
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.headers["Location"] == "/tenant/requests"


def test_post_without_csrf_token_is_refused(client, db):
    member = factories.user(db)
    db.commit()
    response = client.post("/login", data={"email": member.email, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "Lomake oli vanhentunut" in response.get_data(as_text=True)


def test_remember_me_cookie_is_secure_over_https(database_url, db):
    import re

    from tests.conftest import make_test_app

    member = factories.user(db)
    db.commit()
    app = make_test_app(database_url, base_url="https://palvelut.example.fi")
    client = app.test_client()
    form = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post(
        "/login",
        data={
            "email": member.email,
            "password": factories.PASSWORD,
            "remember": "1",
            "csrf_token": token,
        },
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},  # HTTPS forms must say where from
    )
    assert response.status_code == 302
    cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
    remember = cookies[REMEMBER_COOKIE]
    assert "Secure" in remember and "HttpOnly" in remember and "SameSite=Lax" in remember
    assert "Secure" in cookies["session"]


def test_sign_in_attempts_are_limited_per_client_behind_a_proxy(database_url):
    from tests.conftest import csrf_token, make_test_app

    app = make_test_app(database_url, trusted_proxies=1)
    client = app.test_client()
    token = csrf_token(client, "/login")

    def attempt(address, number=0):
        return client.post(
            "/login",
            # a new account each time: only the per-address limit counts here
            data={"email": f"nobody{number}@example.com", "password": "wrong", "csrf_token": token},
            headers={"X-Forwarded-For": address},
        ).status_code

    statuses = [attempt("192.0.2.10", number) for number in range(11)]
    assert statuses == [401] * 10 + [429]
    assert attempt("192.0.2.20") == 401  # someone else behind the same proxy is not blocked


def test_sign_ins_and_outs_are_audited(client, db):
    from sqlmodel import select

    from facilities.core.models import AuditEvent
    from tests.conftest import csrf_token

    member = factories.user(db)
    db.commit()
    client.post(
        "/login",
        data={
            "email": member.email,
            "password": "wrong",
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    sign_in(client, member.email)
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    events = db.exec(
        select(AuditEvent).where(AuditEvent.action.startswith("user.sign")).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.actor_id) for e in events] == [
        ("user.sign_in_failed", None),
        ("user.signed_in", member.id),
        ("user.signed_out", member.id),
    ]
    assert events[0].after == {"email": member.email}


def test_failed_sign_ins_are_limited_per_account_from_any_address(database_url, db):
    from tests.conftest import csrf_token, make_test_app

    member = factories.user(db)
    db.commit()
    app = make_test_app(database_url, trusted_proxies=1)
    client = app.test_client()
    token = csrf_token(client, "/login")

    def attempt(address, password="wrong"):
        return client.post(
            "/login",
            data={"email": member.email.upper(), "password": password, "csrf_token": token},
            headers={"X-Forwarded-For": address},
        )

    guesses = [attempt(f"192.0.2.{number}").status_code for number in range(1, 6)]
    assert guesses == [401] * 5
    blocked = attempt("198.51.100.7", password=factories.PASSWORD)  # the right one, too late
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 60
    html = blocked.get_data(as_text=True)
    assert "Liian monta kirjautumisyritystä" in html
    assert f'value="{member.email.upper()}"' in html  # the address typed comes back


def test_successful_sign_ins_do_not_count_against_the_account(database_url, db):
    from tests.conftest import make_test_app

    member = factories.user(db)
    db.commit()
    app = make_test_app(database_url)
    for _ in range(7):  # more than the per-account limit of five a minute
        sign_in(app.test_client(), member.email)  # asserts each one is let in


def test_the_rate_limit_store_is_the_configured_one(app):
    import os

    from facilities.extensions import limiter

    configured = os.environ.get("FACILITIES_RATELIMIT_STORAGE_URI", "memory://")
    assert type(limiter.storage).__name__ == (
        "RedisStorage" if configured.startswith("redis") else "MemoryStorage"
    )
    with app.app_context():
        assert limiter.storage.check() is True


def test_a_locked_password_sign_in_offers_the_link_right_there(database_url, db):
    """Anyone can lock an account's password sign-in by guessing; its owner is told that
    the e-mailed link still works, and can ask for it on the same page."""
    from sqlmodel import select

    from facilities.core.models import Outbox
    from tests.conftest import csrf_token, make_test_app

    member = factories.user(db)
    db.commit()
    app = make_test_app(database_url, trusted_proxies=1)
    client = app.test_client()
    client.get("/language/en")
    token = csrf_token(client, "/login")

    def attempt(address, email=member.email):
        return client.post(
            "/login",
            data={"email": email, "password": "wrong", "csrf_token": token},
            headers={"X-Forwarded-For": address},
        )

    for number in range(1, 6):
        attempt(f"192.0.2.{number}")
    locked = attempt("198.51.100.7")
    html = locked.get_data(as_text=True)
    assert locked.status_code == 429
    assert "sign-in link by e-mail still works" in html
    assert 'action="/login/link"' in html
    assert html.count(f'value="{member.email}"') == 2  # both forms keep the address
    # an address without an account is locked and told the same: nobody learns who has one
    for number in range(1, 6):
        attempt(f"192.0.2.{number + 10}", email="nobody@example.com")
    stranger = attempt("198.51.100.8", email="nobody@example.com").get_data(as_text=True)

    def same(page, email):
        page = re.sub(r"\d+ minutes?", "N minutes", page.replace(email, "EMAIL"))  # the clock
        return re.sub(r'name="csrf_token" value="[^"]+"', "", page)

    assert same(stranger, "nobody@example.com") == same(html, member.email)

    asked = client.post(
        "/login/link",
        data={"email": member.email, "csrf_token": token},
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    assert asked.status_code == 200
    mail = db.exec(select(Outbox).where(Outbox.recipient == member.email)).one()
    assert "/login/link/" in mail.body_text
