"""The roadmap's columns: which public requests go Now, Next, Later and Done."""

from __future__ import annotations

from datetime import date, timedelta

from facilities.core.models import utcnow
from facilities.park.models import Visibility
from facilities.requests.roadmap import (
    DONE_WINDOW,
    RoadmapColumn,
    RoadmapFilter,
    building_requests,
    quarter_start,
    roadmap,
)
from facilities.requests.targets import quarter_bounds, quarter_choices
from tests import factories

TODAY = date(2026, 11, 29)  # Q4/2026: next is Q1/2027, later from Q2/2027


def _item(db, title, *, to=None, target=None, staff=None, **fields):
    staff = staff or factories.staff(db)
    item = factories.service_request(db, title=title, **fields)
    if to:
        factories.triage(db, item, actor=staff, to=to)
    if target:
        item.target_start, item.target_end = quarter_bounds(target)
    db.flush()
    return item


def _titles(db, *, filters=None, now=None, today=TODAY) -> dict[RoadmapColumn, list[str]]:
    columns = roadmap(db, pages={}, per_page=50, today=today, now=now or utcnow(), filters=filters)
    return {column: [item.title for item in page.items] for column, page in columns.items()}


def test_quarters_roll_over_the_year():
    assert quarter_start(date(2026, 11, 29)) == date(2026, 10, 1)
    assert quarter_start(date(2026, 11, 29), ahead=1) == date(2027, 1, 1)
    assert quarter_start(date(2026, 11, 29), ahead=2) == date(2027, 4, 1)
    assert quarter_start(date(2027, 3, 31), ahead=4) == date(2028, 1, 1)


def test_each_request_goes_to_the_column_its_kind_and_target_say(db):
    _item(db, "In progress without target", to="in-progress")
    _item(db, "In progress aimed later", to="in-progress", target="2027-Q3")
    _item(db, "Planned this quarter", to="planned", target="2026-Q4")
    _item(db, "Planned but late", to="planned", target="2026-Q2")
    _item(db, "Planned next quarter", to="planned", target="2027-Q1")
    _item(db, "Planned in a year", to="planned", target="2027-Q4")
    _item(db, "Planned without target", to="planned")
    _item(db, "Under review", to="review")
    _item(db, "Finished", to="done")
    _item(db, "Just sent")
    _item(db, "Waiting for parts", to="waiting")
    declined = _item(db, "Turned down")
    factories.triage(
        db, declined, actor=factories.staff(db), to="not-planned", public_update="No budget."
    )
    db.commit()

    columns = _titles(db)

    assert sorted(columns[RoadmapColumn.now]) == sorted(
        [
            "In progress without target",
            "In progress aimed later",
            "Planned this quarter",
            "Planned but late",
        ]
    )
    assert columns[RoadmapColumn.next] == ["Planned next quarter"]
    # a target first (soonest first), then no target; review is considered, not promised
    assert columns[RoadmapColumn.later][0] == "Planned in a year"
    assert sorted(columns[RoadmapColumn.later][1:]) == ["Planned without target", "Under review"]
    assert columns[RoadmapColumn.done] == ["Finished"]
    shown = {title for titles in columns.values() for title in titles}
    assert not shown & {"Just sent", "Waiting for parts", "Turned down"}


def test_next_moves_to_now_when_its_quarter_comes(db):
    _item(db, "Planned next quarter", to="planned", target="2027-Q1")
    db.commit()
    assert _titles(db)[RoadmapColumn.next] == ["Planned next quarter"]
    moved = _titles(db, today=date(2027, 1, 2))
    assert moved[RoadmapColumn.now] == ["Planned next quarter"] and not moved[RoadmapColumn.next]


def test_private_requests_are_never_on_the_roadmap(db):
    staff = factories.staff(db)
    for to in ("in-progress", "planned", "review", "done"):
        item = _item(db, f"Private {to}", staff=staff)
        factories.triage(db, item, actor=staff, to=to, visibility=Visibility.private)
        _item(db, f"Public {to}", to=to, staff=staff)
    db.commit()
    shown = [title for titles in _titles(db).values() for title in titles]
    assert sorted(shown) == sorted(
        f"Public {to}" for to in ("in-progress", "planned", "review", "done")
    )
    assert building_requests(db, building_id=0, now=utcnow()).open.items == []


def test_done_shows_the_last_90_days_newest_first(db):
    now = utcnow()
    old = _item(db, "Finished long ago", to="done")
    older = _item(db, "Finished a month ago", to="done")
    newest = _item(db, "Finished today", to="done")
    old.updated_at = now - DONE_WINDOW - timedelta(days=1)
    older.updated_at = now - timedelta(days=30)
    newest.updated_at = now - timedelta(minutes=5)
    db.commit()
    assert _titles(db, now=now)[RoadmapColumn.done] == ["Finished today", "Finished a month ago"]


def test_filters_narrow_every_column_to_a_category_and_a_building(db):
    ev = factories.category(db, slug="ev-charging")
    sensori, halli = factories.building(db, code="SENSORI"), factories.building(db, code="HALLI5")
    _item(db, "Chargers at Sensori", to="in-progress", category_id=ev.id, building_id=sensori.id)
    _item(db, "Chargers at Halli 5", to="in-progress", category_id=ev.id, building_id=halli.id)
    _item(db, "Lights at Sensori", to="done", building_id=sensori.id)
    db.commit()

    by_building = _titles(db, filters=RoadmapFilter(building_id=sensori.id))
    assert by_building[RoadmapColumn.now] == ["Chargers at Sensori"]
    assert by_building[RoadmapColumn.done] == ["Lights at Sensori"]
    by_category = _titles(db, filters=RoadmapFilter(category_id=ev.id))
    assert sorted(by_category[RoadmapColumn.now]) == ["Chargers at Halli 5", "Chargers at Sensori"]
    assert by_category[RoadmapColumn.done] == []
    both = _titles(db, filters=RoadmapFilter(category_id=ev.id, building_id=halli.id))
    assert [t for titles in both.values() for t in titles] == ["Chargers at Halli 5"]


def test_a_building_lists_open_planned_and_recently_done_in_capped_sections(db):
    sensori = factories.building(db, code="SENSORI")
    staff = factories.staff(db)
    for number in range(4):
        _item(db, f"Open {number}", staff=staff, building_id=sensori.id)
    _item(db, "Being fixed", to="in-progress", building_id=sensori.id, staff=staff)
    _item(db, "Planned here", to="planned", building_id=sensori.id, staff=staff)
    _item(db, "Done here", to="done", building_id=sensori.id, staff=staff)
    _item(db, "Planned elsewhere", to="planned", staff=staff)
    db.commit()

    found = building_requests(db, building_id=sensori.id, now=utcnow(), limit=3)

    assert len(found.open.items) == 3 and found.open.more
    assert [item.title for item in found.planned.items] == ["Planned here"]
    assert not found.planned.more
    assert [item.title for item in found.done.items] == ["Done here"]


def test_quarter_choices_start_this_quarter():
    # the staff form offers quarters from this one: Now takes a late target too
    assert quarter_choices(TODAY)[:2] == ["2026-Q4", "2027-Q1"]
