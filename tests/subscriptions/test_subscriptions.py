"""E-mail subscriptions: double opt-in, both RFC 8058 ways to unsubscribe, links that no
longer work, immediate e-mails in the subscriber's language, digests, privacy, and
delivery through a real SMTP server (aiosmtpd) that may be down for a while."""

from __future__ import annotations

import re
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import update
from sqlmodel import col, select

from facilities.core.jobs import run_job
from facilities.core.models import Outbox, OutboxStatus, utcnow
from facilities.park.models import Visibility
from facilities.requests.models import RequestUpdate
from facilities.schedule import JOBS_BY_ID
from facilities.subscriptions import delivery
from facilities.subscriptions.models import Frequency, Subscription, SubscriptionScope
from facilities.subscriptions.queries import Followed
from facilities.subscriptions.subscribing import new_token, subscribe, token_of
from tests import factories
from tests.conftest import csrf_token, make_test_app, sign_in
from tests.core.test_outbox import BASE_URL, Inbox, free_port, send

CONFIRM = re.compile(rf"{re.escape(BASE_URL)}/subscriptions/confirm/(\S+)")
UNSUBSCRIBE = re.compile(rf"{re.escape(BASE_URL)}/subscriptions/unsubscribe/(\S+)")


def _ask(client, *, scope="category", key="ev-charging", **form):
    path = f"/subscribe?scope={scope}&id={key}"
    fields = {"scope": scope, "id": key, "frequency": "immediate", "language": "fi", **form}
    return client.post(path, data={**fields, "csrf_token": csrf_token(client, path)})


def _mails_to(handler, address: str):
    return [message for recipients, message in handler.messages if address in recipients]


def _body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _publish(db, park, text="Installation starts in April.", item=None):
    factories.triage(db, item or park["item"], actor=park["staff"], public_update=text)
    db.commit()


def _confirm_link(handler, address: str) -> str:
    [message] = [m for m in _mails_to(handler, address) if CONFIRM.search(_body(m))]
    return CONFIRM.search(_body(message)).group(1)


def test_nothing_is_sent_before_the_address_confirms_then_updates_arrive(
    client, mail_app, mail_db, inbox, park
):
    handler, _port = inbox
    answer = _ask(client, email=" Reader@Example.com ", language="en")
    assert answer.status_code == 200
    assert "reader@example.com" in answer.get_data(as_text=True)
    assert 'action="/subscribe"' not in answer.get_data(as_text=True)  # not the form again
    subscription = mail_db.exec(select(Subscription)).one()
    assert subscription.email == "reader@example.com" and subscription.confirmed_at is None
    assert subscription.token_hash != token_of(subscription)  # only a hash is kept

    _publish(mail_db, park)
    send(mail_app)
    [confirmation] = _mails_to(handler, "reader@example.com")  # no update before confirming
    assert confirmation["Subject"] == "Confirm your subscription to Digipolis"
    assert "EV charging" in _body(confirmation)
    assert "List-Unsubscribe" not in confirmation

    token = _confirm_link(handler, "reader@example.com")
    page = client.get(f"/subscriptions/confirm/{token}")  # a mail scanner's visit
    assert page.status_code == 200 and 'method="post"' in page.get_data(as_text=True)
    mail_db.expire_all()
    assert mail_db.get(Subscription, subscription.id).confirmed_at is None
    path = f"/subscriptions/confirm/{token}"
    confirmed = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert confirmed.status_code == 200
    mail_db.expire_all()
    assert mail_db.get(Subscription, subscription.id).confirmed_at is not None

    _publish(mail_db, park, "The contractor has been chosen.")
    send(mail_app)
    update_mail = _mails_to(handler, "reader@example.com")[-1]
    item = park["item"]
    assert update_mail["Subject"] == f"Update on {item.reference}: {item.title}"  # in English
    body = _body(update_mail)
    assert "The contractor has been chosen." in body
    assert "Installation starts in April." not in body  # published before confirming
    unsubscribe_url = f"{BASE_URL}/subscriptions/unsubscribe/{token}"
    assert unsubscribe_url in body
    # RFC 8058 headers on the message the SMTP server received
    assert update_mail["List-Unsubscribe"] == f"<{unsubscribe_url}>"
    assert update_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    raw = handler.raw[-1]  # as mail programs read it: the URL itself, not an encoded word
    assert f"\r\nList-Unsubscribe: <{unsubscribe_url}>\r\n".encode() in raw
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw


