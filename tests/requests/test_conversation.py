"""The conversation between a request's company and staff: private to them, e-mailed."""

from __future__ import annotations

from sqlmodel import select

from facilities.accounts.models import Role
from facilities.core.models import Outbox
from facilities.requests.models import RequestUpdate, UpdateKind
from tests import factories
from tests.conftest import csrf_token, sign_in


def _comments(db, item):
    db.expire_all()
    return db.exec(
        select(RequestUpdate).where(
            RequestUpdate.request_id == item.id, RequestUpdate.kind == UpdateKind.comment
        )
    ).all()


def test_the_company_and_staff_talk_and_the_public_never_reads_it(app, db):
    sender = factories.user(db, preferred_language="en")
    colleague = factories.user(db, tenant_id=sender.tenant_id)
    outsider = factories.user(db)
    staff = factories.staff(db)
    item = factories.service_request(db, submitter=sender, title="Door code for deliveries")
    db.commit()

    company = app.test_client()
    sign_in(company, colleague.email)
    token = csrf_token(company, f"/requests/{item.reference}")
    sent = company.post(
        f"/requests/{item.reference}/comments",
        data={"csrf_token": token, "comment": "Could the code change monthly?"},
    )
    assert sent.status_code == 302 and sent.location.endswith("#conversation")
    [mail] = db.exec(
        select(Outbox).where(
            Outbox.recipient == staff.email, Outbox.idempotency_key.like("comment:%")
        )
    ).all()
    assert "Could the code change monthly?" in mail.body_text
    assert f"/staff/requests/{item.reference}" in mail.body_text

    desk = app.test_client()
    sign_in(desk, staff.email)
    staff_page = desk.get(f"/staff/requests/{item.reference}").get_data(as_text=True)
    assert (
        "Could the code change monthly?" in staff_page and 'name="back" value="staff"' in staff_page
    )
    answer = desk.post(
        f"/requests/{item.reference}/comments",
        data={
            "csrf_token": csrf_token(desk, f"/staff/requests/{item.reference}"),
            "comment": "Yes, from January.",
            "back": "staff",
        },
    )
    assert answer.location.endswith(f"/staff/requests/{item.reference}#conversation")
    [reply] = db.exec(
        select(Outbox).where(
            Outbox.recipient == sender.email, Outbox.idempotency_key.like("comment:%")
        )
    ).all()
    assert "Yes, from January." in reply.body_text and "replies to this e-mail" in reply.body_text
    assert len(_comments(db, item)) == 2

    company_page = company.get(f"/requests/{item.reference}").get_data(as_text=True)
    assert "Yes, from January." in company_page
    for reader in (app.test_client(), outsider):
        client = reader if not hasattr(reader, "email") else app.test_client()
        if hasattr(reader, "email"):
            sign_in(client, reader.email)
        page = client.get(f"/requests/{item.reference}").get_data(as_text=True)
        assert "Yes, from January." not in page and "Could the code" not in page
        assert 'name="comment"' not in page


def test_an_empty_or_long_message_keeps_the_text_and_says_why(app, client, db):
    member = factories.user(db, preferred_language="en")
    item = factories.service_request(db, submitter=member)
    db.commit()
    sign_in(client, member.email)
    token = csrf_token(client, f"/requests/{item.reference}")
    empty = client.post(
        f"/requests/{item.reference}/comments", data={"csrf_token": token, "comment": "  "}
    )
    assert empty.status_code == 422 and "Write a message first." in empty.get_data(as_text=True)
    long = "x" * 5001
    refused = client.post(
        f"/requests/{item.reference}/comments", data={"csrf_token": token, "comment": long}
    )
    assert refused.status_code == 422 and long in refused.get_data(as_text=True)
    assert _comments(db, item) == []


def test_too_many_messages_are_refused_with_the_text_kept(app, client, db):
    member = factories.user(db, preferred_language="en")
    item = factories.service_request(db, submitter=member)
    factories.user(db, role=Role.staff)
    db.commit()
    sign_in(client, member.email)
    token = csrf_token(client, f"/requests/{item.reference}")
    statuses = [
        client.post(
            f"/requests/{item.reference}/comments",
            data={"csrf_token": token, "comment": f"message {n}"},
        ).status_code
        for n in range(31)
    ]
    assert statuses[:30] == [302] * 30 and statuses[30] == 429
    again = client.post(
        f"/requests/{item.reference}/comments", data={"csrf_token": token, "comment": "one more"}
    )
    assert again.status_code == 429 and "one more" in again.get_data(as_text=True)
    assert len(_comments(db, item)) == 30
