"""Public updates and status changes of public requests, posted to the channels that
want them: queued in the outbox in the transaction that publishes them."""

from __future__ import annotations

import html
import re

import nh3
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlmodel import Session, col, select

from facilities.channels.channels import PARK_LOCALE, queue_post
from facilities.channels.models import Channel
from facilities.channels.payloads import Post
from facilities.core.markdown import render_markdown
from facilities.core.outbox import absolute_url
from facilities.park.models import Visibility
from facilities.park.queries import localized
from facilities.requests.models import RequestUpdate, ServiceRequest, Status, UpdateKind

_BLOCK_END = re.compile(r"</(p|li|blockquote|pre)>|<br\s*/?>")
_BLANK_LINES = re.compile(r"\n{3,}")


def plain_text(markdown: str) -> str:
    """An update's Markdown as plain text: rendered and sanitised, then every tag dropped."""
    rendered = _BLOCK_END.sub(lambda match: match.group(0) + "\n", str(render_markdown(markdown)))
    text = html.unescape(nh3.clean(rendered, tags=set()))
    return _BLANK_LINES.sub("\n\n", text).strip()


def status_name(status: Status | None) -> str:
    return localized(status.names, "fi") if status is not None else ""


def request_details(service_request: ServiceRequest) -> dict[str, object]:
    return {
        "reference": service_request.reference,
        "title": service_request.title,
        "url": absolute_url(f"/requests/{service_request.reference}"),
        "status": status_name(service_request.status),
        "status_kind": service_request.status.kind.value,
    }


def entry_post(service_request: ServiceRequest, entry: RequestUpdate) -> Post:
    """One published entry as a post, in the park's language."""
    request = request_details(service_request)
    text = plain_text(entry.body)
    with force_locale(PARK_LOCALE):
        if entry.kind == UpdateKind.status_change:
            change = _(
                "Status: %(before)s → %(after)s",
                before=status_name(entry.from_status) or "–",
                after=status_name(entry.to_status),
            )
            text = f"{change}\n\n{text}" if text else change
            event = "request.status_changed"
        else:
            event = "request.updated"
        link_label = _("Read more")
    published = entry.published_at.isoformat() if entry.published_at else None
    return Post(
        event=event,
        headline=f"{service_request.reference} {service_request.title}",
        text=text,
        url=str(request["url"]),
        link_label=link_label,
        details={
            "request": request,
            "update": {
                "id": entry.id,
                "kind": entry.kind.value,
                "text": plain_text(entry.body),
                "from_status": status_name(entry.from_status) or None,
                "to_status": status_name(entry.to_status) or None,
                "published_at": published,
            },
        },
    )


def entry_key(channel: Channel, entry: RequestUpdate) -> str:
    return f"channel:{channel.id}:entry:{entry.id}"


def post_to_channels(
    session: Session, service_request: ServiceRequest, entry: RequestUpdate
) -> None:
    """The listener (facilities/listeners.py): one post per active channel that wants it.

    `announce_published` calls it for public requests only; checked again here, as this
    is what leaves the park.
    """
    if service_request.visibility != Visibility.public or entry.published_at is None:
        return
    if entry.kind == UpdateKind.status_change:
        wants = Channel.wants_status_changes
    elif entry.kind == UpdateKind.public_update:
        wants = Channel.wants_updates
    else:
        return
    channels = session.exec(
        select(Channel).where(col(Channel.active).is_(True), col(wants).is_(True))
    ).all()
    if not channels:
        return
    post = entry_post(service_request, entry)
    for channel in channels:
        queue_post(
            session,
            channel=channel,
            post=post,
            key=entry_key(channel, entry),
            now=entry.published_at or entry.created_at,  # the entry's publication is the moment
        )