def _confirmed(
    db,
    *,
    email="reader@example.com",
    scope=SubscriptionScope.category,
    target=None,
    frequency=Frequency.immediate,
    language="fi",
    confirmed_at=None,
):
    """A confirmed subscription, as if its owner had pressed the e-mailed button."""
    subscription = Subscription(
        email=email,
        scope=scope,
        target_id=target.id if target is not None else 0,
        frequency=frequency,
        language=language,
        token_salt="",
        token_hash="",
        confirmed_at=confirmed_at or utcnow(),
    )
    new_token(subscription)
    db.add(subscription)
    db.commit()
    return subscription


def test_unsubscribing_by_the_page_and_its_button(client, mail_db, park):
    subscription = _confirmed(mail_db, target=park["category"])
    token = token_of(subscription)
    path = f"/subscriptions/unsubscribe/{token}"

    page = client.get(path)
    assert page.status_code == 200 and "reader@example.com" in page.get_data(as_text=True)
    assert mail_db.exec(select(Subscription)).first() is not None  # a visit changes nothing
    done = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert done.status_code == 200
    assert mail_db.exec(select(Subscription)).first() is None

    again = client.get(path)
    assert again.status_code == 404


def test_one_click_unsubscribe_needs_no_csrf_token_and_is_idempotent(client, mail_db, park):
    subscription = _confirmed(mail_db, target=park["category"])
    path = f"/subscriptions/unsubscribe/{token_of(subscription)}"
    body = "List-Unsubscribe=One-Click"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    first = client.post(path, data=body, headers=headers)  # as a mail program sends it
    assert first.status_code == 200
    assert mail_db.exec(select(Subscription)).first() is None
    assert client.post(path, data=body, headers=headers).status_code == 200  # again: same


def test_other_forms_still_need_their_csrf_token(client, park):
    answer = client.post("/subscribe", data={"scope": "everything", "email": "x@example.com"})
    assert answer.status_code == 400


def test_a_link_that_is_not_ours_or_expired_gets_a_clear_page(client, mail_db, park):
    for path in ("/subscriptions/confirm/nonsense", "/subscriptions/confirm/" + "x" * 500):
        answer = client.get(path, headers={"Accept-Language": "en"})
        assert answer.status_code == 404
        assert "It is not a link we sent" in answer.get_data(as_text=True)
    long_ago = utcnow() - timedelta(days=8)
    subscription = subscribe(
        mail_db,
        email="late@example.com",
        followed=Followed(SubscriptionScope.everything, None),
        frequency="daily",
        language="en",
        now=long_ago,
    )
    mail_db.commit()
    path = f"/subscriptions/confirm/{token_of(subscription)}"
    expired_page = client.get(path, headers={"Accept-Language": "en"})
    assert expired_page.status_code == 410
    assert "The confirmation link has expired" in expired_page.get_data(as_text=True)
    expired = client.post(path, data={"csrf_token": csrf_token(client, "/subscribe")})
    assert expired.status_code == 410
    mail_db.expire_all()
    assert mail_db.get(Subscription, subscription.id).confirmed_at is None


def test_asking_again_does_not_tell_whether_the_address_follows_already(
    client, mail_app, mail_db, inbox, park
):
    handler, _port = inbox
    _confirmed(mail_db, target=park["category"])
    known = _ask(client, email="reader@example.com")
    unknown = _ask(client, email="stranger@example.com")
    assert known.status_code == unknown.status_code == 200
    strip = lambda page, email: page.get_data(as_text=True).replace(email, "")  # noqa: E731
    assert strip(known, "reader@example.com") == strip(unknown, "stranger@example.com")
    assert len(mail_db.exec(select(Subscription)).all()) == 2
    send(mail_app)
    [told] = _mails_to(handler, "reader@example.com")  # the owner learns it, in the e-mail
    assert "/subscriptions/unsubscribe/" in _body(told)


