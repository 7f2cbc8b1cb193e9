"""Sessions that really end: sign-out, password changes and deactivation end them all."""

from datetime import timedelta

from sqlmodel import select

from facilities.accounts.models import RememberToken, Role
from facilities.accounts.users import deactivate_user, issue_remember_token
from facilities.core.models import utcnow
from facilities.web.auth import REMEMBER_COOKIE
from tests import factories
from tests.conftest import csrf_token, sign_in


def _remembered_sign_in(client, email):
    response = client.post(
        "/login",
        data={
            "email": email,
            "password": factories.PASSWORD,
            "remember": "1",
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.status_code == 302
    return client.get_cookie(REMEMBER_COOKIE).value


def _copy_cookie(source, target, name):
    target.set_cookie(name, source.get_cookie(name).value)


def test_a_session_cookie_copied_before_sign_out_no_longer_opens_staff_pages(
    app, client, db, signed_in
):
    signed_in(Role.staff)
    thief = app.test_client()
    _copy_cookie(client, thief, "session")
    assert thief.get("/staff/queue").status_code == 200

    client.post("/logout", data={"csrf_token": csrf_token(client)})

    response = thief.get("/staff/queue")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_signing_out_ends_the_sessions_on_other_devices_too(app, client, db, signed_in):
    member = signed_in()
    laptop = app.test_client()
    sign_in(laptop, member.email)

    client.post("/logout", data={"csrf_token": csrf_token(client)})

    assert laptop.get("/tenant/requests").status_code == 302


def test_remember_tokens_are_random_per_sign_in_and_stored_hashed(app, client, db):
    member = factories.user(db)
    db.commit()
    first = _remembered_sign_in(client, member.email)
    second = _remembered_sign_in(app.test_client(), member.email)

    assert first != second
    stored = db.exec(select(RememberToken).where(RememberToken.user_id == member.id)).all()
    assert len(stored) == 2
    assert all(token.validator_hash not in (first + second) for token in stored)
    lifetimes = {(token.expires_at - token.created_at).days for token in stored}
    assert lifetimes == {30}  # the default of FACILITIES_REMEMBER_DAYS


def test_a_remember_cookie_signs_a_new_browser_in_until_sign_out(app, client, db):
    member = factories.user(db)
    db.commit()
    cookie = _remembered_sign_in(client, member.email)
    new_browser = app.test_client()
    new_browser.set_cookie(REMEMBER_COOKIE, cookie)
    assert new_browser.get("/tenant/requests").status_code == 200

    client.post("/logout", data={"csrf_token": csrf_token(client)})

    stolen = app.test_client()
    stolen.set_cookie(REMEMBER_COOKIE, cookie)
    response = stolen.get("/tenant/requests")
    assert response.status_code == 302
    assert f"{REMEMBER_COOKIE}=;" in response.headers.get("Set-Cookie", "")  # and it is dropped
    assert db.exec(select(RememberToken).where(RememberToken.user_id == member.id)).all() == []
    assert new_browser.get("/tenant/requests").status_code == 302


def test_an_expired_remember_cookie_signs_nobody_in(app, db):
    member = factories.user(db)
    cookie = issue_remember_token(
        db, user=member, lifetime=timedelta(days=30), now=utcnow() - timedelta(days=31)
    )
    db.commit()
    browser = app.test_client()
    browser.set_cookie(REMEMBER_COOKIE, cookie)
    assert browser.get("/tenant/requests").status_code == 302


def test_a_forged_remember_cookie_signs_nobody_in(app, db):
    member = factories.user(db)
    cookie = issue_remember_token(db, user=member, lifetime=timedelta(days=30))
    db.commit()
    selector = cookie.split(":")[0]
    browser = app.test_client()
    browser.set_cookie(REMEMBER_COOKIE, f"{selector}:guessed")
    assert browser.get("/tenant/requests").status_code == 302


def test_changing_the_password_signs_out_other_devices_and_keeps_this_one(
    app, client, db, signed_in
):
    member = signed_in()
    other = app.test_client()
    remembered = _remembered_sign_in(other, member.email)

    response = client.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": "a much longer new passphrase",
            "repeated_password": "a much longer new passphrase",
            "csrf_token": csrf_token(client, "/account/password"),
        },
    )

    assert response.status_code == 302
    assert client.get("/tenant/requests").status_code == 200
    assert other.get("/tenant/requests").status_code == 302
    fresh = app.test_client()
    fresh.set_cookie(REMEMBER_COOKIE, remembered)
    assert fresh.get("/tenant/requests").status_code == 302
    sign_in(app.test_client(), member.email, "a much longer new passphrase")


def test_a_wrong_current_password_changes_nothing_and_says_so(client, db, signed_in):
    signed_in()
    response = client.post(
        "/account/password",
        data={
            "current_password": "not it",
            "new_password": "short",
            "repeated_password": "short",
            "csrf_token": csrf_token(client, "/account/password"),
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nykyinen salasana on väärä." in html
    assert "Käytä vähintään 10 merkkiä." in html
    assert client.get("/tenant/requests").status_code == 200


def test_deactivation_ends_every_session_at_once(app, client, db, signed_in):
    admin = factories.user(db, role=Role.admin)
    staff = signed_in(Role.staff)
    assert client.get("/staff/queue").status_code == 200

    deactivate_user(db, user=staff, actor=admin)
    db.commit()

    assert client.get("/staff/queue").status_code == 302
