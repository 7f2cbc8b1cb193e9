import pytest
from flask import Blueprint

from facilities.models import Role, Visibility
from facilities.web.access import check_declared
from tests import factories
from tests.conftest import sign_in


def test_a_view_without_an_access_rule_stops_the_app(app):
    forgotten = Blueprint("forgotten", __name__)
    forgotten.add_url_rule("/forgotten", "page", lambda: "oops")
    app.register_blueprint(forgotten)
    with pytest.raises(RuntimeError, match=r"forgotten\.page"):
        check_declared(app)


@pytest.mark.parametrize("path", ["/staff/queue", "/tenant/requests", "/tenant/requests/new"])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_htmx_requests_get_a_redirect_header_instead(client):
    response = client.get("/staff/queue", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")


def test_tenant_members_cannot_open_the_work_queue(client, db):
    member = factories.user(db)
    db.commit()
    sign_in(client, member.email)
    assert client.get("/staff/queue").status_code == 403


def test_staff_without_a_company_cannot_use_tenant_pages(client, db):
    staff = factories.user(db, role=Role.staff)
    db.commit()
    sign_in(client, staff.email)
    assert client.get("/tenant/requests").status_code == 403


def test_triage_post_needs_staff(client, db):
    member = factories.user(db)
    item = factories.service_request(db, submitter=member)
    db.commit()
    sign_in(client, member.email)
    response = client.post(f"/staff/requests/{item.reference}/triage", data={})
    assert response.status_code in (400, 403)  # CSRF or role: either way refused
    client.get("/")  # fetch a token so only the role can refuse
    from tests.conftest import csrf_token

    response = client.post(
        f"/staff/requests/{item.reference}/triage", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 403


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
    assert "Lomake" in response.get_data(as_text=True) or "form" in response.get_data(as_text=True)
