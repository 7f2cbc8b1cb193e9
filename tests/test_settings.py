import pytest

from facilities.settings import Settings
from tests.conftest import TEST_SECRET


def test_production_refuses_a_weak_secret(monkeypatch):
    monkeypatch.delenv("FACILITIES_SECRET_KEY", raising=False)
    with pytest.raises(ValueError, match="FACILITIES_SECRET_KEY"):
        Settings(env="production", secret_key="changeme")
    with pytest.raises(ValueError, match="FACILITIES_SECRET_KEY"):
        Settings(env="production")
    assert Settings(env="development").secret_key == ""


@pytest.mark.parametrize(
    "secret",
    [
        "a" * 32,
        "changeme" * 4,
        "password" * 4,
        "Password123!" * 3,
        "abcdefghijklmnopqrstuvwxyz012345",
        "qwertyuiopasdfghjklzxcvbnm123456",
        "0123456789" * 4,
    ],
)
def test_production_refuses_a_predictable_secret_and_says_how_to_make_one(secret):
    with pytest.raises(ValueError) as refusal:
        Settings(env="production", secret_key=secret)
    assert "is predictable" in str(refusal.value)
    assert "secrets.token_urlsafe(48)" in str(refusal.value)


def test_production_takes_a_random_secret():
    import secrets

    for make in (secrets.token_urlsafe, secrets.token_hex):
        key = make(32)
        assert Settings(env="production", secret_key=key).secret_key == key


def test_settings_read_the_platform_variables(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/app")
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("FACILITIES_SECRET_KEY", TEST_SECRET)
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://u:p@db:5432/app"
    assert settings.port == 8123
    assert settings.timezone == "Europe/Helsinki" and settings.default_locale == "fi"


def test_unknown_time_zone_fails_fast():
    with pytest.raises(ValueError, match="time zone"):
        Settings(env="development", timezone="Mars/Olympus")


def test_production_warns_of_what_weakens_the_limits_and_mail(caplog, database_url):
    """Nothing refuses to start, but the operator is told (README, Security)."""
    import logging
    import secrets

    from facilities import create_app

    key = secrets.token_urlsafe(32)
    plain = Settings(
        env="production",
        secret_key=key,
        ratelimit_storage_uri="memory://",
        base_url="http://palvelut.example.fi",
    )
    warnings = "\n".join(plain.operator_warnings())
    assert "memory://" in warnings and "worker" in warnings  # limits multiply by workers
    assert "https" in warnings  # no one-click unsubscribe (RFC 8058), no secure cookies
    ready = Settings(
        env="production",
        secret_key=key,
        ratelimit_storage_uri="redis://redis:6379/0",
        base_url="https://palvelut.example.fi",
    )
    assert ready.operator_warnings() == []
    assert Settings(env="development").operator_warnings() == []

    with caplog.at_level(logging.WARNING, logger="facilities"):
        create_app(
            {
                "env": "production",
                "secret_key": key,
                "database_url": database_url,
                "ratelimit_storage_uri": "memory://",
            }
        )
    assert any("memory://" in record.getMessage() for record in caplog.records)