def test_bad_input_is_told_with_the_input_kept(client, mail_db, park):
    answer = _ask(client, email="not an address", frequency="hourly")
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert 'value="not an address"' in page and 'aria-invalid="true"' in page
    assert mail_db.exec(select(Subscription)).first() is None
    assert client.get("/subscribe?scope=category&id=no-such").status_code == 404
    assert client.get("/subscribe?scope=nonsense&id=1").status_code == 404


def test_private_requests_cannot_be_followed_nor_reach_anyone(
    client, mail_app, mail_db, inbox, park
):
    handler, _port = inbox
    secret = factories.service_request(
        mail_db, category_=park["category"], title="Broken lock in the server room"
    )
    secret.visibility = Visibility.private
    mail_db.commit()
    assert client.get(f"/subscribe?scope=request&id={secret.reference}").status_code == 404
    page = client.get(f"/requests/{park['item'].reference}").get_data(as_text=True)
    assert 'name="scope" value="request"' in page  # a public request offers it
    insider = mail_app.test_client()
    sign_in(insider, secret.submitter.email)
    own = insider.get(f"/requests/{secret.reference}")
    assert own.status_code == 200 and "subscribe-box" not in own.get_data(as_text=True)
    everything = _confirmed(mail_db, email="all@example.com", scope=SubscriptionScope.everything)
    daily = _confirmed(
        mail_db,
        email="daily@example.com",
        scope=SubscriptionScope.everything,
        frequency=Frequency.daily,
        confirmed_at=utcnow() - timedelta(days=3),
    )
    _publish(mail_db, park, "A secret plan.", item=secret)
    send(mail_app)
    assert [m["Subject"] for m in _mails_to(handler, "all@example.com")] == []
    queued = delivery.send_digests(
        mail_db, frequency=Frequency.daily, now=utcnow() + timedelta(days=1)
    )
    assert queued == 0
    sent_to_subscribers = mail_db.exec(
        select(Outbox).where(col(Outbox.idempotency_key).startswith("subscription:"))
    ).all()
    assert sent_to_subscribers == []
    assert everything.id and daily.id


def test_immediate_e_mails_go_in_each_subscribers_language_once_per_address(
    mail_app, mail_db, inbox, park
):
    handler, _port = inbox
    _confirmed(mail_db, email="fi@example.com", target=park["category"], language="fi")
    _confirmed(mail_db, email="fi@example.com", scope=SubscriptionScope.everything, language="fi")
    _confirmed(
        mail_db,
        email="en@example.com",
        scope=SubscriptionScope.building,
        target=park["building"],
        language="en",
    )
    _confirmed(
        mail_db,
        email="weekly@example.com",
        scope=SubscriptionScope.everything,
        frequency=Frequency.weekly,
    )
    item = park["item"]
    factories.triage(mail_db, item, actor=park["staff"], to="planned")
    factories.triage(mail_db, item, actor=park["staff"], public_update="Spring.")
    factories.triage(mail_db, item, actor=park["staff"], internal_note="Call the electrician.")
    mail_db.commit()

    send(mail_app)
    finnish = _mails_to(handler, "fi@example.com")
    english = _mails_to(handler, "en@example.com")
    assert len(finnish) == len(english) == 2  # the status change and the update, one each
    assert {m["Subject"] for m in finnish} == {f"Päivitys pyyntöön {item.reference}: {item.title}"}
    assert {m["Subject"] for m in english} == {f"Update on {item.reference}: {item.title}"}
    assert any("Tila: Suunniteltu" in _body(m) for m in finnish)
    assert all("electrician" not in _body(m) for m in finnish + english)
    assert _mails_to(handler, "weekly@example.com") == []
    keys = [o.idempotency_key for o in mail_db.exec(select(Outbox)).all()]
    assert len(keys) == len(set(keys))


HELSINKI_MONDAY_7 = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # 7:00 in Helsinki (UTC+2)


