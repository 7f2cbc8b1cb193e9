"""Deny by default: every view says who may use it, and a request hook enforces it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from flask import Flask, abort, flash, jsonify, make_response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_login import current_user

from facilities.accounts.models import STAFF_ROLES, TENANT_ROLES, Role
from facilities.accounts.users import is_valid_email, normalize_email
from facilities.core.mailboxes import mailbox_key
from facilities.extensions import htmx

EVERYONE = "everyone"
MACHINE = "machine"  # a machine interface that checks its own credentials (api/)
ACCESS_ATTRIBUTE = "allowed_roles"
View = TypeVar("View", bound=Callable)


def allow(who: str | Iterable[Role]) -> Callable[[View], View]:
    """Declare who may use a view: EVERYONE, or a set of roles (signed in)."""
    allowed = who if who in (EVERYONE, MACHINE) else frozenset(who)

    def mark(view: View) -> View:
        setattr(view, ACCESS_ATTRIBUTE, allowed)
        return view

    return mark


public = allow(EVERYONE)
tenant_only = allow(TENANT_ROLES)
staff_only = allow(STAFF_ROLES)
admin_only = allow({Role.admin})
signed_in = allow(frozenset(Role))
machine = allow(MACHINE)


def person_key() -> str:
    """A rate limit's key for views of signed-in users: per person, whatever the address."""
    return f"user:{current_user.get_id()}"


def recipient_key(form: str) -> Callable[[], str]:
    """A rate limit's key for a form that e-mails a typed-in address: per mailbox (case
    and +tags are one), whatever the connection, each form counted on its own."""

    def key() -> str:
        return f"{form}:{mailbox_key(request.form.get('email', ''))[:254]}"

    return key


def no_typed_address() -> bool:
    """A form without a real address mails no one: it spends no address's limit."""
    return not is_valid_email(normalize_email(request.form.get("email", "")))


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not htmx


def enforce_access() -> ResponseReturnValue | None:
    """before_request: refuse views that declare nobody, and users their roles do not allow."""
    if request.endpoint is None:
        return None  # no such route: the 404 handler answers
    from flask import current_app

    view = current_app.view_functions[request.endpoint]
    allowed = getattr(view, ACCESS_ATTRIBUTE, None)
    if allowed in (EVERYONE, MACHINE):
        return None
    if allowed is None:
        abort(403)
    if not current_user.is_authenticated:
        return _ask_to_sign_in()
    if current_user.role not in allowed:
        abort(403)
    return None


def _ask_to_sign_in() -> ResponseReturnValue:
    login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
    if wants_json():
        return make_response(jsonify(error="unauthorized", message=_("Sign in first.")), 401)
    flash(_("Sign in to continue."), "info")
    if htmx:
        response = make_response("", 401)
        response.headers["HX-Redirect"] = login_url
        return response
    return redirect(login_url)


def check_declared(app: Flask) -> None:
    """Fail at start-up if a view forgot to say who may use it."""
    setattr(app.view_functions["static"], ACCESS_ATTRIBUTE, EVERYONE)
    undeclared = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, ACCESS_ATTRIBUTE, None) is None
    ]
    if undeclared:
        raise RuntimeError(f"views without an access rule: {', '.join(sorted(undeclared))}")
    # A cached page is served before enforce_access runs: only public views may be cached.
    shared_not_public = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, "shares_page", False) and getattr(view, ACCESS_ATTRIBUTE) != EVERYONE
    ]
    if shared_not_public:
        raise RuntimeError(f"@shared_page views must be @public: {', '.join(shared_not_public)}")


def seconds_to_wait(limit: RequestLimit) -> int:
    """How long until `limit` lets the next request through: at least a second. Every
    "try again in …" message and Retry-After header is reckoned from it."""
    return max(1, math.ceil(limit.reset_at - time.time()))
