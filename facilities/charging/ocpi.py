"""OCPI 2.2.1 Locations, receiver side: store what the operator PUTs and PATCHes.

Keyword-only functions that take a session and flush, never commit. An update older
than what is stored (by `last_updated`) changes nothing: pushes may arrive out of order.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from facilities.charging.models import EvseStatus, OcpiEvse, OcpiLocation, OcpiParty
from facilities.core.models import utcnow

# OCPI status codes (status_codes.asciidoc)
SUCCESS = 1000
CLIENT_ERROR = 2000
INVALID_PARAMETERS = 2001
NOT_ENOUGH_INFORMATION = 2002
UNKNOWN_LOCATION = 2003

MAX_ID = 36  # CiString(36): location ids and EVSE uids
MAX_CONNECTOR_ID = 36


class OcpiError(Exception):
    """Refused input: an OCPI status code, an HTTP status, and a message for the sender."""

    def __init__(self, status_code: int, message: str, *, http_status: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.http_status = http_status


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def party_for_token(session: Session, token: str) -> OcpiParty | None:
    if not token:
        return None
    party = session.exec(select(OcpiParty).where(OcpiParty.token_hash == hash_token(token))).first()
    return party if party is not None and party.active else None


def add_party(
    session: Session, *, name: str, country_code: str, party_id: str, token: str | None = None
) -> tuple[OcpiParty, str]:
    """Register an operator; returns it and the token it is to use with us (shown once)."""
    token = token or new_token()
    party = OcpiParty(
        name=name,
        country_code=_code(country_code, 2, "country_code"),
        party_id=_code(party_id, 3, "party_id"),
        token_hash=hash_token(token),
    )
    session.add(party)
    session.flush()
    return party, token


def _code(value: str, length: int, name: str) -> str:
    value = value.strip().upper()
    if len(value) != length or not value.isascii() or not value.isalnum():
        raise OcpiError(INVALID_PARAMETERS, f"{name} must be {length} letters or digits")
    return value


def check_owner(party: OcpiParty, country_code: str, party_id: str) -> None:
    """A party may only send its own locations."""
    if (country_code.upper(), party_id.upper()) != (party.country_code, party.party_id):
        raise OcpiError(
            INVALID_PARAMETERS,
            f"{country_code}/{party_id} is not the party of this token",
            http_status=403,
        )


def parse_time(value: Any, field: str = "last_updated") -> datetime:
    """An OCPI DateTime (RFC 3339, UTC; a missing zone is read as UTC)."""
    if not isinstance(value, str):
        raise OcpiError(INVALID_PARAMETERS, f"{field} is required (RFC 3339 date and time)")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise OcpiError(INVALID_PARAMETERS, f"{field} is not a date and time: {value!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _identifier(value: str, field: str) -> str:
    if not value or len(value) > MAX_ID:
        raise OcpiError(INVALID_PARAMETERS, f"{field} must be 1 to {MAX_ID} characters")
    return value


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise OcpiError(INVALID_PARAMETERS, "the body must be a JSON object")
    return body


# --- reading ---------------------------------------------------------------------------


def find_location(session: Session, party: OcpiParty, location_id: str) -> OcpiLocation | None:
    return session.exec(
        select(OcpiLocation).where(
            OcpiLocation.party_ref_id == party.id, OcpiLocation.location_id == location_id
        )
    ).first()


def find_evse(session: Session, location: OcpiLocation, uid: str) -> OcpiEvse | None:
    return session.exec(
        select(OcpiEvse).where(OcpiEvse.location_ref_id == location.id, OcpiEvse.uid == uid)
    ).first()


def location_document(session: Session, location: OcpiLocation) -> dict[str, Any]:
    """The location as OCPI shows it: its fields and its EVSEs."""
    evses = session.exec(
        select(OcpiEvse).where(OcpiEvse.location_ref_id == location.id).order_by(col(OcpiEvse.id))
    ).all()
    return {**location.data, "evses": [evse.data for evse in evses]}


def _location_or_error(session: Session, party: OcpiParty, location_id: str) -> OcpiLocation:
    location = find_location(session, party, location_id)
    if location is None:
        raise OcpiError(UNKNOWN_LOCATION, f"unknown location {location_id}", http_status=404)
    return location


def _evse_or_error(session: Session, location: OcpiLocation, uid: str) -> OcpiEvse:
    evse = find_evse(session, location, uid)
    if evse is None:
        raise OcpiError(UNKNOWN_LOCATION, f"unknown EVSE {uid}", http_status=404)
    return evse


def get_object(
    session: Session,
    *,
    party: OcpiParty,
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> dict[str, Any]:
    location = _location_or_error(session, party, location_id)
    if evse_uid is None:
        return location_document(session, location)
    evse = _evse_or_error(session, location, evse_uid)
    if connector_id is None:
        return evse.data
    return _connector_or_error(evse, connector_id)


def _connectors(evse: OcpiEvse, connector_id: str) -> tuple[list[dict[str, Any]], int | None]:
    """A copy of the EVSE's connectors, and where `connector_id` is among them."""
    connectors = [dict(connector) for connector in evse.data.get("connectors") or []]
    for index, connector in enumerate(connectors):
        if str(connector.get("id")) == connector_id:
            return connectors, index
    return connectors, None


