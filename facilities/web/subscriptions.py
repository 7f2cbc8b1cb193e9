"""Following by e-mail: subscribe (no account needed), confirm, unsubscribe (also in one
click from a mail program, RFC 8058), and a signed-in user's own subscriptions."""

from __future__ import annotations

import math

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_login import current_user

from facilities.accounts.users import normalize_email
from facilities.core.db import get_session
from facilities.core.errors import ValidationFailed
from facilities.core.models import utcnow
from facilities.core.pagination import page_number
from facilities.extensions import csrf, limiter
from facilities.settings import get_settings
from facilities.subscriptions import queries, subscribing
from facilities.subscriptions.models import Frequency
from facilities.subscriptions.queries import Followed
from facilities.subscriptions.subscribing import LinkNotValid, TargetNotFound
from facilities.web.access import (
    no_typed_address,
    person_key,
    public,
    recipient_key,
    seconds_to_wait,
    signed_in,
    wants_json,
)

blueprint = Blueprint("subscriptions", __name__)
# As the sign-in link form: asking sends an e-mail to someone, so few per connection
# and fewer per address asked for.
CONNECTION_LIMIT = "5 per 10 minutes;20 per day"
ADDRESS_LIMIT = "3 per 10 minutes;10 per day"
ACCOUNT_LIMIT = "60 per hour"  # a signed-in user's changes: no e-mail, a script is stopped


def _language() -> str:
    return str(get_locale() or get_settings().default_locale)[:2]


def _followed_from(values) -> Followed:
    """The thing a form or query names, or a 404 page when there is none to follow."""
    try:
        return subscribing.find_target(
            get_session(), scope=values.get("scope", ""), key=values.get("id", "")
        )
    except TargetNotFound:
        abort(404)


def _target_key(followed: Followed) -> str:
    target = followed.target
    for attribute in ("slug", "code", "reference"):
        if target is not None and hasattr(target, attribute):
            return str(getattr(target, attribute))
    return ""


