"""Merging duplicates: supports, followers and files move to the original, each person
counted once, and nothing crosses a privacy line."""

from __future__ import annotations

import pytest
from sqlmodel import select

from facilities import policy
from facilities.core.errors import ValidationFailed
from facilities.core.models import AuditEvent, utcnow
from facilities.park.models import Visibility
from facilities.requests.models import (
    Attachment,
    RequestFollower,
    RequestUpdate,
    ServiceRequest,
    Support,
    UpdateKind,
)
from facilities.requests.supports import support_request
from tests import factories


def _support(db, item, *people):
    for person in people:
        support_request(db, user=person, service_request=item, now=utcnow())


def _followers(db, item) -> set[int]:
    return set(
        db.exec(select(RequestFollower.user_id).where(RequestFollower.request_id == item.id))
    )


def test_merge_moves_supports_followers_and_files_counting_each_person_once(db):
    staff = factories.staff(db)
    original = factories.service_request(db, title="EV charging points outside Sensori")
    duplicate_sender = factories.user(db)
    duplicate = factories.service_request(
        db, submitter=duplicate_sender, title="Charging posts for electric cars, please"
    )
    factories.attachment(db, duplicate)
    company = factories.tenant(db)
    both = factories.user(db, tenant_id=company.id)  # supports both: counted once after
    colleague = factories.user(db, tenant_id=company.id)
    other = factories.user(db)
    _support(db, original, both)
    _support(db, duplicate, both, colleague, other)
    db.commit()
    assert (original.support_people, original.support_companies) == (1, 1)
    assert (duplicate.support_people, duplicate.support_companies) == (3, 2)

    factories.triage(
        db, duplicate, actor=staff, to="duplicate", duplicate_of_reference=original.reference
    )
    db.commit()
    db.refresh(original)
    db.refresh(duplicate)

    assert duplicate.duplicate_of_id == original.id
    # both, colleague, other: three people from two companies, "both" counted once
    assert (original.support_people, original.support_companies) == (3, 2)
    assert (duplicate.support_people, duplicate.support_companies) == (0, 0)
    supporters = db.exec(select(Support.user_id).where(Support.request_id == original.id)).all()
    assert sorted(supporters) == sorted([both.id, colleague.id, other.id])
    # the duplicate's sender and its supporters follow the original now
    assert {duplicate_sender.id, both.id, colleague.id, other.id} <= _followers(db, original)
    assert _followers(db, duplicate) == set()
    files = db.exec(select(Attachment.request_id)).all()
    assert files == [original.id]
    note = db.exec(
        select(RequestUpdate).where(
            RequestUpdate.request_id == original.id, RequestUpdate.kind == UpdateKind.system
        )
    ).one()
    assert duplicate.reference in note.body
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "request.merged")).one()
    assert event.after == {
        "into": original.reference,
        "supports_moved": 2,
        "supports_already_there": 1,
        "followers_moved": 3,
        "files_moved": 1,
    }
    # nobody supports the duplicate any more: its page offers the original instead
    assert not policy.for_request(other, duplicate).support


def test_nothing_moves_to_a_private_original_that_its_people_cannot_read(db):
    staff = factories.staff(db)
    owner = factories.tenant(db)
    original = factories.service_request(
        db,
        submitter=factories.user(db, tenant_id=owner.id),
        title="Our own meeting room booking problem",
    )
    factories.triage(db, original, actor=staff, visibility=Visibility.private)
    outsider = factories.user(db)
    duplicate = factories.service_request(db, title="Meeting room bookings fail")
    factories.attachment(db, duplicate)
    _support(db, duplicate, outsider)
    db.commit()

    factories.triage(
        db, duplicate, actor=staff, to="duplicate", duplicate_of_reference=original.reference
    )
    db.commit()
    db.refresh(duplicate)
    db.refresh(original)

    assert (original.support_people, duplicate.support_people) == (0, 1)
    assert outsider.id not in _followers(db, original)
    # the photo was public already: it may go with the story
    assert db.exec(select(Attachment.request_id)).all() == [original.id]
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "request.merged")).one()
    assert event.after["supports_kept"] == 1 and "files_kept" not in event.after


def test_a_private_duplicates_photos_stay_when_the_original_is_public(db):
    staff = factories.staff(db)
    original = factories.service_request(db, title="Lights out in the Sensori yard")
    duplicate = factories.service_request(db, title="Yard lamps are dark")
    factories.triage(db, duplicate, actor=staff, visibility=Visibility.private)
    factories.attachment(db, duplicate)
    db.commit()
    factories.triage(
        db, duplicate, actor=staff, to="duplicate", duplicate_of_reference=original.reference
    )
    db.commit()
    assert db.exec(select(Attachment.request_id)).all() == [duplicate.id]


def test_saving_the_duplicate_again_merges_nothing_twice(db):
    staff = factories.staff(db)
    original = factories.service_request(db, title="Bike shelter for Sensori")
    duplicate = factories.service_request(db, title="Covered bike racks")
    _support(db, duplicate, factories.user(db))
    factories.triage(
        db, duplicate, actor=staff, to="duplicate", duplicate_of_reference=original.reference
    )
    db.commit()
    factories.triage(
        db,
        duplicate,
        actor=staff,
        duplicate_of_reference=original.reference,
        internal_note="Checked again",
    )
    db.commit()
    merges = db.exec(select(AuditEvent).where(AuditEvent.action == "request.merged")).all()
    assert len(merges) == 1
    db.refresh(original)
    assert original.support_people == 1


def test_a_duplicate_cannot_point_to_another_duplicate(db):
    staff = factories.staff(db)
    original = factories.service_request(db, title="Waste sorting point")
    first = factories.service_request(db, title="Recycling bins please")
    second = factories.service_request(db, title="More recycling bins")
    factories.triage(
        db, first, actor=staff, to="duplicate", duplicate_of_reference=original.reference
    )
    db.commit()
    with pytest.raises(ValidationFailed) as failure:
        factories.triage(
            db, second, actor=staff, to="duplicate", duplicate_of_reference=first.reference
        )
    assert original.reference in str(failure.value.errors["duplicate_of_reference"])


def test_reopening_a_duplicate_drops_its_pointer(db):
    staff = factories.staff(db)
    original = factories.service_request(db, title="Sauna for the tenants")
    duplicate = factories.service_request(db, title="A shared sauna")
    factories.triage(
        db, duplicate, actor=staff, to="duplicate", duplicate_of_reference=original.reference
    )
    db.commit()
    factories.triage(db, duplicate, actor=staff, to="review")
    db.commit()
    assert db.get(ServiceRequest, duplicate.id).duplicate_of_id is None
