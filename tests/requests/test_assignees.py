"""Assignees: defaulted per category, chosen in triage among staff, told by e-mail, and
the queue filtered to mine, nobody's or a person's."""

from __future__ import annotations

import pytest
from sqlmodel import select

from facilities.core.errors import ValidationFailed
from facilities.core.models import Outbox
from tests import factories
from tests.conftest import csrf_token, sign_in


def test_a_category_s_default_assignee_gets_its_new_requests(db):
    caretaker = factories.staff(db)
    category = factories.category(db, default_assignee_id=caretaker.id)
    assert factories.service_request(db, category_=category).assignee_id == caretaker.id
    assert factories.service_request(db).assignee_id is None


def test_triage_assigns_a_member_of_staff_who_is_told_by_e_mail(db):
    desk = factories.staff(db, name="Mikko Rautio")
    caretaker = factories.staff(db, name="Kaisa Pelkonen", preferred_language="en")
    item = factories.service_request(db, title="Door code broken")
    factories.triage(db, item, actor=desk, assignee=str(caretaker.id))
    assert item.assignee_id == caretaker.id
    [mail] = db.exec(select(Outbox).where(Outbox.recipient == caretaker.email)).all()
    assert (
        "Mikko Rautio gave you request" in mail.body_text and "Door code broken" in mail.body_text
    )
    # taking it oneself sends nothing; leaving the field out keeps the assignee
    factories.triage(db, item, actor=desk, assignee=str(desk.id))
    factories.triage(db, item, actor=desk, internal_note="called the locksmith")
    assert item.assignee_id == desk.id
    assert db.exec(select(Outbox).where(Outbox.recipient == desk.email)).first() is None
    factories.triage(db, item, actor=desk, assignee="")
    assert item.assignee_id is None


def _inactive_staff(db):
    user = factories.staff(db)
    user.active = False
    db.flush()
    return user


@pytest.mark.parametrize("who", ["tenant", "inactive", "missing", "text"])
def test_only_active_staff_can_be_assigned(db, who):
    desk = factories.staff(db)
    item = factories.service_request(db)
    value = {
        "tenant": lambda: str(factories.user(db).id),
        "inactive": lambda: str(_inactive_staff(db).id),
        "missing": lambda: "999999",
        "text": lambda: "someone",
    }[who]()
    with pytest.raises(ValidationFailed) as failure:
        factories.triage(db, item, actor=desk, assignee=value)
    assert "assignee" in failure.value.errors


def test_the_queue_filters_by_assignee(app, client, db):
    me = factories.staff(db, preferred_language="en")
    colleague = factories.staff(db, name="Kaisa Pelkonen")
    mine = factories.service_request(db, title="Mine to fix")
    theirs = factories.service_request(db, title="For Kaisa to fix")
    nobodys = factories.service_request(db, title="Nobody on it yet")
    factories.triage(db, mine, actor=me, assignee=str(me.id))
    factories.triage(db, theirs, actor=me, assignee=str(colleague.id))
    db.commit()
    sign_in(client, me.email)

    def titles(query: str) -> set[str]:
        page = client.get(f"/staff/queue?{query}").get_data(as_text=True)
        return {item.title for item in (mine, theirs, nobodys) if item.title in page}

    assert titles("assignee=mine") == {mine.title}
    assert titles("assignee=nobody") == {nobodys.title}
    assert titles(f"assignee={colleague.id}") == {theirs.title}
    assert titles("assignee=") == {mine.title, theirs.title, nobodys.title}
    page = client.get("/staff/queue").get_data(as_text=True)
    assert "Assigned to Kaisa Pelkonen" in page and "Not assigned" in page

    # assigning from the card, as the form sends it
    answer = client.post(
        f"/staff/requests/{nobodys.reference}/triage",
        data={
            "csrf_token": csrf_token(client, "/staff/queue"),
            "version": str(nobodys.version),
            "status_id": str(nobodys.status_id),
            "priority": "normal",
            "visibility": "public",
            "assignee": str(me.id),
        },
    )
    assert answer.status_code == 302
    assert titles("assignee=mine") == {mine.title, nobodys.title}


def test_the_queue_counts_requests_per_status_under_its_filters(app, client, db):
    me = factories.staff(db, preferred_language="en")
    for number in range(3):
        factories.service_request(db, title=f"New thing {number}")
    planned = factories.service_request(db, title="Planned thing")
    factories.triage(db, planned, actor=me, to="planned", assignee=str(me.id))
    db.commit()
    sign_in(client, me.email)
    page = client.get("/staff/queue").get_data(as_text=True)
    assert 'New <span class="status-counts__number">3</span>' in page
    assert 'Planned <span class="status-counts__number">1</span>' in page
    mine = client.get("/staff/queue?assignee=mine").get_data(as_text=True)
    assert 'status-counts__number">3<' not in mine  # the new ones are nobody's
    assert 'href="/staff/queue?assignee=mine&amp;status=planned"' in mine
