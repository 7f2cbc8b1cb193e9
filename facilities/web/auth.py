"""Signing in and out, "keep me signed in", and changing one's password."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import (
    Blueprint,
    Flask,
    Response,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from sqlmodel import Session
from werkzeug.wrappers import Response as BaseResponse

from facilities.accounts.models import TokenPurpose, User
from facilities.accounts.tokens import (
    LinkNotValid,
    accept_invitation,
    look_up,
    look_up_invitation,
    redeem,
    send_password_reset,
    send_sign_in_link,
    user_of,
)
from facilities.accounts.users import (
    authenticate,
    change_password,
    end_all_sessions,
    is_valid_email,
    issue_remember_token,
    normalize_email,
    record_sign_in,
    record_sign_out,
    set_password,
    user_for_remember_token,
    user_for_session,
)
from facilities.core.db import get_engine, get_session
from facilities.core.errors import ValidationFailed
from facilities.core.models import utcnow
from facilities.extensions import csrf, limiter, login_manager
from facilities.park.models import Tenant
from facilities.settings import get_settings
from facilities.web.access import (
    no_typed_address,
    public,
    recipient_key,
    seconds_to_wait,
    signed_in,
)
from facilities.web.caching import kept_in_generation
from facilities.web.safety import safe_next
from facilities.web.sessions import REMEMBER_COOKIE

blueprint = Blueprint("auth", __name__)
# Failed sign-ins per account, from any address: each step slows a guesser down further.
ACCOUNT_LIMITS = "5 per minute;20 per hour;50 per day"
ADDRESS_LIMIT = "10 per minute"


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        if request.method in ("GET", "HEAD"):
            # Reading: the user as loaded earlier in this process, until any user (or
            # anything else watched) changes. Writes load a fresh one in their session.
            return kept_in_generation("session-users", user_id, lambda: _detached_user(user_id))
        return user_for_session(get_session(), user_id)

    @login_manager.request_loader
    def load_user_from_remember_cookie(_request) -> User | None:
        cookie = request.cookies.get(REMEMBER_COOKIE)
        if not cookie:
            return None
        user = user_for_remember_token(get_session(), cookie)
        if user is None:
            g.forget_device = True  # revoked or expired: stop sending it
            return None
        login_user(user, fresh=False)  # the session carries on from here
        return user

    @app.after_request
    def forget_revoked_device(response: Response) -> Response:
        if g.get("forget_device"):
            _delete_remember_cookie(response)
        return response


def _detached_user(user_id: str) -> User | None:
    """The user of a session cookie with the company loaded, free of any session."""
    with Session(get_engine(), expire_on_commit=False) as session:
        user = user_for_session(session, user_id)
        if user is not None:
            user.tenant  # noqa: B018  # loaded now: templates read it after the session ends
    return user


def _set_remember_cookie(response: BaseResponse, value: str, lifetime: timedelta) -> None:
    settings = get_settings()
    response.set_cookie(
        REMEMBER_COOKIE,
        value,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        secure=settings.base_url.startswith("https://"),
        samesite="Lax",
    )


def _delete_remember_cookie(response: BaseResponse) -> None:
    response.delete_cookie(REMEMBER_COOKIE, httponly=True, samesite="Lax")


def _landing_for(user: User) -> str:
    if user.is_staff:
        return url_for("staff.queue_page")
    if user.is_tenant_user:
        return url_for("tenant.requests_page")
    return url_for("public.roadmap_page")


def _account_key() -> str:
    return "account:" + normalize_email(request.form.get("email", ""))[:254]


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _login_page(
    email: str, error: str | None, status: int, *, password_paused: bool = False
) -> Response:
    next_url = safe_next(request.values.get("next"))
    return make_response(
        render_template(
            "auth/login.html",
            email=email,
            error=error,
            next_url=next_url,
            password_paused=password_paused,
        ),
        status,
    )


def _too_many_attempts(limit: RequestLimit) -> Response:
    """The sign-in form again, with the address typed and when to try again."""
    seconds = seconds_to_wait(limit)
    minutes = math.ceil(seconds / 60)
    response = _login_page(
        request.form.get("email", ""),
        ngettext(
            "Too many sign-in attempts. Try again in %(num)s minute.",
            "Too many sign-in attempts. Try again in %(num)s minutes.",
            minutes,
        ),
        429,
    )
    response.headers["Retry-After"] = str(seconds)
    return response


def _password_paused(limit: RequestLimit) -> Response:
    """Wrong passwords from anywhere pause the address's password sign-in (so anyone can
    pause anyone's); the e-mailed link still works, so the page offers it right there.
    Said the same for every address, with an account or not."""
    seconds = seconds_to_wait(limit)
    minutes = math.ceil(seconds / 60)
    response = _login_page(
        request.form.get("email", ""),
        ngettext(
            "Too many sign-in attempts. Password sign-in for this address is paused for "
            "%(num)s minute. A sign-in link by e-mail still works.",
            "Too many sign-in attempts. Password sign-in for this address is paused for "
            "%(num)s minutes. A sign-in link by e-mail still works.",
            minutes,
        ),
        429,
        password_paused=True,
    )
    response.headers["Retry-After"] = str(seconds)
    return response


@blueprint.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(ADDRESS_LIMIT, methods=["POST"], on_breach=_too_many_attempts)
@limiter.limit(
    ACCOUNT_LIMITS,
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
    on_breach=_password_paused,
)
def login():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or _landing_for(current_user))
    email = request.form.get("email", "")
    if request.method == "GET":
        return _login_page(email, None, 200)
    db = get_session()
    user = authenticate(db, email=email, password=request.form.get("password", ""))
    record_sign_in(db, user=user, succeeded=user is not None, email=email)
    remember = None
    if user is not None and request.form.get("remember"):
        lifetime = timedelta(days=get_settings().remember_days)
        remember = (issue_remember_token(db, user=user, lifetime=lifetime), lifetime)
    db.commit()
    if user is None:
        return _login_page(email, _("The e-mail address or password is wrong."), 401)
    session.pop("csrf_token", None)  # a token seen before signing in is not carried over
    login_user(user)
    flash(_("Welcome, %(name)s.", name=user.name), "success")
    response = redirect(next_url or _landing_for(user))
    if remember:
        _set_remember_cookie(response, *remember)
    return response


@blueprint.post("/logout")
@public
def logout():
    """Signing out ends every session of the user, on every device."""
    if current_user.is_authenticated:
        db = get_session()
        record_sign_out(db, user=current_user)
        end_all_sessions(db, user=current_user)
        db.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    response = redirect(url_for("public.roadmap_page"))
    _delete_remember_cookie(response)
    return response


@blueprint.route("/account/password", methods=["GET", "POST"])
@signed_in
def password_page():
    errors: dict[str, str] = {}
    if request.method == "POST":
        db = get_session()
        try:
            change_password(
                db,
                user=current_user,
                current_password=request.form.get("current_password", ""),
                new_password=request.form.get("new_password", ""),
                repeated=request.form.get("repeated_password", ""),
            )
        except ValidationFailed as failure:
            errors = {key: str(message) for key, message in failure.errors.items()}
        else:
            db.commit()
            login_user(current_user._get_current_object())  # this session, with the new token
            flash(_("Your password was changed. Other devices have been signed out."), "success")
            response = redirect(_landing_for(current_user))
            _delete_remember_cookie(response)
            return response
    return make_response(
        render_template("auth/password.html", errors=errors), 422 if errors else 200
    )


# --- links by e-mail: sign in, reset a password, accept an invitation -------------------

LINK_ADDRESS_LIMIT = "5 per 10 minutes;20 per day"  # per connection
LINK_ACCOUNT_LIMIT = "3 per 10 minutes;10 per day"  # per e-mail address asked for


def _too_many_links(limit: RequestLimit) -> Response:
    minutes = math.ceil(seconds_to_wait(limit) / 60)
    purpose = "reset" if request.endpoint == "auth.forgot_password" else "link"
    response = make_response(
        render_template(
            "auth/link_request.html",
            purpose=purpose,
            email=request.form.get("email", ""),
            error=ngettext(
                "Too many links asked for. Try again in %(num)s minute.",
                "Too many links asked for. Try again in %(num)s minutes.",
                minutes,
            ),
        ),
        429,
    )
    response.headers["Retry-After"] = str(minutes * 60)
    return response


def _link_request(purpose: str):
    """Ask for a link by e-mail; the answer is the same whether the address has an
    account or not, so nobody learns who has one."""
    email = request.form.get("email", "") if request.method == "POST" else ""
    if request.method == "GET":
        return render_template("auth/link_request.html", purpose=purpose, email="", error=None)
    if not is_valid_email(normalize_email(email)):
        return make_response(
            render_template(
                "auth/link_request.html",
                purpose=purpose,
                email=email[:254],
                error=_("Enter an e-mail address like name@example.com."),
            ),
            422,
        )
    db = get_session()
    send = send_password_reset if purpose == "reset" else send_sign_in_link
    send(db, email=email, language=str(get_locale() or "fi")[:2], now=utcnow())
    db.commit()
    return render_template("auth/link_sent.html", purpose=purpose, email=email.strip()[:254])


def _link_limits(view):
    """Asking for a link: limited per connection and per address asked for."""
    per_address = limiter.limit(
        LINK_ACCOUNT_LIMIT,
        key_func=recipient_key("link"),
        methods=["POST"],
        on_breach=_too_many_links,
        exempt_when=no_typed_address,
    )
    per_connection = limiter.limit(LINK_ADDRESS_LIMIT, methods=["POST"], on_breach=_too_many_links)
    return per_connection(per_address(view))


@blueprint.route("/login/link", methods=["GET", "POST"])
@public
@_link_limits
def sign_in_link():
    return _link_request("link")


@blueprint.route("/password/forgot", methods=["GET", "POST"])
@public
@_link_limits
def forgot_password():
    return _link_request("reset")


def _link_not_valid(error: LinkNotValid) -> Response:
    return make_response(render_template("auth/link_invalid.html", reason=error.reason), 410)


@blueprint.route("/login/link/<token>", methods=["GET", "POST"])
@public
def use_sign_in_link(token: str):
    """GET asks to confirm (mail scanners follow links; they do not press buttons)."""
    db = get_session()
    now = utcnow()
    try:
        if request.method == "GET":
            link = look_up(db, purpose=TokenPurpose.magic_link, raw=token, now=now)
            return render_template("auth/link_confirm.html", email=link.email, token=token)
        link = redeem(db, purpose=TokenPurpose.magic_link, raw=token, now=now)
    except LinkNotValid as error:
        db.rollback()
        return _link_not_valid(error)
    user = user_of(db, link)
    if user is None:
        db.rollback()
        return _link_not_valid(LinkNotValid("unknown"))
    record_sign_in(db, user=user, succeeded=True, email=user.email)
    db.commit()
    session.pop("csrf_token", None)
    login_user(user)
    flash(_("Welcome, %(name)s.", name=user.name), "success")
    return redirect(_landing_for(user))


@blueprint.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    db = get_session()
    now = utcnow()
    errors: dict[str, str] = {}
    try:
        link = look_up(db, purpose=TokenPurpose.password_reset, raw=token, now=now)
        if request.method == "POST":
            password = request.form.get("new_password", "")
            if password != request.form.get("repeated_password", ""):
                raise ValidationFailed({"repeated_password": _("The passwords do not match.")})
            user = user_of(db, link)
            if user is None:
                raise LinkNotValid("unknown")
            set_password(db, user=user, password=password, actor=user)
            redeem(db, purpose=TokenPurpose.password_reset, raw=token, now=now)
            db.commit()
            session.pop("csrf_token", None)
            login_user(user)
            flash(_("Your password was changed. Other devices have been signed out."), "success")
            return redirect(_landing_for(user))
    except LinkNotValid as error:
        db.rollback()
        return _link_not_valid(error)
    except ValidationFailed as failure:
        db.rollback()
        errors = {key: str(message) for key, message in failure.errors.items()}
        errors = {("new_password" if k == "password" else k): v for k, v in errors.items()}
    return make_response(
        render_template("auth/reset.html", token=token, errors=errors), 422 if errors else 200
    )


def _check_form_token_unless_joined(db: Session, token: str, now: datetime) -> None:
    """The form's CSRF check, except for a second press after joining.

    Joining signs the browser in, which renews its form token, so the same form sent
    again (a second tab, a double press, Back and resend) cannot pass the check. It could
    change nothing anyway: an invitation makes one account. Such a press is answered
    "you have joined already" (LinkNotValid "joined"); any other failed check stays a
    CSRF error."""
    try:
        csrf.protect()
    except CSRFError:
        look_up_invitation(db, raw=token, now=now)  # raises "joined" once it was used
        raise


@blueprint.route("/invitations/<token>", methods=["GET", "POST"])
@public
@csrf.exempt  # checked by _check_form_token_unless_joined, before anything changes
def accept_invitation_page(token: str):
    db = get_session()
    now = utcnow()
    errors: dict[str, str] = {}
    try:
        if request.method == "POST":
            _check_form_token_unless_joined(db, token, now)
        invitation = look_up_invitation(db, raw=token, now=now)
        name = (
            request.form.get("name", invitation.name)
            if request.method == "POST"
            else invitation.name
        )
        if request.method == "POST":
            password = request.form.get("password", "")
            if password != request.form.get("repeated_password", ""):
                raise ValidationFailed({"repeated_password": _("The passwords do not match.")})
            user = accept_invitation(db, raw=token, name=name, password=password, now=now)
            db.commit()
            session.pop("csrf_token", None)
            login_user(user)
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(_landing_for(user))
    except LinkNotValid as error:
        db.rollback()
        if error.reason == "joined" and current_user.is_authenticated:
            flash(_("You have joined already."), "info")  # pressed again, signed in by the first
            return redirect(_landing_for(current_user))
        return _link_not_valid(error)
    except ValidationFailed as failure:
        db.rollback()
        errors = {key: str(message) for key, message in failure.errors.items()}
        invitation = look_up_invitation(db, raw=token, now=now)
    return make_response(
        render_template(
            "auth/invitation.html",
            token=token,
            invitation=invitation,
            invitation_company=_company_name(invitation.tenant_id),
            name=name,
            errors=errors,
        ),
        422 if errors else 200,
    )


def _company_name(tenant_id: int | None) -> str:
    tenant = get_session().get(Tenant, tenant_id) if tenant_id else None
    return tenant.name if tenant else ""