def test_period_ends_are_seven_in_the_morning_park_time(mail_app):
    with mail_app.app_context():
        tuesday_noon = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
        assert delivery.period_end(Frequency.daily, tuesday_noon) == datetime(
            2026, 12, 1, 5, 0, tzinfo=UTC
        )
        early = datetime(2026, 12, 1, 4, 59, tzinfo=UTC)
        assert delivery.period_end(Frequency.daily, early) == datetime(
            2026, 11, 30, 5, 0, tzinfo=UTC
        )
        assert delivery.period_end(Frequency.weekly, tuesday_noon) == HELSINKI_MONDAY_7
        summer = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)  # UTC+3 in summer
        assert delivery.period_end(Frequency.daily, summer) == datetime(
            2026, 7, 1, 4, 0, tzinfo=UTC
        )


def _published_at(db, when: datetime) -> None:
    db.exec(
        update(RequestUpdate)
        .where(col(RequestUpdate.published_at).is_not(None))
        .values(published_at=when)
    )
    db.commit()


# The machine's clock a year after or before the digest's period: the job and the outbox
# read only the `now` they are given (this test failed once the calendar passed that week).
MACHINE_CLOCKS = {"clock-now": None, "clock-year-ahead": 365, "clock-year-behind": -365}


@pytest.mark.parametrize("machine_clock", MACHINE_CLOCKS)
@pytest.mark.parametrize("frequency", [Frequency.daily, Frequency.weekly])
def test_a_digest_lists_the_periods_updates_and_runs_twice_sending_once(
    mail_app, mail_db, inbox, park, frequency, machine_clock
):
    days = MACHINE_CLOCKS[machine_clock]
    with (
        time_machine.travel(HELSINKI_MONDAY_7 + timedelta(days=days), tick=True)
        if days is not None
        else nullcontext()
    ):
        _digest_once(mail_app, mail_db, inbox, park, frequency)


def _digest_once(mail_app, mail_db, inbox, park, frequency):
    handler, _port = inbox
    job = JOBS_BY_ID[f"subscription-digests-{frequency.value}"]
    start = HELSINKI_MONDAY_7 - timedelta(days=7)
    _confirmed(
        mail_db,
        email="digest@example.com",
        scope=SubscriptionScope.everything,
        frequency=frequency,
        language="en",
        confirmed_at=start - timedelta(hours=1),
    )
    _confirmed(
        mail_db,
        email="quiet@example.com",
        scope=SubscriptionScope.request,
        target=factories.service_request(mail_db, title="Quiet idea here"),
        frequency=frequency,
        confirmed_at=start - timedelta(hours=1),
    )
    _publish(mail_db, park, "Digest news one.")
    _publish(mail_db, park, "Digest news two.")
    _published_at(mail_db, HELSINKI_MONDAY_7 - timedelta(hours=3))

    now = HELSINKI_MONDAY_7 + timedelta(minutes=1)
    first = run_job(mail_app, job, holder="a", now=now)
    second = run_job(mail_app, job, holder="b", now=now + timedelta(minutes=1))
    assert (first.outcome, first.items, second.outcome, second.items) == ("ok", 1, "ok", 0)
    send(mail_app, now=now)
    [digest] = _mails_to(handler, "digest@example.com")
    body = _body(digest)
    assert "Digest news one." in body and "Digest news two." in body
    assert digest["Subject"].endswith("2 updates")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert _mails_to(handler, "quiet@example.com") == []  # nothing: no e-mail
    mail_db.expire_all()
    assert all(
        s.last_digest_at == HELSINKI_MONDAY_7 for s in mail_db.exec(select(Subscription)).all()
    )

    # the next period: nothing new, nothing sent; the old entries are not sent again
    later = now + (timedelta(days=1) if frequency == Frequency.daily else timedelta(days=7))
    assert run_job(mail_app, job, holder="a", now=later).items == 0


