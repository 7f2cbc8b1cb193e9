"""Admins' operations on channels: add, change, (de)activate, and a test post."""

from __future__ import annotations

import ipaddress
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func
from sqlmodel import Session, col, select

from facilities.accounts.models import User
from facilities.channels.models import AUDITED_FIELDS, Channel, ChannelFormat
from facilities.channels.payloads import Post, payload_for
from facilities.core import audit
from facilities.core.addresses import AddressRefused, NotResolved, checked_addresses, port_allowed
from facilities.core.errors import ValidationFailed
from facilities.core.models import Outbox, utcnow
from facilities.core.outbox import absolute_url, enqueue_webhook
from facilities.settings import Environment, get_settings

LOCAL_HOSTS = {"localhost"}
PARK_LOCALE = "fi_FI"  # posts are written in the park's language


def new_secret() -> str:
    return secrets.token_hex(32)


class ChannelForm(BaseModel):
    name: str = Field(min_length=2, max_length=80)
    url: str = Field(min_length=8, max_length=2000)
    format: ChannelFormat = ChannelFormat.generic
    wants_updates: bool = False
    wants_status_changes: bool = False
    wants_weekly: bool = False
    note: str = Field(default="", max_length=500)

    @field_validator("name", "url", "note", mode="before")
    @classmethod
    def one_line(cls, value: Any) -> Any:
        return " ".join(value.split()) if isinstance(value, str) else value

    @field_validator("wants_updates", "wants_status_changes", "wants_weekly", mode="before")
    @classmethod
    def ticked(cls, value: Any) -> bool:
        return value if isinstance(value, bool) else value not in (None, "", "0")


def _is_local(host: str) -> bool:
    if host.lower() in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str) -> str | None:
    """Why a channel cannot post to `url`, or None.

    https only, so that posts and signatures travel encrypted; plain http to this
    machine (127.0.0.1, when allowed) and anywhere in development and testing. Only to a
    web port of a public address: every address the host resolves to is checked
    (facilities.core.addresses), and again at every post.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port if parts.port is not None else 443 if parts.scheme == "https" else 80
    except ValueError:
        return str(_l("Enter a web address such as https://hooks.example.fi/facilities."))
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        return str(_l("Enter a web address such as https://hooks.example.fi/facilities."))
    settings = get_settings()
    relaxed = settings.env in (Environment.development, Environment.testing)
    if parts.scheme == "http" and not relaxed and not _is_local(host):
        return str(_l("Use an https address: posts and their signatures must travel encrypted."))
    if not port_allowed(port):
        return str(
            _l(
                "Use the receiver's web port: 443 or 80, or one from 1024 up that is not "
                "a database's or a cache's."
            )
        )
    try:
        checked_addresses(host, port, settings.webhook_networks)
    except AddressRefused:
        return str(
            _l(
                "%(host)s is on a private, local or reserved network, where channels may "
                "not post. Use the receiver's public address (a receiver on the premises "
                "needs its network allowed by the site's operator).",
                host=host,
            )
        )
    except NotResolved:
        pass  # DNS may not know a new receiver yet: every post checks it again
    return None


def channel_form(channel: Channel) -> dict[str, str]:
    return {
        "name": channel.name,
        "url": channel.url,
        "format": channel.format.value,
        "wants_updates": "1" if channel.wants_updates else "",
        "wants_status_changes": "1" if channel.wants_status_changes else "",
        "wants_weekly": "1" if channel.wants_weekly else "",
        "note": channel.note,
    }


def _audited(channel: Channel) -> dict[str, Any]:
    dumped = channel.model_dump(mode="json")
    return {name: dumped[name] for name in AUDITED_FIELDS}


def save_channel(
    session: Session, *, actor: User | None, data: ChannelForm, channel: Channel | None = None
) -> Channel:
    """Add a channel (with a new secret) or change one; audited, never with the secret."""
    errors: dict[str, Any] = {}
    problem = url_problem(data.url)
    if problem:
        errors["url"] = problem
    same_name = select(Channel.id).where(func.lower(Channel.name) == data.name.lower())
    if channel is not None:
        same_name = same_name.where(col(Channel.id) != channel.id)
    if session.exec(same_name).first() is not None:
        errors["name"] = _l("Another channel has this name. Choose another.")
    if errors:
        raise ValidationFailed(errors)
    before = _audited(channel) if channel is not None else None
    channel = channel or Channel(name=data.name, url=data.url, secret=new_secret())
    for name in ("name", "url", "format", "wants_updates", "wants_status_changes"):
        setattr(channel, name, getattr(data, name))
    channel.wants_weekly, channel.note = data.wants_weekly, data.note
    channel.updated_at = utcnow()
    session.add(channel)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="channel.saved" if before else "channel.added",
        entity="channel",
        entity_id=channel.id,
        before=before,
        after=_audited(channel),
    )
    return channel


def set_channel_active(session: Session, *, actor: User, channel: Channel, active: bool) -> None:
    """Stop posting to a channel, or start again. Posts queued already still go."""
    if channel.active == active:
        return
    channel.active, channel.updated_at = active, utcnow()
    session.add(channel)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="channel.activated" if active else "channel.deactivated",
        entity="channel",
        entity_id=channel.id,
        before={"active": not active},
        after={"active": active},
    )


def queue_post(
    session: Session, *, channel: Channel, post: Post, key: str, now: datetime
) -> Outbox | None:
    """Queue `post` for `channel` under `key`; None when that key is queued already."""
    park = get_settings().park_name
    return enqueue_webhook(
        session,
        key=key,
        url=channel.url,
        payload=payload_for(channel.format, post, key=key, park=park),
        format=channel.format.value,
        signing_secret=channel.secret if channel.format == ChannelFormat.generic else "",
        name=channel.name,
        summary=post.headline,
        now=now,
    )


def queue_test_post(session: Session, *, actor: User, channel: Channel) -> Outbox | None:
    """A test post to the channel, queued like any other (inactive channels too); audited."""
    key = f"channel:{channel.id}:test:{secrets.token_hex(8)}"
    with force_locale(PARK_LOCALE):
        post = Post(
            event="channel.test",
            headline=_("Test post from %(park)s", park=get_settings().park_name),
            text=_("This channel receives the park's public news. No action is needed."),
            url=absolute_url("/"),
            link_label=_("Open the roadmap"),
        )
    item = queue_post(session, channel=channel, post=post, key=key, now=utcnow())
    audit.record(
        session,
        actor=actor,
        action="channel.test_queued",
        entity="channel",
        entity_id=channel.id,
        after={"key": key},
    )
    return item
