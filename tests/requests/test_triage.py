from datetime import timedelta

import pytest
from sqlmodel import select

from facilities import policy
from facilities.core.errors import ValidationFailed, VersionConflict
from facilities.core.models import AuditEvent, utcnow
from facilities.park.models import Visibility
from facilities.requests.models import Priority, RequestUpdate, UpdateKind
from facilities.requests.queries import QueueFilter, queue
from tests import factories


def test_planning_with_a_public_update_is_public_and_audited(db):
    staff = factories.staff(db)
    item = factories.service_request(db)

    changed = factories.triage(
        db,
        item,
        actor=staff,
        to="planned",
        public_update="Approved for next spring.",
        target_quarter="2027-Q2",
        priority=Priority.high,
    )

    assert changed and item.version == 2
    assert item.status.slug == "planned"
    assert (item.target_start.isoformat(), item.target_end.isoformat()) == (
        "2027-04-01",
        "2027-06-30",
    )
    public_timeline = factories.timeline_for(db, item, None)
    assert [(u.kind, u.body) for u in public_timeline] == [
        (UpdateKind.status_change, "Approved for next spring.")
    ]
    audit = db.exec(select(AuditEvent).where(AuditEvent.action == "request.triaged")).one()
    assert audit.before["priority"] == "normal" and audit.after["priority"] == "high"


def test_internal_notes_are_only_for_staff(db):
    staff = factories.staff(db)
    member = factories.user(db)
    item = factories.service_request(db, submitter=member)
    factories.triage(db, item, actor=staff, internal_note="Check the fuse box first.")

    assert factories.timeline_for(db, item, member) == []
    assert [u.kind for u in factories.timeline_for(db, item, staff)] == [UpdateKind.internal_note]


def test_stale_version_is_a_conflict(db):
    staff = factories.staff(db)
    item = factories.service_request(db)
    factories.triage(db, item, actor=staff, to="review")
    with pytest.raises(VersionConflict):
        factories.triage(db, item, actor=staff, to="planned", version=1)


def test_declining_without_a_reason_names_the_field(db):
    staff = factories.staff(db)
    item = factories.service_request(db)
    with pytest.raises(ValidationFailed) as failure:
        factories.triage(db, item, actor=staff, to="not-planned")
    assert set(failure.value.errors) == {"public_update"}


def test_duplicate_points_at_its_target(db):
    staff = factories.staff(db)
    original = factories.service_request(db)
    copy = factories.service_request(db, title="Chargers for employee cars")

    with pytest.raises(ValidationFailed) as failure:
        factories.triage(
            db, copy, actor=staff, to="duplicate", duplicate_of_reference="DP-1999-0001"
        )
    assert set(failure.value.errors) == {"duplicate_of_reference"}

    factories.triage(
        db, copy, actor=staff, to="duplicate", duplicate_of_reference=original.reference
    )
    assert copy.duplicate_of_id == original.id and copy.status.slug == "duplicate"


def test_scheduled_update_waits_for_its_time(db):
    item = factories.scheduled_update(db, after=timedelta(hours=2))
    scheduled = db.exec(select(RequestUpdate).where(RequestUpdate.request_id == item.id)).one()
    assert scheduled.published_at is None and scheduled.publish_at is not None
    assert factories.timeline_for(db, item, None) == []


def test_publish_time_without_text_is_refused(db):
    staff = factories.staff(db)
    item = factories.service_request(db)
    with pytest.raises(ValidationFailed) as failure:
        factories.triage(db, item, actor=staff, publish_at=utcnow() + timedelta(hours=1))
    assert set(failure.value.errors) == {"public_update"}


def test_saving_the_same_values_changes_nothing(db):
    staff = factories.staff(db)
    item = factories.service_request(db)
    assert factories.triage(db, item, actor=staff) is False
    assert item.version == 1