def test_smtp_down_then_back_delivers_every_subscription_email_once(database_url):
    port = free_port()  # nobody listens there yet
    app = make_test_app(database_url, smtp_host="127.0.0.1", smtp_port=port, base_url=BASE_URL)
    from aiosmtpd.controller import Controller
    from sqlmodel import Session

    from facilities.core.db import get_engine

    with app.app_context(), Session(get_engine(app), expire_on_commit=False) as db:
        category = factories.category(db)
        staff = factories.staff(db, email="staff@example.com")
        item = factories.service_request(db, category_=category, submitter=staff)
        addresses = [f"reader{n}@example.com" for n in range(5)]
        for address in addresses:
            _confirmed(db, email=address, target=category)
        for text in ("First news.", "Second news."):
            factories.triage(db, item, actor=staff, public_update=text)
        db.commit()
        expected = db.exec(select(Outbox).where(col(Outbox.recipient).in_(addresses))).all()
        assert len(expected) == 10
        now = utcnow()
        assert send(app, now=now).items == 0  # the server is down
        db.expire_all()
        assert {o.status for o in db.exec(select(Outbox)).all()} == {OutboxStatus.pending}

        handler = Inbox()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            send(app, now=now + timedelta(minutes=10))
            send(app, now=now + timedelta(minutes=20))
        finally:
            controller.stop()
        delivered = sorted(
            (recipients[0], message["Subject"], "First" in _body(message))
            for recipients, message in handler.messages
            if recipients[0] in addresses
        )
        assert len(delivered) == 10 and len(set(delivered)) == 10  # every one, once
        db.expire_all()
        assert {o.status for o in db.exec(select(Outbox)).all()} == {OutboxStatus.sent}
    get_engine(app).dispose()


