"""One typed settings object, read from the environment once and refusing unsafe values."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Placeholders people copy from examples; a production secret must be none of these.
UNSAFE_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "development"})
MIN_SECRET_LENGTH = 32
SUPPORTED_LOCALES = ("fi", "en", "sv")
# Finnish and Swedish as used in Finland (28.9.2026 22.05); English as in the UK
# (28/09/2026, 22:05), which reads better than Finland's English with dotted times.
# Catalogs are looked up by language, so sv_FI finds the sv catalog.
REGIONAL_LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_GB"}


class Environment(StrEnum):
    development = "development"
    testing = "testing"
    production = "production"


class Settings(BaseSettings):
    """Everything the app reads from the environment.

    `DATABASE_URL` and `PORT` are named as Procfile platforms set them; the rest
    are prefixed `FACILITIES_`.
    """

    model_config = SettingsConfigDict(
        env_prefix="FACILITIES_", extra="ignore", populate_by_name=True
    )

    env: Environment = Environment.production
    secret_key: str = ""
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "FACILITIES_DATABASE_URL")
    )
    port: int = Field(default=5000, validation_alias=AliasChoices("PORT", "FACILITIES_PORT"))
    base_url: str = "http://127.0.0.1:5000"
    park_name: str = "Digipolis"
    timezone: str = "Europe/Helsinki"
    default_locale: str = "fi"
    smtp_host: str = ""  # empty: e-mails are written to the log instead of sent
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_use_tls: bool = False
    mail_from: str = "Digipolis <noreply@localhost>"
    ratelimit_storage_uri: str = "memory://"
    trusted_proxies: int = Field(default=0, ge=0, le=5)  # load balancers in front, for client IPs
    remember_days: int = Field(default=30, ge=1, le=365)  # "keep me signed in" lasts this long
    scheduler_interval_seconds: int = Field(default=30, ge=1)
    per_page: int = Field(default=20, ge=1, le=200)

    @field_validator("database_url")
    @classmethod
    def use_psycopg3(cls, value: str | None) -> str | None:
        """Platforms hand out `postgres://` URLs; SQLAlchemy needs the psycopg 3 driver named."""
        if value is None:
            return None
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @field_validator("timezone")
    @classmethod
    def known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("default_locale")
    @classmethod
    def supported_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"default locale must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @model_validator(mode="after")
    def refuse_unsafe_secret(self) -> Settings:
        if self.env is not Environment.development and (
            self.secret_key.strip().lower() in UNSAFE_SECRETS
            or len(self.secret_key) < MIN_SECRET_LENGTH
        ):
            raise ValueError(
                "FACILITIES_SECRET_KEY must be set to a random value of at least "
                f"{MIN_SECRET_LENGTH} characters outside development "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return self

    def database_url_or_default(self, instance_path: str | Path) -> str:
        """The configured database, or an SQLite file in the instance folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(instance_path) / 'facilities.db'}"
