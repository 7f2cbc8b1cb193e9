"""Bulk triage: each request checked, audited and e-mailed as if done one by one; the
refused ones reported, none applied silently."""

from __future__ import annotations

from sqlmodel import select

from facilities.core.models import AuditEvent, Outbox
from facilities.requests.triage import BulkChange, bulk_triage
from tests import factories


def test_bulk_assigns_and_moves_what_it_may_and_reports_the_rest(db):
    staff = factories.staff(db)
    caretaker = factories.staff(db, name="Kaisa Pelkonen", preferred_language="en")
    sender = factories.user(db, preferred_language="en")
    fresh = [
        factories.service_request(db, submitter=sender, title=f"Lamp {n} broken") for n in range(3)
    ]
    closed = factories.service_request(db, submitter=sender, title="Already done long ago")
    factories.triage(db, closed, actor=staff, to="done", public_update="Fixed")
    stale = factories.service_request(db, title="Someone saved this meanwhile")
    seen_version = stale.version
    factories.triage(db, stale, actor=staff, internal_note="saved elsewhere")
    db.commit()

    outcomes = bulk_triage(
        db,
        items=[(item, item.version) for item in (*fresh, closed)] + [(stale, seen_version)],
        change=BulkChange(
            status_id=factories.status(db, "planned").id,
            assignee=str(caretaker.id),
            public_update="Planned for the spring.",
        ),
        actor=staff,
    )
    db.commit()
    by_title = {outcome.service_request.title: outcome for outcome in outcomes}
    assert all(by_title[item.title].changed for item in fresh)
    assert not by_title[closed.title].changed and "status_id" in by_title[closed.title].errors
    assert by_title[stale.title].conflict
    db.expire_all()
    assert {item.status.slug for item in fresh} == {"planned"}
    assert {item.assignee_id for item in fresh} == {caretaker.id}
    assert closed.status.slug == "done" and closed.assignee_id is None  # nothing applied
    # one by one: an audit entry, a sender's e-mail and an assignee's e-mail each
    audited = db.exec(select(AuditEvent).where(AuditEvent.action == "request.triaged")).all()
    assert {event.entity_id for event in audited} >= {item.id for item in fresh}
    assert closed.id not in {e.entity_id for e in audited if e.after.get("assignee_id")}
    to_sender = db.exec(select(Outbox).where(Outbox.recipient == sender.email)).all()
    assert sum("Planned for the spring." in mail.body_text for mail in to_sender) == 3
    to_caretaker = db.exec(select(Outbox).where(Outbox.recipient == caretaker.email)).all()
    assert len(to_caretaker) == 3


def test_the_queue_s_bulk_form_changes_the_ticked_requests(app, client, db):
    from tests.conftest import csrf_token, sign_in

    staff = factories.staff(db, preferred_language="en")
    first = factories.service_request(db, title="Bench broken at Sensori")
    second = factories.service_request(db, title="Bench broken at Halli 5")
    closed = factories.service_request(db, title="Bench long since fixed")
    factories.triage(db, closed, actor=staff, to="done", public_update="Fixed")
    db.commit()
    sign_in(client, staff.email)
    queue = client.get("/staff/queue?status=all").get_data(as_text=True)
    assert 'form="bulk-form" name="selected"' in queue
    answer = client.post(
        "/staff/queue/bulk",
        data={
            "csrf_token": csrf_token(client, "/staff/queue"),
            "selected": [f"{item.reference}:{item.version}" for item in (first, second, closed)],
            "bulk_status": str(factories.status(db, "planned").id),
            "bulk_assignee": "keep",
            "next": "/staff/queue?status=all",
        },
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "2 requests were changed." in page and "1 was not: see why below." in page
    assert "cannot move to that status" in page and closed.reference in page
    nothing = client.post(
        "/staff/queue/bulk",
        data={
            "csrf_token": csrf_token(client, "/staff/queue"),
            "selected": [first.reference + ":1"],
        },
    )
    assert nothing.status_code == 302  # nothing to change: back, with a message


def test_a_bulk_conflict_says_what_the_other_save_changed(app, client, db):
    from tests.conftest import csrf_token, sign_in

    me = factories.staff(db, preferred_language="en")
    colleague = factories.staff(db, name="Kaisa Pelkonen")
    item = factories.service_request(db, title="Gate to the yard sticks")
    seen = item.version
    factories.triage(db, item, actor=colleague, to="review", assignee=str(colleague.id))
    db.commit()
    sign_in(client, me.email)
    answer = client.post(
        "/staff/queue/bulk",
        data={
            "csrf_token": csrf_token(client, "/staff/queue"),
            "selected": [f"{item.reference}:{seen}"],
            "bulk_priority": "high",
        },
    )
    page = answer.get_data(as_text=True)
    assert "left as they saved it" in page
    assert "<li>Kaisa Pelkonen, " in page
    assert "status New → Under review" in page and "assignee none → Kaisa Pelkonen" in page
    db.refresh(item)
    assert item.priority.value == "normal"
