"""Odd input never gives a 500: unknown query keys, NUL bytes anywhere, repeated fields."""

import pytest

from facilities.accounts.models import Role
from tests import factories
from tests.conftest import csrf_token, sign_in


def _pages_of_three(db, role):
    """A signed-in user with enough requests that every list has a second page."""
    user = factories.user(db, role=role) if role else None
    submitter = user if role in (Role.member, Role.tenant_admin) else factories.user(db)
    for number in range(3):
        item = factories.service_request(db, submitter=submitter, title=f"Request number {number}")
        if role is None:
            factories.triage(db, item, actor=factories.staff(db), to="planned")
    db.commit()
    return user


@pytest.mark.parametrize(
    ("path", "role", "page_key"),
    [
        ("/", None, "later_page"),
        ("/tenant/requests", Role.member, "page"),
        ("/staff/queue", Role.staff, "page"),
    ],
)
def test_pagination_links_keep_only_known_arguments(app, client, db, path, role, page_key):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    user = _pages_of_three(db, role)
    if user is not None:
        sign_in(client, user.email)
    app.extensions["facilities.settings"].per_page = 1

    response = client.get(f"{path}?endpoint=x&_external=1&_anchor=y&{page_key}=2")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    html = html[html.index('class="pagination"') :]
    html = html[: html.index("</nav>")]
    assert f"{page_key}=1" in html and f"{page_key}=3" in html
    assert "endpoint=x" not in html and "_external" not in html and "_anchor" not in html


@pytest.mark.parametrize("path", ["/requests/%00", "/requests/DP-2026-0001%00"])
def test_a_nul_byte_in_the_path_is_a_bad_request(app, client, path):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get(path).status_code == 400


def test_every_value_of_a_repeated_field_is_checked_for_nul_bytes(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/staff/queue?q=fine&q=bad%00").status_code == 400
    token = csrf_token(client)
    response = client.post("/language", data={"csrf_token": token, "locale": ["en", "x\x00"]})
    assert response.status_code == 400


def test_raw_bytes_in_the_query_string_are_read_not_a_server_error(app):
    """No browser sends them unencoded, but scripts do; werkzeug alone would raise."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    app.config["PROPAGATE_EXCEPTIONS"] = False
    environ = EnvironBuilder(path="/login").get_environ()
    environ["QUERY_STRING"] = b"next=/x\xc3(&page=\xff".decode("latin-1")  # as servers pass it
    body, status, _headers = run_wsgi_app(app, environ, buffered=True)
    assert status == "200 OK"
    assert b'name="password"' in b"".join(body)
