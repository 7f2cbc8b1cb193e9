"""Public pages are shared from a cache by visitors who are not signed in, and retired
by the very commit that changes what they show, in every web process."""

from __future__ import annotations

import os
import re

import pytest

from facilities.accounts.models import Role
from facilities.core.cache import CACHE_KEY, RedisPageCache
from facilities.core.db import get_engine
from facilities.park.models import Visibility
from tests import factories
from tests.conftest import IsolatedClient, count_queries, make_test_app, sign_in, skip_or_fail


def _planned(db, title: str, **fields):
    staff = factories.staff(db)
    item = factories.service_request(db, title=title, **fields)
    factories.triage(db, item, actor=staff, to="planned", visibility=Visibility.public)
    db.commit()
    return item


def _served_from_cache(app, client, path: str, **kwargs) -> tuple[bool, str]:
    """Whether the page came from the cache: a hit runs no query through the engine (the
    generation is read on a connection of its own)."""
    with count_queries(get_engine(app)) as statements:
        response = client.get(path, **kwargs)
    assert response.status_code == 200
    return not statements, response.get_data(as_text=True)


def test_a_visitor_is_served_the_cached_roadmap_until_something_public_changes(app, client, db):
    _planned(db, "Bicycle shelter by Innovaattori")
    hit, first = _served_from_cache(app, client, "/")
    assert not hit and "Bicycle shelter by Innovaattori" in first
    hit, again = _served_from_cache(app, client, "/")
    assert hit and again == first

    _planned(db, "Brighter lights in car park B")  # committed: the next request shows it
    hit, changed = _served_from_cache(app, client, "/")
    assert not hit and "Brighter lights in car park B" in changed


def test_a_change_made_by_another_web_process_is_visible_on_the_next_request(
    app, client, db, database_url
):
    item = _planned(db, "Bicycle shelter by Innovaattori")
    assert "Bicycle shelter by Innovaattori" in client.get("/").get_data(as_text=True)
    assert _served_from_cache(app, client, "/")[0]

    other_process = make_test_app(database_url)  # its own cache, as another worker has
    try:
        with other_process.app_context():
            from sqlmodel import Session

            with Session(get_engine(other_process), expire_on_commit=False) as session:
                staff = factories.staff(session, email="other-worker@digipolis.example")
                fresh = session.get(type(item), item.id)
                factories.triage(session, fresh, actor=staff, public_update="Shelter ordered.")
                session.commit()
    finally:
        get_engine(other_process).dispose()

    hit, page = _served_from_cache(app, client, f"/requests/{item.reference}")
    assert not hit and "Shelter ordered." in page


def test_a_change_that_only_staff_see_still_refreshes_nothing_wrong(app, client, db):
    """An internal note changes no public page, but retiring the entry is harmless:
    the page is rendered again and still shows no internal note."""
    item = _planned(db, "Bicycle shelter by Innovaattori")
    client.get(f"/requests/{item.reference}")
    factories.triage(db, item, actor=factories.staff(db), internal_note="Budget line 4411.")
    db.commit()
    hit, page = _served_from_cache(app, client, f"/requests/{item.reference}")
    assert not hit and "Budget line 4411." not in page


def test_private_requests_never_reach_a_shared_entry(app, client, db, signed_in):
    member = signed_in()
    private = factories.service_request(db, submitter=member, title="Leaking radiator in room 204")
    factories.triage(
        db, private, actor=factories.staff(db), to="planned", visibility=Visibility.private
    )
    db.commit()

    own = client.get(f"/requests/{private.reference}")
    assert own.status_code == 200 and "Leaking radiator" in own.get_data(as_text=True)
    assert own.headers["Cache-Control"] == "private, no-store"
    assert "Leaking radiator" in client.get("/tenant/requests").get_data(as_text=True)

    visitor = app.test_client()
    assert visitor.get(f"/requests/{private.reference}").status_code == 404
    assert "Leaking radiator" not in visitor.get("/").get_data(as_text=True)
    entries = app.extensions[CACHE_KEY]._entries  # what the process keeps, all of it
    shared = [page for key, (_expiry, page) in entries.items() if key.startswith("page|")]
    assert shared, "the visitor's roadmap was kept"
    assert all("Leaking radiator" not in page.body for page in shared)


def test_a_companys_kept_list_is_only_ever_shown_to_that_company(app, client, db, signed_in):
    member = signed_in()
    factories.service_request(db, submitter=member, title="Leaking radiator in room 204")
    db.commit()
    assert "Leaking radiator" in client.get("/tenant/requests").get_data(as_text=True)

    neighbour = factories.user(db, email="someone@neighbour.example")  # another company
    db.commit()
    other = app.test_client()
    sign_in(other, neighbour.email)
    page = other.get("/tenant/requests").get_data(as_text=True)
    assert "Leaking radiator" not in page and neighbour.tenant.name in page


def test_the_kept_work_queue_gets_each_user_their_own_token_and_fresh_data(
    app, client, db, signed_in
):
    item = _planned(db, "Bicycle shelter by Innovaattori")
    colleague = factories.staff(db, email="colleague@digipolis.example")
    db.commit()
    signed_in(Role.staff)
    other = app.test_client()
    sign_in(other, colleague.email)
    first = client.get("/staff/queue").get_data(as_text=True)
    with count_queries(get_engine(app)) as statements:
        second = other.get("/staff/queue").get_data(as_text=True)
    assert "Bicycle shelter by Innovaattori" in second
    assert not any("FROM service_request" in sql for sql in statements), "kept, not queried"
    tokens = {_csrf(first), _csrf(second)}
    assert len(tokens) == 2 and "csrf-" not in second.split("X-CSRFToken")[1][:40]

    factories.triage(db, item, actor=colleague, to="in-progress")
    db.commit()
    third = other.get("/staff/queue").get_data(as_text=True)
    assert third != second and "Bicycle shelter by Innovaattori" in third


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def test_signed_in_pages_are_not_taken_from_the_visitors_cache(app, client, db, signed_in):
    _planned(db, "Bicycle shelter by Innovaattori")
    app.test_client().get("/")  # a visitor fills the cache
    member = signed_in()
    page = client.get("/").get_data(as_text=True)
    assert member.name in page  # the header shows who is signed in: rendered for them
    assert "X-CSRFToken" in page


