"""One typed settings object, read from the environment once and refusing unsafe values."""

from __future__ import annotations

import functools
from datetime import time
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app
from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent
SETTINGS_KEY = "facilities.settings"
MIN_SECRET_LENGTH = 32
# zxcvbn's estimate of the guesses a secret takes, as a power of ten. Repeats, words,
# keyboard runs and sequences score far below it (`changeme` four times: 10^3); random keys of
# 32 characters or more from `secrets` score 10^27 and up.
MIN_SECRET_GUESSES_LOG10 = 24
MAKE_A_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
SUPPORTED_LOCALES = ("fi", "en", "sv")
# Finnish and Swedish as used in Finland (28.9.2026 22.05); English as in the UK
# (28/09/2026, 22:05), which reads better than Finland's English with dotted times.
# Catalogs are looked up by language, so sv_FI finds the sv catalog.
REGIONAL_LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_GB"}


@functools.lru_cache(maxsize=8)
def secret_key_problem(secret: str) -> str | None:
    """Why `secret` is unsafe as a signing key, or None when it is fine."""
    if not secret:
        return "is not set"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    from zxcvbn import zxcvbn  # only when a key is checked: it loads word lists

    estimate = zxcvbn(secret, max_length=256)
    if estimate["guesses_log10"] < MIN_SECRET_GUESSES_LOG10:
        return "is predictable (repeated patterns, words, or keyboard and number runs)"
    return None


class Environment(StrEnum):
    development = "development"
    testing = "testing"
    production = "production"


