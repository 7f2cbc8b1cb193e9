"""Connecting to a charge point operator from our side: the OCPI 2.2.1 credentials handshake.

The operator gives us, outside OCPI, their versions URL and a token (A). With it we read
their versions and 2.2.1 endpoints, then POST our credentials to theirs: a new token (B)
for them to call us with, our versions URL and our role. They answer with the token (C)
we call them with from then on; token A is spent.

While they handle our POST they call our versions endpoint with token B (the spec says
they must), from outside this process: token B has to be committed before the POST. So
`connect_operator`, unlike other operations, commits: first an unfinished party row that
lets token B in, then the finished one; on any failure it deletes the unfinished row.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from sqlmodel import Session, col, select

from facilities.charging.client import OcpiClient, OcpiClientError
from facilities.charging.models import OcpiParty
from facilities.charging.ocpi import (
    CLIENT_ERROR,
    INVALID_PARAMETERS,
    UNABLE_TO_USE_CLIENT_API,
    OcpiError,
    check_unclaimed,
    credentials_roles,
    hash_token,
    new_token,
)
from facilities.core.models import utcnow

log = logging.getLogger(__name__)

VERSION = "2.2.1"
VERSIONS_PATH = "/ocpi/versions"  # facilities.api.ocpi serves it
OUR_COUNTRY_CODE = "FI"
OUR_PARTY_ID = "DGP"
# A Navigation Service Provider "provides EV drivers with location information of charge
# points, usually only interested in Location information" (OCPI 2.2.1, terminology):
# what the park's charger pages do. We implement no other module than Locations.
OUR_ROLE = "NSP"
MAX_TOKEN = 64  # Credentials.token is string(64)
MAX_URL = 500  # OcpiParty.versions_url


def our_roles(*, business_name: str) -> list[dict[str, Any]]:
    return [
        {
            "role": OUR_ROLE,
            "country_code": OUR_COUNTRY_CODE,
            "party_id": OUR_PARTY_ID,
            "business_details": {"name": business_name},
        }
    ]


def our_versions_url(base_url: str) -> str:
    return base_url.rstrip("/") + VERSIONS_PATH


def endpoint_url(endpoints: list[dict[str, Any]], identifier: str, role: str = "") -> str | None:
    """The URL of one of their modules (and interface role: SENDER or RECEIVER)."""
    for endpoint in endpoints:
        if endpoint.get("identifier") == identifier and (not role or endpoint.get("role") == role):
            return str(endpoint["url"])
    return None


def read_endpoints(client: OcpiClient, *, versions_url: str, token: str) -> list[dict[str, Any]]:
    """Their 2.2.1 endpoints: [{"identifier", "role", "url"}], from their versions URL."""
    versions = client.get(versions_url, token=token).data
    if not isinstance(versions, list):
        raise OcpiClientError(f"GET {versions_url}: the versions are not a list")
    offered = [v for v in versions if isinstance(v, dict)]
    details_url = next((v.get("url") for v in offered if v.get("version") == VERSION), None)
    if not isinstance(details_url, str) or not _is_http(details_url):
        names = ", ".join(str(v.get("version")) for v in offered) or "none"
        raise OcpiClientError(f"GET {versions_url}: no OCPI {VERSION} (they offer: {names})")
    details = client.get(details_url, token=token).data
    raw = details.get("endpoints") if isinstance(details, dict) else None
    if not isinstance(raw, list):
        raise OcpiClientError(f"GET {details_url}: the version details have no endpoints")
    endpoints = [
        {"identifier": e["identifier"], "role": e.get("role", ""), "url": e["url"]}
        for e in raw
        if isinstance(e, dict)
        and isinstance(e.get("identifier"), str)
        and isinstance(e.get("role", ""), str)
        and isinstance(e.get("url"), str)
        and _is_http(e["url"])
    ]
    if endpoint_url(endpoints, "credentials") is None:
        raise OcpiClientError(f"GET {details_url}: no credentials endpoint among their endpoints")
    return endpoints


def _is_http(url: str) -> bool:
    return url.startswith(("https://", "http://")) and len(url) <= MAX_URL


def connect_operator(
    session: Session,
    *,
    name: str,
    versions_url: str,
    token_a: str,
    base_url: str,
    business_name: str,
    pull: bool = True,
    client: OcpiClient | None = None,
) -> OcpiParty:
    """Register with an operator from our side and keep what they answer; commits.

    `base_url` is where they reach us (our versions URL is under it), `business_name`
    the name we give for ourselves. With `pull`, their locations are pulled
    periodically, so they must offer a Locations sender. An operator already known by
    its country code and party id (added for the other direction, or connected before)
    is connected anew: its row and locations are kept. Raises `OcpiClientError` with
    nothing stored on our side.
    """
    name, versions_url, token_a = name.strip(), versions_url.strip(), token_a.strip()
    if not name or len(name) > 200:
        raise OcpiClientError("The operator's name must be 1 to 200 characters.")
    if not _is_http(versions_url):
        raise OcpiClientError("The versions URL must be an http or https address.")
    if not token_a or len(token_a) > MAX_TOKEN or not token_a.isprintable():
        raise OcpiClientError(f"Token A must be 1 to {MAX_TOKEN} printable characters.")
    own_client = client is None
    client = client or OcpiClient()
    try:
        endpoints = read_endpoints(client, versions_url=versions_url, token=token_a)
        if pull and endpoint_url(endpoints, "locations", "SENDER") is None:
            # The spec: a client that misses an endpoint it needs does not POST.
            raise OcpiClientError(
                "They offer no Locations sender to pull from: connect without pulling if "
                "they push their locations to us."
            )
        token_b = new_token()
        unfinished = _unfinished_party(name=name, token_b=token_b, endpoints=endpoints)
        session.add(unfinished)
        session.commit()
        try:
            answer = client.post(
                str(endpoint_url(endpoints, "credentials")),
                token=token_a,
                body={
                    "token": token_b,
                    "url": our_versions_url(base_url),
                    "roles": our_roles(business_name=business_name),
                },
            )
            party = _finish(
                session,
                unfinished,
                credentials=_their_credentials(answer.data),
                name=name,
                token_b=token_b,
                endpoints=endpoints,
                pull=pull,
            )
            session.commit()
        except Exception:
            session.rollback()
            session.delete(unfinished)
            session.commit()
            raise
    finally:
        if own_client:
            client.close()
    log.info("connected to OCPI party %s/%s (%s)", party.country_code, party.party_id, name)
    return party


def _unfinished_party(*, name: str, token_b: str, endpoints: list[dict[str, Any]]) -> OcpiParty:
    """A row that lets token B in while they handle our POST.

    Their country code and party id come with their answer; until then the row has an
    empty country code, which no registered party has, and a random party id for the
    unique pair. It is not registered and not pulled, and may push no locations.
    """
    return OcpiParty(
        name=name,
        country_code="",
        party_id=secrets.token_hex(2)[:3],
        token_hash=hash_token(token_b),
        endpoints=endpoints,
    )


def _their_credentials(data: Any) -> dict[str, Any]:
    """Their answer to our POST, checked: token C, versions URL, and the role we file
    them under (their CPO role, or the first one)."""
    if not isinstance(data, dict):
        raise OcpiClientError("Their answer to our credentials is not a credentials object.")
    token, url, roles = data.get("token"), data.get("url"), data.get("roles")
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        raise OcpiClientError(f"Their token is not a string of 1 to {MAX_TOKEN} characters.")
    if not isinstance(url, str) or not _is_http(url):
        raise OcpiClientError("Their credentials have no versions URL (http or https).")
    valid = [
        role
        for role in roles or []
        if isinstance(role, dict)
        and _is_code(role.get("country_code"), 2)
        and _is_code(role.get("party_id"), 3)
    ]
    if not isinstance(roles, list) or not valid:
        raise OcpiClientError("Their credentials have no role with a country code and party id.")
    role = next((r for r in valid if r.get("role") == "CPO"), valid[0])
    return {
        "token": token,
        "url": url,
        "roles": roles,
        "country_code": str(role["country_code"]).upper(),
        "party_id": str(role["party_id"]).upper(),
    }


def _is_ascii_text(value: str) -> bool:
    return value.isascii() and value.isprintable()


def _is_code(value: Any, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and value.isascii() and value.isalnum()


def _finish(
    session: Session,
    unfinished: OcpiParty,
    *,
    credentials: dict[str, Any],
    name: str,
    token_b: str,
    endpoints: list[dict[str, Any]],
    pull: bool,
) -> OcpiParty:
    known = session.exec(
        select(OcpiParty).where(
            OcpiParty.country_code == credentials["country_code"],
            OcpiParty.party_id == credentials["party_id"],
            col(OcpiParty.id) != unfinished.id,
        )
    ).first()
    try:
        check_unclaimed(
            session,
            credentials_roles(credentials["roles"])
            | {(credentials["country_code"], credentials["party_id"])},
            party_id=known.id if known is not None else unfinished.id,
        )
    except OcpiError as error:
        raise OcpiClientError(f"Their credentials name {error.message}.") from None
    party = unfinished
    if known is not None:
        session.delete(unfinished)
        session.flush()  # token B's hash is unique: the unfinished row goes first
        party = known
    party.name = name
    party.country_code, party.party_id = credentials["country_code"], credentials["party_id"]
    party.token_hash, party.remote_token = hash_token(token_b), credentials["token"]
    party.versions_url, party.roles, party.endpoints = (
        credentials["url"],
        credentials["roles"],
        endpoints,
    )
    party.registered, party.active = True, True
    party.last_contact_at = utcnow()
    party.pull_enabled = pull
    # Pull everything again: what we had may be older than this connection.
    party.pulled_until, party.next_pull_at = None, None
    party.pull_failures, party.last_pull_error = 0, ""
    session.add(party)
    session.flush()
    return party


def refresh_endpoints(
    session: Session, *, party: OcpiParty, client: OcpiClient | None = None
) -> list[dict[str, Any]]:
    """Read a registered party's endpoints again (they may have moved); flushes.
    Raises `OcpiClientError`, leaving the stored endpoints as they were."""
    if not party.registered or not party.remote_token:
        raise OcpiClientError(f"{party.name} is not registered: there is no token to call them.")
    own_client = client is None
    client = client or OcpiClient()
    try:
        endpoints = read_endpoints(
            client, versions_url=party.versions_url, token=party.remote_token
        )
    finally:
        if own_client:
            client.close()
    party.endpoints = endpoints
    party.last_contact_at = utcnow()
    session.add(party)
    session.flush()
    return endpoints


# --- The other direction: the operator registers with the token (A) we gave it ----------


def check_registration_method(party: OcpiParty, *, update: bool) -> None:
    """POST registers, PUT updates (credentials.asciidoc: "If the client is already
    registered, the server should return 405 method not allowed", and PUT before POST)."""
    if party.registered and not update:
        raise OcpiError(CLIENT_ERROR, "already registered: use PUT to update", http_status=405)
    if not party.registered and update:
        raise OcpiError(CLIENT_ERROR, "not registered yet: use POST", http_status=405)


def register(
    session: Session,
    *,
    party: OcpiParty,
    body: Any,
    update: bool,
    client: OcpiClient | None = None,
) -> tuple[OcpiParty, str]:
    """Take the operator's credentials (their token for us to call them, their versions
    URL, their roles), read their versions and endpoints with that token (the spec says
    the receiver must, before it answers), and hand out a new token for them to call us
    with; the token they used until now stops working. Flushes; returns the party and
    the new token. POST (`update=False`) is for an unregistered party, PUT for a
    registered one: the other way round is refused with HTTP 405."""
    check_registration_method(party, update=update)
    if not isinstance(body, dict):
        raise OcpiError(INVALID_PARAMETERS, "the body must be a credentials object")
    token, url, roles = body.get("token"), body.get("url"), body.get("roles")
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN or not _is_ascii_text(token):
        raise OcpiError(
            INVALID_PARAMETERS, f"token must be 1 to {MAX_TOKEN} printable ASCII characters"
        )
    if not isinstance(url, str) or not _is_http(url):
        raise OcpiError(INVALID_PARAMETERS, "url must be the versions URL (http or https)")
    if not isinstance(roles, list) or not roles or not all(isinstance(r, dict) for r in roles):
        raise OcpiError(INVALID_PARAMETERS, "roles must be a list of credentials roles")
    named = {
        (str(role.get("country_code", "")).upper(), str(role.get("party_id", "")).upper())
        for role in roles
    }
    if (party.country_code, party.party_id) not in named:
        raise OcpiError(
            INVALID_PARAMETERS,
            f"no role for {party.country_code}/{party.party_id}, the party of this token",
        )
    check_unclaimed(session, credentials_roles(roles), party_id=party.id)
    own_client = client is None
    client = client or OcpiClient()
    try:
        endpoints = read_endpoints(client, versions_url=url, token=token)
    except OcpiClientError as error:
        # The answer names no address, port or error of ours: the URL is theirs to choose,
        # so details would let a holder of token A probe what this server can reach.
        log.warning("OCPI party %s: their API could not be used: %s", party.id, error.message)
        raise OcpiError(
            UNABLE_TO_USE_CLIENT_API,
            "Unable to use the client's API: their versions and 2.2.1 endpoints could not be "
            "read with the token in these credentials",
            http_status=200,  # the request itself was right (status_codes.asciidoc)
        ) from None
    finally:
        if own_client:
            client.close()
    ours = new_token()
    party.remote_token, party.versions_url, party.roles = token, url, roles
    party.endpoints = endpoints
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
