"""Posting one outbox webhook row: the JSON body, its signature and the HTTP POST.

Generic posts are signed the way Stripe and Slack sign theirs, so that receivers can
reuse what they know: `X-Facilities-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>" with the channel's secret>`. Every post carries
`X-Facilities-Idempotency-Key`, the outbox row's key: the same on every retry, so a
receiver drops a post it already has.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

import httpx

from facilities.core.models import Outbox

TIMEOUT_SECONDS = 10.0
SIGNATURE_HEADER = "X-Facilities-Signature"
IDEMPOTENCY_HEADER = "X-Facilities-Idempotency-Key"


class WebhookRefused(Exception):
    """The receiver answered, but not with 2xx: the post is tried again later."""


def body_of(item: Outbox) -> bytes:
    """The exact bytes posted (and signed): compact JSON in UTF-8."""
    return json.dumps(item.payload or {}, ensure_ascii=False, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def headers_for(item: Outbox, body: bytes, *, now: datetime) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "facilities-webhooks/1",
        IDEMPOTENCY_HEADER: item.idempotency_key,
    }
    if item.signing_secret:
        headers[SIGNATURE_HEADER] = signature(item.signing_secret, int(now.timestamp()), body)
    return headers


def post(item: Outbox, *, now: datetime) -> None:
    """POST the row's payload; returns on 2xx, raises on anything else (to be retried).

    Redirects are not followed: a receiver that moved is given up on after the retries,
    and the admins see its last answer on the outbox page.
    """
    body = body_of(item)
    response = httpx.post(
        item.url,
        content=body,
        headers=headers_for(item, body, now=now),
        timeout=TIMEOUT_SECONDS,
        follow_redirects=False,
    )
    if not response.is_success:
        raise WebhookRefused(f"HTTP {response.status_code}: {response.text[:300]}")
