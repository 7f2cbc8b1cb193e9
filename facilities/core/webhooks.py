"""Posting one outbox webhook row: the JSON body, its signature and the HTTP POST.

Generic posts are signed the way Stripe and Slack sign theirs, so that receivers can
reuse what they know: `X-Facilities-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>" with the channel's secret>`. Every post carries
`X-Facilities-Idempotency-Key`, the outbox row's key: the same on every retry, so a
receiver drops a post it already has.

A post goes only to a public address (facilities.core.addresses), checked when it is
sent: the host is resolved once and the post connects to the address checked, the host
name kept in the Host header and for TLS (SNI and the certificate's name).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import datetime

import httpx

from facilities.core.addresses import AddressRefused, Network, NotResolved, checked_addresses
from facilities.core.models import Outbox

TIMEOUT_SECONDS = 10.0
SIGNATURE_HEADER = "X-Facilities-Signature"
IDEMPOTENCY_HEADER = "X-Facilities-Idempotency-Key"


class WebhookRefused(Exception):
    """Not posted, or the receiver answered but not with 2xx: tried again later.

    Its text is ours (the status and its standard phrase, or why the address was not
    used), never what the receiver answered: the outbox keeps it and admins read it.
    """


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


def post(item: Outbox, *, now: datetime, allowed: Sequence[Network] = ()) -> None:
    """POST the row's payload; returns on 2xx, raises on anything else (to be retried).

    Redirects are not followed: a receiver that moved is given up on after the retries,
    and the admins see its last status on the outbox page.
    """
    url = httpx.URL(item.url)
    host = url.raw_host.decode("ascii")
    port = url.port if url.port is not None else 443 if url.scheme == "https" else 80
    try:
        address = checked_addresses(host, port, allowed)[0]
    except AddressRefused as refusal:
        raise WebhookRefused(f"not sent: {refusal}") from None
    except NotResolved:
        raise WebhookRefused(f"not sent: no address found for {host}") from None
    body = body_of(item)
    headers = headers_for(item, body, now=now)
    headers["Host"] = url.netloc.decode("ascii")
    with (
        httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client,
        client.stream(  # the answer's body is never read: only its status counts
            "POST",
            url.copy_with(host=str(address)),
            content=body,
            headers=headers,
            extensions={"sni_hostname": host} if url.scheme == "https" else None,
        ) as response,
    ):
        code = response.status_code
    if not 200 <= code < 300:
        raise WebhookRefused(f"HTTP {code} {httpx.codes.get_reason_phrase(code)}".rstrip())
