from datetime import UTC, datetime

import pytest
from sqlmodel import select

from facilities.models import AuditEvent, ServiceRequestCreate, Visibility
from facilities.services import ValidationFailed
from facilities.services.intake import submit_request
from facilities.workflow import StatusKind
from tests import factories


def test_submitted_request_gets_reference_status_tenant_and_visibility(db):
    member = factories.user(db)
    private_category = factories.category(db, default_visibility=Visibility.private)
    now = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)

    first = factories.service_request(db, submitter=member, category_=private_category, now=now)
    second = factories.service_request(db, submitter=member, category_=private_category, now=now)

    assert (first.reference, second.reference) == ("DP-2026-0001", "DP-2026-0002")
    assert first.status.kind == StatusKind.new
    assert first.tenant_id == member.tenant_id
    assert first.visibility == Visibility.private
    audit = db.exec(
        select(AuditEvent).where(
            AuditEvent.entity == "service_request", AuditEvent.entity_id == first.id
        )
    ).one()
    assert audit.action == "request.submitted" and audit.actor_id == member.id


def test_reference_numbers_restart_each_year(db):
    member = factories.user(db)
    factories.service_request(db, submitter=member, now=datetime(2026, 12, 31, 12, tzinfo=UTC))
    next_year = factories.service_request(
        db, submitter=member, now=datetime(2027, 1, 1, 12, tzinfo=UTC)
    )
    assert next_year.reference == "DP-2027-0001"


def test_unknown_or_inactive_category_is_refused(db):
    member = factories.user(db)
    inactive = factories.category(db, active=False)
    with pytest.raises(ValidationFailed) as failure:
        submit_request(
            db,
            submitter=member,
            data=ServiceRequestCreate(title="Bike racks please", category_id=inactive.id),
        )
    assert set(failure.value.errors) == {"category_id"}


def test_unknown_building_is_refused(db):
    member = factories.user(db)
    category = factories.category(db)
    with pytest.raises(ValidationFailed) as failure:
        submit_request(
            db,
            submitter=member,
            data=ServiceRequestCreate(
                title="Bike racks please", category_id=category.id, building_id=999
            ),
        )
    assert set(failure.value.errors) == {"building_id"}


def test_create_model_strips_and_limits_text():
    data = ServiceRequestCreate(title="  Bike racks  ", category_id=1, building_id="")
    assert data.title == "Bike racks" and data.building_id is None
    with pytest.raises(ValueError):
        ServiceRequestCreate(title="abc", category_id=1)
