"""Links by e-mail: sign-in, password reset, invitations. Single use, expiring, and
asking never reveals whether an address has an account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from facilities.accounts.models import AccessToken, Role, User
from facilities.core.db import get_engine
from facilities.core.models import Outbox, utcnow
from tests import factories
from tests.conftest import count_queries, csrf_token, sign_in


def _link(db, address: str, path: str) -> str:
    db.expire_all()
    mails = db.exec(select(Outbox).where(Outbox.recipient == address)).all()
    found = [m for m in mails if path in m.body_text]
    assert found, [m.subject for m in mails]
    match = re.search(rf"https?://[^/\s]+({re.escape(path)}\S+)", found[-1].body_text)
    assert match
    return match.group(1)


def test_a_sign_in_link_works_once(app, client, db):
    user = factories.user(db, preferred_language="en")
    db.commit()
    token = csrf_token(client, "/login/link")
    asked = client.post("/login/link", data={"csrf_token": token, "email": user.email.upper()})
    assert asked.status_code == 200
    path = _link(db, user.email, "/login/link/")
    confirm = client.get(path)
    assert confirm.status_code == 200 and user.email in confirm.get_data(as_text=True)
    signed = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert signed.status_code == 302
    assert client.get("/tenant/requests").status_code == 200
    other = app.test_client()
    again = other.post(
        path, data={"csrf_token": csrf_token(other, "/login")}, headers={"Accept-Language": "en"}
    )
    assert again.status_code == 410 and "used already" in again.get_data(as_text=True)


def test_asking_for_an_unknown_address_looks_the_same_and_sends_no_link(app, client, db):
    user = factories.user(db)
    db.commit()
    token = csrf_token(client, "/login/link")
    known = client.post("/login/link", data={"csrf_token": token, "email": user.email})
    unknown = client.post("/login/link", data={"csrf_token": token, "email": "Nobody@example.fi"})
    assert known.status_code == unknown.status_code == 200
    normalize = lambda page, email: page.get_data(as_text=True).replace(email, "EMAIL")  # noqa: E731
    assert normalize(known, user.email) == normalize(unknown, "Nobody@example.fi")
    # the address's owner learns that it has no account, and gets nothing to sign in with
    [mail] = db.exec(select(Outbox).where(Outbox.recipient == "nobody@example.fi")).all()
    assert "/login/link/" not in mail.body_text and "/login" in mail.body_text
    tokens = db.exec(select(AccessToken).where(AccessToken.email == "nobody@example.fi")).all()
    assert [t.user_id for t in tokens] == [None]  # issued as for anyone: it signs nobody in


@pytest.mark.parametrize("path", ["/login/link", "/password/forgot"])
def test_known_and_unknown_addresses_cost_the_same_work(app, client, db, path):
    """No timing tells who has an account: both answers run the same SQL statements and
    queue one e-mail each (a link, or word that the address has no account)."""
    user = factories.user(db)
    factories.user(db, email="gone@example.fi").active = False
    db.commit()
    token = csrf_token(client, path)

    def ask(email):
        with count_queries(get_engine(app)) as statements:
            answer = client.post(path, data={"csrf_token": token, "email": email})
        assert answer.status_code == 200
        return statements

    known = ask(user.email)
    assert ask("nobody@example.fi") == known
    assert ask("gone@example.fi") == known  # a deactivated account: as if none
    db.expire_all()
    assert len(db.exec(select(Outbox)).all()) == 3


def test_an_expired_link_is_refused(app, client, db):
    user = factories.user(db, preferred_language="en")
    db.commit()
    client.post(
        "/login/link", data={"csrf_token": csrf_token(client, "/login/link"), "email": user.email}
    )
    path = _link(db, user.email, "/login/link/")
    db.exec(update(AccessToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.commit()
    expired = client.get(path, headers={"Accept-Language": "en"})
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)


def test_too_many_links_for_one_address_are_refused_with_a_message(app, db):
    user = factories.user(db, preferred_language="en")
    db.commit()
    statuses = []
    for number in range(4):  # each from its own connection: the address's own limit
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{number + 1}"
        token = csrf_token(client, "/login/link")
        statuses.append(
            client.post("/login/link", data={"csrf_token": token, "email": user.email}).status_code
        )
    assert statuses == [200, 200, 200, 429]
    assert len(db.exec(select(AccessToken)).all()) == 3


def test_a_password_reset_sets_the_password_and_ends_other_sessions(app, client, db):
    user = factories.user(db, preferred_language="en")
    db.commit()
    elsewhere = app.test_client()
    sign_in(elsewhere, user.email)
    client.post(
        "/password/forgot",
        data={"csrf_token": csrf_token(client, "/password/forgot"), "email": user.email},
    )
    path = _link(db, user.email, "/password/reset/")
    token = csrf_token(client, path)
    short = client.post(
        path, data={"csrf_token": token, "new_password": "short", "repeated_password": "short"}
    )
    assert short.status_code == 422
    done = client.post(
        path,
        data={
            "csrf_token": token,
            "new_password": "a new long passphrase",
            "repeated_password": "a new long passphrase",
        },
    )
    assert done.status_code == 302
    assert elsewhere.get("/tenant/requests").status_code == 302  # signed out there
    fresh = app.test_client()
    sign_in(fresh, user.email, password="a new long passphrase")
    assert client.get(path).status_code == 410


def test_a_company_admin_invites_a_colleague_who_joins_once(app, client, db):
    admin = factories.user(db, role=Role.tenant_admin, preferred_language="en")
    db.commit()
    sign_in(client, admin.email)
    token = csrf_token(client, "/tenant/people")
    taken = client.post(
        "/tenant/people/invite",
        data={"csrf_token": token, "email": admin.email, "name": "Me again", "language": "fi"},
    )
    assert taken.status_code == 422 and 'value="Me again"' in taken.get_data(as_text=True)
    invited = client.post(
        "/tenant/people/invite",
        data={
            "csrf_token": token,
            "email": "new.colleague@example.fi",
            "name": "Uusi Kollega",
            "language": "sv",
        },
    )
    assert invited.status_code == 302
    [mail] = db.exec(select(Outbox).where(Outbox.recipient == "new.colleague@example.fi")).all()
    assert admin.name in mail.subject  # in Swedish, the invitation's language
    path = _link(db, "new.colleague@example.fi", "/invitations/")

    newcomer = app.test_client()
    form = {
        "csrf_token": csrf_token(newcomer, path),
        "name": "Uusi Kollega",
        "password": "kemi kollega 2026",
        "repeated_password": "kemi kollega 2026",
    }
    assert newcomer.post(path, data=form).status_code == 302
    joined = db.exec(select(User).where(User.email == "new.colleague@example.fi")).one()
    assert (joined.tenant_id, joined.role, joined.preferred_language) == (
        admin.tenant_id,
        Role.member,
        "sv",
    )
    assert newcomer.get("/tenant/requests").status_code == 200
    assert app.test_client().get(path).status_code == 410

    deactivated = client.post(f"/tenant/people/{joined.id}/deactivate", data={"csrf_token": token})
    assert deactivated.status_code == 302
    assert newcomer.get("/tenant/requests").status_code == 302  # signed out at once
