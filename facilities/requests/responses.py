"""Response templates: ready-made public replies, written by admins per language, that staff
put into an update; and filling in a template's placeholders for one request."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from facilities.accounts.models import User
from facilities.core import audit
from facilities.core.errors import ValidationFailed
from facilities.core.models import utcnow
from facilities.park.models import Category
from facilities.requests.models import ResponseTemplate, ServiceRequest

LANGUAGES = ("fi", "en", "sv")
MAX_BODY = 5_000  # what a public update may hold
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
PLACEHOLDERS = ("reference", "title", "status", "category")


class ResponseTemplateForm(BaseModel):
    """What an admin writes: a short name staff choose by, and the reply per language."""

    name: str = Field(min_length=2, max_length=80)
    body_fi: str = Field(min_length=2, max_length=MAX_BODY)
    body_en: str = Field(default="", max_length=MAX_BODY)
    body_sv: str = Field(default="", max_length=MAX_BODY)
    category: str = Field(default="", max_length=12)  # a category id, "" for every request
    position: int = Field(default=0, ge=0, le=1000)

    @field_validator("name", "category", mode="before")
    @classmethod
    def one_line(cls, value: Any) -> Any:
        return " ".join(value.split()) if isinstance(value, str) else value

    @field_validator("body_fi", "body_en", "body_sv", mode="before")
    @classmethod
    def strip_body(cls, value: Any) -> Any:
        return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value

    @field_validator("position", mode="before")
    @classmethod
    def whole_number(cls, value: Any) -> Any:
        if value in ("", None):
            return 0
        if isinstance(value, str) and not (value.strip().isascii() and value.strip().isdigit()):
            raise PydanticCustomError("whole_number", "a whole number")
        return value

    def bodies(self) -> dict[str, str]:
        return {
            language: getattr(self, f"body_{language}")
            for language in LANGUAGES
            if getattr(self, f"body_{language}")
        }


def template_form(template: ResponseTemplate) -> dict[str, str]:
    """A template as its edit form shows it."""
    form = {
        "name": template.name,
        "category": str(template.category_id or ""),
        "position": str(template.position),
    }
    for language in LANGUAGES:
        form[f"body_{language}"] = template.bodies.get(language, "")
    return form


def _check(
    session: Session, data: ResponseTemplateForm, template: ResponseTemplate | None
) -> int | None:
    """The category chosen (None for all); raises ValidationFailed per field."""
    errors: dict[str, Any] = {}
    same_name = select(ResponseTemplate.id).where(
        func.lower(ResponseTemplate.name) == data.name.lower()
    )
    if template is not None:
        same_name = same_name.where(col(ResponseTemplate.id) != template.id)
    if session.exec(same_name).first() is not None:
        errors["name"] = _l("Another template has this name. Choose another.")
    for language, body in data.bodies().items():
        unknown = sorted(set(PLACEHOLDER.findall(body)) - set(PLACEHOLDERS))
        if unknown:
            errors[f"body_{language}"] = _l(
                "Unknown placeholder {%(name)s}. Use {reference}, {title}, {status} or {category}.",
                name=unknown[0],
            )
    category_id = None
    if data.category:
        if data.category.isascii() and data.category.isdigit():
            category_id = int(data.category)
        if category_id is None or session.get(Category, category_id) is None:
            errors["category"] = _l("Choose one of the options.")
    if errors:
        raise ValidationFailed(errors)
    return category_id


def save_template(
    session: Session,
    *,
    actor: User | None,
    data: ResponseTemplateForm,
    template: ResponseTemplate | None = None,
) -> ResponseTemplate:
    """Add a template, or change one; audited."""
    category_id = _check(session, data, template)
    before = template.model_dump(exclude={"id"}, mode="json") if template is not None else None
    template = template or ResponseTemplate(name=data.name)
    template.name = data.name
    template.bodies = data.bodies()
    template.category_id = category_id
    template.position = data.position
    template.updated_at = utcnow()
    session.add(template)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="response_template.saved" if before else "response_template.added",
        entity="response_template",
        entity_id=template.id,
        before=before,
        after=template.model_dump(exclude={"id"}, mode="json"),
    )
    return template


def set_template_active(
    session: Session, *, actor: User, template: ResponseTemplate, active: bool
) -> None:
    """Retire a template (no longer offered) or bring it back."""
    if template.active == active:
        return
    template.active = active
    template.updated_at = utcnow()
    session.add(template)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="response_template.restored" if active else "response_template.retired",
        entity="response_template",
        entity_id=template.id,
        after={"name": template.name, "active": active},
    )


def all_templates(session: Session) -> list[ResponseTemplate]:
    """Every template for the admin list: in use first, then in their order."""
    return list(
        session.exec(
            select(ResponseTemplate).order_by(
                col(ResponseTemplate.active).desc(),
                col(ResponseTemplate.position),
                col(ResponseTemplate.name),
            )
        ).all()
    )


def templates_for(session: Session, category_id: int) -> list[ResponseTemplate]:
    """The templates staff may use on a request of this category: its own and the general."""
    return list(
        session.exec(
            select(ResponseTemplate)
            .where(
                col(ResponseTemplate.active).is_(True),
                or_(
                    col(ResponseTemplate.category_id).is_(None),
                    col(ResponseTemplate.category_id) == category_id,
                ),
            )
            .order_by(col(ResponseTemplate.position), col(ResponseTemplate.name))
        ).all()
    )


def sender_language(service_request: ServiceRequest) -> str:
    """The language to answer in: the sender's own, Finnish when unknown."""
    submitter = service_request.submitter
    language = submitter.preferred_language if submitter is not None else ""
    return language if language in LANGUAGES else "fi"


def _names_in(names: dict[str, str], language: str) -> str:
    return names.get(language) or names.get("fi") or next(iter(names.values()), "")


def filled_in(template: ResponseTemplate, language: str, service_request: ServiceRequest) -> str:
    """The template's text in `language` (Finnish if it has none), placeholders filled in
    with the request's reference, title, status and category in that language."""
    body = template.bodies.get(language) or template.bodies.get("fi", "")
    values = {
        "reference": service_request.reference,
        "title": service_request.title,
        "status": _names_in(service_request.status.names, language),
        "category": _names_in(service_request.category.names, language),
    }
    # one pass over the template only: text from the request is never read as a placeholder
    return PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), body)


def with_template(
    typed: str, template: ResponseTemplate, language: str, service_request: ServiceRequest
) -> str:
    """What the update field holds after using a template: the text typed so far is kept,
    the template follows it."""
    text = filled_in(template, language, service_request)
    typed = typed.rstrip()
    return f"{typed}\n\n{text}" if typed else text
