"""Admins add, change, test and deactivate channels, and retry the outbox's failed rows."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlmodel import col, select

from facilities.accounts.models import Role
from facilities.channels.channels import url_problem
from facilities.channels.models import Channel
from facilities.core import outbox
from facilities.core.models import AuditEvent, Outbox, OutboxKind, OutboxStatus
from facilities.settings import Environment, get_settings
from tests import factories
from tests.conftest import count_queries, csrf_token
from tests.core.test_addresses import PUBLIC, fake_dns
from tests.web.test_hostile_input import HOSTILE_VALUES, LONG


@pytest.fixture
def admin(signed_in):
    return signed_in(Role.admin, preferred_language="en")


def _form(client, **fields) -> dict[str, str]:
    return {
        "csrf_token": csrf_token(client, "/admin/channels"),
        "name": "Digipolis-uutiskanava",
        "url": "https://uutiset.example.fi/hooks/facilities",
        "format": "generic",
        "wants_updates": "1",
        **fields,
    }


def _audit(db, action: str) -> list[AuditEvent]:
    db.expire_all()
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_an_admin_adds_a_channel_sees_its_secret_and_the_audit_keeps_no_secret(client, db, admin):
    response = client.post("/admin/channels", data=_form(client))
    assert response.status_code == 302
    channel = db.exec(select(Channel)).one()
    assert response.headers["Location"] == f"/admin/channels/{channel.id}"
    assert (channel.wants_updates, channel.wants_status_changes, channel.wants_weekly) == (
        True,
        False,
        False,
    )
    assert len(channel.secret) == 64
    page = client.get(f"/admin/channels/{channel.id}").get_data(as_text=True)
    assert channel.secret in page
    [added] = _audit(db, "channel.added")
    assert added.actor_id == admin.id and added.after["name"] == "Digipolis-uutiskanava"
    assert channel.secret not in str(added.after)


def test_bad_input_is_refused_with_the_input_kept(client, db, admin):
    factories_channel = _form(client, name="Kanava")
    client.post("/admin/channels", data=factories_channel)
    response = client.post(
        "/admin/channels",
        data=_form(client, name="kanava", url="ftp://files.example.fi/x", note="muistiinpano"),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="kanava"' in page and 'value="ftp://files.example.fi/x"' in page
    assert 'value="muistiinpano"' in page
    assert "Another channel has this name" in page
    assert "Enter a web address such as" in page
    assert db.exec(select(Channel)).all().__len__() == 1


def test_http_is_refused_in_production_except_to_this_machine_when_allowed(app, monkeypatch):
    from facilities.channels import channels

    with app.app_context():
        production = channels.get_settings().model_copy(
            update={"env": Environment.production, "webhook_allowed_networks": "127.0.0.1/32"}
        )
        monkeypatch.setattr(channels, "get_settings", lambda: production)
        assert "https" in url_problem("http://hooks.example.fi/x")
        assert url_problem("https://hooks.example.fi/x") is None
        assert url_problem("http://127.0.0.1:8080/x") is None
        with force_locale("en"):
            assert "private, local or reserved" in url_problem("http://localhost/x")
        assert url_problem("https://user:pass@hooks.example.fi/x") is not None
        assert url_problem("https://hooks.example.fi:99999/x") is not None
        assert url_problem("javascript:alert(1)") is not None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://169.254.169.254/latest/meta-data/", "private, local or reserved"),
        ("https://10.0.0.5/hooks", "private, local or reserved"),
        ("https://192.168.1.10/hooks", "private, local or reserved"),
        ("https://172.16.0.9/hooks", "private, local or reserved"),
        ("https://100.64.0.1/hooks", "private, local or reserved"),
        ("http://[::1]:8080/hooks", "private, local or reserved"),
        ("http://[::ffff:127.0.0.1]:8080/hooks", "private, local or reserved"),
        ("http://[fd00:ec2::254]/latest", "private, local or reserved"),
        ("http://localhost:8080/hooks", "private, local or reserved"),
        ("http://2130706433:8080/hooks", "private, local or reserved"),
        ("http://0.0.0.0:8080/hooks", "private, local or reserved"),
        ("https://224.0.0.1/hooks", "private, local or reserved"),
        ("https://metadata.cloud.test/computeMetadata/v1/", "private, local or reserved"),
        ("https://inside.test/hooks", "private, local or reserved"),
        ("http://127.0.0.1:5432/", "web port"),
        ("https://hooks.public.test:6379/", "web port"),
        ("https://hooks.public.test:22/", "web port"),
    ],
)
def test_private_local_and_metadata_addresses_are_refused_next_to_the_field(
    client, db, admin, monkeypatch, url, words
):
    fake_dns(
        monkeypatch,
        {
            "hooks.public.test": [PUBLIC],
            "metadata.cloud.test": ["169.254.169.254"],
            "inside.test": ["10.1.2.3"],
        },
    )
    response = client.post("/admin/channels", data=_form(client, url=url, note="Uutiset"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert words in page
    assert f'value="{url}"' in page and 'value="Uutiset"' in page  # the input is kept
    assert db.exec(select(Channel)).all() == []


def test_a_public_name_is_taken_and_an_allowed_network_too_but_never_metadata(
    app, client, db, admin, monkeypatch
):
    fake_dns(monkeypatch, {"hooks.public.test": [PUBLIC]})
    response = client.post("/admin/channels", data=_form(client, url="https://hooks.public.test/a"))
    assert response.status_code == 302
    get_settings(app).webhook_allowed_networks = "10.20.0.0/24,169.254.0.0/16"
    for number, (url, status) in enumerate(
        [
            ("https://10.20.0.7/hooks", 302),  # a receiver on the premises
            ("https://10.20.1.7/hooks", 422),
            ("http://169.254.169.254/latest/meta-data/", 422),
        ]
    ):
        response = client.post("/admin/channels", data=_form(client, name=f"K{number}", url=url))
        assert response.status_code == status, url
    assert sorted(channel.url for channel in db.exec(select(Channel)).all()) == [
        "https://10.20.0.7/hooks",
        "https://hooks.public.test/a",
    ]


def test_an_admin_edits_deactivates_and_tests_a_channel(client, db, admin):
    client.post("/admin/channels", data=_form(client))
    channel = db.exec(select(Channel)).one()
    token = csrf_token(client, f"/admin/channels/{channel.id}")
    response = client.post(
        f"/admin/channels/{channel.id}",
        data={**_form(client), "format": "slack", "wants_weekly": "1", "csrf_token": token},
    )
    assert response.status_code == 302
    response = client.post(
        f"/admin/channels/{channel.id}/active", data={"active": "0", "csrf_token": token}
    )
    assert response.status_code == 302
    db.expire_all()
    channel = db.get(Channel, channel.id)
    assert (channel.format.value, channel.wants_weekly, channel.active) == ("slack", True, False)
    assert len(_audit(db, "channel.saved")) == 1
    assert len(_audit(db, "channel.deactivated")) == 1

    response = client.post(f"/admin/channels/{channel.id}/test", data={"csrf_token": token})
    assert response.status_code == 302
    [test_post] = db.exec(select(Outbox).where(Outbox.kind == OutboxKind.webhook)).all()
    assert test_post.url == channel.url and test_post.format == "slack"
    assert set(test_post.payload) == {"text", "blocks"}
    assert len(_audit(db, "channel.test_queued")) == 1


def test_staff_cannot_use_the_channel_screens(client, db, signed_in):
    signed_in(Role.staff)
    token = csrf_token(client)
    assert client.get("/admin/channels").status_code == 403
    assert client.post("/admin/channels", data=_form(client, csrf_token=token)).status_code == 403
    assert client.get("/admin/outbox").status_code == 403
    assert db.exec(select(Channel)).all() == []


def _failed(db, number: int, *, kind: OutboxKind = OutboxKind.webhook) -> Outbox:
    item = Outbox(
        idempotency_key=f"failed:{number}",
        kind=kind,
        recipient=f"Kanava {number}",
        subject=f"Posti {number}",
        body_text="",
        url="https://hooks.example.fi/x" if kind == OutboxKind.webhook else "",
        status=OutboxStatus.failed,
        attempts=outbox.MAX_ATTEMPTS,
        last_error=f"HTTP 503: huolto {number}",
    )
    db.add(item)
    return item


def test_failed_rows_are_listed_and_retried_by_an_admin(app, client, db, admin):
    for number in range(25):  # more than a page
        _failed(db, number, kind=OutboxKind.email if number % 2 else OutboxKind.webhook)
    db.add(Outbox(idempotency_key="fine", recipient="a@example.fi", subject="Lähti", body_text=""))
    db.commit()
    engine = db.get_bind()
    client.get("/admin/outbox")  # the first request of a session also renews the session
    with count_queries(engine) as first_page:
        page = client.get("/admin/outbox").get_data(as_text=True)
    assert "HTTP 503: huolto 24" in page and "Lähti" not in page
    assert 'rel="next"' in page
    with count_queries(engine) as second_page:
        second = client.get("/admin/outbox?page=2").get_data(as_text=True)
    assert "HTTP 503: huolto 0" in second
    assert len(first_page) == len(second_page)

    target = db.exec(select(Outbox).where(Outbox.idempotency_key == "failed:3")).one()
    token = csrf_token(client, "/admin/outbox")
    response = client.post(f"/admin/outbox/{target.id}/retry", data={"csrf_token": token})
    assert response.status_code == 302
    db.expire_all()
    target = db.get(Outbox, target.id)
    assert (target.status, target.attempts) == (OutboxStatus.pending, 0)
    [retried] = _audit(db, "outbox.retried")
    assert retried.entity_id == target.id and retried.actor_id == admin.id
    again = client.post(
        f"/admin/outbox/{target.id}/retry", data={"csrf_token": token}, follow_redirects=True
    )
    assert "someone retried it already" in again.get_data(as_text=True)
    assert len(_audit(db, "outbox.retried")) == 1
    assert client.post("/admin/outbox/999999/retry", data={"csrf_token": token}).status_code == 404


def test_a_parked_post_retried_from_the_admin_page_is_delivered(
    client, db, admin, receiver, make_channel
):
    make_channel(receiver.url)
    item = factories.service_request(db)
    factories.triage(db, item, actor=factories.staff(db), public_update="Jotain.")
    db.commit()
    [row] = db.exec(select(Outbox).where(Outbox.kind == OutboxKind.webhook)).all()
    row.status, row.attempts, row.last_error = OutboxStatus.failed, outbox.MAX_ATTEMPTS, "HTTP 500"
    db.commit()
    token = csrf_token(client, "/admin/outbox")
    assert (
        client.post(f"/admin/outbox/{row.id}/retry", data={"csrf_token": token}).status_code == 302
    )
    from facilities.core.models import utcnow

    outbox.send_outbox(db, utcnow())
    db.expire_all()
    assert db.get(Outbox, row.id).status == OutboxStatus.sent
    assert len(receiver.received) == 1


@pytest.mark.parametrize("value", [*HOSTILE_VALUES[:-1], LONG[:5000]])
def test_hostile_values_in_the_channel_forms_get_no_server_error(client, db, admin, value):
    client.post("/admin/channels", data=_form(client, name="Kanava"))
    channel_id = db.exec(select(col(Channel.id))).one()
    for field in ("name", "url", "format", "note", "wants_updates"):
        for path in ("/admin/channels", f"/admin/channels/{channel_id}"):
            response = client.post(path, data=_form(client, **{field: value}))
            assert response.status_code < 500, (path, field, value[:40])
    for path in (f"/admin/channels/{channel_id}/active", "/admin/outbox/1/retry"):
        response = client.post(path, data={"active": value, "csrf_token": csrf_token(client)})
        assert response.status_code < 500
    assert client.get(f"/admin/outbox?page={value[:100]}").status_code < 500
