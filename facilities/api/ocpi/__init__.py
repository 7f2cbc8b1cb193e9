"""OCPI 2.2.1 for charge point operators: versions, credentials, and the Locations receiver.

Every request carries `Authorization: Token <base64 of the token>` (2.2.1; a plain
token, as 2.1.1 sends it, is accepted too). Every answer is the OCPI envelope, errors and
database outages included, and carries the request's `X-Request-ID` and
`X-Correlation-ID` back (transport_and_format.asciidoc).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import uuid
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from facilities.charging import connect, ocpi
from facilities.charging.connect import our_roles
from facilities.charging.models import OcpiParty
from facilities.core.db import get_session
from facilities.core.models import utcnow
from facilities.extensions import csrf
from facilities.settings import get_settings
from facilities.web.access import machine
from facilities.web.errors import DATABASE_OUTAGES, RETRY_AFTER_SECONDS

log = logging.getLogger(__name__)

VERSION = "2.2.1"
PREFIX = "/ocpi"
blueprint = Blueprint("ocpi", __name__, url_prefix=PREFIX)
csrf.exempt(blueprint)  # no cookies here: each request carries its token
# Token A, before the credentials exchange, opens only what the exchange needs.
REGISTRATION_ENDPOINTS = frozenset({"ocpi.versions", "ocpi.version_details", "ocpi.credentials"})
MAX_REQUEST_ID = 255  # what we echo of the sender's ids


def envelope(
    data: Any = None,
    *,
    status_code: int = ocpi.SUCCESS,
    message: str = "Success",
    http_status: int = 200,
) -> Response:
    body: dict[str, Any] = {
        "status_code": status_code,
        "status_message": message,
        "timestamp": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if data is not None:
        body["data"] = data
    response = jsonify(body)
    response.status_code = http_status
    return _with_request_ids(response)


@blueprint.after_request
def _with_request_ids(response: Response) -> Response:
    """The request's ids back (made up when it sent none), on every answer: the envelope
    sets them itself, as errors no view matched never pass the blueprint's hooks."""
    if "X-Request-ID" not in response.headers:
        request_id = request.headers.get("X-Request-ID", "")[:MAX_REQUEST_ID] or str(uuid.uuid4())
        response.headers["X-Request-ID"] = request_id
        correlation_id = request.headers.get("X-Correlation-ID", "")[:MAX_REQUEST_ID]
        response.headers["X-Correlation-ID"] = correlation_id or request_id
    return response


def _token_from_header() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "token" or not value.strip():
        return ""
    value = value.strip()
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return value  # a plain token, as OCPI 2.1.1 sends it
    return decoded if decoded.isprintable() else value


@blueprint.before_request
def authenticate() -> Response | None:
    party = ocpi.party_for_token(get_session(), _token_from_header())
    if party is None:
        return envelope(
            status_code=ocpi.CLIENT_ERROR,
            message="Missing or unknown token (Authorization: Token <base64>)",
            http_status=401,
        )
    if not party.registered and request.endpoint not in REGISTRATION_ENDPOINTS:
        return envelope(
            status_code=ocpi.CLIENT_ERROR,
            message="This token is for registering (POST /credentials) only",
            http_status=401,
        )
    g.ocpi_party = party
    return None


def _party() -> OcpiParty:
    return g.ocpi_party


def _body() -> Any:
    return ocpi.parse_body(request.get_data(cache=True))


@blueprint.get("/versions")
@machine
def versions():
    return envelope([{"version": VERSION, "url": url_for("ocpi.version_details", _external=True)}])


@blueprint.get(f"/{VERSION}")
@machine
def version_details():
    return envelope(
        {
            "version": VERSION,
            "endpoints": [
                {
                    "identifier": "credentials",
                    "role": "RECEIVER",
                    "url": url_for("ocpi.credentials", _external=True),
                },
                {
                    "identifier": "locations",
                    "role": "RECEIVER",
                    "url": url_for("ocpi.locations_root", _external=True),
                },
            ],
        }
    )


def _our_credentials(token: str) -> dict[str, Any]:
    # the same roles whichever side starts the handshake (charging.connect)
    return {
        "token": token,
        "url": url_for("ocpi.versions", _external=True),
        "roles": our_roles(business_name=get_settings().park_name),
    }


