"""Adding and changing buildings (admins): code, name, address, position on the map."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session, col, select

from facilities.core import audit
from facilities.core.errors import ValidationFailed
from facilities.park.models import Building, Site

if TYPE_CHECKING:  # park comes before accounts: users are only passed through
    from facilities.accounts.models import User

# Codes appear in addresses (/buildings/SENSORI) and on posters: plain letters and digits.
_CODE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")


class BuildingForm(BaseModel):
    """What an admin types for a building. Coordinates stay text here: people write
    `65,7364`, and the operation says what is wrong with them in words."""

    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=2, max_length=200)
    address: str = Field(default="", max_length=300)
    latitude: str = Field(default="", max_length=40)
    longitude: str = Field(default="", max_length=40)

    @field_validator("code", "name", "address", "latitude", "longitude", mode="before")
    @classmethod
    def one_line(cls, value: Any) -> Any:
        return " ".join(value.split()) if isinstance(value, str) else value

    @field_validator("code", mode="before")
    @classmethod
    def upper_case(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


def building_form(building: Building) -> dict[str, str]:
    """A building as its form shows it."""
    return {
        "code": building.code,
        "name": building.name,
        "address": building.address,
        "latitude": "" if building.latitude is None else f"{building.latitude:g}",
        "longitude": "" if building.longitude is None else f"{building.longitude:g}",
    }


def _coordinate(text: str, limit: float) -> float | None:
    """A degree as typed (`65.7364` or `65,7364`), None when empty; ValueError when it is
    no number or beyond ±limit."""
    if not text:
        return None
    value = float(text.replace(",", ".").replace(" ", ""))  # ValueError for words
    if not math.isfinite(value) or abs(value) > limit:
        raise ValueError(text)
    return round(value, 7)  # about a centimetre: more is noise


def park_site(session: Session, *, name: str) -> Site:
    """The park new buildings and companies belong to: the first site, made on first use."""
    site = session.exec(select(Site).order_by(col(Site.id))).first()
    if site is None:
        site = Site(code="PARK", name=name)
        session.add(site)
        session.flush()
    return site


def save_building(
    session: Session,
    *,
    actor: User,
    data: BuildingForm,
    building: Building | None = None,
    site_name: str = "",
) -> Building:
    """Add a building (`building=None`) or change one; audited. `site_name` names the
    park if it has no site yet."""
    errors: dict[str, Any] = {}
    if not _CODE.match(data.code):
        errors["code"] = _l("Use letters A–Z, digits and hyphens, such as SENSORI or B-2.")
    else:
        others = select(Building.id).where(Building.code == data.code)
        if building is not None:
            others = others.where(col(Building.id) != building.id)
        if session.exec(others).first() is not None:
            errors["code"] = _l("Another building already has this code.")
    latitude = longitude = None
    try:
        latitude = _coordinate(data.latitude, 90)
    except ValueError:
        errors["latitude"] = _l(
            "Enter the latitude in degrees between -90 and 90, such as 65,7364; or leave it empty."
        )
    try:
        longitude = _coordinate(data.longitude, 180)
    except ValueError:
        errors["longitude"] = _l(
            "Enter the longitude in degrees between -180 and 180, such as 24,5637; or leave it empty."
        )
    if (
        "latitude" not in errors
        and "longitude" not in errors
        and (latitude is None) != (longitude is None)
    ):
        errors["longitude" if longitude is None else "latitude"] = _l(
            "Give both latitude and longitude, or neither."
        )
    if errors:
        raise ValidationFailed(errors)
    before = building.model_dump(exclude={"id"}) if building is not None else None
    if building is None:
        site = park_site(session, name=site_name or "Park")
        assert site.id is not None
        building = Building(site_id=site.id, code=data.code, name=data.name)
    building.code = data.code
    building.name = data.name
    building.address = data.address
    building.latitude = latitude
    building.longitude = longitude
    session.add(building)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="building.saved" if before else "building.added",
        entity="building",
        entity_id=building.id,
        before=before,
        after=building.model_dump(exclude={"id"}),
    )
    return building
