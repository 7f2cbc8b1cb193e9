"""Error pages in HTML, or JSON for clients that ask for it."""

from __future__ import annotations

import contextlib
import logging

from flask import Flask, Response, current_app, g, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from facilities.extensions import login_manager
from facilities.web.access import wants_json

log = logging.getLogger(__name__)

TITLES = {
    400: _l("Bad request"),
    401: _l("Sign in first"),
    403: _l("No access"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    413: _l("Too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
    503: _l("Service unavailable"),
}
EXPLANATIONS = {
    400: _l("The request could not be understood. Go back and try again."),
    401: _l("This page is for signed-in users."),
    403: _l(
        "You do not have access to this page. If you think you should, contact the property manager."
    ),
    404: _l("There is nothing at this address. Check the address or start from the front page."),
    405: _l("This address does not accept that kind of request."),
    413: _l("What you sent is too large."),
    429: _l("Too many attempts in a short time. Wait a moment and try again."),
    500: _l(
        "The error has been logged. Try again in a moment; if it keeps happening, contact the property manager."
    ),
    503: _l(
        "The service is out of order for a moment. Nothing you sent was saved; try again in a few minutes."
    ),
}
# The database is down or unreachable: the page says so without touching it again.
DATABASE_OUTAGES = (OperationalError, InterfaceError, SQLAlchemyTimeoutError, DisconnectionError)
RETRY_AFTER_SECONDS = 30


def _respond(code: int, explanation: str | None = None):
    title = str(TITLES.get(code, TITLES[500]))
    message = explanation or str(EXPLANATIONS.get(code, EXPLANATIONS[500]))
    if wants_json():
        return make_response(jsonify(error=code, title=title, message=message), code)
    return make_response(
        render_template("errors/error.html", code=code, title=title, message=message), code
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(_error: CSRFError):
        return _respond(
            400,
            str(
                _l(
                    "The form had expired or was sent from elsewhere. Reload the page and try again."
                )
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if error.response is not None:  # the view made its own (the sign-in form on 429)
            return error.response
        return _api_error(error) or _respond(error.code)

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):
        return _api_error(error) or _respond(500)

    for outage in DATABASE_OUTAGES:
        app.register_error_handler(outage, database_unavailable)


def _api_error(error: HTTPException) -> Response | None:
    """A machine interface answers its own errors in its own format (api/ registers a
    renderer per path prefix), even for paths and methods no view of it matched."""
    renderers = current_app.extensions.get("facilities.api_errors", {})
    for prefix, render in renderers.items():
        if request.path.startswith(prefix):
            return render(error)
    return None


def database_unavailable(error: Exception):
    """503 with the styled page, rendered without the database (and so without the user);
    under a machine interface's prefix, in that interface's error format."""
    log.error("database unavailable: %s", error)
    session = g.pop("db_session", None)
    if session is not None:
        with contextlib.suppress(Exception):
            session.close()
    g._login_user = login_manager.anonymous_user()  # base.html must not load the user
    response = _api_error(ServiceUnavailable()) or _respond(503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