@blueprint.route(f"/{VERSION}/credentials", methods=["GET", "POST", "PUT", "DELETE"])
@machine
def credentials():
    """GET: ours; POST: register (token A becomes a new token); PUT: update; DELETE: end."""
    party, session = _party(), get_session()
    if request.method == "GET":
        return envelope(_our_credentials(_token_from_header()))
    if request.method == "DELETE":
        connect.unregister(session, party=party)
        session.commit()
        return envelope()
    # POST when registered is refused before the body is read, whatever it names (405).
    update = request.method == "PUT"
    connect.check_registration_method(party, update=update)
    party, token = connect.register(session, party=party, body=_body(), update=update)
    session.commit()
    return envelope(_our_credentials(token))


@blueprint.get(f"/{VERSION}/locations/")
@machine
def locations_root():
    """Only the object URLs below are part of the receiver interface."""
    return envelope(
        status_code=ocpi.INVALID_PARAMETERS,
        message="Use /locations/{country_code}/{party_id}/{location_id}[/{evse_uid}[/{connector_id}]]",
        http_status=400,
    )


LOCATION = f"/{VERSION}/locations/<country_code>/<party_id>/<location_id>"


@blueprint.route(LOCATION, methods=["GET", "PUT", "PATCH"])
@blueprint.route(f"{LOCATION}/<evse_uid>", methods=["GET", "PUT", "PATCH"])
@blueprint.route(f"{LOCATION}/<evse_uid>/<connector_id>", methods=["GET", "PUT", "PATCH"])
@machine
def location_object(
    country_code: str,
    party_id: str,
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
):
    party = _party()
    role = ocpi.owner_role(party, country_code, party_id)
    location_id = ocpi.identifier(location_id, "location_id")
    if evse_uid is not None:
        evse_uid = ocpi.identifier(evse_uid, "EVSE uid")
    if connector_id is not None:
        connector_id = ocpi.identifier(connector_id, "connector id")
    session = get_session()
    where: dict[str, Any] = {"party": party, "role": role, "location_id": location_id}
    if request.method == "GET":
        return envelope(
            ocpi.get_object(session, **where, evse_uid=evse_uid, connector_id=connector_id)
        )
    body = _body()
    if request.method == "PATCH":
        stored = ocpi.patch_object(
            session, **where, evse_uid=evse_uid, connector_id=connector_id, body=body
        )
    elif evse_uid is None:
        stored = ocpi.put_location(session, **where, body=body)
    elif connector_id is None:
        stored = ocpi.put_evse(session, **where, evse_uid=evse_uid, body=body)
    else:
        stored = ocpi.put_connector(
            session, **where, evse_uid=evse_uid, connector_id=connector_id, body=body
        )
    party.last_contact_at = utcnow()
    session.add(party)
    session.commit()
    if not stored:
        return envelope(message="Older than what is stored (last_updated): not applied")
    return envelope()


@blueprint.errorhandler(ocpi.OcpiError)
def _ocpi_error(error: ocpi.OcpiError) -> Response:
    get_session().rollback()
    return envelope(
        status_code=error.status_code, message=error.message, http_status=error.http_status
    )


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    """Also for paths and methods no view matched (the app's handler hands them here)."""
    code = error.code or 500
    status_code = ocpi.INVALID_PARAMETERS if code == 400 else ocpi.CLIENT_ERROR
    response = envelope(
        status_code=ocpi.SERVER_ERROR if code >= 500 else status_code,
        message=error.description or error.name,
        http_status=code,
    )
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


@blueprint.errorhandler(Exception)
def _server_error(error: Exception) -> Response:
    """The database is down, or a bug: still the envelope, never an HTML page."""
    session = g.pop("db_session", None)
    if session is not None:
        with contextlib.suppress(Exception):  # the database may be what failed
            session.close()
    if isinstance(error, DATABASE_OUTAGES):
        log.error("OCPI: database unavailable: %s", error)
        response = envelope(
            status_code=ocpi.SERVER_ERROR,
            message="The database is unavailable; nothing was stored. Try again later.",
            http_status=503,
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    log.exception("OCPI: error in %s %s", request.method, request.path)
    return envelope(status_code=ocpi.SERVER_ERROR, message="Internal server error", http_status=500)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.extensions.setdefault("facilities.api_errors", {})[PREFIX] = _http_error
