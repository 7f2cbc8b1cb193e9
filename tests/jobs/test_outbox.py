"""E-mail goes through the outbox and a real SMTP conversation (aiosmtpd), never a mock."""

from __future__ import annotations

import socket
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from sqlmodel import Session, select

from facilities.db import get_engine
from facilities.jobs import JOBS_BY_ID, run_job
from facilities.models import Outbox, OutboxStatus, utcnow
from facilities.services import notify
from tests import factories
from tests.conftest import make_test_app

BASE_URL = "https://palvelut.example.fi"


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, _server, _session, envelope):
        message = message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbox():
    from aiosmtpd.controller import Controller

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


def _app(database_url, port):
    return make_test_app(database_url, smtp_host="127.0.0.1", smtp_port=port, base_url=BASE_URL)


@pytest.fixture
def mail_app(database_url, inbox):
    app = _app(database_url, inbox[1])
    yield app
    get_engine(app).dispose()


@pytest.fixture
def mail_db(mail_app):
    with mail_app.app_context(), Session(get_engine(mail_app), expire_on_commit=False) as session:
        yield session


def send(app, now=None):
    return run_job(app, JOBS_BY_ID["send-outbox"], holder="test", now=now)


def test_the_sender_gets_a_receipt_in_their_language_once(mail_app, mail_db, inbox):
    handler, _port = inbox
    finn = factories.user(mail_db, email="aino@example.com", name="Aino")
    english = factories.user(mail_db, email="sam@example.com", name="Sam", preferred_language="en")
    first = factories.service_request(mail_db, submitter=finn, title="Bike racks at Sensori")
    second = factories.service_request(mail_db, submitter=english, title="More light outside")
    mail_db.commit()

    assert send(mail_app).items == 2
    assert send(mail_app).items == 0  # nothing is sent twice

    received = {recipients[0]: message for recipients, message in handler.messages}
    assert set(received) == {"aino@example.com", "sam@example.com"}
    finnish = received["aino@example.com"]
    assert finnish["Subject"] == f"Vastaanotettu: {first.reference} Bike racks at Sensori"
    body = finnish.get_content()
    assert "Hei Aino," in body and f"{BASE_URL}/requests/{first.reference}" in body
    assert received["sam@example.com"]["Subject"] == (
        f"Received: {second.reference} More light outside"
    )
    statuses = mail_db.exec(select(Outbox.status)).all()
    assert statuses == [OutboxStatus.sent, OutboxStatus.sent]


def test_public_updates_are_mailed_and_internal_notes_are_not(mail_app, mail_db, inbox):
    handler, _port = inbox
    member = factories.user(mail_db, email="aino@example.com")
    staff = factories.staff(mail_db)
    item = factories.service_request(mail_db, submitter=member)
    factories.triage(mail_db, item, actor=staff, internal_note="Call the electrician.")
    factories.triage(mail_db, item, actor=staff, to="planned", public_update="Coming in spring.")
    mail_db.commit()

    send(mail_app)

    subjects = [message["Subject"] for _to, message in handler.messages]
    assert subjects == [
        f"Vastaanotettu: {item.reference} {item.title}",
        f"Päivitys pyyntöön {item.reference}: {item.title}",
    ]
    update_mail = handler.messages[1][1].get_content()
    assert "Tila: Suunniteltu" in update_mail and "Coming in spring." in update_mail
    assert "electrician" not in update_mail


def test_a_scheduled_update_is_mailed_when_it_is_published(mail_app, mail_db, inbox):
    handler, _port = inbox
    member = factories.user(mail_db)
    staff = factories.staff(mail_db)
    item = factories.service_request(mail_db, submitter=member)
    factories.triage(
        mail_db,
        item,
        actor=staff,
        public_update="Contractor chosen.",
        publish_at=utcnow() + timedelta(minutes=5),
    )
    mail_db.commit()
    send(mail_app)
    assert len(handler.messages) == 1  # the receipt only

    later = utcnow() + timedelta(minutes=6)
    run_job(mail_app, JOBS_BY_ID["publish-scheduled-updates"], holder="test", now=later)
    send(mail_app, now=later)
    assert len(handler.messages) == 2
    assert "Contractor chosen." in handler.messages[1][1].get_content()


def test_smtp_failures_are_retried_later_and_given_up_in_the_end(database_url):
    app = _app(database_url, free_port())  # nobody listens there
    with app.app_context(), Session(get_engine(app), expire_on_commit=False) as db:
        factories.service_request(db)
        db.commit()
        now = utcnow()

        first = send(app, now=now)
        assert (first.outcome, first.items) == ("ok", 0)
        item = db.exec(select(Outbox)).one()
        assert (item.status, item.attempts) == (OutboxStatus.pending, 1)
        assert item.next_attempt_at > now and "ConnectionRefusedError" in item.last_error

        assert send(app, now=now).items == 0  # not due again yet
        db.expire_all()
        assert db.exec(select(Outbox)).one().attempts == 1

        for hours in range(1, notify.MAX_ATTEMPTS + 1):
            send(app, now=now + timedelta(hours=hours * 7))
        db.expire_all()
        item = db.exec(select(Outbox)).one()
        assert (item.status, item.attempts) == (OutboxStatus.failed, notify.MAX_ATTEMPTS)
    get_engine(app).dispose()


def test_queueing_the_same_email_twice_keeps_one(db):
    assert notify.enqueue_email(db, key="k", recipient="a@example.com", subject="s", body_text="b")
    assert (
        notify.enqueue_email(db, key="k", recipient="a@example.com", subject="s", body_text="b")
        is None
    )
    assert len(db.exec(select(Outbox)).all()) == 1
