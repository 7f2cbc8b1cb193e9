"""Reading what Open311 clients send: the requests list's filters, and new requests.

Everything is checked before anything is written; a mistake is a 400 that names the
parameter, in the specification's terms (`description`, `service_code`, `lat`, ...).
New requests pass through the same model and domain checks as the web form.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from pydantic import ValidationError
from sqlmodel import Session, col, select
from werkzeug.datastructures import MultiDict

from facilities.accounts.models import ApiKey
from facilities.accounts.users import is_valid_email
from facilities.api.open311 import resources
from facilities.api.open311.formats import Open311Error
from facilities.park.models import Building, Category
from facilities.requests.intake import submit_from_api
from facilities.requests.models import ServiceRequest, ServiceRequestInput
from facilities.settings import get_settings
from facilities.web.forms import messages_for

MAX_IDS = 100
MAX_PAGE = 10_000
DESCRIPTION_LENGTH = 4000  # the specification's limit
TITLE_LENGTH = 140
NEAR_BUILDING_M = 300  # a pin this close to a building is at that building
PARK_RADIUS_M = 5000  # a pin farther than this from every building is not in the park
CONTACT_LIMITS = {
    "email": 254,
    "first_name": 100,
    "last_name": 100,
    "phone": 40,
    "device_id": 100,
    "account_id": 100,
    "media_url": 500,
}
# Our form's fields by the specification's parameter names, for messages
PARAMETERS = {
    "title": "description",
    "description": "description",
    "location_note": "address_string",
    "category_id": "service_code",
    "building_id": "address_id",
}


def _bad(description: str) -> Open311Error:
    return Open311Error(400, description)


# --- the requests list ----------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    filters: dict[str, Any]
    page: int
    page_size: int


def given(args: Mapping[str, str], name: str) -> str | None:
    """A parameter's value, None when it is left out; an empty one is a mistake (a client
    that meant "no filter" leaves it out), never read as no filter."""
    value = args.get(name)
    if value is None:
        return None
    if not value.strip():
        raise _bad(_("%(name)s is empty. Give a value, or leave the parameter out.", name=name))
    return value.strip()


def _list_of(args: Mapping[str, str], name: str, *, longest: int) -> list[str]:
    values = [part.strip() for part in (given(args, name) or "").split(",") if part.strip()]
    if len(values) > MAX_IDS or any(len(value) > longest for value in values):
        raise _bad(_("%(name)s: give at most %(count)s values.", name=name, count=MAX_IDS))
    return values


def _moment(args: Mapping[str, str], name: str) -> datetime | None:
    text = given(args, name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        moment = None
    if moment is None or not 1970 <= moment.year <= 9000:
        raise _bad(
            _(
                "%(name)s is not a date and time in ISO 8601, such as 2026-11-01T08:00:00+02:00.",
                name=name,
            )
        )
    if moment.tzinfo is None:  # a local time of the park
        moment = moment.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return moment


def _number(args: Mapping[str, str], name: str, *, default: int, highest: int) -> int:
    text = given(args, name)
    if text is None:
        return default
    if not text.isdecimal() or not 1 <= int(text) <= highest:
        raise _bad(
            _("%(name)s must be a whole number from 1 to %(highest)s.", name=name, highest=highest)
        )
    return int(text)


def parse_list_query(args: Mapping[str, str], *, now: datetime) -> ListQuery:
    references = [value.upper() for value in _list_of(args, "service_request_id", longest=30)]
    codes = _list_of(args, "service_code", longest=60)
    statuses = {value.lower() for value in _list_of(args, "status", longest=10)}
    if statuses - {"open", "closed"}:
        raise _bad(_("status must be open, closed, or both separated by a comma."))
    start, end = _moment(args, "start_date"), _moment(args, "end_date")
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - resources.MAX_SPAN
    if end is None:
        end = start + resources.MAX_SPAN
    if end < start:
        raise _bad(_("end_date is before start_date."))
    if end - start > resources.MAX_SPAN:
        raise _bad(_("start_date and end_date may be at most 90 days apart."))
    return ListQuery(
        filters={
            "references": references,
            "service_codes": codes,
            "start": start,
            "end": end,
            "statuses": statuses,
        },
        page=_number(args, "page", default=1, highest=MAX_PAGE),
        page_size=_number(
            args, "page_size", default=resources.DEFAULT_PAGE_SIZE, highest=resources.MAX_PAGE_SIZE
        ),
    )


# --- new requests ---------------------------------------------------------------------


@dataclass
class NewRequest:
    category: Category
    building: Building | None
    title: str
    description: str
    location_note: str
    latitude: float | None
    longitude: float | None
    contact: dict[str, str] = field(default_factory=dict)
    answers: dict[str, list[str]] = field(default_factory=dict)


def _title_of(description: str) -> str:
    """The first line of the description, cut at a word to fit a title."""
    first = description.strip().splitlines()[0] if description.strip() else ""
    if len(first) <= TITLE_LENGTH:
        return first
    cut = first[: TITLE_LENGTH - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:") + "…"


def _coordinate(form: Mapping[str, str], name: str, limit: float) -> float | None:
    text = (form.get(name) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > limit:
        raise _bad(
            _(
                "%(name)s must be a number from -%(limit)s to %(limit)s.",
                name=name,
                limit=int(limit),
            )
        )
    return value


def _distance_m(lat1: float, long1: float, lat2: float, long2: float) -> float:
    """Great-circle distance (haversine); plenty for a park."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(long2 - long1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(min(1.0, math.sqrt(a)))


