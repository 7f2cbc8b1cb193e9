from datetime import date

import pytest

from facilities.core.markdown import render_markdown
from facilities.core.pagination import page_number
from facilities.park.queries import valid_business_id
from facilities.requests.targets import quarter_bounds, quarter_choices, quarter_of
from facilities.settings import Settings
from tests.conftest import TEST_SECRET


@pytest.mark.parametrize("value", ["0737546-2", "1572860-0", "2874501-2"])
def test_valid_business_ids(value):
    assert valid_business_id(value)


@pytest.mark.parametrize("value", ["0737546-3", "737546-2", "abcdefg-1", "07375462", ""])
def test_invalid_business_ids(value):
    assert not valid_business_id(value)


def test_quarters():
    assert quarter_bounds("2027-Q4") == (date(2027, 10, 1), date(2027, 12, 31))
    assert quarter_of(date(2027, 1, 1), date(2027, 3, 31)) == "2027-Q1"
    assert quarter_of(date(2027, 1, 1), date(2027, 3, 30)) == ""
    assert quarter_choices(date(2026, 11, 27), ahead=3) == ["2026-Q4", "2027-Q1", "2027-Q2"]
    with pytest.raises(ValueError):
        quarter_bounds("2027-Q5")


def test_markdown_is_rendered_and_sanitised():
    html = render_markdown(
        "**Hi** <script>alert(1)</script> [x](javascript:alert(1)) [ok](https://example.com)"
    )
    assert "<strong>Hi</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html  # shown as text, not run
    assert 'href="javascript' not in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_page_numbers_from_query_strings():
    assert [page_number(v) for v in (None, "x", "-3", "0", "4")] == [1, 1, 1, 1, 4]


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
