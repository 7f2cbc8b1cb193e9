"""The public pages of issue 11: the changelog, building pages, link previews, 304s and
their fixed cost."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from facilities.core.db import get_engine
from facilities.core.models import utcnow
from facilities.park.models import Visibility
from tests import factories
from tests.conftest import count_queries


def _finished(db, title, when, *, staff=None, visibility=Visibility.public, **fields):
    staff = staff or factories.staff(db)
    item = factories.service_request(db, title=title, **fields)
    factories.triage(db, item, actor=staff, to="done", visibility=visibility)
    item.resolved_at = when
    db.flush()
    return item


def _html(client, path, **kwargs) -> str:
    response = client.get(path, **kwargs)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


# --- the changelog -------------------------------------------------------------------


def test_the_changelog_shows_the_newest_month_and_links_to_the_one_before(client, db):
    staff = factories.staff(db)
    _finished(db, "Snow ploughing order changed", datetime(2026, 10, 5, 9, tzinfo=UTC), staff=staff)
    _finished(db, "Cardboard bins added", datetime(2026, 10, 20, 9, tzinfo=UTC), staff=staff)
    _finished(db, "E-waste point opened", datetime(2026, 8, 3, 9, tzinfo=UTC), staff=staff)
    _finished(
        db,
        "Private fix",
        datetime(2026, 10, 21, 9, tzinfo=UTC),
        staff=staff,
        visibility=Visibility.private,
    )
    db.commit()

    html = _html(client, "/changelog")

    assert html.index("Cardboard bins added") < html.index("Snow ploughing order changed")
    assert "E-waste point opened" not in html and "Private fix" not in html
    # no public work in September: the link skips to August
    assert 'href="/changelog?month=2026-08"' in html
    older = _html(client, "/changelog?month=2026-08")
    assert "E-waste point opened" in older and "Cardboard bins added" not in older
    assert 'href="/changelog?month=2026-10"' in older
    item_link = re.search(r'href="(/requests/[^"]+)">E-waste point opened', older)
    assert item_link and client.get(item_link.group(1)).status_code == 200


def test_a_month_is_read_in_park_time(client, db):
    # 23.30 UTC on 31 October is 1.30 on 1 November in Helsinki
    _finished(db, "Finished at midnight", datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    db.commit()
    assert "Finished at midnight" in _html(client, "/changelog?month=2026-11")
    assert "Finished at midnight" not in _html(client, "/changelog?month=2026-10")


@pytest.mark.parametrize("typed", ["2026-13", "november", "<b>x</b>"])
def test_a_month_that_is_not_one_is_told_with_the_input_kept(client, typed):
    response = client.get("/changelog", query_string={"month": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "2026-11" in html  # how to write one
    assert "<b>x</b>" not in html
    if typed != "<b>x</b>":
        assert typed in html


def test_the_changelog_pages_within_a_month(client, db, app):
    per_page = app.extensions["facilities.settings"].per_page
    staff = factories.staff(db)
    for number in range(per_page + 2):
        _finished(
            db, f"Fix {number:02d}", datetime(2026, 10, 1 + number % 28, tzinfo=UTC), staff=staff
        )
    db.commit()
    first = _html(client, "/changelog?month=2026-10")
    assert first.count('class="request-row"') == per_page
    assert 'href="/changelog?month=2026-10&amp;page=2"' in first
    assert _html(client, "/changelog?month=2026-10&page=2").count('class="request-row"') == 2


# --- building pages ------------------------------------------------------------------


def test_a_building_page_shows_open_planned_and_recent_work_with_its_chargers(client, db):
    sensori = factories.building(db, code="SENSORI", name="Sensori")
    staff = factories.staff(db)
    factories.charger(db, building_id=sensori.id, code="SEN-01")
    factories.service_request(db, title="Lights out in the lobby", building_id=sensori.id)
    planned = factories.service_request(db, title="Chargers at the door", building_id=sensori.id)
    factories.triage(db, planned, actor=staff, to="planned", target_quarter="2027-Q2")
    _finished(db, "New bike racks", utcnow(), staff=staff, building_id=sensori.id)
    secret = factories.service_request(db, title="Secret lab wiring", building_id=sensori.id)
    factories.triage(db, secret, actor=staff, to="planned", visibility=Visibility.private)
    db.commit()

    html = _html(client, "/buildings/sensori")

    sections = {
        key: html[html.index(f'id="{key}-heading"') :] for key in ("open", "planned", "done")
    }
    assert "Lights out in the lobby" in sections["open"][: sections["open"].index("</section>")]
    planned_part = sections["planned"][: sections["planned"].index("</section>")]
    assert "Chargers at the door" in planned_part and "Q2/2027" in planned_part
    assert "New bike racks" in sections["done"][: sections["done"].index("</section>")]
    assert "Secret lab wiring" not in html
    assert "SEN-01" in html  # the chargers stay


# --- link previews -------------------------------------------------------------------

PREVIEW_TAGS = (
    'name="description"',
    'property="og:title"',
    'property="og:description"',
    'property="og:url" content="http',
    'property="og:type"',
    'property="og:site_name" content="',
    'property="og:locale" content="fi_FI"',
    'name="twitter:card"',
    'name="twitter:title"',
)


def test_every_public_page_carries_a_link_preview(client, db):
    building = factories.building(db, code="SENSORI", name="Sensori")
    charger = factories.charger(db, building_id=building.id, code="SEN-01")
    item = factories.service_request(db, title="Bicycle shelter", building_id=building.id)
    db.commit()
    for path in (
        "/",
        "/changelog",
        f"/requests/{item.reference}",
        "/buildings/SENSORI",
        "/charging",
        f"/charging/{charger.code}",
        "/search?q=bicycle",
    ):
        html = _html(client, path)
        head = html[: html.index("</head>")]
        for tag in PREVIEW_TAGS:
            assert tag in head, (path, tag)
    request_head = _html(client, f"/requests/{item.reference}")
    assert 'property="og:title" content="Bicycle shelter"' in request_head
    assert 'property="og:type" content="article"' in request_head


def test_a_hostile_title_is_escaped_in_the_preview(client, db):
    item = factories.service_request(
        db, title='Say "hi" <script>alert(1)</script>', description='A "quoted" <b>text</b>'
    )
    db.commit()
    html = _html(client, f"/requests/{item.reference}")
    head = html[: html.index("</head>")]
    assert "<script>alert" not in head
    assert 'content="Say &#34;hi&#34; &lt;script&gt;alert(1)&lt;/script&gt;"' in head
    assert "&lt;b&gt;text&lt;/b&gt;" in head and "<b>text" not in head


def test_a_private_request_gives_its_own_people_no_preview_of_it(client, db, signed_in):
    member = signed_in()
    item = factories.service_request(
        db, submitter=member, title="Our secret server room", description="Rack 4."
    )
    factories.triage(db, item, actor=factories.staff(db), visibility=Visibility.private)
    db.commit()
    html = _html(client, f"/requests/{item.reference}")
    previews = re.findall(r'<meta (?:name|property)="(?:og|twitter|description)[^>]*>', html)
    assert previews and not any("secret server" in tag or "Rack 4" in tag for tag in previews)


def test_the_preview_url_is_absolute_on_the_configured_address(client, db, app):
    base = app.extensions["facilities.settings"].base_url.rstrip("/")
    html = _html(client, "/changelog?month=2026-10&utm_source=x")
    assert f'property="og:url" content="{base}/changelog?month=2026-10"' in html


def test_previews_speak_the_visitors_language(client):
    client.get("/language/en")
    assert 'property="og:locale" content="en_GB"' in _html(client, "/")


# --- conditional requests ------------------------------------------------------------


@pytest.mark.parametrize("page", ["roadmap", "changelog", "request", "building"])
def test_public_pages_answer_304_until_something_public_changes(client, db, page):
    building = factories.building(db, code="SENSORI")
    staff = factories.staff(db)
    item = factories.service_request(db, title="Bicycle shelter", building_id=building.id)
    factories.triage(db, item, actor=staff, to="done")
    db.commit()
    path = {
        "roadmap": "/",
        "changelog": "/changelog",
        "request": f"/requests/{item.reference}",
        "building": "/buildings/SENSORI",
    }[page]

    first = client.get(path)
    assert first.status_code == 200 and first.headers.get("ETag")
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]
    assert again.get_data() == b""

    # a public update on the request changes all four pages
    factories.triage(db, item, actor=staff, public_update="Shelter painted green.")
    item.title = "Green bicycle shelter"
    db.commit()
    changed = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]


@pytest.mark.parametrize("path", ["/", "/changelog"])
def test_kept_pages_answer_if_modified_since(client, db, path):
    first = client.get(path)
    modified = first.headers["Last-Modified"]
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    earlier = format_datetime(datetime.now(UTC) - timedelta(days=1), usegmt=True)
    assert client.get(path, headers={"If-Modified-Since": earlier}).status_code == 200
    # a tag that does not match wins over the date
    mismatch = {"If-Modified-Since": modified, "If-None-Match": 'W/"other"'}
    assert client.get(path, headers=mismatch).status_code == 200


# --- fixed cost ----------------------------------------------------------------------


def _park(db, count, *, building, category, staff):
    for number in range(count):
        item = factories.service_request(
            db, title=f"Idea {number}", building_id=building.id, category_=category
        )
        target = ("in-progress", "planned", "review", "done")[number % 4]
        factories.triage(db, item, actor=staff, to=target)
        if target == "done":
            item.resolved_at = utcnow() - timedelta(days=number)
        for _ in range(number % 3):
            from facilities.requests.supports import support_request

            support_request(db, user=factories.user(db), service_request=item, now=utcnow())
    db.commit()


@pytest.mark.parametrize(
    "path", ["/", "/?category={category}&building=SENSORI", "/changelog", "/buildings/SENSORI"]
)
def test_public_pages_cost_the_same_queries_for_3_and_30_requests(app, client, db, path):
    building = factories.building(db, code="SENSORI")
    category = factories.category(db)
    staff = factories.staff(db)
    path = path.format(category=category.slug)

    def measure() -> int:
        with count_queries(get_engine(app)) as statements:
            response = client.get(path)
        assert response.status_code == 200
        assert statements, "rendered, not served from the cache"
        return len(statements)

    _park(db, 3, building=building, category=category, staff=staff)
    few = measure()
    _park(db, 27, building=building, category=category, staff=staff)
    many = measure()
    assert few == many