def _building(
    session: Session,
    site_ids: list[int],
    *,
    address_id: str,
    address: str,
    lat: float | None,
    long: float | None,
) -> Building | None:
    buildings = list(
        session.exec(select(Building).where(col(Building.site_id).in_(site_ids))).all()
    )
    if address_id:
        for building in buildings:
            if building.code.casefold() == address_id.casefold():
                return building
        codes = ", ".join(building.code for building in buildings)
        raise _bad(
            _(
                "address_id %(value)s is not one of the park's buildings (%(codes)s).",
                value=address_id[:40],
                codes=codes,
            )
        )
    if lat is not None and long is not None:
        placed = [b for b in buildings if b.latitude is not None and b.longitude is not None]
        if placed:
            distance, nearest = min(
                (_distance_m(lat, long, b.latitude, b.longitude), b)  # type: ignore[arg-type]
                for b in placed
            )
            if distance > PARK_RADIUS_M:
                raise _bad(_("lat and long are not in the park. Check the coordinates (WGS84)."))
            if distance <= NEAR_BUILDING_M:
                return nearest
    if address:
        for building in buildings:
            if address.casefold() in (building.address.casefold(), building.name.casefold()):
                return building
    return None


def _contact(form: Mapping[str, str]) -> dict[str, str]:
    contact: dict[str, str] = {}
    for name, longest in CONTACT_LIMITS.items():
        value = " ".join((form.get(name) or "").split())
        if not value:
            continue
        if len(value) > longest:
            raise _bad(_("%(name)s: at most %(count)s characters.", name=name, count=longest))
        contact[name] = value
    if "email" in contact and not is_valid_email(contact["email"]):
        raise _bad(_("email is not an e-mail address."))
    if "media_url" in contact and not contact["media_url"].startswith(("https://", "http://")):
        raise _bad(_("media_url must be an http or https address."))
    return contact


def _answers(form: MultiDict[str, str]) -> dict[str, list[str]]:
    """attribute[CODE]=value, and attribute[CODE][]=value for a multivaluelist."""
    answers: dict[str, list[str]] = {}
    for name in form:
        if name.startswith("attribute[") and name.endswith("]"):
            code = name[len("attribute[") : -1].removesuffix("][").removesuffix("]")
            answers.setdefault(code, []).extend(form.getlist(name))
    return answers


def parse_new_request(
    session: Session, site_ids: list[int], form: MultiDict[str, str]
) -> NewRequest:
    code = (form.get("service_code") or "").strip()
    if not code:
        raise _bad(_("service_code is required. The services are listed at services.json."))
    category = resources.category_by_code(session, site_ids, code[:60])
    if category is None:
        raise _bad(
            _(
                "Unknown service_code %(code)s. The services are listed at services.json.",
                code=code[:60],
            )
        )
    lat, long = _coordinate(form, "lat", 90), _coordinate(form, "long", 180)
    if (lat is None) != (long is None):
        raise _bad(_("Give both lat and long, or neither."))
    address = (form.get("address_string") or "").strip()
    address_id = (form.get("address_id") or "").strip()
    if lat is None and not address and not address_id:
        raise _bad(_("A location is required: lat and long, address_string or address_id."))
    building = _building(
        session, site_ids, address_id=address_id, address=address, lat=lat, long=long
    )
    description = (form.get("description") or "").strip()
    if not description:
        raise _bad(_("description is required: say what the request is about."))
    if len(description) > DESCRIPTION_LENGTH:
        raise _bad(_("description: at most %(count)s characters.", count=DESCRIPTION_LENGTH))
    try:
        checked = ServiceRequestInput(
            title=_title_of(description),
            description=description,
            location_note=address,
            category_id=category.id or 0,
            building_id=building.id if building else None,
        )
    except ValidationError as error:
        raise _bad(describe(messages_for(error))) from None
    return NewRequest(
        category=category,
        building=building,
        title=checked.title,
        description=checked.description,
        location_note=checked.location_note,
        latitude=lat,
        longitude=long,
        contact=_contact(form),
        answers=_answers(form),
    )


def describe(errors: Mapping[str, Any]) -> str:
    """Form errors by field as one line in the API's terms."""
    parts = []
    for name, message in errors.items():
        parameter = PARAMETERS.get(name)
        if parameter is None and name.startswith("q_"):
            parameter = f"attribute[{name[2:]}]"
        parts.append(f"{parameter or name}: {message}")
    return " ".join(parts)


def submit(session: Session, *, key: ApiKey, data: NewRequest) -> tuple[ServiceRequest, str]:
    service_request = submit_from_api(
        session,
        key=key,
        category=data.category,
        building=data.building,
        title=data.title,
        description=data.description,
        location_note=data.location_note,
        latitude=data.latitude,
        longitude=data.longitude,
        contact=data.contact,
        answers=data.answers,
    )
    token = secrets.token_urlsafe(18)
    service_request.api_token = token
    session.add(service_request)
    session.flush()
    return service_request, token


def notice(service_request: ServiceRequest) -> str:
    if service_request.is_public:
        return _(
            "Received as %(reference)s. The property manager looks at new requests on business days.",
            reference=service_request.reference,
        )
    return _(
        "Received. Requests of this kind are private: the API does not show them, and the "
        "property manager answers the sender directly."
    )


def by_token(session: Session, token: str) -> ServiceRequest | None:
    if not token or len(token) > 40:
        return None
    return session.exec(select(ServiceRequest).where(ServiceRequest.api_token == token)).first()
