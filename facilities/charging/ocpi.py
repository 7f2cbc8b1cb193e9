"""OCPI 2.2.1 Locations, receiver side: store what the operator PUTs and PATCHes.

Keyword-only functions that take a session and flush, never commit. An update older
than what is stored (by `last_updated`) changes nothing: pushes may arrive out of order.

Ownership is one rule (`owner_role`): an object belongs to the party that sent it, under
one of the CPO roles (country code and party id) that party named in its credentials. The
address names the role; a body that names another is refused, and no party reads or
changes the objects of another, whatever ids they share.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, update
from sqlmodel import Session, col, select

from facilities.charging.models import EvseStatus, OcpiEvse, OcpiLocation, OcpiParty
from facilities.core.models import utcnow

# OCPI status codes (status_codes.asciidoc)
SUCCESS = 1000
CLIENT_ERROR = 2000
INVALID_PARAMETERS = 2001
NOT_ENOUGH_INFORMATION = 2002
UNKNOWN_LOCATION = 2003
SERVER_ERROR = 3000
UNABLE_TO_USE_CLIENT_API = 3001

MAX_ID = 36  # CiString(36): location ids, EVSE uids and connector ids
# Caps on one body, far above any real site, so the largest accepted one is stored in a
# few statements well under a second; beyond them it is refused, not half stored.
MAX_EVSES = 1000  # per location
MAX_CONNECTORS = 16  # per EVSE
MAX_DEPTH = 20  # JSON nesting; a Location with all its optional parts needs about 7
# A clock may be a little ahead; a last_updated further ahead would win over every
# honest update after it, so it is refused.
FUTURE_TOLERANCE = timedelta(minutes=5)


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


# --- who owns what ---------------------------------------------------------------------


def party_roles(party: OcpiParty) -> set[tuple[str, str]]:
    """The (country code, party id) pairs a party sends locations for: the pair it was
    added under, and every CPO role of its credentials."""
    roles = {(party.country_code, party.party_id)}
    for role in party.roles:
        if isinstance(role, dict) and role.get("role") == "CPO":
            roles.add(
                (str(role.get("country_code", "")).upper(), str(role.get("party_id", "")).upper())
            )
    return roles


def owner_role(party: OcpiParty, country_code: str, party_id: str) -> tuple[str, str]:
    """The role the address names, if it is one of the party's; refused otherwise."""
    role = (country_code.upper(), party_id.upper())
    if role not in party_roles(party):
        raise OcpiError(
            INVALID_PARAMETERS,
            f"{country_code}/{party_id} is not a CPO role of the party of this token",
            http_status=403,
        )
    return role


def check_unclaimed(session: Session, roles: set[tuple[str, str]], *, party_id: int | None) -> None:
    """A role belongs to one party: refuse roles another party already speaks for."""
    others = session.exec(select(OcpiParty).where(col(OcpiParty.id) != party_id)).all()
    taken = sorted(roles & set().union(*(party_roles(other) for other in others)))
    if taken:
        names = ", ".join("/".join(role) for role in taken)
        raise OcpiError(INVALID_PARAMETERS, f"{names}: another party's role")


def credentials_roles(roles: list[Any]) -> set[tuple[str, str]]:
    """The CPO roles of a credentials object, as `party_roles` reads them."""
    return {
        (str(role.get("country_code", "")).upper(), str(role.get("party_id", "")).upper())
        for role in roles
        if isinstance(role, dict) and role.get("role") == "CPO"
    }


def add_party(
    session: Session, *, name: str, country_code: str, party_id: str, token: str | None = None
) -> tuple[OcpiParty, str]:
    """Register an operator; returns it and the token it is to use with us (shown once).

    The token is token A: it opens our versions and credentials only, until the operator
    registers with it (see `charging.connect.register`)."""
    token = token or new_token()
    party = OcpiParty(
        name=name,
        country_code=_code(country_code, 2, "country_code"),
        party_id=_code(party_id, 3, "party_id"),
        token_hash=hash_token(token),
    )
    session.add(party)
    session.flush()  # a party added under the same pair fails here, on the unique constraint
    check_unclaimed(session, {(party.country_code, party.party_id)}, party_id=party.id)
    return party, token


