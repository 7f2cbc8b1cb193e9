"""The park's tables: the site, its buildings, categories and tenant companies."""

from enum import StrEnum
from typing import Any

import sqlalchemy as sa
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
    # Who new requests of the category go to (a member of staff), if anyone
    default_assignee_id: int | None = Field(default=None, foreign_key="user.id")
    # Hours of business time per priority: {"urgent": {"response": 2, "resolution": 8}}
    sla_targets: dict[str, dict[str, float]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )


class QuestionKind(StrEnum):
    text = "text"
    number = "number"
    single_choice = "single_choice"
    multiple_choice = "multiple_choice"


class CategoryQuestion(SQLModel, table=True):
    """An extra question a category asks on the request form (an Open311 attribute).

    `choices` is a list of {"key": ..., "names": {"fi": ..., "en": ..., "sv": ...}}; the
    key is what an answer stores, so that renaming a choice keeps old answers.
    """

    __tablename__ = "category_question"
    __table_args__ = (sa.UniqueConstraint("category_id", "code", name="uq_category_question_code"),)

    id: int | None = Field(default=None, primary_key=True)
    category_id: int = Field(foreign_key="category.id", index=True, ondelete="CASCADE")
    code: str = Field(max_length=40)
    kind: QuestionKind = Field(default=QuestionKind.text, sa_type=enum_type(QuestionKind))
    prompts: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    hints: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    choices: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    required: bool = False
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
watch(Site, Building, Category, CategoryQuestion, Tenant, TenantBuilding)
