"""Status kinds and the transitions between them. Pure Python: no Flask, no database.

Statuses are configurable rows, but each has one of these kinds, and the code
reasons only about kinds.
"""

from __future__ import annotations

from enum import StrEnum


class StatusKind(StrEnum):
    new = "new"
    review = "review"
    planned = "planned"
    active = "active"
    waiting = "waiting"  # the SLA clock pauses here
    done = "done"
    declined = "declined"  # needs a public reason
    duplicate = "duplicate"  # needs a target request


# Where a request may go from each kind. Closed kinds can be reopened into review
# (or back to active for work that was marked done too early).
TRANSITIONS: dict[StatusKind, frozenset[StatusKind]] = {
    StatusKind.new: frozenset(
        {
            StatusKind.review,
            StatusKind.planned,
            StatusKind.active,
            StatusKind.waiting,
            StatusKind.done,
            StatusKind.declined,
            StatusKind.duplicate,
        }
    ),
    StatusKind.review: frozenset(
        {
            StatusKind.planned,
            StatusKind.active,
            StatusKind.waiting,
            StatusKind.done,
            StatusKind.declined,
            StatusKind.duplicate,
        }
    ),
    StatusKind.planned: frozenset(
        {
            StatusKind.review,
            StatusKind.active,
            StatusKind.waiting,
            StatusKind.done,
            StatusKind.declined,
        }
    ),
    StatusKind.active: frozenset(
        {StatusKind.planned, StatusKind.waiting, StatusKind.done, StatusKind.declined}
    ),
    StatusKind.waiting: frozenset(
        {StatusKind.planned, StatusKind.active, StatusKind.done, StatusKind.declined}
    ),
    StatusKind.done: frozenset({StatusKind.active, StatusKind.review}),
    StatusKind.declined: frozenset({StatusKind.review}),
    StatusKind.duplicate: frozenset({StatusKind.review}),
}

# The roadmap's columns, in the order residents read them.
ROADMAP_KINDS: tuple[StatusKind, ...] = (StatusKind.planned, StatusKind.active, StatusKind.done)
CLOSED_KINDS = frozenset({StatusKind.done, StatusKind.declined, StatusKind.duplicate})
# Kinds the staff queue shows by default: everything that still needs someone.
OPEN_KINDS = frozenset(StatusKind) - CLOSED_KINDS


class TransitionError(ValueError):
    """A status change the workflow does not allow; `code` names the reason."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def allowed_targets(current: StatusKind) -> frozenset[StatusKind]:
    return TRANSITIONS[StatusKind(current)]


def check_transition(
    current: StatusKind,
    target: StatusKind,
    *,
    public_reason: str | None = None,
    has_duplicate_target: bool = False,
) -> None:
    """Raise TransitionError unless `current` may move to `target` with what is given."""
    current, target = StatusKind(current), StatusKind(target)
    if current == target:
        return
    if target not in TRANSITIONS[current]:
        raise TransitionError("not_allowed")
    if target is StatusKind.declined and not (public_reason and public_reason.strip()):
        raise TransitionError("reason_required")
    if target is StatusKind.duplicate and not has_duplicate_target:
        raise TransitionError("duplicate_target_required")
