import pytest

from facilities.requests.workflow import (
    TRANSITIONS,
    StatusKind,
    TransitionError,
    allowed_targets,
    check_transition,
)


def test_every_kind_has_transitions_and_closed_ones_can_reopen():
    assert set(TRANSITIONS) == set(StatusKind)
    for closed in (StatusKind.done, StatusKind.declined, StatusKind.duplicate):
        assert StatusKind.review in allowed_targets(closed)


def test_new_request_can_be_planned():
    check_transition(StatusKind.new, StatusKind.planned)


def test_done_cannot_jump_to_duplicate():
    with pytest.raises(TransitionError) as error:
        check_transition(StatusKind.done, StatusKind.duplicate, has_duplicate_target=True)
    assert error.value.code == "not_allowed"


def test_declining_needs_a_public_reason():
    with pytest.raises(TransitionError) as error:
        check_transition(StatusKind.review, StatusKind.declined, public_reason="  ")
    assert error.value.code == "reason_required"
    check_transition(StatusKind.review, StatusKind.declined, public_reason="No budget this year.")


def test_duplicate_needs_a_target():
    with pytest.raises(TransitionError) as error:
        check_transition(StatusKind.new, StatusKind.duplicate)
    assert error.value.code == "duplicate_target_required"
    check_transition(StatusKind.new, StatusKind.duplicate, has_duplicate_target=True)


def test_staying_in_the_same_kind_is_always_allowed():
    for kind in StatusKind:
        check_transition(kind, kind)
