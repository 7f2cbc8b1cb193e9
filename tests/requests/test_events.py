"""Listeners hear of each public entry once, when it becomes visible: at once, or when
the scheduler publishes it; internal notes never."""

from __future__ import annotations

from datetime import timedelta

from facilities.core.models import utcnow
from facilities.requests import events
from facilities.requests.timeline import publish_due_updates
from tests import factories


def test_listeners_hear_each_published_entry_once(app, db):
    heard = []
    events.init_app(app, [lambda _session, item, entry: heard.append((item.id, entry.body))])
    staff = factories.staff(db)
    item = factories.service_request(db)
    factories.triage(db, item, actor=staff, public_update="Now.", internal_note="Quiet.")
    factories.triage(
        db, item, actor=staff, public_update="Later.", publish_at=utcnow() + timedelta(minutes=5)
    )
    assert heard == [(item.id, "Now.")]
    publish_due_updates(db, now=utcnow() + timedelta(minutes=6))
    publish_due_updates(db, now=utcnow() + timedelta(minutes=7))
    assert heard == [(item.id, "Now."), (item.id, "Later.")]
    # a private request's updates go to its company only, never to listeners
    secret = factories.service_request(db, title="Our own server room")
    factories.triage(db, secret, actor=staff, visibility="private", public_update="Fixed.")
    assert len(heard) == 2
