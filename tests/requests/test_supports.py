"""Support (+1): once per person, counted per person and company, follows the request."""

from __future__ import annotations

import pytest
from sqlmodel import select

from facilities.accounts.models import Role
from facilities.core.models import Outbox, utcnow
from facilities.park.models import Visibility
from facilities.requests.models import RequestFollower, ServiceRequest, Support
from facilities.requests.supports import (
    SupportRefused,
    support_request,
    supporting_companies,
    withdraw_support,
)
from tests import factories
from tests.conftest import csrf_token, sign_in


def _counts(db, item) -> tuple[int, int]:
    db.expire_all()
    fresh = db.get(ServiceRequest, item.id)
    return fresh.support_people, fresh.support_companies


def test_support_counts_people_and_companies_once_each(app, db):
    item = factories.service_request(db)
    company_a, company_b = factories.tenant(db), factories.tenant(db)
    people = [factories.user(db, tenant_id=company_a.id) for _ in range(3)]
    people.append(factories.user(db, tenant_id=company_b.id))
    db.commit()
    for person in people:
        assert support_request(db, user=person, service_request=item, now=utcnow()) is True
    assert support_request(db, user=people[0], service_request=item, now=utcnow()) is False
    db.commit()
    assert _counts(db, item) == (4, 2)
    assert len(db.exec(select(Support)).all()) == 4
    assert [(t.id, n) for t, n in supporting_companies(db, item)] == [
        (company_a.id, 3),
        (company_b.id, 1),
    ]
    assert withdraw_support(db, user=people[3], service_request=item) is True
    assert withdraw_support(db, user=people[3], service_request=item) is False
    db.commit()
    assert _counts(db, item) == (3, 1)
    version = db.get(ServiceRequest, item.id).version
    assert version == item.version  # supporting is not a triage change


def test_staff_and_private_requests_cannot_be_supported(app, db):
    item = factories.service_request(db)
    private = factories.service_request(db)
    private.visibility = Visibility.private
    staff = factories.staff(db)
    outsider = factories.user(db)
    db.commit()
    with pytest.raises(SupportRefused):
        support_request(db, user=staff, service_request=item, now=utcnow())
    with pytest.raises(SupportRefused):
        support_request(db, user=outsider, service_request=private, now=utcnow())
    assert db.exec(select(Support)).all() == []


def test_supporters_follow_and_hear_of_public_updates_until_they_withdraw(app, db):
    item = factories.service_request(db)
    fan = factories.user(db)
    staff = factories.staff(db)
    db.commit()
    support_request(db, user=fan, service_request=item, now=utcnow())
    db.commit()
    assert db.exec(select(RequestFollower.user_id)).all() == [fan.id]
    factories.triage(db, item, actor=staff, to="planned", public_update="Planned for spring.")
    db.commit()
    mails = db.exec(select(Outbox).where(Outbox.recipient == fan.email)).all()
    assert len(mails) == 1 and "Planned for spring." in mails[0].body_text

    withdraw_support(db, user=fan, service_request=item)
    db.commit()
    assert db.exec(select(RequestFollower)).all() == []
    db.refresh(item)
    factories.triage(db, item, actor=staff, to="in-progress", public_update="Work started.")
    db.commit()
    assert len(db.exec(select(Outbox).where(Outbox.recipient == fan.email)).all()) == 1


def test_supporting_from_the_page_with_and_without_htmx(app, client, db):
    item = factories.service_request(db, title="Bike shelter at Innovaattori")
    member = factories.user(db)
    db.commit()
    sign_in(client, member.email)
    page = client.get(f"/requests/{item.reference}").get_data(as_text=True)
    assert f'action="/requests/{item.reference}/support"' in page
    token = csrf_token(client, f"/requests/{item.reference}")

    plain = client.post(f"/requests/{item.reference}/support", data={"csrf_token": token})
    assert plain.status_code == 302 and plain.location.endswith(f"/requests/{item.reference}")
    assert _counts(db, item) == (1, 1)
    block = client.post(
        f"/requests/{item.reference}/support/withdraw",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    html = block.get_data(as_text=True)
    assert block.status_code == 200 and 'id="support"' in html and "<html" not in html
    assert f'action="/requests/{item.reference}/support"' in html  # the button is back
    assert _counts(db, item) == (0, 0)
    # without a token nothing happens
    assert client.post(f"/requests/{item.reference}/support").status_code == 400
    assert _counts(db, item) == (0, 0)


def test_the_queue_sorts_by_support_and_cards_show_counts(app, client, db):
    quiet = factories.service_request(db, title="A quiet idea nobody backs")
    loved = factories.service_request(db, title="A loved idea many back")
    for _ in range(3):
        support_request(db, user=factories.user(db), service_request=loved, now=utcnow())
    staff = factories.user(db, role=Role.staff, preferred_language="en")
    db.commit()
    sign_in(client, staff.email)
    page = client.get("/staff/queue?sort=support").get_data(as_text=True)
    assert page.index(loved.title) < page.index(quiet.title)
    assert "3 companies" in page
    factories.triage(db, db.get(ServiceRequest, loved.id), actor=staff, to="planned")
    db.commit()
    client.get("/language/en")
    assert "3 companies · 3 people support" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/staff/queue?status=all&sort=support"])
def test_supports_cost_no_query_per_card(app, client, db, path):
    from facilities.core.db import get_engine
    from tests.conftest import count_queries

    staff = factories.staff(db)
    fans = [factories.user(db) for _ in range(3)]
    db.commit()
    if path.startswith("/staff"):
        sign_in(client, staff.email)

    def add(cards: int) -> None:
        for number in range(cards):
            item = factories.service_request(db, title=f"Supported idea {number:03d}")
            factories.triage(db, item, actor=staff, to="planned")
            for fan in fans:
                support_request(db, user=fan, service_request=item, now=utcnow())
        db.commit()

    def queries() -> int:
        with count_queries(get_engine(app)) as statements:
            assert client.get(path).status_code == 200
        return len(statements)

    app.extensions["facilities.settings"].per_page = 50
    add(1)
    one = queries()
    add(49)
    assert queries() == one


def test_our_requests_lists_what_the_company_supports_apart_from_what_it_sent(app, db):
    member = factories.user(db, preferred_language="en")
    colleague = factories.user(db, tenant_id=member.tenant_id, preferred_language="en")
    ours = factories.service_request(db, submitter=member, title="Our own bike shelter")
    theirs = factories.service_request(db, title="Their idea: a sauna on the roof")
    untouched = factories.service_request(db, title="Nobody of ours supports this")
    support_request(db, user=member, service_request=theirs, now=utcnow())
    support_request(db, user=colleague, service_request=ours, now=utcnow())
    db.commit()
    client = app.test_client()
    sign_in(client, colleague.email)
    page = client.get("/tenant/requests").get_data(as_text=True)
    sent, supported = page.split("Supported by us", 1)
    assert ours.title in sent and theirs.title not in sent
    assert theirs.title in supported and ours.title not in supported
    assert untouched.title not in page
