"""Who hears when a request's public timeline grows: a public update or a status change
is published (now, or by the scheduler at its time).

Domains that build on requests (subscriptions, channels) write what they send into the
outbox in the same transaction, through listeners that `facilities/listeners.py` lists
and `create_app` hands to the app. This module knows none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import current_app, has_app_context
from sqlmodel import Session

from facilities.park.models import Visibility
from facilities.requests.models import PUBLIC_UPDATE_KINDS, RequestUpdate, ServiceRequest

Listener = Callable[[Session, ServiceRequest, RequestUpdate], None]
EXTENSION_KEY = "facilities.listeners"


def init_app(app, listeners: Sequence[Listener]) -> None:
    app.extensions[EXTENSION_KEY] = tuple(listeners)


def announce_published(
    session: Session, service_request: ServiceRequest, entry: RequestUpdate
) -> None:
    """Tell every listener of one entry now visible to everyone: a public update or a
    status change of a public request. Private requests and internal notes are never
    announced, so nothing built on this can leak them."""
    if not has_app_context() or entry.kind not in PUBLIC_UPDATE_KINDS:
        return
    if service_request.visibility != Visibility.public:
        return
    for listener in current_app.extensions.get(EXTENSION_KEY, ()):
        listener(session, service_request, entry)
