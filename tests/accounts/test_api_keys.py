"""API keys: issued with the secret returned once and only its hash kept, named uniquely,
scoped, revoked once, and their calls counted per key."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from flask_babel import force_locale
from pydantic import ValidationError
from sqlmodel import select

from facilities.accounts.api_keys import (
    KEY_PREFIX,
    ApiKeyCreate,
    admin_names,
    find_keys,
    has_scope,
    issue_key,
    key_for,
    record_use,
    revoke_key,
    use_counts,
    uses_of,
)
from facilities.accounts.models import ApiKey, ApiScope, Role
from facilities.core.errors import ValidationFailed
from facilities.core.models import AuditEvent, utcnow
from tests import factories


@pytest.fixture
def admin(db):
    return factories.user(db, role=Role.admin, password=None, name="Kaisa Pelkonen")


def _issue(db, admin, name="Kemin kaupunki", now=None, **fields):
    return issue_key(db, admin=admin, data=ApiKeyCreate(name=name, **fields), now=now)


def test_the_secret_is_returned_once_and_only_its_hash_and_prefix_are_kept(db, admin):
    key, secret = _issue(db, admin, scopes=[ApiScope.submit, ApiScope.read])
    db.commit()
    assert secret.startswith(KEY_PREFIX) and len(secret) == len(KEY_PREFIX) + 40
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert key.prefix == secret[:12] and secret not in key.prefix + key.key_hash
    stored = db.exec(select(ApiKey)).one()
    assert secret not in repr(stored.model_dump())
    assert stored.scopes == ["read", "submit"]  # sorted, each once
    assert (stored.rate_limit_per_minute, stored.created_by_id) == (60, admin.id)
    [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "api_key.issued")).all()
    assert event.actor_id == admin.id and event.after["prefix"] == key.prefix
    assert secret not in str(event.after)


def test_two_keys_never_share_a_secret_and_the_secret_finds_its_key(db, admin):
    first, first_secret = _issue(db, admin, name="Yksi")
    second, second_secret = _issue(db, admin, name="Kaksi")
    assert first_secret != second_secret and first.prefix != second.prefix
    assert key_for(db, second_secret).id == second.id
    assert key_for(db, first_secret + "x") is None
    assert key_for(db, "not" + first_secret) is None


def test_a_name_is_taken_once_and_a_company_must_exist(app, db, admin):
    _issue(db, admin, name="Puiston uutiskanava")
    with pytest.raises(ValidationFailed) as failure:
        _issue(db, admin, name="  Puiston   uutiskanava ")  # the same name, once cleaned
    assert set(failure.value.errors) == {"name"}
    with pytest.raises(ValidationFailed) as failure:
        _issue(db, admin, name="Toinen", tenant_id=999_999)
    assert set(failure.value.errors) == {"tenant_id"}
    assert len(db.exec(select(ApiKey)).all()) == 1


def test_the_duplicate_name_message_says_what_to_do(app, db, admin):
    _issue(db, admin, name="Puiston uutiskanava")
    with pytest.raises(ValidationFailed) as failure:
        _issue(db, admin, name="Puiston uutiskanava")
    with force_locale("en"):
        assert str(failure.value.errors["name"]) == (
            "A key with this name exists already. Choose another name."
        )


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "ab"},
        {"name": "x" * 81},
        {"name": "Avain", "rate_limit_per_minute": 0},
        {"name": "Avain", "rate_limit_per_minute": 6001},
        {"name": "Avain", "scopes": ["write"]},
    ],
)
def test_the_form_model_refuses_what_no_key_can_have(fields):
    with pytest.raises(ValidationError):
        ApiKeyCreate(**fields)


def test_scopes_say_what_a_key_may_do(db, admin):
    reader, _secret = _issue(db, admin, name="Lukija", scopes=[ApiScope.read])
    sender, _secret = _issue(db, admin, name="Lähettäjä", scopes=[ApiScope.submit])
    assert has_scope(reader, ApiScope.read) and not has_scope(reader, ApiScope.submit)
    assert has_scope(sender, ApiScope.submit) and not has_scope(sender, ApiScope.read)


def test_revoking_twice_revokes_once_and_audits_once(db, admin):
    other_admin = factories.user(db, role=Role.admin, password=None)
    key, secret = _issue(db, admin)
    assert revoke_key(db, admin=admin, key=key) is True
    assert revoke_key(db, admin=other_admin, key=key) is False
    db.commit()
    db.refresh(key)
    assert not key.active and key.revoked_by_id == admin.id
    assert key_for(db, secret).id == key.id  # still found, so the API can say it is revoked
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "api_key.revoked")).all()
    assert [event.actor_id for event in events] == [admin.id]


def test_use_counts_counts_calls_per_key_with_the_last_one(db, admin):
    busy, _secret = _issue(db, admin, name="Ahkera")
    idle, _secret = _issue(db, admin, name="Laiska")
    start = utcnow().replace(microsecond=0) - timedelta(hours=5)
    for number in range(3):
        record_use(
            db,
            key=busy,
            method="GET",
            path="/api/open311/v2/requests.json",
            status_code=200,
            remote_addr="198.51.100.7",
            now=start + timedelta(hours=number),
        )
    db.commit()
    counts = use_counts(db, [busy.id, idle.id])
    assert set(counts) == {busy.id}
    count, last = counts[busy.id]
    assert count == 3
    assert last.replace(tzinfo=None) == (start + timedelta(hours=2)).replace(tzinfo=None)
    assert use_counts(db, []) == {}


def test_a_keys_uses_are_paged_newest_first(db, admin):
    key, _secret = _issue(db, admin)
    other, _secret = _issue(db, admin, name="Toinen")
    start = utcnow() - timedelta(days=1)
    for number in range(5):
        moment = start + timedelta(minutes=number)
        record_use(
            db,
            key=key,
            method="GET",
            path=f"/p/{number}",
            status_code=200,
            remote_addr="",
            now=moment,
        )
    record_use(db, key=other, method="GET", path="/other", status_code=200, remote_addr="")
    db.commit()
    first = uses_of(db, key, page=1, per_page=2)
    assert first.total == 5 and [use.path for use in first.items] == ["/p/4", "/p/3"]
    assert [use.path for use in uses_of(db, key, page=3, per_page=2).items] == ["/p/0"]


def test_the_list_puts_active_keys_first_with_their_company_and_admins(db, admin):
    company = factories.tenant(db, name="Arktinen Anturi Oy")
    old, _secret = _issue(db, admin, name="Vanha", now=utcnow() - timedelta(days=9))
    revoke_key(db, admin=admin, key=old)
    _newer, _secret = _issue(db, admin, name="Uudempi", tenant_id=company.id)
    _oldest, _secret = _issue(db, admin, name="Vanhin", now=utcnow() - timedelta(days=30))
    db.commit()
    db.expire_all()
    page = find_keys(db, page=1, per_page=10)
    assert [key.name for key in page.items] == ["Uudempi", "Vanhin", "Vanha"]
    assert page.items[0].tenant.name == "Arktinen Anturi Oy"
    assert admin_names(db, page.items) == {admin.id: "Kaisa Pelkonen"}
    assert admin_names(db, []) == {}


def test_the_demo_issues_keys_and_hands_over_the_city_keys_secret(db, tmp_path):
    from facilities.demo import load_demo_data
    from facilities.requests.models import RequestSource, ServiceRequest

    secret_file = tmp_path / "demo_api_key"
    assert load_demo_data(db, api_key_file=secret_file) is True
    db.commit()
    city = key_for(db, secret_file.read_text().strip())
    assert city is not None and city.name == "Kemin kaupungin palautejärjestelmä"
    assert (city.scopes, city.rate_limit_per_minute, city.active) == (["read", "submit"], 120, True)
    keys = {key.name: key for key in db.exec(select(ApiKey)).all()}
    assert keys["Puiston uutiskanava"].scopes == ["read"]
    assert not keys["Vanha testiavain"].active
    [sent] = db.exec(select(ServiceRequest).where(ServiceRequest.api_key_id == city.id)).all()
    assert sent.source == RequestSource.api and sent.is_public and sent.submitter_id is None
    assert sent.contact["email"] == "maija.kallio@kemi.example"
    count, _last = use_counts(db, [city.id])[city.id]
    assert count >= 5
    assert sent.reference in {use.detail for use in uses_of(db, city, page=1, per_page=50).items}
