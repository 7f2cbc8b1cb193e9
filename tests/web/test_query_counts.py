"""A page costs a fixed number of SQL queries whatever the amount of data."""

import pytest

from facilities.core.db import get_engine
from tests import factories
from tests.conftest import count_queries, sign_in


def _fill(db, *, requests: int, member, staff):
    buildings = [factories.building(db) for _ in range(2)]
    for number in range(requests):
        item = factories.service_request(
            db,
            submitter=member,
            title=f"Request number {number:03d}",
            building_id=buildings[number % 2].id,
        )
        factories.triage(
            db,
            item,
            actor=staff,
            to=("planned", "in-progress", "done")[number % 3],
            public_update=f"Update {number}",
            internal_note="note",
        )
    db.commit()


def _queries(app, client, path) -> int:
    with count_queries(get_engine(app)) as statements:
        response = client.get(path)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize(
    "path", ["/", "/staff/queue?status=all", "/tenant/requests", "/staff/reports/sla"]
)
def test_page_query_count_does_not_grow_with_data(app, client, db, path):
    member = factories.user(db)
    staff = factories.staff(db)
    db.commit()
    sign_in(client, staff.email if path.startswith("/staff") else member.email)

    _fill(db, requests=3, member=member, staff=staff)
    few = _queries(app, client, path)
    _fill(db, requests=27, member=member, staff=staff)
    many = _queries(app, client, path)

    assert few == many, f"{path}: {few} queries with 3 requests, {many} with 30"


def test_request_page_query_count_does_not_grow_with_updates(app, client, db):
    staff = factories.staff(db)
    item = factories.service_request(db)
    db.commit()
    path = f"/requests/{item.reference}"
    factories.triage(db, item, actor=staff, public_update="first")
    db.commit()
    few = _queries(app, client, path)
    for number in range(20):
        factories.triage(db, item, actor=staff, public_update=f"update {number}")
    db.commit()
    assert _queries(app, client, path) == few


def test_request_page_query_count_does_not_grow_with_files_and_answers(app, client, db):
    from facilities.core.models import utcnow
    from facilities.requests.conversation import add_comment

    member = factories.user(db)
    item = factories.service_request(db, submitter=member)
    factories.attachment(db, item)
    db.commit()
    sign_in(client, member.email)  # the company: it sees the comments' files too
    path = f"/requests/{item.reference}"
    client.get(path)  # the first request of a session loads what later ones keep
    few = _queries(app, client, path)
    for number in range(4):
        entry = add_comment(
            db, author=member, service_request=item, body=f"photo {number}", now=utcnow()
        )
        factories.attachment(db, item, entry=entry)
        factories.attachment(db, item)
    db.commit()
    page = client.get(path).get_data(as_text=True)
    assert page.count("/thumbnail") == 9
    # at most as many: with comments the timeline has already loaded the sender
    assert _queries(app, client, path) <= few
