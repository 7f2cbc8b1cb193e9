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


def _invitation(db, *, email="new.colleague@example.fi"):
    from facilities.accounts.tokens import invite

    admin = factories.user(db, role=Role.tenant_admin, preferred_language="en")
    db.commit()
    from flask import current_app

    with current_app.test_request_context():
        invite(db, inviter=admin, email=email, name="Uusi Kollega", language="fi", now=utcnow())
    db.commit()
    return admin, _link(db, email, "/invitations/")


JOIN = {
    "name": "Uusi Kollega",
    "password": "kemi kollega 2026",
    "repeated_password": "kemi kollega 2026",
}


def test_pressing_join_twice_joins_once_and_the_second_press_says_so(app, client, db):
    _admin, path = _invitation(db)
    late = app.test_client()  # the second press: sent before the first one's answer came
    late.get("/language/en")
    late_form = {**JOIN, "csrf_token": csrf_token(late, path)}
    assert (
        client.post(path, data={**JOIN, "csrf_token": csrf_token(client, path)}).status_code == 302
    )
    again = late.post(path, data=late_form)
    page = again.get_data(as_text=True)
    assert again.status_code == 410 and "joined already" in page and 'href="/login' in page
    assert len(db.exec(select(User).where(User.email == "new.colleague@example.fi")).all()) == 1
    assert client.post(path, data={**JOIN, "csrf_token": csrf_token(client)}).status_code == 302


def test_the_same_form_sent_again_after_joining_says_joined_not_expired(app, client, db):
    """Joining signs the browser in and renews its form token; the form sent again from
    that browser (a second tab, Back and resend) is told it joined, not that it expired."""
    _admin, path = _invitation(db)
    client.get("/language/en")
    form = {**JOIN, "csrf_token": csrf_token(client, path)}
    # before joining, a form token that is not this browser's changes nothing
    assert client.post(path, data={**JOIN, "csrf_token": "forged"}).status_code == 400
    assert db.exec(select(User).where(User.email == "new.colleague@example.fi")).first() is None
    assert client.post(path, data=form).status_code == 302
    again = client.post(path, data=form, follow_redirects=True)
    assert again.status_code == 200 and "You have joined already." in again.get_data(as_text=True)
    assert len(db.exec(select(User).where(User.email == "new.colleague@example.fi")).all()) == 1


def test_two_presses_at_the_same_moment_make_one_account_and_no_error(app, db):
    """Both read the link unused, then both accept: the link's claim decides, before the
    account is made, so the loser is told the link is spent (no IntegrityError)."""
    import threading

    from sqlmodel import Session

    from facilities.accounts import tokens
    from facilities.core.db import get_engine

    _admin, path = _invitation(db)
    raw = path.rsplit("/", 1)[1]
    both_read = threading.Barrier(2, timeout=30)
    real_look_up = tokens.look_up

    waited = threading.local()

    def look_up_together(*args, **kwargs):
        found = real_look_up(*args, **kwargs)
        if not getattr(waited, "once", False):
            waited.once = True
            both_read.wait()  # neither goes on before the other has seen the link unused
        return found

    outcomes: list[str] = []

    def press():
        with app.app_context(), Session(get_engine(app), expire_on_commit=False) as session:
            try:
                tokens.accept_invitation(
                    session, raw=raw, name="Uusi", password=JOIN["password"], now=utcnow()
                )
                session.commit()
                outcomes.append("made")
            except tokens.LinkNotValid as error:
                session.rollback()
                outcomes.append(error.reason)
            except Exception as error:  # the defect: reported, not raised
                session.rollback()
                outcomes.append(f"{type(error).__name__}: {error}"[:300])

    import unittest.mock

    with unittest.mock.patch.object(tokens, "look_up", look_up_together):
        presses = [threading.Thread(target=press) for _ in range(2)]
        for thread in presses:
            thread.start()
        for thread in presses:
            thread.join(timeout=60)
    assert sorted(outcomes) == ["joined", "made"], outcomes  # the loser: "you joined already"
    db.expire_all()
    assert len(db.exec(select(User).where(User.email == "new.colleague@example.fi")).all()) == 1


def test_an_address_with_an_account_is_not_invited_and_nothing_is_leaked(app, client, db):
    admin = factories.user(db, role=Role.tenant_admin, preferred_language="en")
    colleague = factories.user(db, tenant_id=admin.tenant_id)
    elsewhere = factories.user(db)  # a member of another company
    staff = factories.staff(db)
    db.commit()
    sign_in(client, admin.email)
    token = csrf_token(client, "/tenant/people")

    def invite(email):
        answer = client.post(
            "/tenant/people/invite",
            data={"csrf_token": token, "email": email, "name": "Someone", "language": "fi"},
        )
        assert answer.status_code == 422
        return answer.get_data(as_text=True)

    assert "already a member of your company" in invite(colleague.email.upper())
    other_company = invite(elsewhere.email)
    assert "cannot be invited" in other_company and "staff" in other_company
    assert "already has an account" not in other_company
    assert "cannot be invited" in invite(staff.email)
    assert db.exec(select(AccessToken)).all() == []


def test_one_address_is_invited_a_few_times_a_day_however_written(app, client, db):
    admin = factories.user(db, role=Role.tenant_admin, preferred_language="en")
    db.commit()
    sign_in(client, admin.email)
    token = csrf_token(client, "/tenant/people")
    statuses = [
        client.post(
            "/tenant/people/invite",
            data={"csrf_token": token, "email": email, "name": "Someone", "language": "fi"},
        ).status_code
        for email in ("x@example.fi", "X+1@example.fi", "x+2@example.fi", "x+3@example.fi")
    ]
    assert statuses == [302, 302, 302, 429]
    refused = client.post(
        "/tenant/people/invite",
        data={"csrf_token": token, "email": "x+4@example.fi", "name": "Someone", "language": "fi"},
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429 and 'value="x+4@example.fi"' in page
    assert "Too many invitations to this address" in page
