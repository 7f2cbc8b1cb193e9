"""Signing in and out with e-mail and password."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from facilities.db import get_session
from facilities.extensions import limiter, login_manager
from facilities.models import User
from facilities.services.users import authenticate, record_sign_in, record_sign_out
from facilities.web.access import public
from facilities.web.safety import safe_next

blueprint = Blueprint("auth", __name__)


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = get_session().get(User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.active else None


def _landing_for(user: User) -> str:
    if user.is_staff:
        return url_for("staff.queue_page")
    if user.is_tenant_user:
        return url_for("tenant.requests_page")
    return url_for("public.roadmap_page")


@blueprint.route("/login", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or _landing_for(current_user))
    email = request.form.get("email", "")
    error = None
    if request.method == "POST":
        db = get_session()
        user = authenticate(db, email=email, password=request.form.get("password", ""))
        record_sign_in(db, user=user, succeeded=user is not None, email=email)
        db.commit()
        if user is not None:
            login_user(user, remember=bool(request.form.get("remember")))
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(next_url or _landing_for(user))
        error = _("The e-mail address or password is wrong.")
    return render_template("auth/login.html", email=email, error=error, next_url=next_url), (
        401 if error else 200
    )


@blueprint.post("/logout")
@public
def logout():
    if current_user.is_authenticated:
        db = get_session()
        record_sign_out(db, user=current_user)
        db.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("public.roadmap_page"))
