"""OCPI 2.2.1 for charge point operators: versions, and the Locations receiver.

Every request carries `Authorization: Token <base64 of the token>` (2.2.1; a plain
token, as 2.1.1 sends it, is accepted too). Every answer is the OCPI envelope.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from facilities.charging import ocpi
from facilities.charging.connect import our_roles
from facilities.charging.models import OcpiParty
from facilities.core.db import get_session
from facilities.core.models import utcnow
from facilities.extensions import csrf
from facilities.settings import get_settings
from facilities.web.access import machine

VERSION = "2.2.1"
blueprint = Blueprint("ocpi", __name__, url_prefix="/ocpi")
csrf.exempt(blueprint)  # no cookies here: each request carries its token


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
    g.ocpi_party = party
    return None


def _party() -> OcpiParty:
    return g.ocpi_party


def _body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise ocpi.OcpiError(ocpi.INVALID_PARAMETERS, "the body is not JSON")
    return body


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
        ocpi.unregister(session, party=party)
        session.commit()
        return envelope()
    party, token = ocpi.register(session, party=party, body=_body(), update=request.method == "PUT")
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
    ocpi.check_owner(party, country_code, party_id)
    session = get_session()
    if request.method == "GET":
        return envelope(
            ocpi.get_object(
                session,
                party=party,
                location_id=location_id,
                evse_uid=evse_uid,
                connector_id=connector_id,
            )
        )
    body = _body()
    if request.method == "PUT":
        if evse_uid is None:
            stored = ocpi.put_location(session, party=party, location_id=location_id, body=body)
        elif connector_id is None:
            stored = ocpi.put_evse(
                session, party=party, location_id=location_id, evse_uid=evse_uid, body=body
            )
        else:
            stored = ocpi.put_connector(
                session,
                party=party,
                location_id=location_id,
                evse_uid=evse_uid,
                connector_id=connector_id,
                body=body,
            )
    else:
        stored = ocpi.patch_object(
            session,
            party=party,
            location_id=location_id,
            evse_uid=evse_uid,
            connector_id=connector_id,
            body=body,
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
def _http_error(error: HTTPException) -> Response | HTTPException:
    if not request.path.startswith(blueprint.url_prefix or "/ocpi"):
        return error
    return envelope(
        status_code=ocpi.CLIENT_ERROR,
        message=error.description or error.name,
        http_status=error.code or 400,
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