def _code(value: str, length: int, name: str) -> str:
    value = value.strip().upper()
    if len(value) != length or not value.isascii() or not value.isalnum():
        raise OcpiError(INVALID_PARAMETERS, f"{name} must be {length} letters or digits")
    return value


# --- reading the body ------------------------------------------------------------------

# A JSON string, or an unterminated one up to the end: possessive, so that hostile input
# (`"\\"\\"…` that never ends) is still read in one linear pass.
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.|\\\Z)*+(?:"|\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")


def parse_body(raw: bytes) -> Any:
    """The JSON of a request body, refused (2001) when it is not JSON, nests deeper than
    MAX_DEPTH (the parser would recurse past Python's limit) or holds a NUL character
    (PostgreSQL text cannot)."""
    if b"\x00" in raw or b"\\u0000" in raw:
        raise OcpiError(INVALID_PARAMETERS, "the body contains a NUL character")
    depth = deepest = 0
    for bracket in _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", raw)):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            raise OcpiError(INVALID_PARAMETERS, f"the body nests deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise OcpiError(INVALID_PARAMETERS, "the body is not JSON") from None


def parse_time(value: Any, field: str = "last_updated") -> datetime:
    """An OCPI DateTime (RFC 3339, UTC; a missing zone is read as UTC)."""
    if not isinstance(value, str):
        raise OcpiError(INVALID_PARAMETERS, f"{field} is required (RFC 3339 date and time)")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise OcpiError(INVALID_PARAMETERS, f"{field} is not a date and time: {value!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _last_updated(body: dict[str, Any], now: datetime, what: str = "") -> datetime:
    """The body's `last_updated`: required, and not from the future."""
    moment = parse_time(body.get("last_updated"))
    if moment > now + FUTURE_TOLERANCE:
        minutes = int(FUTURE_TOLERANCE.total_seconds() // 60)
        raise OcpiError(
            INVALID_PARAMETERS,
            f"{what}last_updated {body['last_updated']} is more than {minutes} minutes "
            "in the future",
        )
    return moment


def identifier(value: Any, field: str) -> str:
    """A CiString(36) id: 1 to 36 printable ASCII characters (no NUL or control)."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID:
        raise OcpiError(INVALID_PARAMETERS, f"{field} must be 1 to {MAX_ID} characters")
    if not all(" " <= character <= "~" for character in value):
        raise OcpiError(INVALID_PARAMETERS, f"{field} must be printable ASCII characters")
    return value


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise OcpiError(INVALID_PARAMETERS, "the body must be a JSON object")
    return body


def _same(body: dict[str, Any], field: str, expected: str) -> None:
    """A field the body may repeat from the address must say the same."""
    if field in body and str(body[field]).upper() != expected.upper():
        raise OcpiError(
            INVALID_PARAMETERS,
            f"the {field} in the body ({body[field]!s:.40}) is not the one in the address "
            f"({expected})",
        )


def _check_owner_fields(body: dict[str, Any], role: tuple[str, str]) -> None:
    _same(body, "country_code", role[0])
    _same(body, "party_id", role[1])


# --- reading ---------------------------------------------------------------------------


# Location ids, EVSE uids and connector ids are CiString(36) in OCPI 2.2.1 (types.asciidoc):
# case-insensitive. They are kept as first sent and compared without case.


def find_location(session: Session, party: OcpiParty, location_id: str) -> OcpiLocation | None:
    return session.exec(
        select(OcpiLocation).where(
            OcpiLocation.party_ref_id == party.id,
            func.upper(OcpiLocation.location_id) == location_id.upper(),
        )
    ).first()


def _location_role(location: OcpiLocation, party: OcpiParty) -> tuple[str, str]:
    data = location.data
    return (
        str(data.get("country_code") or party.country_code).upper(),
        str(data.get("party_id") or party.party_id).upper(),
    )


def find_evse(session: Session, location: OcpiLocation, uid: str) -> OcpiEvse | None:
    return session.exec(
        select(OcpiEvse).where(
            OcpiEvse.location_ref_id == location.id, func.upper(OcpiEvse.uid) == uid.upper()
        )
    ).first()


def location_document(session: Session, location: OcpiLocation) -> dict[str, Any]:
    """The location as OCPI shows it: its fields and its EVSEs."""
    evses = session.exec(
        select(OcpiEvse.data)
        .where(OcpiEvse.location_ref_id == location.id)
        .order_by(col(OcpiEvse.id))
    ).all()
    return {**location.data, "evses": list(evses)}


def _location_or_error(
    session: Session, party: OcpiParty, role: tuple[str, str], location_id: str
) -> OcpiLocation:
    location = find_location(session, party, location_id)
    if location is None or _location_role(location, party) != role:
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
    role: tuple[str, str],
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> dict[str, Any]:
    location = _location_or_error(session, party, role, location_id)
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
        if str(connector.get("id")).upper() == connector_id.upper():
            return connectors, index
    return connectors, None


def _connector_or_error(evse: OcpiEvse, connector_id: str) -> dict[str, Any]:
    connectors, index = _connectors(evse, connector_id)
    if index is None:
        raise OcpiError(UNKNOWN_LOCATION, f"unknown connector {connector_id}", http_status=404)
    return connectors[index]


# --- checking EVSEs and connectors -----------------------------------------------------


def _checked_evses(value: Any, now: datetime) -> list[tuple[str, datetime, dict[str, Any]]]:
    """The EVSEs of a location body, each checked: (uid, last_updated, body)."""
    if not isinstance(value, list) or not all(isinstance(evse, dict) for evse in value):
        raise OcpiError(INVALID_PARAMETERS, "evses must be a list of objects")
    if len(value) > MAX_EVSES:
        raise OcpiError(
            INVALID_PARAMETERS,
            f"a location may have at most {MAX_EVSES} EVSEs; this one has {len(value)}",
        )
    checked = []
    for body in value:
        uid = identifier(body.get("uid"), "EVSE uid")
        checked.append((uid, *_checked_evse(body, now, uid)))
    uids = [uid for uid, _updated, _body in checked]
    if len(set(uids)) != len(uids):
        raise OcpiError(INVALID_PARAMETERS, "two EVSEs of the location have the same uid")
    return checked


def _checked_evse(body: dict[str, Any], now: datetime, uid: str) -> tuple[datetime, dict]:
    _same(body, "uid", uid)
    updated = _last_updated(body, now, f"EVSE {uid}: ")
    _status(body.get("status"))
    connectors = body.get("connectors") or []
    if not isinstance(connectors, list) or not all(isinstance(c, dict) for c in connectors):
        raise OcpiError(INVALID_PARAMETERS, f"EVSE {uid}: connectors must be a list of objects")
    if len(connectors) > MAX_CONNECTORS:
        raise OcpiError(
            INVALID_PARAMETERS,
            f"EVSE {uid}: an EVSE may have at most {MAX_CONNECTORS} connectors; "
            f"this one has {len(connectors)}",
        )
    for connector in connectors:
        _checked_connector(connector, now, str(connector.get("id", "")), required_time=False)
    return updated, body


def _checked_connector(
    body: dict[str, Any], now: datetime, connector_id: str, *, required_time: bool = True
) -> datetime | None:
    identifier(connector_id, "connector id")
    _same(body, "id", connector_id)
    if not required_time and "last_updated" not in body:
        return None  # the spec's own example of an added EVSE has connectors without one
    return _last_updated(body, now, f"connector {connector_id}: ")


# --- writing ---------------------------------------------------------------------------


def _write_evses(
    session: Session,
    location: OcpiLocation,
    evses: list[tuple[str, datetime, dict[str, Any]]],
    *,
    now: datetime,
) -> int:
    """Store checked EVSEs of a location in bulk (one read, one insert, one update,
    whatever their number); an EVSE older than the stored one is left as it is. Returns
    how many were stored."""
    if not evses:
        return 0
    assert location.id is not None
    stored = {
        uid.upper(): (row_id, status, last_updated)
        for row_id, uid, status, last_updated in session.exec(
            select(OcpiEvse.id, OcpiEvse.uid, OcpiEvse.status, OcpiEvse.last_updated).where(
                OcpiEvse.location_ref_id == location.id,
                func.upper(OcpiEvse.uid).in_([uid.upper() for uid, _updated, _body in evses]),
            )
        ).all()
    }
    new, changed = [], []
    for uid, updated, body in evses:
        status = _status(body.get("status"))
        if uid.upper() not in stored:
            new.append(
                {
                    "location_ref_id": location.id,
                    "uid": uid,
                    "status": status,
                    "data": body,
                    "last_updated": updated,
                    "status_changed_at": now,
                    "received_at": now,
                }
            )
            continue
        row_id, stored_status, stored_updated = stored[uid.upper()]
        if stored_updated <= updated:
            values: dict[str, Any] = {
                "id": row_id,
                "data": body,
                "last_updated": updated,
                "received_at": now,
            }
            if stored_status != status:
                values |= {"status": status, "status_changed_at": now}
            changed.append(values)
    if new:
        session.exec(insert(OcpiEvse), params=new)
    # Rows that change status and rows that do not differ in columns: one statement each.
    for group in (
        [values for values in changed if "status" in values],
        [values for values in changed if "status" not in values],
    ):
        if group:
            session.exec(update(OcpiEvse), params=group)
    if changed:
        _forget_loaded_evses(session, location)
    return len(new) + len(changed)


def _forget_loaded_evses(session: Session, location: OcpiLocation) -> None:
    """A bulk update goes around the session: EVSE objects it holds are read again."""
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, OcpiEvse) and loaded.location_ref_id == location.id:
            session.expire(loaded)


def _touch(row: OcpiLocation | OcpiEvse, updated: datetime, body: dict[str, Any]) -> None:
    """A child changed: its parent's last_updated becomes the child's (mod_locations:
    an EVSE update updates its Location's, a Connector's its EVSE's and Location's)."""
    if updated > row.last_updated:
        row.last_updated = updated
        row.data = {**row.data, "last_updated": body["last_updated"]}


def put_location(
    session: Session,
    *,
    party: OcpiParty,
    location_id: str,
    body: Any,
    role: tuple[str, str] | None = None,
    now: datetime | None = None,
) -> bool:
    """Store a whole location with its EVSEs; False when it was older than what we have.

    `role` is the owner the address names (the party's own pair when not given)."""
    now = now or utcnow()
    role = role or (party.country_code, party.party_id)
    body = _object(body)
    location_id = identifier(location_id, "location_id")
    _same(body, "id", location_id)
    _check_owner_fields(body, role)
    updated = _last_updated(body, now)
    evses = _checked_evses(body.get("evses") or [], now)
    location = find_location(session, party, location_id)
    if location is not None and _location_role(location, party) != role:
        raise OcpiError(
            INVALID_PARAMETERS,
            f"location {location_id} is yours under {'/'.join(_location_role(location, party))}",
        )
    if location is not None and location.last_updated > updated:
        return False
    fields = {key: value for key, value in body.items() if key != "evses"}
    fields.setdefault("country_code", role[0])
    fields.setdefault("party_id", role[1])
    if location is None:
        assert party.id is not None
        location = OcpiLocation(
            party_ref_id=party.id, location_id=location_id, data=fields, last_updated=updated
        )
    else:
        location.data, location.last_updated = fields, updated
    location.received_at = now
    session.add(location)
    session.flush()
    _write_evses(session, location, evses, now=now)
    session.flush()
    return True


def put_evse(
    session: Session,
    *,
    party: OcpiParty,
    location_id: str,
    evse_uid: str,
    body: Any,
    role: tuple[str, str] | None = None,
    now: datetime | None = None,
) -> bool:
    now = now or utcnow()
    role = role or (party.country_code, party.party_id)
    body = _object(body)
    uid = identifier(evse_uid, "EVSE uid")
    updated, body = _checked_evse(body, now, uid)
    location = _location_or_error(session, party, role, location_id)
    stored = _write_evses(session, location, [(uid, updated, body)], now=now) > 0
    if stored:
        _touch(location, updated, body)
        location.received_at = now
        session.add(location)
    session.flush()
    return stored


def put_connector(
    session: Session,
    *,
    party: OcpiParty,
    location_id: str,
    evse_uid: str,
    connector_id: str,
    body: Any,
    role: tuple[str, str] | None = None,
    now: datetime | None = None,
) -> bool:
    now = now or utcnow()
    role = role or (party.country_code, party.party_id)
    body = _object(body)
    updated = _checked_connector(body, now, connector_id)
    assert updated is not None
    location = _location_or_error(session, party, role, location_id)
    evse = _evse_or_error(session, location, evse_uid)
    connectors, index = _connectors(evse, connector_id)
    if index is None:
        if len(connectors) >= MAX_CONNECTORS:
            raise OcpiError(
                INVALID_PARAMETERS, f"an EVSE may have at most {MAX_CONNECTORS} connectors"
            )
        connectors.append(body)
    else:
        stored = connectors[index].get("last_updated")
        if stored and parse_time(stored) > updated:
            return False
        connectors[index] = body
    evse.data = {**evse.data, "connectors": connectors}
    _touched_by_connector(session, location, evse, updated, body, now=now)
    return True


def _touched_by_connector(
    session: Session,
    location: OcpiLocation,
    evse: OcpiEvse,
    updated: datetime,
    body: dict[str, Any],
    *,
    now: datetime,
) -> None:
    _touch(evse, updated, body)
    _touch(location, updated, body)
    evse.received_at = location.received_at = now
    session.add_all([evse, location])
    session.flush()


# --- PATCH -----------------------------------------------------------------------------


def patch_object(
    session: Session,
    *,
    party: OcpiParty,
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
    body: Any,
    role: tuple[str, str] | None = None,
    now: datetime | None = None,
) -> bool:
    """Change some fields of a location, EVSE or connector; `last_updated` is required."""
    now = now or utcnow()
    role = role or (party.country_code, party.party_id)
    body = _object(body)
    updated = _last_updated(body, now)
    location = _location_or_error(session, party, role, location_id)
    if evse_uid is None:
        _same(body, "id", location_id)
        _check_owner_fields(body, role)
        evses = _checked_evses(body["evses"], now) if "evses" in body else []
        if location.last_updated > updated:
            return False
        changes = {key: value for key, value in body.items() if key != "evses"}
        location.data = {**location.data, **changes}
        location.last_updated, location.received_at = updated, now
        session.add(location)
        _write_evses(session, location, evses, now=now)
        session.flush()
        return True
    evse = _evse_or_error(session, location, evse_uid)
    if connector_id is None:
        _same(body, "uid", evse_uid)
        status = _status(body["status"]) if "status" in body else None
        if "connectors" in body:
            _checked_evse({**evse.data, **body}, now, evse_uid)
        if evse.last_updated > updated:
            return False
        if status is not None and evse.status != status:
            evse.status, evse.status_changed_at = status, now
        evse.data = {**evse.data, **body}
        evse.last_updated, evse.received_at = updated, now
        _touch(location, updated, body)
        location.received_at = now
        session.add_all([evse, location])
        session.flush()
        return True
    _same(body, "id", connector_id)
    connectors, index = _connectors(evse, connector_id)
    if index is None:
        raise OcpiError(UNKNOWN_LOCATION, f"unknown connector {connector_id}", http_status=404)
    stored = connectors[index].get("last_updated")
    if stored and parse_time(stored) > updated:
        return False
    connectors[index].update(body)
    evse.data = {**evse.data, "connectors": connectors}
    _touched_by_connector(session, location, evse, updated, body, now=now)
    return True


def _status(value: Any) -> EvseStatus:
    try:
        return EvseStatus(value)
    except ValueError:
        raise OcpiError(INVALID_PARAMETERS, f"unknown EVSE status {value!r}") from None