def _subscribe_page(
    followed: Followed, *, form: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    return make_response(
        render_template(
            "subscriptions/subscribe.html",
            followed=followed,
            target_key=_target_key(followed),
            form=form,
            errors=errors,
            frequencies=list(Frequency),
        ),
        status,
    )


def _too_many(limit: RequestLimit) -> Response:
    minutes = math.ceil(seconds_to_wait(limit) / 60)
    message = ngettext(
        "Too many subscriptions asked for. Try again in %(num)s minute.",
        "Too many subscriptions asked for. Try again in %(num)s minutes.",
        minutes,
    )
    response = _subscribe_page(
        _followed_from(request.form), form=_kept_form(), errors={"email": message}, status=429
    )
    response.headers["Retry-After"] = str(minutes * 60)
    return response


def _kept_form() -> dict[str, str]:
    return {
        "email": request.form.get("email", "")[:254],
        "frequency": request.form.get("frequency", Frequency.immediate.value)[:20],
        "language": request.form.get("language", _language())[:5],
    }


def _signed_in() -> bool:
    return bool(current_user.is_authenticated)


def _anonymous() -> bool:
    return not current_user.is_authenticated


def _limit_exempt_address() -> bool:
    """A form without a real address (or from a signed-in user) spends no address's limit."""
    return current_user.is_authenticated or no_typed_address()


@blueprint.route("/subscribe", methods=["GET", "POST"])
@public
@limiter.limit(CONNECTION_LIMIT, methods=["POST"], on_breach=_too_many, exempt_when=_signed_in)
@limiter.limit(  # signed-in users send no e-mail: counted per person, more freely
    ACCOUNT_LIMIT, key_func=person_key, methods=["POST"], exempt_when=_anonymous
)
@limiter.limit(
    ADDRESS_LIMIT,
    key_func=recipient_key("subscribe"),
    methods=["POST"],
    on_breach=_too_many,
    exempt_when=_limit_exempt_address,
)
def subscribe_page():
    """`/subscribe?scope=category&id=ev-charging`: the form; its POST queues the
    confirmation e-mail, and says the same whether the address follows it already."""
    followed = _followed_from(request.values)
    if request.method == "GET":
        return _subscribe_page(
            followed,
            form={"email": "", "frequency": Frequency.immediate.value, "language": _language()},
            errors={},
        )
    form = _kept_form()
    db = get_session()
    now = utcnow()
    try:
        if current_user.is_authenticated:
            subscribing.subscribe_user(
                db, user=current_user, followed=followed, frequency=form["frequency"], now=now
            )
        else:
            subscribing.subscribe(
                db,
                email=form["email"],
                followed=followed,
                frequency=form["frequency"],
                language=form["language"],
                now=now,
            )
    except ValidationFailed as failure:
        db.rollback()
        errors = {key: str(message) for key, message in failure.errors.items()}
        return _subscribe_page(followed, form=form, errors=errors, status=422)
    db.commit()
    if current_user.is_authenticated:
        flash(_("You follow %(followed)s by e-mail.", followed=str(followed)), "success")
        return redirect(url_for("subscriptions.account_page"))
    return render_template(
        "subscriptions/check_email.html", email=normalize_email(form["email"]), followed=followed
    )


def _link_not_valid(error: LinkNotValid) -> ResponseReturnValue:
    status = 410 if error.reason == "expired" else 404
    if wants_json():
        abort(status)  # the error handlers' JSON
    return make_response(
        render_template("subscriptions/link_invalid.html", reason=error.reason), status
    )


def _followed_of(subscription) -> Followed | None:
    return queries.followed_of(get_session(), [subscription]).get(subscription.id)


@blueprint.route("/subscriptions/confirm/<token>", methods=["GET", "POST"])
@public
def confirm(token: str):
    """GET asks to confirm with a button: mail scanners follow links, they press none."""
    db = get_session()
    now = utcnow()
    try:
        if request.method == "GET":
            subscription = subscribing.pending(db, raw=token, now=now)
        else:
            subscription = subscribing.confirm(db, raw=token, now=now)
            db.commit()
    except LinkNotValid as error:
        db.rollback()
        return _link_not_valid(error)
    followed = _followed_of(subscription)
    if followed is None:  # the request went private or the thing is gone
        return _link_not_valid(LinkNotValid("unknown"))
    template = "confirm.html" if request.method == "GET" else "confirmed.html"
    return render_template(
        f"subscriptions/{template}", subscription=subscription, followed=followed, token=token
    )


@blueprint.route("/subscriptions/unsubscribe/<token>", methods=["GET", "POST"])
@public
@csrf.exempt  # RFC 8058: mail programs POST "List-Unsubscribe=One-Click" with no token;
# the link's own token is the secret, and unsubscribing twice is the same as once
def unsubscribe(token: str):
    db = get_session()
    if request.method == "GET":
        subscription = subscribing.by_token(db, token)
        if subscription is None:
            return _link_not_valid(LinkNotValid("unknown"))
        return render_template(
            "subscriptions/unsubscribe.html",
            subscription=subscription,
            followed=_followed_of(subscription),
            token=token,
        )
    subscribing.unsubscribe(db, raw=token)
    db.commit()
    return render_template("subscriptions/unsubscribed.html")


@blueprint.get("/account/subscriptions")
@signed_in
def account_page():
    db = get_session()
    page = queries.subscriptions_of(
        db,
        user=current_user,
        page=page_number(request.args.get("page")),
        per_page=get_settings().per_page,
    )
    return render_template(
        "subscriptions/account.html",
        page=page,
        followed=queries.followed_of(db, page.items),
        frequencies=list(Frequency),
        everything_followed=any(s.scope.value == "everything" for s in page.items),
    )


@blueprint.post("/account/subscriptions/<int:subscription_id>")
@signed_in
@limiter.limit(ACCOUNT_LIMIT, key_func=person_key)
def change_subscription(subscription_id: int):
    db = get_session()
    try:
        changed = subscribing.change_frequency(
            db,
            user=current_user,
            subscription_id=subscription_id,
            frequency=request.form.get("frequency", ""),
            now=utcnow(),
        )
    except ValidationFailed as failure:
        db.rollback()
        flash(next(iter(failure.errors.values())), "error")
        return redirect(url_for("subscriptions.account_page"))
    if changed is None:
        abort(404)
    db.commit()
    flash(_("How often you get e-mail was changed."), "success")
    return redirect(url_for("subscriptions.account_page"))


@blueprint.post("/account/subscriptions/<int:subscription_id>/delete")
@signed_in
@limiter.limit(ACCOUNT_LIMIT, key_func=person_key)
def end_subscription(subscription_id: int):
    db = get_session()
    if not subscribing.end_own(db, user=current_user, subscription_id=subscription_id):
        abort(404)
    db.commit()
    flash(_("You no longer get these e-mails."), "success")
    return redirect(url_for("subscriptions.account_page"))
