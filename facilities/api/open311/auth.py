"""Who calls the Open311 API, and how often they may.

Reading needs no key: anyone may read public requests, limited per address. A key
(`api_key`, in the query or the form) is checked whenever one is sent: a revoked or
unknown key is refused rather than read as anonymous, so a client learns at once.
A key's calls count against its own limit, and each is kept (accounts.api_keys).
"""

from __future__ import annotations

import math
import time

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse

from facilities import policy
from facilities.accounts import api_keys
from facilities.accounts.models import ApiKey
from facilities.api.open311.formats import Open311Error
from facilities.core.db import get_session
from facilities.extensions import limiter
from facilities.requests.intake import SUBMIT_LIMIT
from facilities.settings import get_settings


def sent_key() -> str | None:
    """The api_key parameter, from the form of a POST or the query of any call."""
    value = request.form.get("api_key") if request.method == "POST" else None
    if value is None:
        value = request.args.get("api_key")
    return value


def authenticate() -> ApiKey | None:
    """The caller's key (kept in g for the audit), or None for an anonymous reader."""
    raw = sent_key()
    if raw is None or raw == "":
        return None
    key = api_keys.key_for(get_session(), raw.strip())
    if key is None:
        raise Open311Error(403, _("The api_key is not valid. Ask the park's admins for a key."))
    g.open311_key = key
    if not key.active:
        raise Open311Error(
            403, _("This api_key has been revoked. Ask the park's admins for a new key.")
        )
    return key


def require_sender(key: ApiKey | None) -> ApiKey:
    """The key, if policy lets it send requests; else the 403 that says why."""
    if key is None:
        raise Open311Error(
            403, _("An api_key is needed to send requests. Ask the park's admins for a key.")
        )
    if not policy.may_send_through_api(key):
        raise Open311Error(
            403, _("This api_key may not send requests (it lacks the submit scope).")
        )
    return key


def _hit(item: RateLimitItem, *identifiers: str) -> None:
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    strategy = limiter.limiter
    if not strategy.hit(item, "open311", *identifiers):
        reset, _remaining = strategy.get_window_stats(item, "open311", *identifiers)
        raise Open311Error(
            429,
            _(
                "Too many requests: at most %(count)s in %(seconds)s seconds. Try again later.",
                count=item.amount,
                seconds=item.get_expiry(),
            ),
            retry_after=max(1, math.ceil(reset - time.time())),
        )


def limit_calls(key: ApiKey | None) -> None:
    """Every call: the key's own limit per minute, or the shared one per address."""
    if key is not None:
        _hit(parse(f"{key.rate_limit_per_minute} per minute"), "key", str(key.id))
    else:
        _hit(parse(get_settings().api_read_limit), "address", get_remote_address() or "")


def limit_submissions(key: ApiKey, email: str) -> None:
    """New requests: the web form's limit, per person the client sends for (or the key)."""
    for item in _items(SUBMIT_LIMIT):
        _hit(item, "submit", str(key.id), email.lower())


def _items(limits: str) -> list[RateLimitItem]:
    return [parse(part) for part in limits.split(";") if part.strip()]