def test_queue_shows_open_requests_most_urgent_first(db):
    staff = factories.staff(db)
    calm = factories.service_request(db, title="Calm request here")
    urgent = factories.service_request(db, title="Urgent request here")
    finished = factories.service_request(db, title="Finished request here")
    factories.triage(db, urgent, actor=staff, priority=Priority.urgent)
    factories.triage(db, finished, actor=staff, to="done")

    open_page = queue(db, filters=QueueFilter(), page=1, per_page=10)
    assert [item.id for item in open_page.items] == [urgent.id, calm.id]
    everything = queue(db, filters=QueueFilter(status="all"), page=1, per_page=10)
    assert everything.total == 3
    found = queue(db, filters=QueueFilter(status="all", search="finished"), page=1, per_page=10)
    assert [item.id for item in found.items] == [finished.id]


def test_private_requests_are_for_staff_and_the_same_company(db):
    member = factories.user(db)
    colleague = factories.user(db, tenant_id=member.tenant_id)
    outsider = factories.user(db)
    staff = factories.staff(db)
    item = factories.service_request(db, submitter=member)
    item.visibility = Visibility.private

    assert policy.may_view(colleague, item)
    assert policy.may_view(staff, item)
    assert not policy.may_view(outsider, item)
    assert not policy.may_view(None, item)


def test_queue_search_takes_percent_and_underscore_literally(db):
    factories.service_request(db, title="Discount 50% on parking")
    factories.service_request(db, title="Discount 50 euros on coffee")
    found = queue(db, filters=QueueFilter(status="all", search="50%"), page=1, per_page=10)
    assert [item.title for item in found.items] == ["Discount 50% on parking"]
    assert queue(db, filters=QueueFilter(status="all", search="_"), page=1, per_page=10).total == 0


def test_a_duplicate_reference_needs_the_duplicate_status(db):
    staff = factories.staff(db)
    original = factories.service_request(db)
    copy = factories.service_request(db, title="Chargers for employee cars")
    with pytest.raises(ValidationFailed) as failure:
        factories.triage(db, copy, actor=staff, duplicate_of_reference=original.reference)
    assert set(failure.value.errors) == {"duplicate_of_reference"}


def test_a_publish_time_in_the_past_is_refused(db):
    staff = factories.staff(db)
    item = factories.service_request(db)
    with pytest.raises(ValidationFailed) as failure:
        factories.triage(
            db,
            item,
            actor=staff,
            public_update="Too late.",
            publish_at=utcnow() - timedelta(days=1),
        )
    assert set(failure.value.errors) == {"publish_at"}


def test_two_concurrent_saves_of_the_same_version_let_exactly_one_win(app, db):
    """Two staff sessions save the same form at once: one wins, the other gets a conflict."""
    import threading

    from sqlmodel import Session

    from facilities.core.db import get_engine
    from facilities.requests.models import ServiceRequest

    staff_a, staff_b = factories.staff(db), factories.staff(db)
    item = factories.service_request(db)
    db.commit()
    engine = get_engine(app)

    def save(session, actor_id, to):
        loaded = session.get(ServiceRequest, item.id)
        actor = session.get(type(staff_a), actor_id)
        return factories.triage(session, loaded, actor=actor, to=to, version=1)

    first = Session(engine, expire_on_commit=False)
    second = Session(engine, expire_on_commit=False)
    # Both load version 1 before either saves, as two open browser tabs do.
    first.get(ServiceRequest, item.id), second.get(ServiceRequest, item.id)
    second.commit()  # end the read so the second save starts its own transaction
    assert save(first, staff_a.id, "planned") is True  # holds the row until commit

    outcome: list[object] = []

    def second_save() -> None:
        with app.app_context():
            try:
                outcome.append(save(second, staff_b.id, "review"))
            except Exception as error:  # the assertion below says which
                second.rollback()
                outcome.append(error)

    thread = threading.Thread(target=second_save)
    thread.start()
    first.commit()  # the second save, waiting on the lock or not, now sees version 2
    thread.join(timeout=30)
    first.close(), second.close()

    assert len(outcome) == 1 and isinstance(outcome[0], VersionConflict), outcome
    db.expire_all()
    saved = db.get(ServiceRequest, item.id)
    assert (saved.version, saved.status.slug) == (2, "planned")
    changes = db.exec(
        select(RequestUpdate).where(
            RequestUpdate.request_id == item.id, RequestUpdate.kind == UpdateKind.status_change
        )
    ).all()
    assert len(changes) == 1