def _connector_or_error(evse: OcpiEvse, connector_id: str) -> dict[str, Any]:
    connectors, index = _connectors(evse, connector_id)
    if index is None:
        raise OcpiError(UNKNOWN_LOCATION, f"unknown connector {connector_id}", http_status=404)
    return connectors[index]


# --- PUT -------------------------------------------------------------------------------


def put_location(
    session: Session, *, party: OcpiParty, location_id: str, body: Any, now: datetime | None = None
) -> bool:
    """Store a whole location with its EVSEs; False when it was older than what we have."""
    body = _object(body)
    location_id = _identifier(location_id, "location_id")
    if str(body.get("id", location_id)) != location_id:
        raise OcpiError(INVALID_PARAMETERS, "the id in the body is not the one in the address")
    updated = parse_time(body.get("last_updated"))
    evses = body.get("evses") or []
    if not isinstance(evses, list) or not all(isinstance(evse, dict) for evse in evses):
        raise OcpiError(INVALID_PARAMETERS, "evses must be a list of objects")
    location = find_location(session, party, location_id)
    if location is not None and location.last_updated > updated:
        return False
    fields = {key: value for key, value in body.items() if key != "evses"}
    if location is None:
        assert party.id is not None
        location = OcpiLocation(
            party_ref_id=party.id, location_id=location_id, data=fields, last_updated=updated
        )
        session.add(location)
        session.flush()
    else:
        location.data, location.last_updated = fields, updated
        location.received_at = now or utcnow()
        session.add(location)
    for evse in evses:
        _put_evse(session, location, str(evse.get("uid", "")), evse, now=now)
    session.flush()
    return True


def put_evse(
    session: Session,
    *,
    party: OcpiParty,
    location_id: str,
    evse_uid: str,
    body: Any,
    now: datetime | None = None,
) -> bool:
    location = _location_or_error(session, party, location_id)
    stored = _put_evse(session, location, evse_uid, _object(body), now=now)
    session.flush()
    return stored


def _put_evse(
    session: Session,
    location: OcpiLocation,
    uid: str,
    body: dict[str, Any],
    *,
    now: datetime | None,
) -> bool:
    uid = _identifier(uid, "EVSE uid")
    if str(body.get("uid", uid)) != uid:
        raise OcpiError(INVALID_PARAMETERS, "the uid in the body is not the one in the address")
    updated = parse_time(body.get("last_updated"))
    status = _status(body.get("status"))
    evse = find_evse(session, location, uid)
    if evse is not None and evse.last_updated > updated:
        return False
    if evse is None:
        assert location.id is not None
        evse = OcpiEvse(location_ref_id=location.id, uid=uid, last_updated=updated)
    _set_status(evse, status, now=now)
    evse.data, evse.last_updated = body, updated
    evse.received_at = now or utcnow()
    session.add(evse)
    return True


def put_connector(
    session: Session,
    *,
    party: OcpiParty,
    location_id: str,
    evse_uid: str,
    connector_id: str,
    body: Any,
    now: datetime | None = None,
) -> bool:
    body = _object(body)
    if not connector_id or len(connector_id) > MAX_CONNECTOR_ID:
        raise OcpiError(INVALID_PARAMETERS, "connector id must be 1 to 36 characters")
    if str(body.get("id", connector_id)) != connector_id:
        raise OcpiError(INVALID_PARAMETERS, "the id in the body is not the one in the address")
    updated = parse_time(body.get("last_updated"))
    evse = _evse_or_error(session, _location_or_error(session, party, location_id), evse_uid)
    connectors, index = _connectors(evse, connector_id)
    if index is None:
        connectors.append(body)
    else:
        stored = connectors[index].get("last_updated")
        if stored and parse_time(stored) > updated:
            return False
        connectors[index] = body
    evse.data = {**evse.data, "connectors": connectors}
    evse.received_at = now or utcnow()
    session.add(evse)
    session.flush()
    return True


