"""Open311 GeoReport v2 under /api/open311/v2/, and its OpenAPI 3.1 document.

Reads need no key and return public requests only; POST requests needs an api_key with
the submit scope. Each resource answers JSON or XML by its suffix. Errors are the
specification's list of {code, description}, in the same format, for every failure
under the prefix (unknown paths and methods included). A call made with a key is kept
as that key's use, refused calls included.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, g, jsonify, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from facilities.accounts import api_keys
from facilities.api.open311 import auth, openapi, resources, submission
from facilities.api.open311.formats import (
    FORMATS,
    Open311Error,
    answer,
    encode,
    error_response,
    respond,
)
from facilities.core.db import get_session
from facilities.core.errors import ValidationFailed
from facilities.core.models import utcnow
from facilities.extensions import csrf
from facilities.settings import get_settings
from facilities.web.access import machine
from facilities.web.caching import kept_in_generation

log = logging.getLogger(__name__)
PREFIX = "/api/open311/"
blueprint = Blueprint("open311", __name__, url_prefix="/api")
csrf.exempt(blueprint)  # no cookies: a POST carries its api_key
FMT = "<any(json, xml):fmt>"
V2 = "/open311/v2"


def _language() -> str:
    locale = get_locale()
    return locale.language if locale else get_settings().default_locale


def _format() -> str:
    fmt = (request.view_args or {}).get("fmt")
    if fmt in FORMATS:
        return fmt
    return "xml" if request.path.endswith(".xml") else "json"


def _site_ids() -> list[int]:
    jurisdiction = submission.given(request.values, "jurisdiction_id")
    found = kept_in_generation(
        "open311.sites",
        jurisdiction or "",
        lambda: [site.id for site in resources.sites(get_session(), jurisdiction)],
    )
    if not found and jurisdiction:
        raise Open311Error(
            404,
            _(
                "Unknown jurisdiction_id %(value)s. Leave it out, or use one from the discovery document.",
                value=jurisdiction,
            ),
        )
    return [site_id for site_id in found if site_id is not None]


@blueprint.before_request
def _authenticate() -> None:
    g.open311_key = None
    key = auth.authenticate()
    auth.limit_calls(key)


def _kept(name: str, key: str, build: Any) -> Any:
    """Public answers are the same for every caller: built once per data change (and
    kept encoded, per format and language)."""
    return kept_in_generation(f"open311.{name}", f"{_language()}|{key}", build)


# --- discovery and services -----------------------------------------------------------


@blueprint.get(f"{V2}/discovery.{FMT}")
@machine
def discovery(fmt: str) -> Response:
    settings = get_settings()
    data = {
        "changeset": resources.park_time(datetime(2026, 11, 29, tzinfo=ZoneInfo("UTC"))),
        "contact": settings.api_contact,
        "key_service": _(
            "Reading needs no key. To send requests, ask the park's admins for an api_key: %(contact)s",
            contact=settings.api_contact,
        ),
        "endpoints": [
            {
                "specification": resources.SPECIFICATION,
                "url": url_for("open311.discovery", fmt=fmt, _external=True).rsplit("/", 1)[0],
                "changeset": resources.park_time(datetime(2026, 11, 29, tzinfo=ZoneInfo("UTC"))),
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, data, root="discovery", item="discovery")


@blueprint.get(f"{V2}/services.{FMT}")
@machine
def services(fmt: str) -> Response:
    site_ids = _site_ids()
    body = _kept(
        "services",
        f"{fmt}|{site_ids!r}",
        lambda: encode(
            fmt,
            resources.services(get_session(), site_ids, _language()),
            root="services",
            item="service",
        ),
    )
    return answer(fmt, body)


@blueprint.get(f"{V2}/services/<service_code>.{FMT}")
@machine
def service_definition(service_code: str, fmt: str) -> Response:
    site_ids = _site_ids()
    category = resources.category_by_code(get_session(), site_ids, service_code)
    if category is None:
        raise Open311Error(404, _("Unknown service_code %(code)s.", code=service_code))
    data = resources.service_definition(get_session(), category, _language())
    return respond(fmt, data, root="service_definition", item="service_definition")


# --- requests -------------------------------------------------------------------------


@blueprint.get(f"{V2}/requests.{FMT}")
@machine
def requests_list(fmt: str) -> Response:
    # The default window ends at the next whole minute, so that its answer can be kept
    # (requests made meanwhile change the data, and so the generation, anyway).
    now = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=1)
    query = submission.parse_list_query(request.args, now=now)
    filters = resources.RequestFilters(site_ids=_site_ids(), **query.filters)
    cache_key = f"{filters!r}|{query.page}|{query.page_size}"

    def build() -> tuple[bytes, bool]:
        found, more = resources.find_requests(
            get_session(), filters, page=query.page, page_size=query.page_size
        )
        fields = resources.requests_as_fields(get_session(), found, _language())
        return encode(fmt, fields, root="service_requests", item="request"), more

    body, more = _kept("requests", f"{fmt}|{cache_key}", build)
    response = answer(fmt, body)
    if more:
        args = request.args.to_dict()
        args["page"] = str(query.page + 1)
        response.headers["Link"] = (
            f'<{url_for("open311.requests_list", fmt=fmt, _external=True, **args)}>; rel="next"'
        )
    return response


@blueprint.get(f"{V2}/requests/<service_request_id>.{FMT}")
@machine
def request_detail(service_request_id: str, fmt: str) -> Response:
    site_ids = _site_ids()

    def build() -> bytes | None:
        found = resources.public_request(get_session(), site_ids, service_request_id)
        if found is None:
            return None
        fields = resources.requests_as_fields(get_session(), [found], _language())
        return encode(fmt, fields, root="service_requests", item="request")

    body = _kept("request", f"{fmt}|{site_ids!r}|{service_request_id.upper()}", build)
    if body is None:
        raise Open311Error(
            404,
            _(
                "No public request %(id)s. Private requests are not shown here.",
                id=service_request_id,
            ),
        )
    return answer(fmt, body)


@blueprint.post(f"{V2}/requests.{FMT}")
@machine
def create_request(fmt: str) -> Response:
    key = auth.require_sender(g.open311_key)
    session = get_session()
    site_ids = _site_ids()
    data = submission.parse_new_request(session, site_ids, request.form)
    auth.limit_submissions(key, data.contact.get("email", ""))
    try:
        service_request, token = submission.submit(session, key=key, data=data)
    except ValidationFailed as failure:
        session.rollback()
        raise Open311Error(400, submission.describe(failure.errors)) from None
    session.commit()
    g.open311_detail = service_request.reference
    created: dict[str, Any] = {
        "token": token,
        "service_notice": submission.notice(service_request),
    }
    if service_request.is_public:
        created = {"service_request_id": service_request.reference, **created}
    created["account_id"] = data.contact.get("account_id")
    response = respond(fmt, [created], root="service_requests", item="request", status=201)
    if service_request.is_public:
        response.headers["Location"] = url_for(
            "open311.request_detail",
            service_request_id=service_request.reference,
            fmt=fmt,
            _external=True,
        )
    return response


@blueprint.get(f"{V2}/tokens/<token>.{FMT}")
@machine
def token_lookup(token: str, fmt: str) -> Response:
    found = submission.by_token(get_session(), token)
    if found is None:
        raise Open311Error(404, _("Unknown token %(token)s.", token=token[:60]))
    looked_up = {
        "service_request_id": found.reference if found.is_public else None,
        "token": token,
    }
    return respond(fmt, [looked_up], root="service_requests", item="request")


# --- the OpenAPI document -------------------------------------------------------------


@blueprint.get("/openapi.json")
@machine
def openapi_document() -> Response:
    return jsonify(openapi.document(server_url=request.host_url.rstrip("/")))


# --- errors and the trail of each key's calls -----------------------------------------


@blueprint.errorhandler(Open311Error)
def _open311_error(error: Open311Error) -> Response:
    get_session().rollback()
    response = error_response(_format(), error.status, error.description)
    if error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def render_http_error(error: HTTPException) -> Response:
    """Any HTTP error under the prefix (no such path, wrong method, too large) in the
    specification's format; web.errors hands them here."""
    status = error.code or 500
    descriptions = {
        400: _(
            "The request could not be read: a parameter holds a character not allowed (such as NUL)."
        ),
        404: _("No such resource. The API's resources are listed at /api/openapi.json."),
        405: _("This method is not allowed here."),
        413: _("The request is too large."),
        503: _(
            "The service is out of order for a moment. Nothing you sent was saved; try again "
            "in a few minutes."
        ),
    }
    response = error_response(
        _format(), status, str(descriptions.get(status, error.description or error.name))
    )
    if status == 405 and error.get_response().headers.get("Allow"):
        response.headers["Allow"] = error.get_response().headers["Allow"]
    return response


def _path_without_key() -> str:
    """The path and query as called, without the secret."""
    query = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "api_key"])
    return f"{request.path}?{query}" if query else request.path


@blueprint.after_request
def _readable_from_any_site(response: Response) -> Response:
    """Reads are public and carry no cookies: web apps elsewhere may read them (CORS).
    A POST is not opened to other sites: its api_key belongs on a server, not in a page."""
    if request.method in ("GET", "HEAD"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "Link, Retry-After"
    return response


@blueprint.after_request
def _keep_use(response: Response) -> Response:
    key = g.get("open311_key")
    if key is None:
        return response
    session = get_session()
    try:
        api_keys.record_use(
            session,
            key=key,
            method=request.method,
            path=_path_without_key(),
            status_code=response.status_code,
            remote_addr=get_remote_address() or "",
            detail=g.get("open311_detail", ""),
        )
        session.commit()
    except SQLAlchemyError:  # the answer stands; the database is what failed
        session.rollback()
        log.exception("could not keep the use of API key %s", key.id)
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.extensions.setdefault("facilities.api_errors", {})[PREFIX] = render_http_error