def test_signed_in_users_follow_without_confirming_and_manage_theirs(client, mail_db, park):
    user = factories.user(mail_db, email="aino@example.com", preferred_language="en")
    other = _confirmed(mail_db, email="someone@example.com", target=park["category"])
    mail_db.commit()
    sign_in(client, user.email)

    answer = client.post(
        "/subscribe",
        data={
            "scope": "building",
            "id": "SENSORI",
            "frequency": "weekly",
            "csrf_token": csrf_token(client, "/account/subscriptions"),
        },
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/account/subscriptions"
    mine = mail_db.exec(select(Subscription).where(Subscription.email == "aino@example.com")).one()
    assert mine.confirmed_at is not None and mine.user_id == user.id
    assert mine.frequency == Frequency.weekly and mine.language == "en"
    assert (
        mail_db.exec(select(Outbox).where(Outbox.recipient == "aino@example.com")).first() is None
    )

    page = client.get("/account/subscriptions").get_data(as_text=True)
    assert "Sensori" in page and "Sähköautojen" not in page and "EV charging" not in page
    token = csrf_token(client, "/account/subscriptions")
    changed = client.post(
        f"/account/subscriptions/{mine.id}", data={"frequency": "daily", "csrf_token": token}
    )
    assert changed.status_code == 302
    mail_db.expire_all()
    assert mail_db.get(Subscription, mine.id).frequency == Frequency.daily
    bad = client.post(
        f"/account/subscriptions/{mine.id}", data={"frequency": "x", "csrf_token": token}
    )
    assert bad.status_code == 302
    mail_db.expire_all()
    assert mail_db.get(Subscription, mine.id).frequency == Frequency.daily
    # another person's subscription is not found
    for path in (f"/account/subscriptions/{other.id}", f"/account/subscriptions/{other.id}/delete"):
        assert (
            client.post(path, data={"frequency": "daily", "csrf_token": token}).status_code == 404
        )
    mine_id, other_id = mine.id, other.id
    ended = client.post(f"/account/subscriptions/{mine_id}/delete", data={"csrf_token": token})
    assert ended.status_code == 302
    mail_db.expire_all()
    assert mail_db.get(Subscription, mine_id) is None and mail_db.get(Subscription, other_id)


def test_the_account_page_costs_the_same_whatever_the_number(client, mail_app, mail_db, park):
    from facilities.core.db import get_engine
    from tests.conftest import count_queries

    user = factories.user(mail_db, email="many@example.com")
    mail_db.commit()
    sign_in(client, user.email)

    def queries() -> int:
        with count_queries(get_engine(mail_app)) as statements:
            assert client.get("/account/subscriptions").status_code == 200
        return len(statements)

    def one_of_each() -> None:
        number = next(counter)
        _confirmed(mail_db, email=user.email, target=factories.category(mail_db))
        _confirmed(
            mail_db,
            email=user.email,
            scope=SubscriptionScope.building,
            target=factories.building(mail_db),
        )
        _confirmed(
            mail_db,
            email=user.email,
            scope=SubscriptionScope.request,
            target=factories.service_request(mail_db, title=f"Request number {number}"),
        )

    counter = iter(range(100))
    one_of_each()
    few = queries()
    for _ in range(5):
        one_of_each()
    assert queries() == few


def test_asking_is_rate_limited_with_the_input_kept(client, mail_db, park):
    answers = [_ask(client, email="victim@example.com").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = _ask(client, email="victim@example.com")
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert 'value="victim@example.com"' in limited.get_data(as_text=True)
    others = [_ask(client, email=f"other{n}@example.com").status_code for n in range(3)]
    assert others[-1] == 429  # per connection too: five in ten minutes


def test_signed_in_users_are_counted_per_person_not_per_connection(client, mail_db, park):
    user = factories.user(mail_db, email="busy@example.com")
    categories = [factories.category(mail_db) for _ in range(6)]
    mail_db.commit()
    sign_in(client, user.email)
    token = csrf_token(client, "/account/subscriptions")
    answers = [
        client.post(
            "/subscribe",
            data={"scope": "category", "id": c.slug, "frequency": "daily", "csrf_token": token},
        ).status_code
        for c in categories
    ]
    assert answers == [302] * 6  # more than a connection's five: no e-mail is sent
    assert len(mail_db.exec(select(Subscription)).all()) == 6


def test_addresses_never_confirmed_are_forgotten_once_their_link_expired(mail_db, park):
    from facilities.subscriptions.jobs import forget_unconfirmed

    now = utcnow()
    everything = Followed(SubscriptionScope.everything, None)
    for email, days_ago in (("typo@example.com", 8), ("fresh@example.com", 1)):
        subscribe(
            mail_db,
            email=email,
            followed=everything,
            frequency="daily",
            language="fi",
            now=now - timedelta(days=days_ago),
        )
    kept = subscribe(
        mail_db,
        email="kept@example.com",
        followed=everything,
        frequency="daily",
        language="fi",
        now=now - timedelta(days=30),
    )
    kept.confirmed_at = now - timedelta(days=29)
    mail_db.commit()
    assert forget_unconfirmed(mail_db, now) == 1
    assert forget_unconfirmed(mail_db, now) == 0
    mail_db.commit()
    left = mail_db.exec(select(Subscription.email).order_by(Subscription.email)).all()
    assert left == ["fresh@example.com", "kept@example.com"]


def test_plus_tags_and_case_count_as_one_address_for_the_limit(client, mail_app, park):
    """name+1@ and NAME@ reach one mailbox: they share its limit, from any connection."""
    statuses = []
    for number, email in enumerate(
        [
            "victim+1@example.com",
            "Victim@Example.com",
            "victim+x@example.com",
            "VICTIM+2@example.com",
        ]
    ):
        other = mail_app.test_client()  # an IsolatedClient, as `client` set it
        other.environ_base["REMOTE_ADDR"] = f"192.0.2.{number + 1}"
        statuses.append(_ask(other, email=email).status_code)
    assert statuses == [200, 200, 200, 429]


@pytest.mark.parametrize(
    ("base_url", "one_click"),
    [("https://palvelut.example.fi", True), ("http://localhost:5000", False)],
)
def test_one_click_unsubscribe_is_offered_over_https_only(database_url, base_url, one_click):
    """RFC 8058 asks for an HTTPS URI: over plain http the link stays, one-click does not."""
    from facilities.subscriptions.emails import list_headers

    app = make_test_app(database_url, base_url=base_url)
    with app.app_context():
        headers = list_headers("token")
    assert headers["List-Unsubscribe"] == f"<{base_url}/subscriptions/unsubscribe/token>"
    assert ("List-Unsubscribe-Post" in headers) is one_click
