"""Admins: the park's definitions. Categories (names, kind, visibility, default
assignee, SLA targets) and their extra questions so far; every change is audited."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func
from sqlmodel import col, select

from facilities.accounts.users import staff_members
from facilities.core.db import get_session
from facilities.core.errors import ValidationFailed
from facilities.park.categories import PRIORITIES, CategoryForm, category_form, save_category
from facilities.park.models import Category, CategoryKind, CategoryQuestion, QuestionKind
from facilities.park.questions import (
    QuestionForm,
    question_form,
    questions_of,
    save_question,
    set_question_active,
)
from facilities.web.access import admin_only
from facilities.web.forms import parse_form

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


@blueprint.get("/categories")
@admin_only
def categories_page():
    db = get_session()
    counts = dict(
        db.exec(
            select(CategoryQuestion.category_id, func.count())
            .where(col(CategoryQuestion.active).is_(True))
            .group_by(col(CategoryQuestion.category_id))
        ).all()
    )
    categories = db.exec(select(Category).order_by(col(Category.position), col(Category.slug)))
    return render_template("admin/categories.html", categories=categories.all(), counts=counts)


def _category_page(category: Category, form: dict, errors: dict, status: int = 200):
    return render_template(
        "admin/category.html",
        category=category,
        form=form,
        errors=errors,
        staff=staff_members(get_session()),
        kinds=list(CategoryKind),
        priorities=PRIORITIES,
    ), status


@blueprint.get("/categories/<slug>")
@admin_only
def edit_category(slug: str):
    category = _category(slug)
    return _category_page(category, category_form(category), {})


@blueprint.post("/categories/<slug>")
@admin_only
def save_existing_category(slug: str):
    category = _category(slug)
    db = get_session()
    data, errors = parse_form(CategoryForm, request.form)
    if data is not None:
        try:
            save_category(
                db,
                actor=current_user,
                category=category,
                data=data,
                staff_ids={user.id for user in staff_members(db) if user.id is not None},
            )
        except ValidationFailed as failure:
            db.rollback()
            errors = {key: str(message) for key, message in failure.errors.items()}
        else:
            db.commit()
            flash(_("The category was saved."), "success")
            return redirect(url_for("admin.categories_page"))
    return _category_page(_category(slug), request.form.to_dict(), errors, 422)


def _category(slug: str) -> Category:
    category = get_session().exec(select(Category).where(Category.slug == slug)).first()
    if category is None:
        abort(404)
    return category


def _question(category: Category, question_id: int) -> CategoryQuestion:
    question = get_session().get(CategoryQuestion, question_id)
    if question is None or question.category_id != category.id:
        abort(404)
    return question


def _questions_page(category: Category, form: dict, errors: dict, status: int = 200):
    db = get_session()
    return render_template(
        "admin/questions.html",
        category=category,
        questions=questions_of(db, category.id, include_retired=True),
        form=form,
        errors=errors,
        kinds=list(QuestionKind),
    ), status


@blueprint.get("/categories/<slug>/questions")
@admin_only
def questions_page(slug: str):
    return _questions_page(_category(slug), {"kind": QuestionKind.text.value}, {})


def _save(category: Category, question: CategoryQuestion | None):
    db = get_session()
    data, errors = parse_form(QuestionForm, request.form)
    if data is not None:
        try:
            saved = save_question(
                db, actor=current_user, category=category, data=data, question=question
            )
        except ValidationFailed as failure:
            db.rollback()
            errors = {key: str(message) for key, message in failure.errors.items()}
        else:
            db.commit()
            flash(
                _("The question “%(prompt)s” was saved.", prompt=saved.prompts.get("fi", "")),
                "success",
            )
            return redirect(url_for("admin.questions_page", slug=category.slug)), {}
    return None, errors


@blueprint.post("/categories/<slug>/questions")
@admin_only
def add_question(slug: str):
    category = _category(slug)
    done, errors = _save(category, None)
    if done is not None:
        return done
    return _questions_page(category, request.form.to_dict(), errors, 422)


def _edit_page(
    category: Category, question: CategoryQuestion, form: dict, errors: dict, status: int = 200
):
    return render_template(
        "admin/question.html",
        category=category,
        question=question,
        form=form,
        errors=errors,
        kinds=list(QuestionKind),
    ), status


@blueprint.get("/categories/<slug>/questions/<int:question_id>")
@admin_only
def edit_question(slug: str, question_id: int):
    category = _category(slug)
    question = _question(category, question_id)
    return _edit_page(category, question, question_form(question), {})


@blueprint.post("/categories/<slug>/questions/<int:question_id>")
@admin_only
def save_existing_question(slug: str, question_id: int):
    category = _category(slug)
    question = _question(category, question_id)
    done, errors = _save(category, question)
    if done is not None:
        return done
    form = request.form.to_dict()
    form["code"] = question.code
    return _edit_page(category, question, form, errors, 422)


@blueprint.post("/categories/<slug>/questions/<int:question_id>/active")
@admin_only
def toggle_question(slug: str, question_id: int):
    """Retire a question (answers given stay readable), or bring it back."""
    category = _category(slug)
    question = _question(category, question_id)
    active = request.form.get("active") == "1"
    db = get_session()
    set_question_active(db, actor=current_user, question=question, active=active)
    db.commit()
    flash(
        _("The question is asked again.") if active else _("The question is no longer asked."),
        "success",
    )
    return redirect(url_for("admin.questions_page", slug=category.slug))
