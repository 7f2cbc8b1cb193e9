"""The access policy, rule by rule: who sees a request, its timeline, and what they may do."""

import pytest

from facilities import policy
from facilities.accounts.models import Role
from facilities.park.models import Visibility
from facilities.requests.models import PUBLIC_UPDATE_KINDS, UpdateKind
from tests import factories


@pytest.fixture
def people(db):
    member_a = factories.user(db, password=None)
    return {
        "anonymous": None,
        "member_a": member_a,
        "admin_a": factories.user(
            db, role=Role.tenant_admin, tenant_id=member_a.tenant_id, password=None
        ),
        "member_b": factories.user(db, password=None),
        "staff": factories.staff(db, password=None),
        "admin": factories.user(db, role=Role.admin, password=None),
    }


def _request(db, people, visibility):
    item = factories.service_request(db, submitter=people["member_a"])
    item.visibility = visibility
    return item


@pytest.mark.parametrize(
    ("visibility", "who_may_view"),
    [
        (Visibility.public, {"anonymous", "member_a", "admin_a", "member_b", "staff", "admin"}),
        (Visibility.private, {"member_a", "admin_a", "staff", "admin"}),
    ],
)
def test_who_may_view_a_request(db, people, visibility, who_may_view):
    item = _request(db, people, visibility)
    assert {name for name, user in people.items() if policy.may_view(user, item)} == who_may_view


def test_what_each_viewer_reads_and_may_do(db, people):
    item = _request(db, people, Visibility.public)
    access = {name: policy.for_request(user, item) for name, user in people.items()}

    assert {name for name, a in access.items() if a.insider} == {
        "member_a",
        "admin_a",
        "staff",
        "admin",
    }
    assert {name for name, a in access.items() if a.triage} == {"staff", "admin"}
    assert {name for name, a in access.items() if a.comment} == {
        "member_a",
        "admin_a",
        "staff",
        "admin",
    }
    assert {name for name, a in access.items() if a.support} == {"member_a", "admin_a", "member_b"}
    assert access["staff"].timeline_kinds is None  # everything, scheduled posts too
    assert access["member_a"].timeline_kinds == PUBLIC_UPDATE_KINDS | {UpdateKind.comment}
    assert access["member_b"].timeline_kinds == PUBLIC_UPDATE_KINDS
    assert access["anonymous"].timeline_kinds == PUBLIC_UPDATE_KINDS


def test_staff_read_the_public_page_as_its_readers_do(db, people):
    item = _request(db, people, Visibility.public)
    assert policy.as_reader(people["staff"], item).timeline_kinds == PUBLIC_UPDATE_KINDS
    assert policy.as_reader(people["member_a"], item) == policy.for_request(
        people["member_a"], item
    )


def test_only_admins_administer(people):
    assert [name for name, user in people.items() if policy.may_administer(user)] == ["admin"]


def test_only_an_active_key_with_the_submit_scope_may_send_through_the_api():
    from facilities.accounts.models import ApiKey, ApiScope
    from facilities.core.models import utcnow

    def key(*scopes: ApiScope, revoked: bool = False) -> ApiKey:
        return ApiKey(
            name="k",
            prefix="fac_x",
            key_hash="h",
            scopes=[scope.value for scope in scopes],
            revoked_at=utcnow() if revoked else None,
        )

    assert policy.may_send_through_api(key(ApiScope.submit))
    assert policy.may_send_through_api(key(ApiScope.read, ApiScope.submit))
    assert not policy.may_send_through_api(key(ApiScope.read))
    assert not policy.may_send_through_api(key(ApiScope.submit, revoked=True))
    assert not policy.may_send_through_api(None)
