"""Merging a duplicate into its original: the people behind it and its photos move over.

A request marked Duplicate points to its original (`duplicate_of`). At that moment its
supports, followers and own files move to the original, so that the original counts
everyone once and they hear of its progress. Nothing crosses a privacy line: a person
who may not read the original keeps their support and following on the duplicate, and
files stay where they are when the original has readers the duplicate did not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import update
from sqlmodel import Session, col, select

from facilities import policy
from facilities.accounts.models import User
from facilities.core import audit
from facilities.park.models import Visibility
from facilities.requests.models import (
    Attachment,
    FollowReason,
    RequestFollower,
    RequestUpdate,
    ServiceRequest,
    Support,
    UpdateKind,
)
from facilities.requests.supports import lock_request, recount_supports


@dataclass(frozen=True)
class MergeOutcome:
    supports_moved: int = 0
    supports_already_there: int = 0  # the person supported the original too: counted once
    supports_kept: int = 0  # the person may not read or support the original
    followers_moved: int = 0
    files_moved: int = 0
    files_kept: int = 0  # the original has readers the duplicate's files were not for

    def as_dict(self) -> dict[str, int]:
        return {key: value for key, value in self.__dict__.items() if value}


def files_may_move(duplicate: ServiceRequest, original: ServiceRequest) -> bool:
    """Whether everyone who may read the original could already read the duplicate's files."""
    return duplicate.visibility == Visibility.public or (
        original.visibility == Visibility.private and original.tenant_id == duplicate.tenant_id
    )


def merge_into(
    session: Session,
    *,
    duplicate: ServiceRequest,
    original: ServiceRequest,
    actor: User,
    now: datetime,
) -> MergeOutcome:
    """Move the duplicate's supports, followers and files to the original; note and audit it.

    The sender of the duplicate follows the original from now on, if they may read it.
    """
    assert duplicate.id is not None and original.id is not None
    # Both rows locked in a fixed order, so two merges towards each other cannot deadlock.
    for item in sorted((duplicate, original), key=lambda r: r.id or 0):
        lock_request(session, item)
    supports = _move_supports(session, duplicate, original)
    followers = _move_followers(session, duplicate, original)
    files_moved, files_kept = _move_files(session, duplicate, original)
    outcome = MergeOutcome(
        supports_moved=supports[0],
        supports_already_there=supports[1],
        supports_kept=supports[2],
        followers_moved=followers,
        files_moved=files_moved,
        files_kept=files_kept,
    )
    recount_supports(session, duplicate)
    recount_supports(session, original)
    session.add_all(
        [
            RequestUpdate(
                request_id=original.id,
                kind=UpdateKind.system,
                body=_merged_note(duplicate.reference, outcome),
                author_id=actor.id,
                created_at=now,
                published_at=now,
            ),
        ]
    )
    audit.record(
        session,
        actor=actor,
        action="request.merged",
        entity="service_request",
        entity_id=duplicate.id,
        after={"into": original.reference, **outcome.as_dict()},
    )
    session.flush()
    return outcome


def _readers_of(session: Session, user_ids: set[int]) -> dict[int, User]:
    if not user_ids:
        return {}
    users = session.exec(select(User).where(col(User.id).in_(user_ids))).all()
    return {user.id: user for user in users if user.id is not None}


def _move_supports(
    session: Session, duplicate: ServiceRequest, original: ServiceRequest
) -> tuple[int, int, int]:
    """(moved, already on the original, kept on the duplicate)."""
    rows = session.exec(select(Support).where(Support.request_id == duplicate.id)).all()
    on_original = set(
        session.exec(select(Support.user_id).where(Support.request_id == original.id)).all()
    )
    users = _readers_of(session, {row.user_id for row in rows})
    moved = already = kept = 0
    for row in rows:
        user = users.get(row.user_id)
        if row.user_id in on_original:
            session.delete(row)
            already += 1
        elif user is not None and policy.for_request(user, original).support:
            row.request_id = original.id  # type: ignore[assignment]
            session.add(row)
            moved += 1
        else:
            kept += 1
    session.flush()
    return moved, already, kept


def _move_followers(session: Session, duplicate: ServiceRequest, original: ServiceRequest) -> int:
    """Followers (and the duplicate's sender) who may read the original follow it instead."""
    assert original.id is not None
    rows = session.exec(
        select(RequestFollower).where(RequestFollower.request_id == duplicate.id)
    ).all()
    following_original = set(
        session.exec(
            select(RequestFollower.user_id).where(RequestFollower.request_id == original.id)
        ).all()
    )
    wanted = {row.user_id: row.reason for row in rows}
    if duplicate.submitter_id is not None:
        wanted.setdefault(duplicate.submitter_id, FollowReason.chosen)
    users = _readers_of(session, set(wanted))
    may_follow = {user_id for user_id, user in users.items() if policy.may_view(user, original)}
    moved = 0
    for user_id, reason in wanted.items():
        if user_id in may_follow and user_id not in following_original:
            session.add(RequestFollower(request_id=original.id, user_id=user_id, reason=reason))
            moved += 1
    # They hear of the original now; the duplicate's page says where its story goes on.
    leaving = [row for row in rows if row.user_id in may_follow]
    for row in leaving:
        session.delete(row)
    session.flush()
    return moved


def _move_files(
    session: Session, duplicate: ServiceRequest, original: ServiceRequest
) -> tuple[int, int]:
    """The duplicate's own files (not those of its messages): (moved, kept)."""
    own_files = (col(Attachment.request_id) == duplicate.id) & col(Attachment.update_id).is_(None)
    if not files_may_move(duplicate, original):
        kept = len(session.exec(select(Attachment.id).where(own_files)).all())
        return 0, kept
    moved = session.exec(
        update(Attachment)
        .where(own_files)
        .values(request_id=original.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    return moved, 0


def _merged_note(reference: str, outcome: MergeOutcome) -> str:
    """The original's timeline says what came over, in the language of whoever merged."""
    parts = [_("%(reference)s was merged into this request.", reference=reference)]
    if outcome.supports_moved:
        parts.append(_("Supports moved: %(count)s.", count=outcome.supports_moved))
    if outcome.supports_already_there:
        parts.append(
            _(
                "Supported both already, counted once: %(count)s.",
                count=outcome.supports_already_there,
            )
        )
    if outcome.followers_moved:
        parts.append(_("Followers moved: %(count)s.", count=outcome.followers_moved))
    if outcome.files_moved:
        parts.append(_("Files moved: %(count)s.", count=outcome.files_moved))
    if outcome.files_kept or outcome.supports_kept:
        parts.append(
            _(
                "Left on the duplicate, for want of access to this request: "
                "%(supports)s supports, %(files)s files.",
                supports=outcome.supports_kept,
                files=outcome.files_kept,
            )
        )
    return " ".join(parts)
