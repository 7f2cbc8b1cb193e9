"""Accounts: creating users, and the session token that ends sessions."""

import pytest

from facilities.accounts.models import Role
from facilities.accounts.users import create_user, end_all_sessions, user_for_session
from facilities.core.errors import ValidationFailed
from tests import factories


@pytest.mark.parametrize(
    "email", ["x,evil@example.org", "two@example.org three@example.org", "no-at-sign", "a@b"]
)
def test_an_e_mail_address_is_one_address(db, email):
    with pytest.raises(ValidationFailed) as failure:
        create_user(db, email=email, name="X", password=None, role=Role.staff)
    assert set(failure.value.errors) == {"email"}


def test_addresses_are_kept_lower_case_and_unique(db):
    create_user(db, email=" Aino@Example.COM ", name="Aino", password=None, role=Role.staff)
    with pytest.raises(ValidationFailed) as failure:
        create_user(db, email="aino@example.com", name="Aino 2", password=None, role=Role.staff)
    assert {key: str(message) for key, message in failure.value.errors.items()} == {
        "email": "Tällä sähköpostiosoitteella on jo käyttäjä."
    }


def test_a_session_names_the_user_and_their_current_token(db):
    user = factories.staff(db, password=None)
    session_id = user.get_id()
    assert user_for_session(db, session_id) == user
    end_all_sessions(db, user=user)
    assert user_for_session(db, session_id) is None
    assert user_for_session(db, user.get_id()) == user
    for forged in (f"{user.id}", f"{user.id}:", "x:y", f"{10**12}:{user.session_token}", ""):
        assert user_for_session(db, forged) is None
