"""The park's charger registry: adding and changing chargers, mapping operators' EVSEs."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session, col, select

from facilities.accounts.models import User
from facilities.charging.models import (
    Charger,
    ChargerFault,
    ChargerLifecycle,
    OcpiEvse,
    OcpiLocation,
    OcpiParty,
)
from facilities.core import audit
from facilities.core.errors import ValidationFailed
from facilities.park.models import Building
from facilities.requests.models import ServiceRequest, clean_one_line

# OCPI 2.2.1 ConnectorType values a park is likely to have, in the order staff pick them.
CONNECTOR_TYPES = (
    "IEC_62196_T2",
    "IEC_62196_T2_COMBO",
    "CHADEMO",
    "IEC_62196_T1",
    "IEC_62196_T1_COMBO",
    "DOMESTIC_F",
    "TESLA_S",
)
CONNECTOR_LABELS = {
    "IEC_62196_T2": "Type 2",
    "IEC_62196_T2_COMBO": "CCS (Combo 2)",
    "CHADEMO": "CHAdeMO",
    "IEC_62196_T1": "Type 1",
    "IEC_62196_T1_COMBO": "CCS (Combo 1)",
    "DOMESTIC_F": "Schuko",
    "TESLA_S": "Tesla",
}
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")


class ChargerForm(BaseModel):
    """What the registry form sends; the request is given by its reference."""

    building_id: int = Field(ge=1, le=2**31 - 1)
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=2, max_length=200)
    location_note: str = Field(default="", max_length=300)
    power_kw: float = Field(ge=1, le=1000)
    connectors: list[str] = Field(default_factory=list)
    operator: str = Field(default="", max_length=200)
    # None: the party that has sent this EVSE, when only one has
    ocpi_party_ref_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    ocpi_location_id: str = Field(default="", max_length=36)
    ocpi_evse_uid: str = Field(default="", max_length=36)
    lifecycle: ChargerLifecycle = ChargerLifecycle.planned
    request_reference: str = Field(default="", max_length=30)

    @field_validator(
        "code",
        "name",
        "location_note",
        "operator",
        "ocpi_location_id",
        "ocpi_evse_uid",
        "request_reference",
        mode="before",
    )
    @classmethod
    def one_line(cls, value: Any) -> Any:
        return clean_one_line(value) if isinstance(value, str) else value

    @field_validator("ocpi_party_ref_id", mode="before")
    @classmethod
    def no_party(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("code", mode="after")
    @classmethod
    def upper_code(cls, value: str) -> str:
        return value.upper()


def _snapshot(charger: Charger) -> dict[str, Any]:
    return {
        "building_id": charger.building_id,
        "code": charger.code,
        "name": charger.name,
        "location_note": charger.location_note,
        "power_kw": charger.power_kw,
        "connectors": list(charger.connectors),
        "operator": charger.operator,
        "ocpi_party_ref_id": charger.ocpi_party_ref_id,
        "ocpi_location_id": charger.ocpi_location_id,
        "ocpi_evse_uid": charger.ocpi_evse_uid,
        "lifecycle": charger.lifecycle.value,
        "request_id": charger.request_id,
    }


def _check(session: Session, data: ChargerForm, *, charger: Charger | None) -> int | None:
    """Raise ValidationFailed with messages per field; return the request's id.

    Completes `data.ocpi_party_ref_id` when it was left to be found."""
    errors: dict[str, Any] = {}
    if session.get(Building, data.building_id) is None:
        errors["building_id"] = _l("Choose one of the buildings.")
    if not _CODE.match(data.code):
        errors["code"] = _l("Use capital letters, digits and hyphens, e.g. SEN-3.")
    else:
        same = session.exec(select(Charger).where(Charger.code == data.code)).first()
        if same is not None and same is not charger:
            errors["code"] = _l("Another charger has this code.")
    unknown = [value for value in data.connectors if value not in CONNECTOR_TYPES]
    if unknown or not data.connectors:
        errors["connectors"] = _l("Choose at least one connector.")
    if bool(data.ocpi_location_id) != bool(data.ocpi_evse_uid):
        errors["ocpi_evse_uid"] = _l("Give both the OCPI location id and the EVSE uid, or neither.")
    elif not data.ocpi_evse_uid:
        data.ocpi_party_ref_id = None
    else:
        if data.ocpi_party_ref_id is None:
            data.ocpi_party_ref_id = _party_that_sent(
                session, data.ocpi_location_id, data.ocpi_evse_uid
            )
        if data.ocpi_party_ref_id is None or session.get(OcpiParty, data.ocpi_party_ref_id) is None:
            errors["ocpi_party_ref_id"] = _l(
                "Choose the operator: none or several have sent this EVSE."
            )
        same = session.exec(
            select(Charger).where(
                Charger.ocpi_party_ref_id == data.ocpi_party_ref_id,
                Charger.ocpi_location_id == data.ocpi_location_id,
                Charger.ocpi_evse_uid == data.ocpi_evse_uid,
            )
        ).first()
        if same is not None and same is not charger:
            errors["ocpi_evse_uid"] = _l("Charger %(code)s is mapped to this EVSE.", code=same.code)
    request_id = None
    if data.request_reference:
        request = session.exec(
            select(ServiceRequest).where(ServiceRequest.reference == data.request_reference.upper())
        ).first()
        if request is None:
            errors["request_reference"] = _l("No request has this reference.")
        else:
            request_id = request.id
    if errors:
        raise ValidationFailed(errors)
    return request_id


def _party_that_sent(session: Session, location_id: str, evse_uid: str) -> int | None:
    """The party that has sent this location id and EVSE uid, if exactly one has."""
    parties = session.exec(
        select(OcpiLocation.party_ref_id)
        .join(OcpiEvse, col(OcpiEvse.location_ref_id) == OcpiLocation.id)
        .where(OcpiLocation.location_id == location_id, OcpiEvse.uid == evse_uid)
        .limit(2)
    ).all()
    return parties[0] if len(parties) == 1 else None


def operator_choices(session: Session) -> list[OcpiParty]:
    """The parties a charger can be mapped to, for the form."""
    return list(session.exec(select(OcpiParty).order_by(col(OcpiParty.name))).all())


def _apply(charger: Charger, data: ChargerForm, request_id: int | None) -> None:
    charger.building_id, charger.code, charger.name = data.building_id, data.code, data.name
    charger.location_note, charger.power_kw = data.location_note, data.power_kw
    charger.connectors = [value for value in CONNECTOR_TYPES if value in data.connectors]
    charger.operator = data.operator
    charger.ocpi_party_ref_id = data.ocpi_party_ref_id
    charger.ocpi_location_id, charger.ocpi_evse_uid = data.ocpi_location_id, data.ocpi_evse_uid
    charger.lifecycle, charger.request_id = data.lifecycle, request_id


def add_charger(session: Session, *, actor: User, data: ChargerForm) -> Charger:
    request_id = _check(session, data, charger=None)
    charger = Charger(building_id=data.building_id, code=data.code, name=data.name)
    _apply(charger, data, request_id)
    session.add(charger)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="charger.added",
        entity="charger",
        entity_id=charger.id,
        after=_snapshot(charger),
    )
    return charger


def change_charger(session: Session, *, actor: User, charger: Charger, data: ChargerForm) -> bool:
    """Save the form over the charger; returns whether anything changed."""
    request_id = _check(session, data, charger=charger)
    before = _snapshot(charger)
    _apply(charger, data, request_id)
    after = _snapshot(charger)
    changed = [key for key in after if after[key] != before[key]]
    if not changed:
        return False
    session.add(charger)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="charger.changed",
        entity="charger",
        entity_id=charger.id,
        before={key: before[key] for key in changed},
        after={key: after[key] for key in changed},
    )
    return True


def map_evse(
    session: Session,
    *,
    actor: User,
    charger: Charger,
    party_id: int | None,
    location_id: str,
    evse_uid: str,
) -> None:
    """Point a charger at an EVSE an operator sent (from the list of unmapped ones)."""
    data = ChargerForm.model_validate(
        {
            **_snapshot(charger),
            "ocpi_party_ref_id": party_id,
            "ocpi_location_id": location_id,
            "ocpi_evse_uid": evse_uid,
            "request_reference": _reference(session, charger.request_id),
        }
    )
    change_charger(session, actor=actor, charger=charger, data=data)


def _reference(session: Session, request_id: int | None) -> str:
    request = session.get(ServiceRequest, request_id) if request_id else None
    return request.reference if request else ""


def form_values(session: Session, charger: Charger) -> dict[str, Any]:
    """The form's fields for an existing charger."""
    return {**_snapshot(charger), "request_reference": _reference(session, charger.request_id)}


def by_code(session: Session, code: str) -> Charger | None:
    return session.exec(select(Charger).where(Charger.code == code.upper())).first()


def chargers_of_request(session: Session, service_request: ServiceRequest) -> list[Charger]:
    return list(
        session.exec(
            select(Charger)
            .where(Charger.request_id == service_request.id)
            .order_by(col(Charger.code))
        ).all()
    )


def charger_of_fault(session: Session, service_request: ServiceRequest) -> Charger | None:
    """The charger whose fault this request is, if it is one."""
    return session.exec(
        select(Charger)
        .join(ChargerFault, col(ChargerFault.charger_id) == Charger.id)
        .where(ChargerFault.request_id == service_request.id)
    ).first()
