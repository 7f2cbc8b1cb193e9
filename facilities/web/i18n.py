"""Choosing the reader's language, and showing times in the park's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import has_request_context, request, session
from flask_login import current_user

from facilities.settings import REGIONAL_LOCALES, SUPPORTED_LOCALES, get_settings

LANGUAGE_NAMES = {"fi": "Suomi", "sv": "Svenska", "en": "English"}


def select_locale() -> str:
    """The language chosen in this browser, else the user's own, else the park's default."""
    return REGIONAL_LOCALES[_chosen_language()]


def visitor_locale() -> str:
    """`select_locale()` for a visitor known not to be signed in, without asking
    Flask-Login to look for a user."""
    chosen = session.get("locale")
    if chosen not in SUPPORTED_LOCALES:
        chosen = _browser_language()
    return REGIONAL_LOCALES[chosen]


def _browser_language() -> str:
    """On a first visit, the best of our languages in the browser's Accept-Language;
    the park's default when none of them is there."""
    best = request.accept_languages.best_match(SUPPORTED_LOCALES)
    return best if best in SUPPORTED_LOCALES else get_settings().default_locale


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
    return _browser_language()


class NonexistentLocalTime(ValueError):
    """The clocks jump over this time that night (spring forward)."""


class AmbiguousLocalTime(ValueError):
    """This time occurs twice that night (fall back): which one is meant is not known."""


def local_to_utc(value: datetime) -> datetime:
    """A time typed in the park's time zone (naive, from a form field) as aware UTC.

    Raises NonexistentLocalTime or AmbiguousLocalTime around daylight saving changes
    rather than guessing which hour was meant.
    """
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    zone = ZoneInfo(get_settings().timezone)
    earlier, later = value.replace(tzinfo=zone, fold=0), value.replace(tzinfo=zone, fold=1)
    if earlier.utcoffset() != later.utcoffset():
        round_trip = earlier.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        raise (NonexistentLocalTime if round_trip != value else AmbiguousLocalTime)(value)
    return earlier.astimezone(UTC)


def utc_to_local(value: datetime) -> datetime:
    """An aware time in the park's time zone."""
    return value.astimezone(ZoneInfo(get_settings().timezone))
