"""A scheduled update can be changed or cancelled until the scheduler publishes it; after
that, both are refused with a message and the published text stays as people read it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from facilities.accounts.models import Role
from facilities.core.errors import ValidationFailed
from facilities.core.models import AuditEvent, utcnow
from facilities.requests.models import RequestUpdate
from facilities.requests.scheduled import (
    AlreadyPublished,
    cancel_scheduled,
    edit_scheduled,
    pending_update,
)
from facilities.requests.timeline import publish_due_updates
from tests import factories
from tests.conftest import csrf_token


def _scheduled(db, *, minutes: int = 60) -> tuple[RequestUpdate, object]:
    staff = factories.staff(db, password=None)
    item = factories.scheduled_update(
        db, actor=staff, body="Contractor chosen.", after=timedelta(minutes=minutes)
    )
    db.commit()
    entry = db.exec(select(RequestUpdate).where(RequestUpdate.request_id == item.id)).one()
    return entry, staff


def _events(db, action: str) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


# --- operations ------------------------------------------------------------------------


def test_editing_changes_text_and_time_and_is_audited(app, db):
    entry, staff = _scheduled(db)
    old_time = entry.publish_at
    new_time = utcnow() + timedelta(days=2)

    edit_scheduled(
        db, actor=staff, entry=entry, body="Work starts Monday.", publish_at=new_time, now=utcnow()
    )
    db.commit()

    db.expire_all()
    stored = db.get(RequestUpdate, entry.id)
    assert stored.body == "Work starts Monday." and stored.publish_at == new_time
    assert stored.published_at is None
    [event] = _events(db, "update.schedule_changed")
    assert event.actor_id == staff.id and event.entity_id == entry.id
    assert event.before == {"body": "Contractor chosen.", "publish_at": old_time.isoformat()}
    assert event.after == {"body": "Work starts Monday.", "publish_at": new_time.isoformat()}


def test_a_time_not_in_the_future_is_refused(app, db):
    entry, staff = _scheduled(db)
    now = utcnow()
    for when in (now, now - timedelta(minutes=1)):
        with pytest.raises(ValidationFailed) as failure:
            edit_scheduled(db, actor=staff, entry=entry, body="x", publish_at=when, now=now)
        assert set(failure.value.errors) == {"publish_at"}
    assert _events(db, "update.schedule_changed") == []


def test_cancelling_removes_it_and_the_audit_keeps_the_text(app, db):
    entry, staff = _scheduled(db)
    entry_id, request_id = entry.id, entry.request_id

    cancel_scheduled(db, actor=staff, entry=entry)
    db.commit()

    assert db.get(RequestUpdate, entry_id) is None
    [event] = _events(db, "update.schedule_cancelled")
    assert event.entity_id == entry_id and event.actor_id == staff.id
    assert event.before["body"] == "Contractor chosen." and event.before["request_id"] == request_id


def test_both_are_refused_once_the_job_published_it(app, db):
    entry, staff = _scheduled(db, minutes=5)
    # loaded as pending by the form; then the scheduler publishes it
    assert publish_due_updates(db, now=utcnow() + timedelta(minutes=6)) == 1
    db.commit()

    with pytest.raises(AlreadyPublished):
        edit_scheduled(
            db,
            actor=staff,
            entry=entry,
            body="Too late",
            publish_at=utcnow() + timedelta(days=1),
            now=utcnow(),
        )
    with pytest.raises(AlreadyPublished):
        cancel_scheduled(db, actor=staff, entry=entry)
    db.rollback()
    db.expire_all()
    stored = db.get(RequestUpdate, entry.id)
    assert stored.body == "Contractor chosen." and stored.published_at is not None
    assert pending_update(db, stored.request, stored.id) is None
    assert _events(db, "update.schedule_changed") == _events(db, "update.schedule_cancelled") == []


def test_only_the_requests_own_waiting_updates_are_found(app, db):
    entry, _staff = _scheduled(db)
    other = factories.service_request(db)
    assert pending_update(db, entry.request, entry.id) == entry
    assert pending_update(db, other, entry.id) is None


# --- views -----------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, signed_in):
    signed_in(Role.staff, preferred_language="en")
    return client


def _paths(entry: RequestUpdate) -> tuple[str, str, str]:
    page = f"/staff/requests/{entry.request.reference}"
    return page, f"{page}/scheduled/{entry.id}", f"{page}/scheduled/{entry.id}/cancel"


def test_the_request_page_offers_edit_and_cancel_for_waiting_updates(staff_client, db):
    entry, _staff = _scheduled(db)
    page, edit, cancel = _paths(entry)
    html = staff_client.get(page).get_data(as_text=True)
    assert f'href="{edit}"' in html and f'action="{cancel}"' in html


def test_editing_through_the_form_takes_helsinki_time(staff_client, db):
    entry, _staff = _scheduled(db)
    page, edit, _cancel = _paths(entry)
    form_page = staff_client.get(edit).get_data(as_text=True)
    assert "Contractor chosen.</textarea>" in form_page

    response = staff_client.post(
        edit,
        data={
            "csrf_token": csrf_token(staff_client, edit),
            "body": " Work starts in June. ",
            "publish_at": "2031-06-01T09:30",
        },
    )
    assert response.status_code == 302 and response.location == page
    assert "will be published" in staff_client.get(page).get_data(as_text=True)
    db.expire_all()
    stored = db.get(RequestUpdate, entry.id)
    assert stored.body == "Work starts in June."
    assert stored.publish_at == datetime(2031, 6, 1, 6, 30, tzinfo=UTC)  # summer time: +3


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"publish_at": "2020-01-01T10:00"}, "publish_at"),
        ({"publish_at": ""}, "publish_at"),
        ({"publish_at": "2031-03-30T03:30"}, "publish_at"),  # the clocks skip it
        ({"body": "   "}, "body"),
    ],
)
def test_a_bad_edit_keeps_the_input_and_names_the_field(staff_client, db, fields, field):
    entry, _staff = _scheduled(db)
    _page, edit, _cancel = _paths(entry)
    form = {"body": "New words", "publish_at": "2031-06-01T09:30", **fields}
    response = staff_client.post(edit, data={**form, "csrf_token": csrf_token(staff_client, edit)})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'href="#{field}"' in html and re.search(rf'id="{field}"[^>]*aria-invalid="true"', html)
    if field != "body":
        assert "New words</textarea>" in html
    db.expire_all()
    assert db.get(RequestUpdate, entry.id).body == "Contractor chosen."


def test_cancelling_through_the_page(staff_client, db):
    entry, _staff = _scheduled(db)
    page, _edit, cancel = _paths(entry)
    entry_id = entry.id
    response = staff_client.post(cancel, data={"csrf_token": csrf_token(staff_client, page)})
    assert response.status_code == 302 and response.location == page
    html = staff_client.get(page).get_data(as_text=True)
    assert "cancelled" in html and "Contractor chosen." not in html
    db.expire_all()
    assert db.get(RequestUpdate, entry_id) is None


def test_after_publication_edit_and_cancel_are_a_message_not_an_error(staff_client, db):
    entry, _staff = _scheduled(db, minutes=5)
    page, edit, cancel = _paths(entry)
    token = csrf_token(staff_client, page)
    publish_due_updates(db, now=utcnow() + timedelta(minutes=6))
    db.commit()

    for response in (
        staff_client.get(edit),
        staff_client.post(
            edit, data={"csrf_token": token, "body": "x", "publish_at": "2031-06-01T09:30"}
        ),
        staff_client.post(cancel, data={"csrf_token": token}),
    ):
        assert response.status_code == 302 and response.location == page
    html = staff_client.get(page).get_data(as_text=True)
    assert "no longer waiting" in html and f'href="{edit}"' not in html
    db.expire_all()
    assert db.get(RequestUpdate, entry.id).body == "Contractor chosen."


def test_hostile_values_in_an_otherwise_valid_edit_get_no_server_error(staff_client, db):
    """One field at a time, the rest valid, so the values reach the operation and the database."""
    from tests.web.test_hostile_input import HOSTILE_VALUES

    entry, _staff = _scheduled(db)
    _page, edit, _cancel = _paths(entry)
    token = csrf_token(staff_client, edit)
    valid = {"body": "New words", "publish_at": "2031-06-01T09:30"}
    for field in valid:
        for value in HOSTILE_VALUES:
            response = staff_client.post(edit, data={**valid, field: value, "csrf_token": token})
            assert response.status_code < 500, (field, value[:40])
