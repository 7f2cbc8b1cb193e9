"""Saved views: a member of staff names queue filters and comes back to them; each
person sees and deletes only their own."""

from __future__ import annotations

from sqlmodel import select

from facilities.core.models import AuditEvent
from facilities.requests.models import SavedView
from tests import factories
from tests.conftest import csrf_token, sign_in


def _signed_in_staff(client, db, **fields):
    person = factories.staff(db, **fields)
    db.commit()
    sign_in(client, person.email)
    return person


def test_a_view_is_saved_with_the_queue_s_filters_and_shown_as_a_link(client, db):
    person = _signed_in_staff(client, db)
    category = factories.category(db)
    db.commit()
    token = csrf_token(client, "/staff/queue")
    response = client.post(
        "/staff/views",
        data={
            "view_name": "  New   EV requests ",
            "query": f"status=new&category={category.id}&page=3&evil=1&assignee=nobody",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/staff/queue?status=new&category={category.id}&assignee=nobody"
    )
    view = db.exec(select(SavedView)).one()
    assert (view.user_id, view.name) == (person.id, "New EV requests")
    page = client.get(f"/staff/queue?status=new&category={category.id}&assignee=nobody")
    html = page.get_data(as_text=True)
    assert (
        f'href="/staff/queue?status=new&amp;category={category.id}&amp;assignee=nobody" aria-current="page">New EV requests<'
        in html
    )
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "saved_view.saved")).one()

    # the same name again replaces it
    client.post(
        "/staff/views", data={"view_name": "New EV requests", "query": "", "csrf_token": token}
    )
    db.expire_all()
    assert db.exec(select(SavedView.query)).all() == [""]


def test_a_nameless_view_is_refused_with_the_filters_kept(client, db):
    _signed_in_staff(client, db)
    response = client.post(
        "/staff/views",
        data={
            "view_name": "   ",
            "query": "overdue=1",
            "csrf_token": csrf_token(client, "/staff/queue"),
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'name="query" value="overdue=1"' in page
    assert 'aria-invalid="true"' in page
    assert db.exec(select(SavedView)).first() is None


def test_each_person_sees_and_deletes_only_their_own_views(app, client, db):
    owner = factories.staff(db)
    db.add(SavedView(user_id=owner.id, name="Kaisa's late ones", query="overdue=1"))
    db.commit()
    view = db.exec(select(SavedView)).one()
    _signed_in_staff(client, db)
    assert "Kaisa&#39;s late ones" not in client.get("/staff/queue").get_data(as_text=True)
    token = csrf_token(client, "/staff/queue")
    assert (
        client.post(f"/staff/views/{view.id}/delete", data={"csrf_token": token}).status_code == 404
    )
    assert db.exec(select(SavedView)).first() is not None

    own = app.test_client()
    sign_in(own, owner.email)
    response = own.post(
        f"/staff/views/{view.id}/delete", data={"csrf_token": csrf_token(own, "/staff/queue")}
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.exec(select(SavedView)).first() is None


def test_twenty_views_at_most(client, db):
    person = _signed_in_staff(client, db)
    for number in range(20):
        db.add(SavedView(user_id=person.id, name=f"View {number}", query=""))
    db.commit()
    response = client.post(
        "/staff/views",
        data={
            "view_name": "One more",
            "query": "",
            "csrf_token": csrf_token(client, "/staff/queue"),
        },
    )
    assert response.status_code == 422
    assert 'value="One more"' in response.get_data(as_text=True)
