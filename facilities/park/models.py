"""The park's tables: the site, its buildings, categories and tenant companies."""

from enum import StrEnum

from sqlmodel import JSON, Column, Field, Relationship, SQLModel

from facilities.core.cache import watch
from facilities.core.models import enum_type


class Visibility(StrEnum):
    public = "public"
    private = "private"


class CategoryKind(StrEnum):
    idea = "idea"
    fault = "fault"
    service = "service"


class Site(SQLModel, table=True):
    """A park; Open311's jurisdiction."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    reference_prefix: str = Field(default="DP", max_length=10)


class TenantBuilding(SQLModel, table=True):
    __tablename__ = "tenant_building"

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True, ondelete="CASCADE")
    building_id: int = Field(foreign_key="building.id", primary_key=True, ondelete="CASCADE")


class Building(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    address: str = Field(default="", max_length=300)
    latitude: float | None = None
    longitude: float | None = None


class Category(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    slug: str = Field(max_length=60, unique=True)
    names: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    kind: CategoryKind = Field(default=CategoryKind.idea, sa_type=enum_type(CategoryKind))
    default_visibility: Visibility = Field(default=Visibility.public, sa_type=enum_type(Visibility))
    position: int = 0
    active: bool = True


class Tenant(SQLModel, table=True):
    """A company renting space in the park."""

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    name: str = Field(max_length=200)
    business_id: str = Field(max_length=9, unique=True)  # Finnish Y-tunnus, 1234567-8

    buildings: list[Building] = Relationship(link_model=TenantBuilding)


# Names of buildings, categories and companies appear on public pages.
watch(Site, Building, Category, Tenant, TenantBuilding)