def parse_networks(text: str) -> list[IPv4Network | IPv6Network]:
    """A comma list of networks (CIDR), as FACILITIES_WEBHOOK_ALLOWED_NETWORKS is written;
    raises ValueError."""
    return [ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()]


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
    # Open311 API calls without a key, per address (a key has its own limit)
    api_read_limit: str = "120 per minute"
    # Said in the Open311 discovery document: whom to ask for help and for a key
    api_contact: str = "Digipolis, huolto@digipolis.example"
    timezone: str = "Europe/Helsinki"
    # SLA clocks count these hours on these days, Finnish public holidays excepted
    business_hours: str = "08:00-16:00"
    business_days: str = "mon-fri"
    default_locale: str = "fi"
    smtp_host: str = ""  # empty: e-mails are written to the log instead of sent
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_use_tls: bool = False
    mail_from: str = "Digipolis <noreply@localhost>"
    # memory://: each process counts alone. With more than one web process (gunicorn
    # workers, servers) every limit multiplies by their number: use Redis (redis://host/0).
    ratelimit_storage_uri: str = "memory://"
    # Channels (webhooks) post to public addresses only. Networks of your own to allow, as
    # a comma list of CIDRs, for a receiver on the premises (10.20.0.0/24, 192.168.5.7/32).
    webhook_allowed_networks: str = ""
    # Kept pages: in each process's memory (empty), in the Redis named here
    # (redis://host:6379/1) shared by every web process, or "off".
    cache_url: str = ""
    page_cache_seconds: int = Field(default=600, ge=1)
    trusted_proxies: int = Field(default=0, ge=0, le=5)  # load balancers in front, for client IPs
    remember_days: int = Field(default=30, ge=1, le=365)  # "keep me signed in" lasts this long
    scheduler_interval_seconds: int = Field(default=30, ge=1)
    # How long a scheduler's lease lasts unrenewed (a standby takes over after it);
    # 0: three intervals, at least 30 seconds.
    scheduler_lease_seconds: int = Field(default=0, ge=0)
    # The follow-up jobs (requests.follow_up): a planned or active request without a
    # public update this many days is flagged to staff; a deadline this many hours away
    # warns the assignee; this many days after Done the sender is asked "is it fixed?"
    # (the link works this many days); personal data of requests closed this many months
    # ago is removed.
    stale_after_days: int = Field(default=30, ge=1, le=365)
    sla_warning_hours: int = Field(default=4, ge=1, le=24 * 14)
    fixed_question_after_days: int = Field(default=7, ge=1, le=90)
    fixed_link_days: int = Field(default=30, ge=1, le=365)
    retention_months: int = Field(default=24, ge=1, le=120)
    per_page: int = Field(default=20, ge=1, le=200)
    # EV charging: a charger out of order this long opens a fault request by itself; a
    # status not heard of (no push, no pull) this long is shown as unknown.
    charging_fault_after_minutes: int = Field(default=15, ge=0, le=24 * 60)
    charging_stale_after_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    upload_folder: str = ""  # empty: uploads/ in the instance folder
    upload_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    # Uploads in the folder above ("local") or in an S3-compatible bucket ("s3"), which
    # keeps web processes stateless. Empty S3 credentials and region fall back to boto3's
    # own lookup (AWS_* variables, an instance or task role).
    storage_backend: Literal["local", "s3"] = "local"
    s3_bucket: str = ""  # required with storage_backend "s3"
    s3_endpoint_url: str = ""  # empty: AWS; else e.g. https://minio.example.fi:9000
    s3_region: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    s3_prefix: str = ""  # a folder in the bucket, e.g. uploads

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

    @field_validator("business_hours")
    @classmethod
    def hours_of_a_day(cls, value: str) -> str:
        try:
            opens, closes = (time.fromisoformat(part.strip()) for part in value.split("-"))
        except ValueError:
            raise ValueError("write business hours as 08:00-16:00") from None
        if opens >= closes:
            raise ValueError("business hours must end after they start, e.g. 08:00-16:00")
        return value

    @field_validator("business_days")
    @classmethod
    def days_of_a_week(cls, value: str) -> str:
        from facilities.requests.sla import parse_days

        try:
            parse_days(value)
        except ValueError:
            raise ValueError("write business days as mon-fri or mon,tue,thu") from None
        return value

    @field_validator("api_read_limit")
    @classmethod
    def a_rate_limit(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError("a rate limit such as '120 per minute'") from None
        return value

    @field_validator("webhook_allowed_networks")
    @classmethod
    def networks(cls, value: str) -> str:
        try:
            parse_networks(value)
        except ValueError:
            raise ValueError(
                "write the networks to allow as CIDRs separated by commas, e.g. "
                "10.20.0.0/24,192.168.5.7/32"
            ) from None
        return value

    @property
    def webhook_networks(self) -> list[IPv4Network | IPv6Network]:
        return parse_networks(self.webhook_allowed_networks)

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
        """Outside development the secret signs sessions: it must be long and random."""
        if self.env is Environment.development:
            return self
        problem = secret_key_problem(self.secret_key)
        if problem:
            raise ValueError(
                f"FACILITIES_SECRET_KEY {problem}. Outside development it signs every "
                f"session, so make a random one: {MAKE_A_SECRET}"
            )
        return self

    @model_validator(mode="after")
    def s3_needs_a_bucket(self) -> Settings:
        if self.storage_backend == "s3" and not self.s3_bucket:
            raise ValueError(
                "FACILITIES_STORAGE_BACKEND=s3 needs FACILITIES_S3_BUCKET, the bucket to "
                "keep uploads in"
            )
        return self

    def warnings(self) -> list[str]:
        """What is allowed but weakens a production site: logged when the app starts
        (create_app), listed in the README's Security section."""
        if self.env in (Environment.development, Environment.testing):
            return []
        found = []
        if self.ratelimit_storage_uri.startswith("memory://"):
            found.append(
                "FACILITIES_RATELIMIT_STORAGE_URI is memory://: each web process counts on its "
                "own, so every rate limit (sign-in attempts, e-mails per recipient, forms, the "
                "API) is multiplied by the number of web processes. Set a Redis URI, e.g. "
                "redis://host:6379/0."
            )
        if not self.base_url.startswith("https://"):
            found.append(
                "FACILITIES_BASE_URL is not https://: cookies are not marked secure and "
                "e-mails offer no one-click unsubscribe (RFC 8058 needs an https link)."
            )
        return found

    def database_url_or_default(self, instance_path: str | Path) -> str:
        """The configured database, or an SQLite file in the instance folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(instance_path) / 'facilities.db'}"


def get_settings(app: Flask | None = None) -> Settings:
    """The settings the running app was built with."""
    return (app or current_app).extensions[SETTINGS_KEY]
