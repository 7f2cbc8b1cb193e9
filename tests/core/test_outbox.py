"""E-mail goes through the outbox and a real SMTP conversation (aiosmtpd), never a mock."""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from facilities.core import outbox
from facilities.core.db import get_engine
from facilities.core.jobs import run_job
from facilities.core.mail import build_message
from facilities.core.models import JobRun, Outbox, OutboxStatus, utcnow
from facilities.schedule import JOBS_BY_ID
from tests import factories
from tests.conftest import make_test_app

BASE_URL = "https://palvelut.example.fi"


class Inbox:
    """An aiosmtpd handler that keeps what it receives.

    A test may set `answer`: it is called with each message before the server replies,
    in a worker thread, so the server goes on serving other senders meanwhile (a slow
    server). A reply it returns, such as "451 ...", refuses the message.
    """

    def __init__(self) -> None:
        self.messages = []
        self.raw: list[bytes] = []  # as on the wire: what mail programs read
        self.refused = []
        self.answer = None

    async def handle_DATA(self, _server, _session, envelope):
        message = message_from_bytes(envelope.content, policy=default_policy)
        if self.answer is not None:
            reply = await asyncio.get_running_loop().run_in_executor(None, self.answer, message)
            if reply:
                self.refused.append(message)
                return reply
        self.messages.append((envelope.rcpt_tos, message))
        self.raw.append(envelope.content)
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
    for _to, message in handler.messages:  # the title on its own line, as the mail was sent
        assert item.title in message.get_body(("plain",)).get_content().splitlines()


def test_a_scheduled_update_is_mailed_when_it_is_published(mail_app, mail_db, inbox):
    handler, _port = inbox
    member = factories.user(mail_db)
    factories.scheduled_update(mail_db, item=factories.service_request(mail_db, submitter=member))
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

        for hours in range(1, outbox.MAX_ATTEMPTS + 1):
            send(app, now=now + timedelta(hours=hours * 7))
        db.expire_all()
        item = db.exec(select(Outbox)).one()
        assert (item.status, item.attempts) == (OutboxStatus.failed, outbox.MAX_ATTEMPTS)
    get_engine(app).dispose()


def test_queueing_the_same_email_twice_keeps_one(db):
    mail = {"key": "k", "recipient": "a@example.com", "subject": "s", "body_text": "b"}
    assert outbox.enqueue_email(db, **mail, now=utcnow())
    assert outbox.enqueue_email(db, **mail, now=utcnow()) is None
    assert len(db.exec(select(Outbox)).all()) == 1


def _queue(db, count: int, now=None) -> list[Outbox]:
    items = [
        outbox.enqueue_email(
            db,
            key=f"test:{number}",
            recipient=f"person{number}@example.com",
            subject=f"Message {number}",
            body_text="Hello.",
            now=now or utcnow(),
        )
        for number in range(count)
    ]
    db.commit()
    return items


def _recipients(handler) -> list[str]:
    return sorted(
        recipient for recipients, _message in handler.messages for recipient in recipients
    )


def _outbox(db) -> list[tuple[OutboxStatus, int]]:
    db.expire_all()
    return [
        (item.status, item.attempts) for item in db.exec(select(Outbox).order_by(col(Outbox.id)))
    ]


def test_the_message_id_is_fixed_by_the_outbox_row():
    item = Outbox(
        id=7,
        idempotency_key="request:3:received",
        recipient="a@example.com",
        subject="s",
        body_text="b",
    )
    digest = hashlib.sha256(b"request:3:received").hexdigest()[:16]
    sender = "Teknologiapuisto <noreply@park.example.fi>"

    first = build_message(item, sender=sender, now=utcnow())["Message-ID"]
    assert first == f"<outbox.7.{digest}@park.example.fi>"
    assert build_message(item, sender=sender, now=utcnow())["Message-ID"] == first  # every attempt
    other = Outbox(
        id=8,
        idempotency_key="request:3:other",
        recipient="a@example.com",
        subject="s",
        body_text="b",
    )
    assert build_message(other, sender=sender, now=utcnow())["Message-ID"] != first
    assert (
        build_message(item, sender="noreply", now=utcnow())["Message-ID"]
        == f"<outbox.7.{digest}@facilities>"
    )


def test_a_message_refused_for_now_is_retried_with_the_same_message_id(mail_app, mail_db, inbox):
    handler, _port = inbox
    handler.answer = lambda _message: None if handler.refused else "451 4.7.1 Greylisted, try later"
    [item] = _queue(mail_db, 1)
    now = utcnow()

    assert send(mail_app, now=now).items == 0
    assert _outbox(mail_db) == [(OutboxStatus.pending, 1)]
    assert send(mail_app, now=now + outbox.retry_delay(1) + timedelta(seconds=30)).items == 1

    [refused] = handler.refused
    [(_to, accepted)] = handler.messages
    assert refused["Message-ID"] == accepted["Message-ID"]
    assert re.fullmatch(rf"<outbox\.{item.id}\.[0-9a-f]{{16}}@[a-z0-9.-]+>", accepted["Message-ID"])
    assert _outbox(mail_db) == [(OutboxStatus.sent, 2)]


class Killed(BaseException):
    """The sender's process dying: no `except Exception` on the way catches it."""


