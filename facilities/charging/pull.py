"""Pulling locations from operators' Locations sender (OCPI 2.2.1), for those that do not
push, or to catch up on pushes that were lost.

Each pull asks only for what changed since the previous one (`date_from`) and follows
the pages of the answer (`Link: <…>; rel="next"`). The pages are read first and stored
after, so no database lock is held while the operator takes its time. Each location
goes through the receiver's `put_location`: one older than what we have (by
`last_updated`, say from a push that overtook the pull) changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from facilities.charging.client import OcpiClient, OcpiClientError
from facilities.charging.connect import OUR_COUNTRY_CODE, OUR_PARTY_ID, endpoint_url
from facilities.charging.models import OcpiParty
from facilities.charging.ocpi import OcpiError, party_roles, put_location
from facilities.core.models import utcnow

log = logging.getLogger(__name__)

PAGE_LIMIT = 100  # asked for; the sender may send fewer (X-Limit)
MAX_PAGES = 1_000
# date_from is the start of the previous pull less this, for clocks that differ a little:
# a location seen twice is stored once (its last_updated is not newer).
CLOCK_MARGIN = timedelta(minutes=1)
FIRST_BACKOFF = timedelta(minutes=1)  # after a failure; doubles with each failure in a row
MAX_BACKOFF = timedelta(minutes=60)
CLAIM = timedelta(minutes=10)  # a pull that takes longer (or died) may be started again
ERROR_LENGTH = 300  # of last_pull_error (the column holds 500)


@dataclass
class PullResult:
    stored: int = 0  # new or newer than what we had
    received: int = 0
    refused: list[str] = field(default_factory=list)  # "LOC1: why", for the log and staff


@dataclass
class PullRound:
    """What one round of pulls did: locations stored, and "operator: why" per failure."""

    stored: int = 0
    failed: list[str] = field(default_factory=list)


def due_parties(session: Session, *, now: datetime) -> list[OcpiParty]:
    return list(
        session.exec(
            select(OcpiParty)
            .where(
                col(OcpiParty.active).is_(True),
                col(OcpiParty.registered).is_(True),
                col(OcpiParty.pull_enabled).is_(True),
                or_(col(OcpiParty.next_pull_at).is_(None), col(OcpiParty.next_pull_at) <= now),
            )
            .order_by(col(OcpiParty.id))
        ).all()
    )


def pull_due_parties(
    session: Session, *, now: datetime, client: OcpiClient | None = None
) -> PullRound:
    """Pull every party whose turn it is. Commits per party.

    A party that fails is retried later (backing off) and does not stop the others.
    """
    own_client = client is None
    client = client or OcpiClient()
    done = PullRound()
    try:
        for party in due_parties(session, now=now):
            if not _claim(session, party=party, now=now):
                continue  # another process is pulling it
            session.commit()
            try:
                result = pull_party(session, party=party, now=now, client=client)
            except OcpiClientError as error:
                _failed(party, error.message, now=now)
                done.failed.append(f"{party.name}: {party.last_pull_error}")
                log.warning("pulling locations of %s failed: %s", party.name, error.message)
            else:
                _pulled(party, result, now=now)
                done.stored += result.stored
            session.add(party)
            session.commit()
    finally:
        if own_client:
            client.close()
    return done


def _claim(session: Session, *, party: OcpiParty, now: datetime) -> bool:
    claimed = session.exec(
        update(OcpiParty)
        .where(
            col(OcpiParty.id) == party.id,
            or_(col(OcpiParty.next_pull_at).is_(None), col(OcpiParty.next_pull_at) <= now),
        )
        .values(next_pull_at=now + CLAIM)
    ).rowcount
    session.refresh(party)
    return bool(claimed)


def pull_party(
    session: Session, *, party: OcpiParty, now: datetime, client: OcpiClient
) -> PullResult:
    """Read the party's changed locations, page by page, then store them; flushes.

    Raises `OcpiClientError` when the operator cannot be read; nothing is stored then.
    A location that is not valid OCPI is left out (and named in the result), the others
    are stored: the spec asks receivers to process the correct objects of a list.
    """
    locations = _read_pages(party, client=client)
    result = PullResult(received=len(locations))
    owners = party_roles(party)
    with session.begin_nested():
        for body in locations:
            location_id = str(body.get("id", "")) if isinstance(body, dict) else ""
            owner = _owner(body) if isinstance(body, dict) else None
            if owner is not None and owner not in owners:
                result.refused.append(f"{location_id}: belongs to {'/'.join(owner)}")
                continue
            try:
                with session.begin_nested():
                    stored = put_location(
                        session,
                        party=party,
                        location_id=location_id,
                        body=body,
                        role=owner or (party.country_code, party.party_id),
                        now=now,
                    )
            except OcpiError as error:
                result.refused.append(f"{location_id or '?'}: {error.message}")
            else:
                result.stored += stored
    return result


def _read_pages(party: OcpiParty, *, client: OcpiClient) -> list[Any]:
    url = endpoint_url(party.endpoints, "locations", "SENDER")
    if url is None:
        raise OcpiClientError("They list no Locations sender among their endpoints.")
    params: dict[str, str | int] | None = {"limit": PAGE_LIMIT}
    if party.pulled_until is not None:
        params = {"date_from": _ocpi_time(party.pulled_until - CLOCK_MARGIN), "limit": PAGE_LIMIT}
    routing = {
        "OCPI-from-country-code": OUR_COUNTRY_CODE,
        "OCPI-from-party-id": OUR_PARTY_ID,
        "OCPI-to-country-code": party.country_code,
        "OCPI-to-party-id": party.party_id,
    }
    origin = urlsplit(url)[:2]
    locations: list[Any] = []
    next_url: str | None = url
    for _page in range(MAX_PAGES):
        if next_url is None:
            return locations
        if urlsplit(next_url)[:2] != origin:
            # Our token goes with every request: only to the host of their endpoint.
            raise OcpiClientError(f"Their next page is on another host: {next_url}")
        answer = client.get(next_url, token=party.remote_token, params=params, headers=routing)
        if not isinstance(answer.data, list):
            raise OcpiClientError(f"GET {next_url}: the locations are not a list")
        locations.extend(answer.data)
        next_url, params = answer.next_url, None  # the next link carries the filters
    raise OcpiClientError(f"More than {MAX_PAGES} pages of locations: stopped")


def _owner(body: dict[str, Any]) -> tuple[str, str] | None:
    if "country_code" not in body and "party_id" not in body:
        return None
    return str(body.get("country_code")).upper(), str(body.get("party_id")).upper()


def _ocpi_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pulled(party: OcpiParty, result: PullResult, *, now: datetime) -> None:
    party.pulled_until = now
    party.last_contact_at = utcnow()
    party.pull_failures, party.next_pull_at = 0, None
    party.last_pull_error = ""
    if result.refused:
        note = f"{len(result.refused)} of {result.received} locations left out: "
        party.last_pull_error = (note + "; ".join(result.refused))[:ERROR_LENGTH]
        log.warning("pulling locations of %s: %s", party.name, party.last_pull_error)


def _failed(party: OcpiParty, message: str, *, now: datetime) -> None:
    party.pull_failures += 1
    party.next_pull_at = now + backoff(party.pull_failures)
    party.last_pull_error = message[:ERROR_LENGTH]


def backoff(failures: int) -> timedelta:
    """The wait after `failures` failed pulls in a row: 1, 2, 4 … minutes, at most 60."""
    return min(FIRST_BACKOFF * 2 ** max(failures - 1, 0), MAX_BACKOFF)
