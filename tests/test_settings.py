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


def test_memory_rate_limits_outside_development_are_warned_of_at_start(
    database_url, caplog, monkeypatch
):
    from tests.conftest import make_test_app

    monkeypatch.delenv("FACILITIES_RATELIMIT_STORAGE_URI", raising=False)
    production = Settings(
        env="production", secret_key=TEST_SECRET, base_url="https://palvelut.example.fi"
    )
    assert production.ratelimit_storage_uri == "memory://"
    [warning] = production.warnings()
    assert "memory://" in warning and "multiplied by the number of web processes" in warning
    assert Settings(env="development").warnings() == []
    assert Settings(env="testing", secret_key=TEST_SECRET).warnings() == []
    shared = Settings(
        env="production",
        secret_key=TEST_SECRET,
        ratelimit_storage_uri="redis://r/0",
        base_url="https://palvelut.example.fi",
    )
    assert shared.warnings() == []

    with caplog.at_level("WARNING", logger="facilities"):
        make_test_app(
            database_url,
            env="production",
            ratelimit_storage_uri="memory://",
            base_url="https://palvelut.example.fi",
        )
    assert [r.getMessage() for r in caplog.records] == [f"Settings: {warning}"]
    caplog.clear()
    with caplog.at_level("WARNING", logger="facilities"):
        make_test_app(database_url, env="testing", ratelimit_storage_uri="memory://")
    assert caplog.records == []


def test_allowed_webhook_networks_are_cidrs_or_the_app_does_not_start():
    settings = Settings(env="development", webhook_allowed_networks="10.20.0.0/24, 192.168.5.7")
    assert [str(network) for network in settings.webhook_networks] == [
        "10.20.0.0/24",
        "192.168.5.7/32",
    ]
    assert Settings(env="development").webhook_networks == []
    with pytest.raises(ValueError, match="CIDRs separated by commas"):
        Settings(env="development", webhook_allowed_networks="10.20.0.0/24,intranet")


def test_production_warns_of_what_weakens_the_limits_and_mail():
    """Nothing refuses to start, but the operator is told (README, Security)."""
    import secrets

    key = secrets.token_urlsafe(32)
    plain = Settings(
        env="production",
        secret_key=key,
        ratelimit_storage_uri="memory://",
        base_url="http://palvelut.example.fi",
    )
    warnings = "\n".join(plain.warnings())
    assert "memory://" in warnings and "web process" in warnings  # limits multiply
    assert "https" in warnings  # no one-click unsubscribe (RFC 8058), no secure cookies
    ready = Settings(
        env="production",
        secret_key=key,
        ratelimit_storage_uri="redis://redis:6379/0",
        base_url="https://palvelut.example.fi",
    )
    assert ready.warnings() == []
    assert Settings(env="development").warnings() == []
