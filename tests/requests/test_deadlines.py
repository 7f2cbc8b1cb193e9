"""SLA deadlines kept on requests: set when sent, met by the first answer, paused while
Waiting, and shown and filtered in the staff queue."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from facilities.requests.models import ServiceRequestTriage
from facilities.requests.triage import triage_request
from facilities.settings import Settings
from tests import factories
from tests.conftest import sign_in

HELSINKI = ZoneInfo("Europe/Helsinki")
TARGETS = {"normal": {"response": 4, "resolution": 8}, "urgent": {"response": 1}}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=HELSINKI).astimezone(UTC)


def local(moment: datetime | None) -> str:
    assert moment is not None
    return moment.astimezone(HELSINKI).strftime("%a %d.%m. %H:%M")


def _move(db, item, staff, now, *, to=None, **fields):
    data = ServiceRequestTriage(
        version=item.version,
        status_id=factories.status(db, to).id if to else item.status_id,
        priority=fields.pop("priority", item.priority),
        visibility=item.visibility,
        **fields,
    )
    triage_request(db, service_request=item, actor=staff, data=data, now=now, notify=False)


def test_a_request_gets_its_deadlines_in_business_hours_when_sent(db):
    category = factories.category(db, sla_targets=TARGETS)
    # Tuesday 5.1.2027 at noon; Wednesday is Epiphany
    item = factories.service_request(db, category_=category, now=at("2027-01-05 12:00"))
    assert local(item.response_due_at) == "Tue 05.01. 16:00"
    assert local(item.sla_due_at) == "Thu 07.01. 12:00"
    without = factories.service_request(db)  # a category without targets
    assert (without.response_due_at, without.sla_due_at) == (None, None)


def test_the_first_answer_meets_the_response_deadline_and_priority_changes_the_targets(db):
    category = factories.category(db, sla_targets=TARGETS)
    staff = factories.staff(db)
    item = factories.service_request(db, category_=category, now=at("2027-01-11 09:00"))
    _move(db, item, staff, at("2027-01-11 10:00"), internal_note="looked at it")
    assert item.responded_at is None  # an internal note is not an answer
    _move(db, item, staff, at("2027-01-11 11:00"), public_update="We are on it.")
    assert item.responded_at == at("2027-01-11 11:00")
    _move(db, item, staff, at("2027-01-11 11:30"), priority="urgent")
    assert local(item.response_due_at) == "Mon 11.01. 10:00" and item.sla_due_at is None


def test_waiting_pauses_the_clock_and_done_stops_it(db):
    category = factories.category(db, sla_targets=TARGETS)
    staff = factories.staff(db)
    item = factories.service_request(db, category_=category, now=at("2027-01-11 08:00"))
    assert local(item.sla_due_at) == "Mon 11.01. 16:00"
    _move(db, item, staff, at("2027-01-11 10:00"), to="waiting", public_update="A part ordered")
    assert item.sla_due_at is None  # nothing is due while it waits
    _move(db, item, staff, at("2027-01-12 10:00"), to="in-progress")
    # 2 h before the wait, 6 h after it: Tuesday 10:00 + 6 h
    assert local(item.sla_due_at) == "Tue 12.01. 16:00"
    _move(db, item, staff, at("2027-01-12 15:00"), to="done", public_update="Fixed")
    assert item.resolved_at == at("2027-01-12 15:00")


def test_the_queue_shows_and_filters_what_is_past_its_deadline(app, client, db):
    category = factories.category(db, sla_targets=TARGETS)
    staff = factories.staff(db, preferred_language="en")
    late = factories.service_request(
        db, category_=category, title="Radiator cold since Monday", now=at("2026-01-05 09:00")
    )
    on_time = factories.service_request(db, category_=category, title="Door squeaks")
    no_clock = factories.service_request(db, title="Idea without a clock")
    db.commit()
    sign_in(client, staff.email)
    page = client.get("/staff/queue?sort=due").get_data(as_text=True)
    assert "Overdue" in page and "First answer due" in page
    assert page.index(late.title) < page.index(on_time.title) < page.index(no_clock.title)
    overdue = client.get("/staff/queue?overdue=1").get_data(as_text=True)
    assert late.title in overdue and on_time.title not in overdue
    assert no_clock.title not in overdue


@pytest.mark.parametrize(
    ("hours", "days"), [("16:00-08:00", "mon-fri"), ("8-16", "mon-fri"), ("08:00-16:00", "fri-mon")]
)
def test_business_hours_are_checked_when_the_app_starts(hours, days):
    with pytest.raises(ValidationError):
        Settings(env="testing", business_hours=hours, business_days=days)