def test_a_sender_killed_after_the_server_accepted_resends_with_the_same_message_id(
    mail_app, mail_db, inbox
):
    handler, _port = inbox
    _queue(mail_db, 1)
    engine = get_engine(mail_app)
    now = utcnow()

    def die_before_marking_it_sent(_connection, _cursor, statement, *_args):
        if statement.startswith("UPDATE outbox") and "sent_at" in statement:
            raise Killed

    event.listen(engine, "before_cursor_execute", die_before_marking_it_sent)
    try:
        with pytest.raises(Killed):
            send(mail_app, now=now)
    finally:
        event.remove(engine, "before_cursor_execute", die_before_marking_it_sent)
    assert len(handler.messages) == 1
    assert _outbox(mail_db) == [(OutboxStatus.pending, 1)]

    # While the dead sender's claim lasts nobody sends it; then it is sent again.
    assert send(mail_app, now=now + outbox.CLAIM_TTL - timedelta(seconds=1)).items == 0
    assert send(mail_app, now=now + outbox.CLAIM_TTL + timedelta(seconds=30)).items == 1

    [(_first_to, first), (_second_to, second)] = handler.messages
    assert first["Message-ID"] == second["Message-ID"]  # the receiver can drop the copy
    assert _outbox(mail_db) == [(OutboxStatus.sent, 2)]


def test_a_sender_whose_claims_ran_out_skips_what_another_sender_took_over(
    mail_app, mail_db, inbox
):
    handler, _port = inbox
    _queue(mail_db, 3)
    now = utcnow()
    later = now + outbox.CLAIM_TTL + timedelta(minutes=1)

    with Session(get_engine(mail_app), expire_on_commit=False) as sender_a:
        claims = outbox.claim_outbox(sender_a, now)
        assert len(claims) == 3
        assert outbox.send_claimed(sender_a, claims[:1], now=now) == 1
        # Sender A stalls; its other claims run out and sender B takes those over.
        assert send(mail_app, now=later).items == 2
        # A goes on where it stopped: the rest is no longer its to send.
        assert outbox.send_claimed(sender_a, claims[1:], now=later) == 0

    assert _recipients(handler) == [f"person{number}@example.com" for number in range(3)]
    assert _outbox(mail_db) == [
        (OutboxStatus.sent, 1),
        (OutboxStatus.sent, 2),
        (OutboxStatus.sent, 2),
    ]


def test_a_slow_mail_server_does_not_let_the_claim_of_the_message_it_has_run_out(
    mail_app, mail_db, inbox
):
    handler, _port = inbox
    _queue(mail_db, 2)
    now = utcnow()
    # Sender A claims both at `now` but reaches them only four minutes later (the mail
    # server was slow); the server holds the first e-mail until the claim A had at `now`
    # has run out, and meanwhile sender B runs.
    a_starts = now + timedelta(minutes=4)
    b_runs_at = now + outbox.CLAIM_TTL + timedelta(minutes=2)
    b_runs = []

    def second_sender_runs_meanwhile(_message):
        if not b_runs:  # once, and not again for B's own e-mail
            b_runs.append(None)
            b_runs[0] = send(mail_app, now=b_runs_at)

    handler.answer = second_sender_runs_meanwhile

    with Session(get_engine(mail_app), expire_on_commit=False) as sender_a:
        claims = outbox.claim_outbox(sender_a, now)
        assert outbox.send_claimed(sender_a, claims, now=a_starts) == 1

    assert (b_runs[0].outcome, b_runs[0].items) == ("ok", 1)  # the second e-mail only
    assert _recipients(handler) == ["person0@example.com", "person1@example.com"]
    assert _outbox(mail_db) == [(OutboxStatus.sent, 1), (OutboxStatus.sent, 2)]
    assert mail_db.exec(select(JobRun.outcome)).all() == ["ok"]


def _raw_header(raw: bytes, name: str) -> str:
    """One header as it went over the wire, its folded lines joined (RFC 5322 unfolding)."""
    head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
    found = re.search(
        rb"^" + re.escape(name.encode()) + rb": (.*(?:\n[ \t].*)*)", head, re.MULTILINE
    )
    assert found, f"no {name} in {head!r}"
    return re.sub(rb"\n[ \t]", b" ", found.group(1)).decode("ascii")


def test_list_unsubscribe_goes_over_the_wire_as_urls_not_encoded_words(mail_app, mail_db, inbox):
    """Mail programs read the raw header: an RFC 2047 encoded word there is no URL, so
    they offer no unsubscribe (RFC 2369, RFC 8058). Python's parser would decode it."""
    handler, _port = inbox
    long_url = f"{BASE_URL}/subscriptions/unsubscribe/{'x' * 120}"
    outbox.enqueue_email(
        mail_db,
        key="list",
        recipient="reader@example.com",
        subject="Päivitys: Sähköautojen latauspisteet Sensorin pihaan ja parkkihalliin " * 2,
        body_text="Hei.",
        headers={
            "List-Unsubscribe": f"<{long_url}>, <mailto:unsubscribe@park.example.fi?subject=x>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        now=utcnow(),
    )
    mail_db.commit()
    assert send(mail_app).items == 1

    [raw] = handler.raw
    unsubscribe = _raw_header(raw, "List-Unsubscribe")
    assert "=?" not in unsubscribe
    assert unsubscribe == f"<{long_url}>, <mailto:unsubscribe@park.example.fi?subject=x>"
    assert f"List-Unsubscribe: <{long_url}>".encode() in raw  # the URL on one line, whole
    assert _raw_header(raw, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))  # RFC 5322's hard limit
    subject = _raw_header(raw, "Subject")
    assert subject.startswith("=?utf-8?")  # non-ASCII words stay encoded, as they must
    assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n")[:3])
    [(_to, message)] = handler.messages
    assert message["Subject"] == " ".join(
        ("Päivitys: Sähköautojen latauspisteet Sensorin pihaan ja parkkihalliin " * 2).split()
    )
