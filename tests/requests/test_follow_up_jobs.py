"""The follow-up jobs: staleness heartbeat, deadline warnings and escalation, "is it
fixed?", retention. Each has its effect once: a second run posts nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import col, select

from facilities.accounts.models import AccessToken, RememberToken, Role, TokenPurpose
from facilities.core.models import AuditEvent, Outbox, utcnow
from facilities.core.storage import get_storage
from facilities.requests import follow_up
from facilities.requests.models import Attachment, RequestUpdate, ServiceRequest, UpdateKind
from facilities.requests.workflow import TRANSITIONS, StatusKind
from tests import factories
from tests.conftest import csrf_token

TARGETS = {"normal": {"response": 4, "resolution": 40}}


def _mails(db, fragment: str) -> list[Outbox]:
    return list(
        db.exec(
            select(Outbox)
            .where(col(Outbox.idempotency_key).contains(fragment))
            .order_by(col(Outbox.id))
        ).all()
    )


# --- staleness ------------------------------------------------------------------------------


def test_a_planned_request_without_news_is_flagged_to_its_assignee_once(db):
    staff = factories.staff(db)
    quiet = factories.service_request(db)
    factories.triage(db, quiet, actor=staff, to="planned", assignee_id=staff.id)
    lively = factories.service_request(db)
    factories.triage(db, lively, actor=staff, to="planned", assignee_id=staff.id)
    fresh_new = factories.service_request(db)  # status New: not on the roadmap yet
    db.commit()
    later = utcnow() + timedelta(days=31)
    db.add(
        RequestUpdate(
            request_id=lively.id,
            kind=UpdateKind.public_update,
            body="Work starts Monday.",
            published_at=later - timedelta(days=2),
        )
    )
    db.commit()

    assert follow_up.flag_stale_requests(db, now=later) == 1
    db.commit()
    assert follow_up.flag_stale_requests(db, now=later + timedelta(hours=1)) == 0
    db.commit()

    mails = _mails(db, ":stale:")
    assert [mail.recipient for mail in mails] == [staff.email]
    assert quiet.reference in mails[0].subject
    db.refresh(quiet)
    assert quiet.stale_flagged_at is not None
    assert db.get(ServiceRequest, fresh_new.id).stale_flagged_at is None
    # another 31 days without news: both flagged (the quiet one again), once each
    assert follow_up.flag_stale_requests(db, now=later + timedelta(days=31)) == 2
    db.commit()
    assert follow_up.flag_stale_requests(db, now=later + timedelta(days=32)) == 0
    assert len(_mails(db, ":stale:")) == 3


def test_a_stale_request_without_an_assignee_goes_to_all_staff(db):
    first, second = factories.staff(db), factories.user(db, role=Role.admin)
    item = factories.service_request(db)
    factories.triage(db, item, actor=first, to="in-progress")
    db.commit()
    assert follow_up.flag_stale_requests(db, now=utcnow() + timedelta(days=31)) == 1
    db.commit()
    assert {mail.recipient for mail in _mails(db, ":stale:")} >= {first.email, second.email}


# --- deadlines ------------------------------------------------------------------------------


def test_a_near_deadline_warns_the_assignee_once_and_a_missed_one_escalates_once(db):
    staff = factories.staff(db)
    admin = factories.user(db, role=Role.admin)
    category = factories.category(db, sla_targets=TARGETS, default_assignee_id=staff.id)
    item = factories.service_request(db, category_=category)
    item.assignee_id = staff.id
    db.add(item)
    db.commit()
    due = item.response_due_at
    assert due is not None

    assert follow_up.warn_of_deadlines(db, now=due - timedelta(hours=6)) == 0  # not yet
    assert follow_up.warn_of_deadlines(db, now=due - timedelta(hours=1)) == 1
    db.commit()
    assert follow_up.warn_of_deadlines(db, now=due - timedelta(minutes=30)) == 0
    db.commit()
    warnings = _mails(db, ":deadline-near:")
    assert [mail.recipient for mail in warnings] == [staff.email]

    assert follow_up.warn_of_deadlines(db, now=due + timedelta(minutes=1)) == 1
    db.commit()
    assert follow_up.warn_of_deadlines(db, now=due + timedelta(hours=2)) == 0
    db.commit()
    escalations = _mails(db, ":deadline-missed:")
    assert admin.email in [mail.recipient for mail in escalations]
    assert staff.email not in [mail.recipient for mail in escalations]  # it has an assignee
    assert len(_mails(db, ":deadline-near:")) == 1


def test_a_missed_deadline_without_an_assignee_goes_to_admins_and_staff(db):
    staff = factories.staff(db)
    admin = factories.user(db, role=Role.admin)
    item = factories.service_request(db, category_=factories.category(db, sla_targets=TARGETS))
    db.commit()
    assert follow_up.warn_of_deadlines(db, now=item.response_due_at + timedelta(hours=1)) == 1
    db.commit()
    recipients = {mail.recipient for mail in _mails(db, ":deadline-missed:")}
    assert {staff.email, admin.email} <= recipients


def test_a_closed_request_gets_no_deadline_mail(db):
    staff = factories.staff(db)
    item = factories.service_request(db, category_=factories.category(db, sla_targets=TARGETS))
    factories.triage(db, item, actor=staff, to="done")
    db.commit()
    assert follow_up.warn_of_deadlines(db, now=utcnow() + timedelta(days=30)) == 0


# --- is it fixed? ---------------------------------------------------------------------------


def _done(db, **fields):
    staff = factories.staff(db)
    item = factories.service_request(db, **fields)
    factories.triage(db, item, actor=staff, to="done", assignee_id=staff.id)
    db.commit()
    return item, staff


def _links(mail: Outbox) -> dict[str, str]:
    return dict(
        (answer, token)
        for token, answer in re.findall(r"/fixed/([\w-]+)\?answer=(yes|no)", mail.body_text)
    )


def test_done_is_reopened_into_review_by_the_workflow():
    assert StatusKind.review in TRANSITIONS[StatusKind.done]


def test_the_sender_is_asked_once_some_days_after_done(db):
    item, _ = _done(db)
    assert follow_up.ask_if_fixed(db, now=utcnow() + timedelta(days=6)) == 0  # too soon
    later = utcnow() + timedelta(days=8)
    assert follow_up.ask_if_fixed(db, now=later) == 1
    db.commit()
    assert follow_up.ask_if_fixed(db, now=later + timedelta(hours=1)) == 0
    db.commit()
    (mail,) = _mails(db, ":fixed-question")
    assert mail.recipient == item.submitter.email
    links = _links(mail)
    assert links["yes"] == links["no"]
    db.refresh(item)
    # only the hash is kept
    assert item.fixed_asked_at is not None and item.fixed_token_hash != links["yes"]
    assert len(item.fixed_token_hash) == 64


def test_a_request_done_long_ago_is_not_asked(db):
    _done(db)
    assert follow_up.ask_if_fixed(db, now=utcnow() + timedelta(days=90)) == 0


def _asked(db, app):
    item, staff = _done(db)
    assert follow_up.ask_if_fixed(db, now=utcnow() + timedelta(days=8)) == 1
    db.commit()
    (mail,) = _mails(db, ":fixed-question")
    return item, staff, _links(mail)["no"]


def test_a_get_only_asks_and_yes_records_the_answer_once(db, app, client):
    item, _, token = _asked(db, app)
    page = client.get(f"/fixed/{token}?answer=yes")
    assert page.status_code == 200
    assert item.title in page.get_data(as_text=True)
    db.refresh(item)
    assert item.fixed_answer is None  # a mail scanner's GET answers nothing

    form = {"answer": "yes", "csrf_token": csrf_token(client, f"/fixed/{token}")}
    assert client.post(f"/fixed/{token}", data=form).status_code == 200
    again = client.post(f"/fixed/{token}", data={**form, "answer": "no"})
    assert again.status_code == 200
    db.refresh(item)
    assert (item.fixed_answer, item.status.kind) == ("yes", StatusKind.done)
    assert _mails(db, ":not-fixed:") == []


def test_no_reopens_the_request_with_a_note_and_tells_the_assignee(db, app, client):
    item, staff, token = _asked(db, app)
    form = {"answer": "no", "csrf_token": csrf_token(client, f"/fixed/{token}")}
    response = client.post(f"/fixed/{token}", data=form)
    assert response.status_code == 200
    client.post(f"/fixed/{token}", data=form)  # twice: reopened and told once
    db.expire_all()
    item = db.get(ServiceRequest, item.id)
    assert (item.fixed_answer, item.status.kind, item.resolved_at) == (
        "no",
        StatusKind.review,
        None,
    )
    notes = db.exec(
        select(RequestUpdate).where(
            RequestUpdate.request_id == item.id, RequestUpdate.kind == UpdateKind.internal_note
        )
    ).all()
    assert len(notes) == 1 and notes[0].body
    assert [mail.recipient for mail in _mails(db, ":not-fixed:")] == [staff.email]
    actions = db.exec(select(AuditEvent.action).where(AuditEvent.entity_id == item.id)).all()
    assert actions.count("request.reopened") == 1


def test_bad_and_expired_links_and_bad_answers(db, app, client):
    assert client.get("/fixed/not-a-token").status_code == 410
    assert client.get("/fixed/" + "x" * 300).status_code == 410
    item, _, token = _asked(db, app)
    form = {"answer": "maybe", "csrf_token": csrf_token(client, f"/fixed/{token}")}
    refused = client.post(f"/fixed/{token}", data=form)
    assert refused.status_code == 422
    assert "Valitse toinen kahdesta vastauksesta." in refused.get_data(as_text=True)
    item.fixed_asked_at = utcnow() - timedelta(days=31)
    db.add(item)
    db.commit()
    assert client.get(f"/fixed/{token}").status_code == 410
    assert client.post(f"/fixed/{token}", data={**form, "answer": "no"}).status_code == 410
    db.refresh(item)
    assert item.fixed_answer is None


# --- retention ------------------------------------------------------------------------------


def test_retention_removes_personal_data_of_old_closed_requests_once(db, app):
    staff = factories.staff(db)
    item = factories.service_request(db, show_name=True)
    submitter = item.submitter
    file = factories.attachment(db, item)
    db.add_all(
        [
            RequestUpdate(
                request_id=item.id,
                kind=UpdateKind.comment,
                author_id=submitter.id,
                body="Call me on 040 123 4567.",
                published_at=utcnow(),
            ),
            RequestUpdate(
                request_id=item.id,
                kind=UpdateKind.comment,
                author_id=staff.id,
                body="We will.",
                published_at=utcnow(),
            ),
        ]
    )
    # what an Open311 client sends along: whom to contact and where the pin was put
    item.contact = {"email": "resident@example.org", "first_name": "Aino", "phone": "0401234567"}
    item.latitude, item.longitude = 60.1699, 24.9384
    factories.triage(db, item, actor=staff, to="done")
    open_item = factories.service_request(db)
    open_item.contact = {"email": "still-open@example.org"}
    open_item.latitude, open_item.longitude = 60.17, 24.94
    db.add_all(
        [
            AccessToken(
                purpose=TokenPurpose.magic_link,
                token_hash="a" * 64,
                email=submitter.email,
                expires_at=utcnow() - timedelta(minutes=1),
            ),
            AccessToken(
                purpose=TokenPurpose.magic_link,
                token_hash="b" * 64,
                email=submitter.email,
                expires_at=utcnow() + timedelta(days=800 * 2),
            ),
            RememberToken(
                user_id=submitter.id,
                selector="s" * 32,
                validator_hash="v" * 64,
                expires_at=utcnow() - timedelta(days=1),
            ),
        ]
    )
    db.commit()
    storage = get_storage()
    assert storage.load(file.storage_key) is not None

    too_soon = follow_up.apply_retention(db, now=utcnow() + timedelta(days=700))
    db.commit()
    assert (too_soon.requests, too_soon.tokens) == (0, 2)  # expired tokens go at once
    later = utcnow() + timedelta(days=2 * 366)
    result = follow_up.apply_retention(db, now=later)
    db.commit()
    assert (result.requests, result.tokens) == (1, 0)
    again = follow_up.apply_retention(db, now=later + timedelta(hours=1))
    db.commit()
    assert (again.requests, again.tokens) == (0, 0)

    db.expire_all()
    item = db.get(ServiceRequest, item.id)
    assert (item.submitter_id, item.show_name, item.anonymised_at) == (None, False, later)
    assert (item.contact, item.latitude, item.longitude) == ({}, None, None)
    assert item.title  # kept for statistics
    bodies = db.exec(
        select(RequestUpdate.body)
        .where(RequestUpdate.request_id == item.id, RequestUpdate.kind == UpdateKind.comment)
        .order_by(col(RequestUpdate.id))
    ).all()
    assert bodies == ["", "We will."]
    assert db.exec(select(Attachment).where(Attachment.request_id == item.id)).all() == []
    assert storage.load(file.storage_key) is None
    open_item = db.get(ServiceRequest, open_item.id)
    assert open_item.submitter_id is not None
    assert open_item.contact == {"email": "still-open@example.org"}
    assert (open_item.latitude, open_item.longitude) == (60.17, 24.94)
    assert db.exec(select(AccessToken.token_hash)).all() == ["b" * 64]
    assert db.exec(select(RememberToken)).all() == []
    audited = db.exec(select(AuditEvent).where(AuditEvent.action == "request.anonymised")).all()
    assert [event.entity_id for event in audited] == [item.id]


def test_months_before_keeps_the_day_or_takes_the_months_last():
    from datetime import UTC, datetime

    assert follow_up.months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, tzinfo=UTC
    )
    assert follow_up.months_before(datetime(2026, 1, 15, tzinfo=UTC), 24) == datetime(
        2024, 1, 15, tzinfo=UTC
    )


# --- every job through run_job, twice ---------------------------------------------------------


def test_each_follow_up_job_is_listed_and_runs_as_a_job_run(app, db):
    from facilities.core.jobs import run_job
    from facilities.schedule import JOBS_BY_ID

    for job_id in ("flag-stale-requests", "warn-of-deadlines", "ask-if-fixed", "apply-retention"):
        run = run_job(app, JOBS_BY_ID[job_id], holder="test")
        assert (run.job_id, run.outcome) == (job_id, "ok")


def test_the_demo_park_has_a_stale_request_and_a_done_one_to_ask_about(db):
    from facilities.demo import load_demo_data

    load_demo_data(db)
    db.commit()
    now = utcnow()
    assert follow_up.flag_stale_requests(db, now=now) >= 1
    assert follow_up.ask_if_fixed(db, now=now) >= 1


def test_retention_forgets_api_calls_older_than_the_retention_months(db):
    from facilities.accounts import api_keys
    from facilities.accounts.models import ApiKeyUse, ApiScope

    admin = factories.user(db, role=Role.admin)
    key, _raw = api_keys.issue_key(
        db, admin=admin, data=api_keys.ApiKeyCreate(name="City", scopes=[ApiScope.read])
    )
    now = utcnow()
    for days_ago in (800, 10):
        api_keys.record_use(
            db,
            key=key,
            method="GET",
            path="/api/open311/v2/services.json",
            status_code=200,
            remote_addr="198.51.100.7",
            now=now - timedelta(days=days_ago),
        )
    db.commit()
    result = follow_up.apply_retention(db, now=now)
    db.commit()
    assert result.api_uses == 1
    kept = db.exec(select(ApiKeyUse.at)).all()
    assert len(kept) == 1 and kept[0] > now - timedelta(days=30)
