"""Admins: channels (outbound webhooks) and the outbox's failed posts and e-mails."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import col, select
from werkzeug.wrappers import Response

from facilities.channels.channels import (
    ChannelForm,
    channel_form,
    queue_test_post,
    save_channel,
    set_channel_active,
)
from facilities.channels.models import Channel, ChannelFormat
from facilities.core import outbox
from facilities.core.db import get_session
from facilities.core.errors import ValidationFailed
from facilities.core.models import Outbox, OutboxStatus
from facilities.core.pagination import page_number, paginate
from facilities.settings import get_settings
from facilities.web.access import admin_only
from facilities.web.admin import blueprint
from facilities.web.forms import parse_form

FIELD_NAMES = tuple(ChannelForm.model_fields)


def _channel(channel_id: int) -> Channel:
    channel = get_session().get(Channel, channel_id)
    if channel is None:
        abort(404)
    return channel


def _list_page(form: dict, errors: dict, status: int = 200):
    channels = get_session().exec(select(Channel).order_by(col(Channel.name))).all()
    return render_template(
        "admin/channels.html",
        channels=channels,
        formats=list(ChannelFormat),
        form=form,
        errors=errors,
    ), status


def _edit_page(channel: Channel, form: dict, errors: dict, status: int = 200):
    return render_template(
        "admin/channel.html",
        channel=channel,
        formats=list(ChannelFormat),
        form=form,
        errors=errors,
    ), status


def _save(channel: Channel | None) -> tuple[Response | None, dict[str, str]]:
    db = get_session()
    data, errors = parse_form(ChannelForm, request.form)
    if data is not None:
        try:
            saved = save_channel(db, actor=current_user, data=data, channel=channel)
        except ValidationFailed as failure:
            db.rollback()
            errors = {key: str(message) for key, message in failure.errors.items()}
        else:
            db.commit()
            flash(_("The channel “%(name)s” was saved.", name=saved.name), "success")
            return redirect(url_for("admin.edit_channel", channel_id=saved.id)), {}
    return None, errors


def _kept_form() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in FIELD_NAMES}


@blueprint.get("/channels")
@admin_only
def channels_page():
    return _list_page({"wants_updates": "1", "wants_status_changes": "1"}, {})


@blueprint.post("/channels")
@admin_only
def add_channel():
    done, errors = _save(None)
    if done is not None:
        return done
    return _list_page(_kept_form(), errors, 422)


@blueprint.get("/channels/<int:channel_id>")
@admin_only
def edit_channel(channel_id: int):
    channel = _channel(channel_id)
    return _edit_page(channel, channel_form(channel), {})


@blueprint.post("/channels/<int:channel_id>")
@admin_only
def save_existing_channel(channel_id: int):
    channel = _channel(channel_id)
    done, errors = _save(channel)
    if done is not None:
        return done
    return _edit_page(_channel(channel_id), _kept_form(), errors, 422)


@blueprint.post("/channels/<int:channel_id>/active")
@admin_only
def toggle_channel(channel_id: int):
    channel = _channel(channel_id)
    active = request.form.get("active") == "1"
    db = get_session()
    set_channel_active(db, actor=current_user, channel=channel, active=active)
    db.commit()
    flash(
        _("The channel “%(name)s” receives posts again.", name=channel.name)
        if active
        else _("The channel “%(name)s” no longer receives posts.", name=channel.name),
        "success",
    )
    return redirect(url_for("admin.edit_channel", channel_id=channel.id))


@blueprint.post("/channels/<int:channel_id>/test")
@admin_only
def test_channel(channel_id: int):
    channel = _channel(channel_id)
    db = get_session()
    queue_test_post(db, actor=current_user, channel=channel)
    db.commit()
    flash(
        _(
            "A test post to “%(name)s” is queued and goes out within a minute. "
            "If it fails, it is listed under Outbox.",
            name=channel.name,
        ),
        "success",
    )
    return redirect(url_for("admin.edit_channel", channel_id=channel.id))


@blueprint.get("/outbox")
@admin_only
def outbox_page():
    """E-mails and webhook posts given up on after the last attempt, newest first."""
    page = paginate(
        get_session(),
        select(Outbox)
        .where(Outbox.status == OutboxStatus.failed)
        .order_by(col(Outbox.next_attempt_at).desc(), col(Outbox.id).desc()),
        page=page_number(request.args.get("page")),
        per_page=get_settings().per_page,
    )
    return render_template("admin/outbox.html", page=page, max_attempts=outbox.MAX_ATTEMPTS)


@blueprint.post("/outbox/<int:item_id>/retry")
@admin_only
def retry_outbox_item(item_id: int):
    db = get_session()
    if db.get(Outbox, item_id) is None:
        abort(404)
    if outbox.retry_failed(db, item_id=item_id, actor=current_user):
        db.commit()
        flash(_("It is tried again within a minute."), "success")
    else:
        flash(_("It was not waiting for a retry: someone retried it already."), "info")
    return redirect(url_for("admin.outbox_page"))