def test_an_unchanged_page_is_answered_with_304(app, client, db):
    item = _planned(db, "Bicycle shelter by Innovaattori")
    first = client.get("/")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert {"Cookie", "HX-Request"} <= set(first.vary)

    unchanged = client.get("/", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""

    item.title = "Covered bicycle shelter by Innovaattori"  # what the roadmap shows
    db.add(item)
    db.commit()
    changed = client.get("/", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Covered bicycle shelter" in changed.get_data(as_text=True)


def test_each_language_and_the_htmx_fragment_are_kept_apart(app, client, db):
    _planned(db, "Bicycle shelter by Innovaattori")
    finnish = client.get("/").get_data(as_text=True)
    fragment = client.get("/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" in finnish and "<html" not in fragment and 'id="roadmap"' in fragment

    client.get("/language/en")
    english = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in english and "Roadmap" in english
    assert 'lang="fi"' in client.application.test_client().get("/").get_data(as_text=True)


def test_a_flash_message_is_not_shared(app, client, db):
    """A message in this visitor's session makes the page theirs alone."""
    _planned(db, "Bicycle shelter by Innovaattori")
    app.test_client().get("/")
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Only for this visitor")]
    assert "Only for this visitor" in client.get("/").get_data(as_text=True)
    assert "Only for this visitor" not in app.test_client().get("/").get_data(as_text=True)


def test_pages_are_shared_through_redis_when_it_is_configured(database_url, db):
    import redis

    url = os.environ.get("FACILITIES_RATELIMIT_STORAGE_URI", "")
    if not url.startswith("redis"):
        url = "redis://127.0.0.1:6379/0"  # where .ci/run starts it
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        skip_or_fail(f"no Redis at {url}: {error}")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    cache_url = url.rsplit("/", 1)[0] + f"/{int(worker.removeprefix('gw')) + 1}"
    first, second = (make_test_app(database_url, cache_url=cache_url) for _ in range(2))
    try:
        assert isinstance(first.extensions[CACHE_KEY], RedisPageCache)
        for one in (first, second):
            one.test_client_class = IsolatedClient
        with first.app_context():
            from sqlmodel import Session

            with Session(get_engine(first), expire_on_commit=False) as session:
                _planned(session, "Bicycle shelter by Innovaattori")
        assert not _served_from_cache(first, first.test_client(), "/")[0]
        hit, page = _served_from_cache(second, second.test_client(), "/")
        assert hit and "Bicycle shelter by Innovaattori" in page  # rendered by the other one
    finally:
        for one in (first, second):
            get_engine(one).dispose()


@pytest.mark.parametrize("path", ["/", "/?planned_page=2"])
def test_the_cache_holds_only_pages_that_answered_200(app, client, path):
    assert client.get(path).status_code == 200
    assert client.get("/requests/DP-2026-9999").status_code == 404
    keys = list(app.extensions[CACHE_KEY]._entries)
    assert keys and all("DP-2026-9999" not in key for key in keys)


def test_keeping_pages_can_be_turned_off(database_url, db):
    off = make_test_app(database_url, cache_url="off")
    off.test_client_class = IsolatedClient
    try:
        client = off.test_client()
        assert not _served_from_cache(off, client, "/")[0]
        assert not _served_from_cache(off, client, "/")[0]  # rendered again
    finally:
        get_engine(off).dispose()


def test_an_update_the_scheduler_publishes_shows_on_the_next_request(app, client, db):
    """The job publishes with a bulk UPDATE, not a flush: that retires kept pages too."""
    from datetime import timedelta

    from facilities.core.models import utcnow
    from facilities.requests.timeline import publish_due_updates

    item = _planned(db, "Bicycle shelter by Innovaattori")
    factories.scheduled_update(db, item=item, body="Shelter arrives on Monday.")
    db.commit()
    before = client.get(f"/requests/{item.reference}").get_data(as_text=True)
    assert "Shelter arrives on Monday." not in before

    assert publish_due_updates(db, now=utcnow() + timedelta(minutes=10)) == 1
    db.commit()
    hit, after = _served_from_cache(app, client, f"/requests/{item.reference}")
    assert not hit and "Shelter arrives on Monday." in after


def test_arguments_a_page_does_not_read_make_no_new_entry(app, client, db):
    _planned(db, "Bicycle shelter by Innovaattori")
    client.get("/?planned_page=1")
    hit, page = _served_from_cache(app, client, "/?planned_page=01&utm_source=news")
    assert hit and "utm_source" not in page  # nor is it echoed into the language links


def test_a_kept_page_has_a_placeholder_nobody_can_guess(app, client, db, signed_in):
    """Text a user writes into a page can not name the place where tokens go."""
    member = signed_in()
    factories.service_request(db, submitter=member, title="Lights csrf-0123456789abcdef out")
    db.commit()
    page = client.get("/tenant/requests").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert "Lights csrf-0123456789abcdef out" in page and token not in page.split("Lights")[1][:80]
    placeholders = {
        entry.placeholder
        for _expiry, entry in app.extensions[CACHE_KEY]._entries.values()
        if entry.placeholder
    }
    assert placeholders and all(len(p) > 30 for p in placeholders)
