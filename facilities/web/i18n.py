"""Choosing the reader's language, and showing times in the park's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import has_request_context, session
from flask_login import current_user

from facilities import get_settings
from facilities.config import REGIONAL_LOCALES, SUPPORTED_LOCALES

LANGUAGE_NAMES = {"fi": "Suomi", "sv": "Svenska", "en": "English"}


def select_locale() -> str:
    """The language chosen in this browser, else the user's own, else the park's default."""
    return REGIONAL_LOCALES[_chosen_language()]


def _chosen_language() -> str:
    if not has_request_context():  # CLI and jobs
        return get_settings().default_locale
    chosen = session.get("locale")
    if chosen in SUPPORTED_LOCALES:
        return chosen
    if current_user and current_user.is_authenticated:
        preferred = current_user.preferred_language
        if preferred in SUPPORTED_LOCALES:
            return preferred
    return get_settings().default_locale


def local_to_utc(value: datetime) -> datetime:
    """A time typed in the park's time zone (naive, from a form field) as aware UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return value.astimezone(UTC)


def utc_to_local(value: datetime) -> datetime:
    """An aware time in the park's time zone."""
    return value.astimezone(ZoneInfo(get_settings().timezone))
