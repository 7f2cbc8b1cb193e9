"""Admins: response templates, the ready-made public replies staff put into updates."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import col, select
from werkzeug.wrappers import Response

from facilities.core.db import get_session
from facilities.core.errors import ValidationFailed
from facilities.park.models import Category
from facilities.requests.models import ResponseTemplate
from facilities.requests.responses import (
    PLACEHOLDERS,
    ResponseTemplateForm,
    all_templates,
    save_template,
    set_template_active,
    template_form,
)
from facilities.web.access import admin_only
from facilities.web.admin import blueprint
from facilities.web.forms import parse_form


def _categories() -> list[Category]:
    return list(
        get_session()
        .exec(select(Category).order_by(col(Category.position), col(Category.slug)))
        .all()
    )


def _template(template_id: int) -> ResponseTemplate:
    template = get_session().get(ResponseTemplate, template_id)
    if template is None:
        abort(404)
    return template


def _list_page(form: dict, errors: dict, status: int = 200):
    categories = _categories()
    return render_template(
        "admin/response_templates.html",
        templates=all_templates(get_session()),
        category_names={category.id: category.names for category in categories},
        categories=categories,
        placeholders=PLACEHOLDERS,
        form=form,
        errors=errors,
    ), status


def _edit_page(template: ResponseTemplate, form: dict, errors: dict, status: int = 200):
    return render_template(
        "admin/response_template.html",
        template=template,
        categories=_categories(),
        placeholders=PLACEHOLDERS,
        form=form,
        errors=errors,
    ), status


def _save(template: ResponseTemplate | None) -> tuple[Response | None, dict[str, str]]:
    """Apply the form: a redirect to the list when saved, else the messages per field."""
    db = get_session()
    data, errors = parse_form(ResponseTemplateForm, request.form)
    if data is not None:
        try:
            saved = save_template(db, actor=current_user, data=data, template=template)
        except ValidationFailed as failure:
            db.rollback()
            errors = {key: str(message) for key, message in failure.errors.items()}
        else:
            db.commit()
            flash(_("The template “%(name)s” was saved.", name=saved.name), "success")
            return redirect(url_for("admin.response_templates_page")), {}
    return None, errors


@blueprint.get("/templates")
@admin_only
def response_templates_page():
    return _list_page({}, {})


@blueprint.post("/templates")
@admin_only
def add_response_template():
    done, errors = _save(None)
    if done is not None:
        return done
    return _list_page(request.form.to_dict(), errors, 422)


@blueprint.get("/templates/<int:template_id>")
@admin_only
def edit_response_template(template_id: int):
    template = _template(template_id)
    return _edit_page(template, template_form(template), {})


@blueprint.post("/templates/<int:template_id>")
@admin_only
def save_existing_response_template(template_id: int):
    template = _template(template_id)
    done, errors = _save(template)
    if done is not None:
        return done
    return _edit_page(_template(template_id), request.form.to_dict(), errors, 422)


@blueprint.post("/templates/<int:template_id>/active")
@admin_only
def toggle_response_template(template_id: int):
    """Retire a template (staff no longer see it), or bring it back."""
    template = _template(template_id)
    active = request.form.get("active") == "1"
    db = get_session()
    set_template_active(db, actor=current_user, template=template, active=active)
    db.commit()
    flash(
        _("The template “%(name)s” is offered again.", name=template.name)
        if active
        else _("The template “%(name)s” is no longer offered.", name=template.name),
        "success",
    )
    return redirect(url_for("admin.response_templates_page"))
