"""Saved views: each member of staff names the queue filters they come back to."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from facilities.accounts.models import User
from facilities.core import audit
from facilities.core.errors import ValidationFailed
from facilities.requests.models import SavedView, clean_one_line
from facilities.requests.queries import QUEUE_ARGS

MAX_VIEWS = 20  # a row of buttons, not a second queue


def views_of(session: Session, user: User) -> list[SavedView]:
    return list(
        session.exec(
            select(SavedView)
            .where(SavedView.user_id == user.id)
            .order_by(col(SavedView.name), col(SavedView.id))
        ).all()
    )


def kept_query(query: str) -> str:
    """Only the queue's own filters, non-empty, in a fixed order (no page number)."""
    pairs = dict(parse_qsl(query, keep_blank_values=False))
    return urlencode([(key, pairs[key][:100]) for key in QUEUE_ARGS if pairs.get(key)])


def save_view(session: Session, *, user: User, name: str, query: str) -> SavedView:
    """Save (or, under a name they used before, replace) the user's view."""
    try:
        name = clean_one_line(name)
    except ValueError:
        name = ""
    if not name:
        raise ValidationFailed({"view_name": str(_l("Give the view a name."))})
    if len(name) > 60:
        raise ValidationFailed({"view_name": str(_l("Enter at most 60 characters."))})
    query = kept_query(query)
    existing = session.exec(
        select(SavedView).where(SavedView.user_id == user.id, SavedView.name == name)
    ).first()
    if existing is None and len(views_of(session, user)) >= MAX_VIEWS:
        raise ValidationFailed(
            {"view_name": str(_l("You have 20 views already: delete one first."))}
        )
    assert user.id is not None
    view = existing or SavedView(user_id=user.id, name=name)
    view.query = query
    session.add(view)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:  # the same name saved at the same moment in another tab
        raise ValidationFailed({"view_name": str(_l("Try again."))}) from error
    audit.record(
        session,
        actor=user,
        action="saved_view.saved",
        entity="saved_view",
        entity_id=view.id,
        after={"name": name, "query": query},
    )
    return view


def delete_view(session: Session, *, user: User, view_id: int) -> bool:
    """Delete one of the user's own views; another's is not found."""
    view = session.get(SavedView, view_id)
    if view is None or view.user_id != user.id:
        return False
    audit.record(
        session,
        actor=user,
        action="saved_view.deleted",
        entity="saved_view",
        entity_id=view.id,
        before={"name": view.name, "query": view.query},
    )
    session.delete(view)
    session.flush()
    return True
