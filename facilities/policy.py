"""Who may see and do what: the one place views, operations, templates and the API ask.

Deny by default: every answer is False unless a rule below says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from facilities.accounts.api_keys import has_scope
from facilities.accounts.models import ApiKey, ApiScope, Role, User
from facilities.park.models import Visibility
from facilities.requests.models import (
    PUBLIC_UPDATE_KINDS,
    Attachment,
    ServiceRequest,
    UpdateKind,
)


def _signed_in(user: User | None) -> bool:
    return user is not None and user.is_authenticated


def is_staff(user: User | None) -> bool:
    return _signed_in(user) and user.is_staff  # type: ignore[union-attr]


def may_administer(user: User | None) -> bool:
    return _signed_in(user) and user.role == Role.admin  # type: ignore[union-attr]


def same_company(user: User | None, service_request: ServiceRequest) -> bool:
    """The viewer works for the company that sent the request."""
    return (
        _signed_in(user)
        and user.tenant_id is not None  # type: ignore[union-attr]
        and user.tenant_id == service_request.tenant_id  # type: ignore[union-attr]
    )


def may_send_through_api(key: ApiKey | None) -> bool:
    """An API client may send requests with an active key that has the submit scope."""
    return key is not None and key.active and has_scope(key, ApiScope.submit)


def may_view(user: User | None, service_request: ServiceRequest) -> bool:
    """Public requests are for everyone; private ones for staff and the sender's company."""
    return (
        service_request.visibility == Visibility.public
        or is_staff(user)
        or same_company(user, service_request)
    )


@dataclass(frozen=True)
class RequestAccess:
    """What one viewer may see and do with one request; templates get this object."""

    view: bool
    insider: bool  # staff or the sender's company: sees who sent it
    same_company: bool
    staff: bool
    read_internal: bool  # internal notes and scheduled posts
    comment: bool
    support: bool
    triage: bool

    @property
    def timeline_kinds(self) -> frozenset[UpdateKind] | None:
        """The kinds of timeline entry this viewer reads; None means all, unpublished too."""
        if self.read_internal:
            return None
        if self.same_company:
            return PUBLIC_UPDATE_KINDS | {UpdateKind.comment}
        return PUBLIC_UPDATE_KINDS


def for_request(user: User | None, service_request: ServiceRequest) -> RequestAccess:
    staff = is_staff(user)
    company = same_company(user, service_request)
    view = may_view(user, service_request)
    return RequestAccess(
        view=view,
        insider=staff or company,
        same_company=company,
        staff=staff,
        read_internal=staff,
        comment=view and (staff or company),
        support=view
        and _signed_in(user)
        and user.is_tenant_user  # type: ignore[union-attr]
        and service_request.visibility == Visibility.public
        and service_request.duplicate_of_id is None,  # its supports went to the original
        triage=staff,
    )


def may_read_attachment(
    user: User | None, service_request: ServiceRequest, attachment: Attachment
) -> bool:
    """A request's own files go with the request; a comment's with the conversation
    (the sender's company and staff)."""
    if attachment.request_id != service_request.id or not may_view(user, service_request):
        return False
    return attachment.update_id is None or is_staff(user) or same_company(user, service_request)


def as_reader(user: User | None, service_request: ServiceRequest) -> RequestAccess:
    """What the public page shows: staff see it as its readers do (their full history is
    on the staff page); everyone else as themselves."""
    if is_staff(user):
        return for_request(None, service_request)
    return for_request(user, service_request)
