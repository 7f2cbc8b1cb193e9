"""Atom feeds of public updates and the iCal calendar of scheduled works: they parse back,
carry only public requests' published public entries, filter as named, answer 304 when
unchanged; staff add, change and remove works, validated and audited."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import feedparser
import pytest
from icalendar import Calendar
from sqlmodel import select

from facilities.accounts.models import Role
from facilities.core.errors import ValidationFailed
from facilities.core.models import AuditEvent
from facilities.park.models import Visibility
from facilities.requests.models import ScheduledWork
from facilities.requests.works import (
    ScheduledWorkForm,
    add_work,
    delete_work,
    public_works,
    update_work,
)
from tests import factories
from tests.conftest import count_queries, csrf_token

ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "http://127.0.0.1:5000"  # FACILITIES_BASE_URL's default: links are absolute


@pytest.fixture
def park(db):
    """Two buildings and categories; public requests with updates in each, a private one
    with an update, an internal note, and a scheduled update not yet published."""
    staff = factories.staff(db, password=None)
    sensori = factories.building(db, code="SENSORI", name="Sensori", address="Tietokatu 1")
    halli = factories.building(db, code="HALLI5", name="Halli 5")
    charging = factories.category(db, slug="ev-charging")
    lights = factories.category(db, slug="lights")
    ev = factories.service_request(
        db, title="Chargers outside Sensori", category_=charging, building_id=sensori.id
    )
    factories.triage(db, ev, actor=staff, to="planned", public_update="Approved, **soon**.")
    factories.triage(db, ev, actor=staff, internal_note="Budget is 40 k€, do not tell.")
    lamp = factories.service_request(
        db, title="Lamp out behind Halli 5", category_=lights, building_id=halli.id
    )
    factories.triage(
        db, lamp, actor=staff, to="in-progress", public_update="<script>x()</script>Ordered."
    )
    secret = factories.service_request(
        db, title="Secret cable fault", category_=charging, building_id=sensori.id
    )
    factories.triage(
        db,
        secret,
        actor=staff,
        visibility=Visibility.private,
        to="review",
        public_update="Private words for the company.",
    )
    factories.scheduled_update(db, item=ev, actor=staff, body="Contractor chosen next week.")
    db.commit()
    return dict(
        staff=staff, ev=ev, lamp=lamp, secret=secret, sensori=sensori, halli=halli,
        charging=charging, lights=lights,
    )  # fmt: skip


def _atom(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    assert response.content_type == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{name}") is not None, name
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated", "link", "content"):
            assert entry.find(f"{ATOM}{name}") is not None, name
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed, response


def _texts(parsed) -> str:
    return " ".join(entry.title + " " + entry.summary for entry in parsed.entries)


def test_all_updates_feed_carries_public_entries_only(client, park):
    parsed, _response = _atom(client, "/feeds/updates.atom")
    text = _texts(parsed)
    assert "Chargers outside Sensori" in text and "Lamp out behind Halli 5" in text
    assert "<strong>soon</strong>" in text  # Markdown rendered
    assert "<script>" not in text and "Ordered." in text  # and sanitised
    assert "Secret cable fault" not in text and "Private words" not in text
    assert "Budget" not in text  # an internal note
    assert "Contractor chosen" not in text  # scheduled, not yet published
    assert parsed.feed.language == "fi"
    assert parsed.feed.author == "Digipolis"  # the park (FACILITIES_PARK_NAME)
    # newest first, each entry with an absolute link to the request's page
    updated = [entry.updated_parsed for entry in parsed.entries]
    assert updated == sorted(updated, reverse=True)
    assert {entry.link for entry in parsed.entries} == {
        f"{BASE}/requests/{park['ev'].reference}",
        f"{BASE}/requests/{park['lamp'].reference}",
    }


def test_entries_say_the_status_change_in_the_feeds_language(client, park):
    finnish, _ = _atom(client, f"/requests/{park['ev'].reference}/updates.atom")
    english, _ = _atom(client, f"/requests/{park['ev'].reference}/updates.atom?lang=en")
    assert any("Uusi → Suunniteltu" in entry.title for entry in finnish.entries)
    assert any("New → Planned" in entry.title for entry in english.entries)
    assert all(entry.title.startswith(park["ev"].reference) for entry in english.entries)
    assert english.feed.language == "en"


def test_entry_ids_are_stable_and_unique(client, park):
    first, _ = _atom(client, "/feeds/updates.atom")
    second, _ = _atom(client, "/feeds/updates.atom?lang=sv")
    ids = [entry.id for entry in first.entries]
    assert len(ids) == len(set(ids)) == 2
    assert ids == [entry.id for entry in second.entries]
    assert all(re.fullmatch(r"tag:[^,]+,2026:update-\d+", entry_id) for entry_id in ids)


def test_feeds_filter_by_category_building_and_request(client, park):
    ev, lamp = park["ev"].reference, park["lamp"].reference
    for path, inside, outside in (
        ("/feeds/categories/ev-charging.atom", ev, lamp),
        ("/feeds/categories/lights.atom", lamp, ev),
        ("/feeds/buildings/SENSORI.atom", ev, lamp),
        ("/feeds/buildings/halli5.atom", lamp, ev),  # codes are read as capitals
        (f"/requests/{lamp}/updates.atom", lamp, ev),
    ):
        parsed, _ = _atom(client, path)
        titles = [entry.title for entry in parsed.entries]
        assert titles and all(title.startswith(inside) for title in titles), path
        assert not any(outside in title for title in titles), path
        assert not any("Secret" in title for title in titles), path


def test_unknown_and_private_feeds_are_not_found(client, park):
    for path in (
        "/feeds/categories/nowhere.atom",
        "/feeds/buildings/NOWHERE.atom",
        "/feeds/buildings/NOWHERE/works.ics",
        "/requests/DP-1999-9999/updates.atom",
        f"/requests/{park['secret'].reference}/updates.atom",  # as its page is to the public
    ):
        assert client.get(path).status_code == 404, path


def test_a_request_made_private_leaves_every_feed(client, db, park):
    factories.triage(db, park["lamp"], actor=park["staff"], visibility=Visibility.private)
    db.commit()
    parsed, _ = _atom(client, "/feeds/updates.atom")
    assert "Lamp out" not in _texts(parsed)
    assert client.get(f"/requests/{park['lamp'].reference}/updates.atom").status_code == 404


def test_unchanged_feed_answers_304_and_a_change_a_new_one(client, db, park):
    _parsed, first = _atom(client, "/feeds/updates.atom")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag and modified
    again = client.get("/feeds/updates.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    since = client.get("/feeds/updates.atom", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    factories.triage(db, park["ev"], actor=park["staff"], public_update="Digging starts.")
    db.commit()
    changed = client.get("/feeds/updates.atom", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and b"Digging starts." in changed.data
    assert changed.headers["ETag"] != etag
    calendar = client.get("/feeds/works.ics")
    assert (
        client.get(
            "/feeds/works.ics", headers={"If-None-Match": calendar.headers["ETag"]}
        ).status_code
        == 304
    )


def test_a_feed_costs_the_same_queries_whatever_its_length(app, client, db, park):
    from facilities.core.db import get_engine

    def cost() -> int:
        with count_queries(get_engine(app)) as statements:
            assert client.get("/feeds/updates.atom?lang=en").status_code == 200
        return len(statements)

    few = cost()
    for number in range(8):
        factories.triage(db, park["lamp"], actor=park["staff"], public_update=f"Note {number}.")
    db.commit()
    assert cost() == few


# --- works and the calendar ----------------------------------------------------------


def _form(**fields) -> ScheduledWorkForm:
    return ScheduledWorkForm(
        **{
            "name_fi": "Pysäköintialue suljettu",
            "name_en": "Parking area closed",
            "starts_on": date(2027, 4, 12),
            "ends_on": date(2027, 4, 14),
            "location_note": "Main door",
            **fields,
        }
    )


def _calendar(client, path: str = "/feeds/works.ics") -> Calendar:
    response = client.get(path)
    assert response.status_code == 200
    assert response.content_type == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.data)


def test_calendar_has_all_day_events_of_public_requests(client, db, park):
    staff = park["staff"]
    work = add_work(db, actor=staff, service_request=park["ev"], data=_form())
    add_work(db, actor=staff, service_request=park["secret"], data=_form(name_fi="Salainen"))
    add_work(
        db,
        actor=staff,
        service_request=park["lamp"],
        data=_form(name_fi="Valotolppa vaihdetaan", name_en="", starts_on=date(2027, 5, 2), ends_on=None),
    )  # fmt: skip
    db.commit()
    calendar = _calendar(client)
    assert (
        str(calendar["X-WR-CALNAME"]) == "Digipolis: sovitut työt"
    )  # the park speaks Finnish first
    events = {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}
    assert set(events) == {"Pysäköintialue suljettu", "Valotolppa vaihdetaan"}  # no private
    parking = events["Pysäköintialue suljettu"]
    assert parking["DTSTART"].dt == date(2027, 4, 12)
    assert parking["DTEND"].dt == date(2027, 4, 15)  # exclusive: the day after the last
    assert parking["DTSTART"].params.get("VALUE") == "DATE"
    assert str(parking["UID"]) == f"work-{work.id}@127.0.0.1"
    assert "Sensori, Tietokatu 1" in str(parking["LOCATION"])
    assert park["ev"].reference in str(parking["DESCRIPTION"])
    assert str(parking["URL"]).endswith(f"/requests/{park['ev'].reference}")
    assert "DTSTAMP" in parking
    single = events["Valotolppa vaihdetaan"]
    assert (single["DTSTART"].dt, single["DTEND"].dt) == (date(2027, 5, 2), date(2027, 5, 3))
    english = {
        str(e["SUMMARY"]) for e in _calendar(client, "/feeds/works.ics?lang=en").walk("VEVENT")
    }
    assert english == {"Parking area closed", "Valotolppa vaihdetaan"}  # Finnish when no English
    sensori = _calendar(client, "/feeds/buildings/SENSORI/works.ics").walk("VEVENT")
    assert [str(event["SUMMARY"]) for event in sensori] == ["Pysäköintialue suljettu"]


def test_an_edited_work_keeps_its_uid(client, db, park):
    work = add_work(db, actor=park["staff"], service_request=park["ev"], data=_form())
    db.commit()
    before = _calendar(client).walk("VEVENT")[0]
    update_work(db, actor=park["staff"], work=work, data=_form(ends_on=date(2027, 4, 20)))
    db.commit()
    after = _calendar(client).walk("VEVENT")[0]
    assert after["UID"] == before["UID"]
    assert after["DTEND"].dt == date(2027, 4, 21)


def test_work_dates_are_checked(db, park):
    with pytest.raises(ValidationFailed) as failure:
        add_work(
            db,
            actor=park["staff"],
            service_request=park["ev"],
            data=_form(starts_on=date(2027, 4, 14), ends_on=date(2027, 4, 12)),
        )
    assert set(failure.value.errors) == {"ends_on"}
    with pytest.raises(ValidationFailed):
        add_work(
            db,
            actor=park["staff"],
            service_request=park["ev"],
            data=_form(ends_on=date(2028, 4, 14)),  # over a year
        )
    assert db.exec(select(ScheduledWork)).all() == []


def test_works_are_audited(db, park):
    staff = park["staff"]
    work = add_work(db, actor=staff, service_request=park["ev"], data=_form())
    update_work(db, actor=staff, work=work, data=_form(name_fi="Alue suljettu"))
    work_id = work.id
    delete_work(db, actor=staff, work=work)
    db.commit()
    events = db.exec(
        select(AuditEvent).where(AuditEvent.entity == "scheduled_work").order_by(AuditEvent.id)
    ).all()
    assert [event.action for event in events] == ["work.added", "work.changed", "work.deleted"]
    assert {event.entity_id for event in events} == {work_id}
    assert all(event.actor_id == staff.id for event in events)
    assert events[1].before["names"]["fi"] == "Pysäköintialue suljettu"
    assert events[1].after["names"]["fi"] == "Alue suljettu"
    assert public_works(db) == []


def test_staff_add_a_work_and_the_public_page_shows_it(client, db, park, signed_in):
    signed_in(Role.staff)
    reference = park["ev"].reference
    token = csrf_token(client, f"/staff/requests/{reference}/works/new")
    missing = client.post(
        f"/staff/requests/{reference}/works",
        data={"csrf_token": token, "name_fi": "", "name_en": "Kept words", "starts_on": "2027-04-14", "ends_on": "2027-04-12"},
    )  # fmt: skip
    assert missing.status_code == 422
    page = missing.get_data(as_text=True)
    assert 'id="name_fi-error"' in page and "Kept words" in page and 'value="2027-04-14"' in page
    backwards = client.post(
        f"/staff/requests/{reference}/works",
        data={"csrf_token": token, "name_fi": "Parkkialue suljettu", "starts_on": "2027-04-14", "ends_on": "2027-04-12"},
    )  # fmt: skip
    assert backwards.status_code == 422 and 'id="ends_on-error"' in backwards.get_data(as_text=True)
    assert "Parkkialue suljettu" in backwards.get_data(as_text=True)
    bad_date = client.post(
        f"/staff/requests/{reference}/works",
        data={"csrf_token": token, "name_fi": "Parkkialue suljettu", "starts_on": "14.4.2027"},
    )
    assert bad_date.status_code == 422 and 'id="starts_on-error"' in bad_date.get_data(as_text=True)
    saved = client.post(
        f"/staff/requests/{reference}/works",
        data={"csrf_token": token, "name_fi": "Parkkialue suljettu", "starts_on": "2027-04-12", "ends_on": "2027-04-14"},
    )  # fmt: skip
    assert saved.status_code == 302
    assert db.exec(select(ScheduledWork)).one().created_by_id is not None
    client.post("/logout", data={"csrf_token": csrf_token(client, "/staff/queue")})
    public_page = client.get(f"/requests/{reference}").get_data(as_text=True)
    assert "Parkkialue suljettu" in public_page and "12.–14.4.2027" in public_page
    assert f'href="/requests/{reference}/updates.atom"' in public_page  # autodiscovery


def test_members_may_not_touch_works(client, db, park, signed_in):
    work = add_work(db, actor=park["staff"], service_request=park["ev"], data=_form())
    db.commit()
    signed_in(Role.member)
    token = csrf_token(client)
    reference = park["ev"].reference
    for path in (
        f"/staff/requests/{reference}/works",
        f"/staff/requests/{reference}/works/{work.id}",
        f"/staff/requests/{reference}/works/{work.id}/delete",
    ):
        assert client.post(path, data={"csrf_token": token, **_raw_form()}).status_code == 403
    db.expire_all()
    assert len(db.exec(select(ScheduledWork)).all()) == 1


def test_a_work_of_another_request_is_not_found(client, db, park, signed_in):
    work = add_work(db, actor=park["staff"], service_request=park["ev"], data=_form())
    db.commit()
    signed_in(Role.staff)
    path = f"/staff/requests/{park['lamp'].reference}/works/{work.id}"
    assert client.get(path).status_code == 404
    token = csrf_token(client, "/staff/queue")
    assert client.post(path + "/delete", data={"csrf_token": token}).status_code == 404
    db.expire_all()
    assert db.get(ScheduledWork, work.id) is not None


def _raw_form() -> dict[str, str]:
    return {"name_fi": "Suljettu", "starts_on": "2027-04-12", "ends_on": "2027-04-13"}


def test_calendar_holds_works_of_the_newest_dates_first(db, park):
    staff = park["staff"]
    for offset in range(3):
        day = date(2027, 4, 1) + timedelta(days=offset * 10)
        add_work(
            db, actor=staff, service_request=park["ev"], data=_form(starts_on=day, ends_on=day)
        )
    db.commit()
    assert [work.starts_on.day for work in public_works(db, limit=2)] == [21, 11]


def test_pages_name_their_feeds_for_autodiscovery(client, db, park):
    add_work(db, actor=park["staff"], service_request=park["ev"], data=_form())
    db.commit()
    atom = 'rel="alternate" type="application/atom+xml"'
    roadmap = client.get("/?category=ev-charging").get_data(as_text=True)
    assert atom in roadmap and 'href="/feeds/categories/ev-charging.atom"' in roadmap
    assert 'href="/feeds/works.ics"' in roadmap  # "Add to a calendar"
    building = client.get("/buildings/SENSORI").get_data(as_text=True)
    assert 'href="/feeds/buildings/SENSORI.atom"' in building
    assert 'href="/feeds/buildings/SENSORI/works.ics"' in building
    private = client.get(f"/requests/{park['secret'].reference}")
    assert private.status_code == 404
