"""E-mails to subscribers: the confirmation link, each update at once, and digests.

Every e-mail after the confirmation carries the subscription's unsubscribe link in its
body and as List-Unsubscribe with List-Unsubscribe-Post (RFC 8058), so mail programs
can offer a one-click unsubscribe that needs no page.
"""

from __future__ import annotations

from datetime import datetime

from facilities.core.outbox import Email, Recipient, absolute_url
from facilities.requests.models import RequestUpdate, ServiceRequest
from facilities.subscriptions.models import Subscription
from facilities.subscriptions.queries import Followed


def unsubscribe_url(token: str) -> str:
    return absolute_url(f"/subscriptions/unsubscribe/{token}")


def list_headers(token: str) -> dict[str, str]:
    """RFC 2369's unsubscribe link; one-click (RFC 8058) only over HTTPS, as it requires:
    mail programs ignore it on a plain http:// address."""
    url = unsubscribe_url(token)
    headers = {"List-Unsubscribe": f"<{url}>"}
    if url.startswith("https://"):
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def _to(subscription: Subscription) -> Recipient:
    return Recipient(address=subscription.email, name="", language=subscription.language)


def _context(subscription: Subscription, followed: Followed, token: str) -> dict[str, object]:
    return {
        "followed": followed,
        "frequency": subscription.frequency.value,
        "unsubscribe_url": unsubscribe_url(token),
        "manage_url": absolute_url("/account/subscriptions") if subscription.user_id else "",
    }


def subscription_confirm(
    *, subscription: Subscription, followed: Followed, token: str, now: datetime
) -> list[Email]:
    """To the address asked for: the link that starts the subscription (double opt-in)."""
    return [
        Email(
            name="subscription_confirm",
            # each ask is its own e-mail (the rate limit keeps them few)
            key=f"subscription:{subscription.id}:confirm:{now.isoformat()}",
            to=_to(subscription),
            context={
                **_context(subscription, followed, token),
                "url": absolute_url(f"/subscriptions/confirm/{token}"),
                "confirmed": subscription.confirmed_at is not None,
            },
        )
    ]


def subscription_update(
    *,
    subscription: Subscription,
    followed: Followed,
    token: str,
    service_request: ServiceRequest,
    entry: RequestUpdate,
) -> Email:
    """One public update or status change, to an immediate subscriber."""
    return Email(
        name="subscription_update",
        key=f"subscription:{subscription.id}:entry:{entry.id}",
        to=_to(subscription),
        context={
            **_context(subscription, followed, token),
            "service_request": service_request,
            "entry": entry,
            "url": absolute_url(f"/requests/{service_request.reference}"),
        },
        headers=list_headers(token),
    )


def subscription_digest(
    *,
    subscription: Subscription,
    followed: Followed,
    token: str,
    entries: list[RequestUpdate],
    more: bool,
    period_end: datetime,
) -> Email:
    """The day's or week's public updates in one e-mail, oldest first."""
    return Email(
        name="subscription_digest",
        key=f"subscription:{subscription.id}:digest:{period_end.isoformat()}",
        to=_to(subscription),
        context={
            **_context(subscription, followed, token),
            "entries": [
                (entry, absolute_url(f"/requests/{entry.request.reference}")) for entry in entries
            ],
            "more": more,
            "roadmap_url": absolute_url("/"),
        },
        headers=list_headers(token),
    )