# --- PATCH -----------------------------------------------------------------------------


def patch_object(
    session: Session,
    *,
    party: OcpiParty,
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
    body: Any,
    now: datetime | None = None,
) -> bool:
    """Change some fields of a location, EVSE or connector; `last_updated` is required."""
    body = _object(body)
    updated = parse_time(body.get("last_updated"))
    location = _location_or_error(session, party, location_id)
    if evse_uid is None:
        if location.last_updated > updated:
            return False
        changes = {key: value for key, value in body.items() if key != "evses"}
        location.data = {**location.data, **changes}
        location.last_updated = updated
        location.received_at = now or utcnow()
        session.add(location)
        for evse in body.get("evses") or []:
            if isinstance(evse, dict):
                _put_evse(session, location, str(evse.get("uid", "")), evse, now=now)
        session.flush()
        return True
    evse = _evse_or_error(session, location, evse_uid)
    if connector_id is None:
        if evse.last_updated > updated:
            return False
        if "status" in body:
            _set_status(evse, _status(body["status"]), now=now)
        evse.data = {**evse.data, **body}
        evse.last_updated = updated
    else:
        connectors, index = _connectors(evse, connector_id)
        if index is None:
            raise OcpiError(UNKNOWN_LOCATION, f"unknown connector {connector_id}", http_status=404)
        stored = connectors[index].get("last_updated")
        if stored and parse_time(stored) > updated:
            return False
        connectors[index].update(body)
        evse.data = {**evse.data, "connectors": connectors}
    evse.received_at = now or utcnow()
    session.add(evse)
    session.flush()
    return True


def _status(value: Any) -> EvseStatus:
    try:
        return EvseStatus(value)
    except ValueError:
        raise OcpiError(INVALID_PARAMETERS, f"unknown EVSE status {value!r}") from None


def _set_status(evse: OcpiEvse, status: EvseStatus, *, now: datetime | None) -> None:
    if evse.status != status:
        evse.status = status
        evse.status_changed_at = now or utcnow()


# --- Credentials (credentials.asciidoc): the operator registers with the token we gave --


def register(
    session: Session, *, party: OcpiParty, body: Any, update: bool
) -> tuple[OcpiParty, str]:
    """Take the operator's credentials (their token for us to call them, their versions
    URL, their roles) and hand out a new token for them to call us with; the token
    they used until now stops working. Returns the party and the new token."""
    body = _object(body)
    token, url, roles = body.get("token"), body.get("url"), body.get("roles")
    if not isinstance(token, str) or not token or len(token) > 64:
        raise OcpiError(INVALID_PARAMETERS, "token must be a string of 1 to 64 characters")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 500:
        raise OcpiError(INVALID_PARAMETERS, "url must be the versions URL (http or https)")
    if not isinstance(roles, list) or not roles or not all(isinstance(r, dict) for r in roles):
        raise OcpiError(INVALID_PARAMETERS, "roles must be a list of credentials roles")
    if not any(
        (str(role.get("country_code", "")).upper(), str(role.get("party_id", "")).upper())
        == (party.country_code, party.party_id)
        for role in roles
    ):
        raise OcpiError(
            INVALID_PARAMETERS,
            f"no role for {party.country_code}/{party.party_id}, the party of this token",
        )
    if party.registered and not update:
        raise OcpiError(CLIENT_ERROR, "already registered: use PUT", http_status=405)
    if not party.registered and update:
        raise OcpiError(CLIENT_ERROR, "not registered yet: use POST", http_status=405)
    ours = new_token()
    party.remote_token, party.versions_url, party.roles = token, url, roles
    party.token_hash, party.registered = hash_token(ours), True
    party.last_contact_at = utcnow()
    session.add(party)
    session.flush()
    return party, ours


def unregister(session: Session, *, party: OcpiParty) -> None:
    """The operator ends the registration: its token stops working."""
    if not party.registered:
        raise OcpiError(CLIENT_ERROR, "not registered", http_status=405)
    party.registered, party.active, party.remote_token = False, False, ""
    session.add(party)
    session.flush()
