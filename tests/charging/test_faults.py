"""A charger out of order opens one fault request by itself, and recovery closes it."""

from __future__ import annotations

from sqlmodel import select

from facilities.charging.faults import FAULT_CATEGORY, sync_faults
from facilities.charging.models import ChargerFault
from facilities.core.models import AuditEvent, Outbox
from facilities.park.models import Category
from facilities.requests.models import RequestUpdate, ServiceRequest, Status, UpdateKind
from facilities.requests.workflow import StatusKind
from tests import factories
from tests.charging.helpers import mapped_charger, minutes, push_status


def _faults(db, charger):
    db.expire_all()
    return db.exec(select(ChargerFault).where(ChargerFault.charger_id == charger.id)).all()


def _kind(db, request_id) -> StatusKind:
    item = db.get(ServiceRequest, request_id)
    return db.get(Status, item.status_id).kind


def test_out_of_order_longer_than_the_setting_opens_one_fault_and_recovery_closes_it(app, db):
    charger = mapped_charger(db)
    push_status(db, "OUTOFORDER", minutes(1))

    assert sync_faults(db, minutes(10)) == 0  # not yet: the setting is 15 minutes
    db.commit()
    assert _faults(db, charger) == []

    assert sync_faults(db, minutes(17)) == 1
    db.commit()
    for at in (18, 19, 20):  # the operator keeps pushing the same status
        push_status(db, "OUTOFORDER", minutes(at))
        sync_faults(db, minutes(at))
        db.commit()
    [fault] = _faults(db, charger)
    assert fault.open and fault.automatic
    item = db.get(ServiceRequest, fault.request_id)
    assert db.get(Category, item.category_id).slug == FAULT_CATEGORY
    assert item.building_id == charger.building_id and charger.code in item.title
    assert item.submitter_id is None and _kind(db, item.id) == StatusKind.new

    push_status(db, "AVAILABLE", minutes(40))
    assert sync_faults(db, minutes(41)) == 1
    db.commit()
    [fault] = _faults(db, charger)
    assert fault.open is None and fault.closed_at is not None
    assert _kind(db, item.id) == StatusKind.done
    posts = db.exec(
        select(RequestUpdate).where(
            RequestUpdate.request_id == item.id, RequestUpdate.kind == UpdateKind.status_change
        )
    ).all()
    assert len(posts) == 1 and charger.code in posts[0].body and posts[0].published_at
    actions = db.exec(select(AuditEvent.action).where(AuditEvent.entity_id == charger.id)).all()
    assert {"charger.fault_opened", "charger.fault_closed"} <= set(actions)

    # the next outage is a new fault
    push_status(db, "INOPERATIVE", minutes(50))
    assert sync_faults(db, minutes(70)) == 1
    db.commit()
    assert len(_faults(db, charger)) == 2


def test_a_short_blip_opens_nothing(app, db):
    charger = mapped_charger(db)
    push_status(db, "OUTOFORDER", minutes(1))
    push_status(db, "AVAILABLE", minutes(5))
    assert sync_faults(db, minutes(30)) == 0
    db.commit()
    assert _faults(db, charger) == []


def test_a_stale_status_neither_opens_nor_closes(app, db):
    charger = mapped_charger(db)
    push_status(db, "OUTOFORDER", minutes(1))
    # nothing heard for longer than the staleness setting (30 min): we do not know
    assert sync_faults(db, minutes(120)) == 0
    db.commit()
    assert _faults(db, charger) == []


def test_an_older_push_does_not_undo_a_newer_status(app, db):
    charger = mapped_charger(db)
    push_status(db, "OUTOFORDER", minutes(10))
    assert push_status(db, "AVAILABLE", minutes(5)) is False  # late delivery of an old status
    sync_faults(db, minutes(30))
    db.commit()
    assert len(_faults(db, charger)) == 1


def test_staff_closing_the_request_lets_go_of_the_fault(app, db):
    charger = mapped_charger(db)
    push_status(db, "OUTOFORDER", minutes(1))
    sync_faults(db, minutes(20))
    db.commit()
    [fault] = _faults(db, charger)
    staff = factories.staff(db)
    factories.triage(db, db.get(ServiceRequest, fault.request_id), actor=staff, to="done")
    db.commit()
    push_status(db, "OUTOFORDER", minutes(25))  # still broken
    assert sync_faults(db, minutes(26)) == 1  # the closed one is let go
    db.commit()
    assert sync_faults(db, minutes(60)) == 0  # and staff's judgement holds for this outage
    db.commit()
    push_status(db, "AVAILABLE", minutes(61))
    push_status(db, "OUTOFORDER", minutes(62))  # a new outage
    assert sync_faults(db, minutes(80)) == 1
    db.commit()
    faults = _faults(db, charger)
    assert [f.open for f in faults] == [None, True]


def test_recovery_mails_confirmed_reporters_only(app, db):
    from facilities.charging.models import FaultProblem, FaultReport

    charger = mapped_charger(db)
    push_status(db, "OUTOFORDER", minutes(1))
    sync_faults(db, minutes(20))
    db.commit()
    [fault] = _faults(db, charger)
    for email, confirmed in (("a@example.fi", True), ("b@example.fi", False)):
        db.add(
            FaultReport(
                charger_id=charger.id,
                request_id=fault.request_id,
                problem=FaultProblem.will_not_start,
                email=email,
                language="en",
                confirmed_at=minutes(2) if confirmed else None,
            )
        )
    db.commit()
    push_status(db, "AVAILABLE", minutes(30))
    sync_faults(db, minutes(31))
    db.commit()
    mails = db.exec(
        select(Outbox).where(Outbox.idempotency_key.like(f"fault:{fault.request_id}:fixed:%"))
    ).all()
    assert [mail.recipient for mail in mails] == ["a@example.fi"]
    assert "works again" in mails[0].subject
