"""SLA deadlines kept on requests: set when sent, met by the first answer, paused while
Waiting, and shown and filtered in the staff queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pydantic import ValidationError

from facilities.core.models import utcnow
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
    _move(db, item, staff, at("2027-01-11 09:30"), priority="urgent")
    assert local(item.response_due_at) == "Mon 11.01. 10:00" and item.sla_due_at is None
    _move(db, item, staff, at("2027-01-11 11:00"), public_update="We are on it.")
    assert item.responded_at == at("2027-01-11 11:00")  # an hour late
    _move(db, item, staff, at("2027-01-11 11:30"), priority="normal")
    assert local(item.response_due_at) == "Mon 11.01. 10:00"  # met or missed: kept


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
        db,
        category_=category,
        title="Radiator cold since Monday",
        now=utcnow() - timedelta(days=30),
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


def test_the_monthly_report_counts_deadlines_kept_per_category(app, client, db):
    faults = factories.category(db, names={"fi": "Viat", "en": "Faults"}, sla_targets=TARGETS)
    staff = factories.staff(db, preferred_language="en")
    # October 2026: one answered and fixed in time, one answered late and never fixed
    quick = factories.service_request(db, category_=faults, now=at("2026-10-12 08:00"))
    _move(db, quick, staff, at("2026-10-12 09:00"), to="in-progress", public_update="On it")
    _move(db, quick, staff, at("2026-10-12 10:00"), to="done", public_update="Fixed")
    slow = factories.service_request(db, category_=faults, now=at("2026-10-13 08:00"))
    _move(db, slow, staff, at("2026-10-14 08:00"), to="in-progress", public_update="Sorry")
    factories.service_request(db, category_=faults, now=at("2026-11-02 09:00"))  # February
    db.commit()

    from facilities.requests.reports import sla_report

    [row] = sla_report(db, month=datetime(2026, 10, 1).date(), now=at("2026-11-20 12:00"))
    assert row.received == 2
    assert (row.response.met, row.response.missed, row.response.median_hours) == (1, 1, 4.5)
    assert (row.resolution.met, row.resolution.missed, row.resolution.median_hours) == (1, 1, 2.0)

    with time_machine.travel(at("2026-11-20 12:00"), tick=False):  # the page's today, too
        sign_in(client, staff.email)
        _the_report_pages_show_october(client)


def _the_report_pages_show_october(client):
    page = client.get("/staff/reports/sla?month=2026-10").get_data(as_text=True)
    assert "Faults" in page and "Deadlines kept: October 2026" in page
    assert "Faults;2;1;1;0;4.5;1;1;0;2" in client.get(
        "/staff/reports/sla.csv?month=2026-10"
    ).data.decode("utf-8-sig").replace(",", ";")
    odd = client.get("/staff/reports/sla?month=2026-13")  # no such month: this one
    assert odd.status_code == 200


def test_a_deadline_once_met_stays_as_it_was_through_a_later_wait(db):
    category = factories.category(db, sla_targets=TARGETS)
    staff = factories.staff(db)
    item = factories.service_request(db, category_=category, now=at("2026-10-12 08:00"))
    _move(db, item, staff, at("2026-10-12 09:00"), public_update="Looking into it")
    _move(db, item, staff, at("2026-10-12 10:00"), to="waiting", public_update="Part ordered")
    assert local(item.response_due_at) == "Mon 12.10. 12:00"  # kept, though the clock stopped
    assert item.sla_due_at is None
