"""Tenant companies (admins): name, business ID and the buildings they occupy."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import or_
from sqlmodel import Session, col, select

from facilities.core import audit
from facilities.core.db import like_pattern
from facilities.core.errors import ValidationFailed
from facilities.core.pagination import Page, paginate
from facilities.park.buildings import park_site
from facilities.park.models import Building, Tenant, TenantBuilding
from facilities.park.queries import _BUSINESS_ID, valid_business_id

if TYPE_CHECKING:  # park comes before accounts: users are only passed through
    from facilities.accounts.models import User


class TenantForm(BaseModel):
    name: str = Field(min_length=2, max_length=200)
    business_id: str = Field(min_length=1, max_length=20)
    buildings: list[str] = Field(default_factory=list, max_length=200)  # building ids, ticked

    @field_validator("name", "business_id", mode="before")
    @classmethod
    def one_line(cls, value: Any) -> Any:
        return " ".join(value.split()) if isinstance(value, str) else value


def tenant_form(tenant: Tenant, building_ids: list[int]) -> dict[str, Any]:
    """A company as its form shows it."""
    return {
        "name": tenant.name,
        "business_id": tenant.business_id,
        "buildings": [str(building_id) for building_id in building_ids],
    }


def building_ids_of(session: Session, tenant_id: int) -> list[int]:
    return list(
        session.exec(
            select(TenantBuilding.building_id).where(TenantBuilding.tenant_id == tenant_id)
        ).all()
    )


def save_tenant(
    session: Session,
    *,
    actor: User,
    data: TenantForm,
    tenant: Tenant | None = None,
    site_name: str = "",
) -> Tenant:
    """Add a company (`tenant=None`) or change one; audited. The ticked buildings must
    exist; a business ID belongs to one company."""
    errors: dict[str, Any] = {}
    business_id = data.business_id
    if not (business_id.isascii() and _BUSINESS_ID.match(business_id)):
        errors["business_id"] = _l(
            "Enter the business ID as seven digits, a hyphen and a check digit, such as 1234567-8."
        )
    elif not valid_business_id(business_id):
        errors["business_id"] = _l("The check digit does not match: check the business ID.")
    else:
        others = select(Tenant.id).where(Tenant.business_id == business_id)
        if tenant is not None:
            others = others.where(col(Tenant.id) != tenant.id)
        if session.exec(others).first() is not None:
            errors["business_id"] = _l("Another company already has this business ID.")
    known = {building.id: building for building in session.exec(select(Building)).all()}
    chosen = {
        int(raw) for raw in data.buildings if raw.isascii() and raw.isdigit() and len(raw) < 10
    }
    if any(building_id not in known for building_id in chosen) or len(chosen) != len(
        set(data.buildings)
    ):
        errors["buildings"] = _l("Choose among the buildings listed.")
    if errors:
        raise ValidationFailed(errors)
    before = None
    if tenant is not None:
        assert tenant.id is not None
        before = {
            **tenant.model_dump(exclude={"id"}),
            "buildings": building_ids_of(session, tenant.id),
        }
    else:
        site = park_site(session, name=site_name or "Park")
        assert site.id is not None
        tenant = Tenant(site_id=site.id, name=data.name, business_id=business_id)
    tenant.name = data.name
    tenant.business_id = business_id
    tenant.buildings = [known[building_id] for building_id in sorted(chosen)]
    session.add(tenant)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="tenant.saved" if before else "tenant.added",
        entity="tenant",
        entity_id=tenant.id,
        before=before,
        after={**tenant.model_dump(exclude={"id"}), "buildings": sorted(chosen)},
    )
    return tenant


def find_tenants(session: Session, *, search: str, page: int, per_page: int) -> Page[Tenant]:
    """Companies by name, those whose name or business ID has `search` in it."""
    statement = select(Tenant).order_by(col(Tenant.name), col(Tenant.id))
    if search:
        pattern = like_pattern(search)
        statement = statement.where(
            or_(
                col(Tenant.name).ilike(pattern, escape="\\"),
                col(Tenant.business_id).like(pattern, escape="\\"),
            )
        )
    return paginate(session, statement, page=page, per_page=per_page)


def buildings_of_tenants(session: Session, tenant_ids: list[int]) -> dict[int, list[Building]]:
    """Each company's buildings by name, in one query for a page of companies."""
    found: dict[int, list[Building]] = defaultdict(list)
    if not tenant_ids:
        return found
    rows = session.exec(
        select(TenantBuilding.tenant_id, Building)
        .join(Building, col(Building.id) == TenantBuilding.building_id)
        .where(col(TenantBuilding.tenant_id).in_(tenant_ids))
        .order_by(col(Building.name))
    ).all()
    for tenant_id, building in rows:
        found[tenant_id].append(building)
    return found
