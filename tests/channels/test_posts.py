"""Public updates and status changes reach the channels through the outbox: signed,
retried, once; private requests and inactive channels get nothing."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

from sqlmodel import col, select

from facilities.channels.models import ChannelFormat
from facilities.core import outbox
from facilities.core.models import Outbox, OutboxKind, OutboxStatus, utcnow
from facilities.core.webhooks import IDEMPOTENCY_HEADER, SIGNATURE_HEADER
from facilities.park.models import Visibility
from facilities.settings import get_settings
from tests import factories
from tests.channels.receiver import verify
from tests.core.test_addresses import PUBLIC, fake_dns


def _webhooks(db) -> list[Outbox]:
    db.expire_all()
    return list(
        db.exec(
            select(Outbox).where(Outbox.kind == OutboxKind.webhook).order_by(col(Outbox.id))
        ).all()
    )


def test_a_post_refused_with_500_is_delivered_once_on_the_retry_signed_both_times(
    db, receiver, make_channel
):
    channel = make_channel(receiver.url)
    item = factories.service_request(db, title="Latauspisteet Sensorin eteen")
    factories.triage(db, item, actor=factories.staff(db), public_update="Urakoitsija valittu.")
    db.commit()
    receiver.answers = [500]

    now = utcnow()
    outbox.send_outbox(db, now)
    [row] = _webhooks(db)
    assert (row.status, row.attempts) == (OutboxStatus.pending, 1)
    assert "HTTP 500" in row.last_error
    outbox.send_outbox(db, now + timedelta(seconds=30))  # not due yet
    assert len(receiver.received) == 1

    later = now + outbox.retry_delay(1) + timedelta(seconds=1)
    outbox.send_outbox(db, later)
    outbox.send_outbox(db, later + timedelta(hours=1))  # delivered: never again
    assert len(receiver.received) == 2
    [row] = _webhooks(db)
    assert row.status == OutboxStatus.sent
    first, second = receiver.received
    assert first.body == second.body
    assert first.headers[IDEMPOTENCY_HEADER] == second.headers[IDEMPOTENCY_HEADER]
    assert second.headers[IDEMPOTENCY_HEADER] == f"channel:{channel.id}:entry:" + str(
        row.payload["update"]["id"]
    )
    for received in (first, second):
        assert verify(channel.secret, received.headers[SIGNATURE_HEADER], received.body)
        assert not verify("another secret", received.headers[SIGNATURE_HEADER], received.body)
        assert not verify(channel.secret, received.headers[SIGNATURE_HEADER], received.body + b" ")
    posted = json.loads(second.body)
    assert posted["event"] == "request.updated"
    assert posted["request"]["reference"] == item.reference
    assert posted["request"]["url"].endswith(f"/requests/{item.reference}")
    assert posted["request"]["url"].startswith("http")
    assert posted["update"]["text"] == "Urakoitsija valittu."
    assert posted["language"] == "fi"


def test_a_status_change_is_posted_in_finnish_as_plain_text(db, make_channel):
    make_channel("https://hooks.example.fi/a")
    item = factories.service_request(db)
    factories.triage(
        db,
        item,
        actor=factories.staff(db),
        to="planned",
        public_update="**Tilattu** <b>nyt</b> ja [linkki](https://example.fi)",
    )
    db.commit()
    [change] = [row.payload for row in _webhooks(db)]  # the change carries the update
    assert change["event"] == "request.status_changed"
    assert change["update"]["to_status"] == "Suunniteltu"
    assert "Uusi → Suunniteltu" in change["text"]  # the statuses' Finnish names
    text = change["update"]["text"]
    assert text == "Tilattu <b>nyt</b> ja linkki"  # Markdown gone; typed text kept as text
    assert "**" not in text


def test_slack_and_teams_get_their_own_shapes_and_no_signature(db, receiver, make_channel):
    make_channel(receiver.url, format=ChannelFormat.slack, wants_status_changes=False)
    make_channel(receiver.url, format=ChannelFormat.teams, wants_status_changes=False)
    item = factories.service_request(db, title="Valot <pyörätelineelle> & katos")
    factories.triage(db, item, actor=factories.staff(db), public_update="Asennetaan ensi viikolla.")
    db.commit()
    slack, teams = (row.payload for row in _webhooks(db))

    assert set(slack) == {"text", "blocks"}
    assert item.reference in slack["text"]
    headline = slack["blocks"][0]["text"]
    assert headline["type"] == "mrkdwn"
    assert "&lt;pyörätelineelle&gt; &amp; katos" in headline["text"]  # user text stays text
    assert f"/requests/{item.reference}|" in headline["text"]
    assert slack["blocks"][1]["text"]["text"] == "Asennetaan ensi viikolla."

    assert teams["type"] == "message"
    [attachment] = teams["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert [block["type"] for block in card["body"]] == ["TextBlock", "TextBlock"]
    assert card["body"][1]["text"] == "Asennetaan ensi viikolla."
    [action] = card["actions"]
    assert action["type"] == "Action.OpenUrl"
    assert action["url"].endswith(f"/requests/{item.reference}")

    outbox.send_outbox(db, utcnow())
    assert len(receiver.received) == 2
    assert all(SIGNATURE_HEADER not in received.headers for received in receiver.received)
    assert all(IDEMPOTENCY_HEADER in received.headers for received in receiver.received)


def test_private_requests_are_never_posted(db, make_channel):
    make_channel("https://hooks.example.fi/a", wants_weekly=True)
    item = factories.service_request(db)
    item.visibility = Visibility.private
    db.commit()
    staff = factories.staff(db)
    factories.triage(db, item, actor=staff, to="planned", public_update="Salainen.")
    factories.triage(db, item, actor=staff, to="done", internal_note="Sisäinen.")
    db.commit()
    assert _webhooks(db) == []


def test_internal_notes_are_not_posted(db, make_channel):
    make_channel("https://hooks.example.fi/a")
    item = factories.service_request(db)
    factories.triage(db, item, actor=factories.staff(db), internal_note="Vain henkilökunnalle.")
    db.commit()
    assert _webhooks(db) == []


def test_inactive_channels_and_unwanted_kinds_get_nothing(db, make_channel):
    make_channel("https://hooks.example.fi/off", active=False)
    only_updates = make_channel("https://hooks.example.fi/updates", wants_status_changes=False)
    item = factories.service_request(db)
    factories.triage(db, item, actor=factories.staff(db), to="planned")
    db.commit()
    assert _webhooks(db) == []
    factories.triage(db, item, actor=factories.staff(db), public_update="Nyt jotain.")
    db.commit()
    [row] = _webhooks(db)
    assert row.url == only_updates.url


def test_a_scheduled_update_is_posted_when_it_is_published(db, make_channel):
    make_channel("https://hooks.example.fi/a")
    item = factories.scheduled_update(db, body="Huomenna alkaa.")
    db.commit()
    assert _webhooks(db) == []
    from facilities.requests.timeline import publish_due_updates

    publish_due_updates(db, now=utcnow() + timedelta(minutes=10))
    db.commit()
    [row] = _webhooks(db)
    assert row.payload["request"]["reference"] == item.reference
    assert row.payload["update"]["text"] == "Huomenna alkaa."


def test_a_receiver_that_keeps_failing_is_parked_after_the_last_attempt(db, receiver, make_channel):
    make_channel(receiver.url)
    item = factories.service_request(db)
    factories.triage(db, item, actor=factories.staff(db), public_update="Jotain.")
    db.commit()
    receiver.answers = [503] * outbox.MAX_ATTEMPTS
    now = utcnow()
    for _attempt in range(outbox.MAX_ATTEMPTS):
        now += outbox.LONGEST_RETRY + timedelta(minutes=1)
        outbox.send_outbox(db, now)
    [row] = _webhooks(db)
    assert (row.status, row.attempts) == (OutboxStatus.failed, outbox.MAX_ATTEMPTS)
    assert "HTTP 503" in row.last_error
    assert len(receiver.received) == outbox.MAX_ATTEMPTS
    outbox.send_outbox(db, now + timedelta(days=1))
    assert len(receiver.received) == outbox.MAX_ATTEMPTS  # parked: not tried again


def test_a_receiver_that_is_not_listening_is_retried(app, db, make_channel):
    get_settings(app).webhook_allowed_networks = "127.0.0.1/32"
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    make_channel(f"http://127.0.0.1:{port}/nobody-listens")
    item = factories.service_request(db)
    factories.triage(db, item, actor=factories.staff(db), public_update="Jotain.")
    db.commit()
    outbox.send_outbox(db, utcnow())
    [row] = _webhooks(db)
    assert (row.status, row.attempts) == (OutboxStatus.pending, 1)
    assert "ConnectError" in row.last_error


def _one_public_update(db) -> None:
    item = factories.service_request(db)
    factories.triage(db, item, actor=factories.staff(db), public_update="Jotain.")
    db.commit()


def test_a_refused_post_keeps_its_status_never_the_receiver_s_answer(db, receiver, make_channel):
    make_channel(receiver.url)
    _one_public_update(db)
    receiver.answers = [500]
    receiver.body = b"Traceback (most recent call last): db password=hunter2 " * 20
    outbox.send_outbox(db, utcnow())
    [row] = _webhooks(db)
    assert (row.status, row.attempts) == (OutboxStatus.pending, 1)
    assert row.last_error == "WebhookRefused: HTTP 500 Internal Server Error"


def test_a_redirect_is_not_followed(db, receiver, make_channel):
    make_channel(receiver.url)
    _one_public_update(db)
    receiver.answers = [307]
    receiver.headers = {"Location": "http://169.254.169.254/latest/meta-data/"}
    outbox.send_outbox(db, utcnow())
    [row] = _webhooks(db)
    assert row.last_error == "WebhookRefused: HTTP 307 Temporary Redirect"
    assert len(receiver.received) == 1


def test_a_name_that_resolves_to_a_private_address_when_sending_is_not_posted_to(
    db, make_channel, monkeypatch
):
    dns = {"hooks.public.test": [PUBLIC, "169.254.169.254"]}  # public when saved, not after
    fake_dns(monkeypatch, dns)
    make_channel("https://hooks.public.test/a")
    _one_public_update(db)
    outbox.send_outbox(db, utcnow())
    [row] = _webhooks(db)
    assert (row.status, row.attempts) == (OutboxStatus.pending, 1)
    assert row.last_error.startswith("WebhookRefused: not sent: hooks.public.test is 169.254")


def test_a_name_saved_before_it_resolved_is_checked_when_sending(db, make_channel):
    make_channel("https://hooks.example.fi/a")  # no address (yet): taken, checked later
    _one_public_update(db)
    outbox.send_outbox(db, utcnow())
    [row] = _webhooks(db)
    assert row.last_error == "WebhookRefused: not sent: no address found for hooks.example.fi"


def test_the_post_connects_to_the_address_checked_with_the_name_as_host(
    db, receiver, make_channel, monkeypatch
):
    # allowed when saved and when checked for the post, then rebound to a private
    # address: a second look-up when connecting would post there
    asked = fake_dns(monkeypatch, {"hooks.rebind.test": ["127.0.0.1", "127.0.0.1", "10.9.9.9"]})
    make_channel(f"http://hooks.rebind.test:{receiver.port}/hooks/facilities")
    _one_public_update(db)
    outbox.send_outbox(db, utcnow())
    [row] = _webhooks(db)
    assert row.status == OutboxStatus.sent, row.last_error
    [received] = receiver.received
    assert received.path == "/hooks/facilities"
    assert received.headers["Host"] == f"hooks.rebind.test:{receiver.port}"
    assert asked == {"hooks.rebind.test": 2}  # once when saved, once for the post


def test_an_https_post_goes_to_the_checked_address_with_the_name_for_tls(
    db, make_channel, monkeypatch
):
    import httpx

    fake_dns(monkeypatch, {"hooks.public.test": [PUBLIC]})
    make_channel("https://hooks.public.test/a")
    _one_public_update(db)
    sent: list[httpx.Request] = []

    def send(_client, request, **_kwargs):
        sent.append(request)
        return httpx.Response(204, request=request)

    monkeypatch.setattr(httpx.Client, "send", send)
    outbox.send_outbox(db, utcnow())
    [request] = sent
    assert str(request.url) == f"https://{PUBLIC}/a"
    assert request.headers["Host"] == "hooks.public.test"
    assert request.extensions["sni_hostname"] == "hooks.public.test"  # and the certificate's
    assert _webhooks(db)[0].status == OutboxStatus.sent
