"""A category's extra questions (Open311 service-definition attributes): defining them,
and checking the answers sent with a request like the rest of the form."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError
from sqlmodel import Session, col, select

from facilities.core import audit
from facilities.core.errors import ValidationFailed
from facilities.park.models import Category, CategoryQuestion, QuestionKind

if TYPE_CHECKING:  # park comes before accounts: the admin is only passed through to audit
    from facilities.accounts.models import User

MAX_TEXT_ANSWER = 1000
MAX_NUMBER = 1_000_000_000
LANGUAGES = ("fi", "en", "sv")
CHOICE_KINDS = frozenset({QuestionKind.single_choice, QuestionKind.multiple_choice})


def field_name(question: CategoryQuestion) -> str:
    """The form field of a question's answer: `q_<code>`, apart from the form's own."""
    return f"q_{question.code}"


def questions_of(
    session: Session, category_id: int | None, *, include_retired: bool = False
) -> list[CategoryQuestion]:
    if not category_id:
        return []
    statement = select(CategoryQuestion).where(CategoryQuestion.category_id == category_id)
    if not include_retired:
        statement = statement.where(col(CategoryQuestion.active).is_(True))
    return list(
        session.exec(
            statement.order_by(col(CategoryQuestion.position), col(CategoryQuestion.id))
        ).all()
    )


def choice_keys(question: CategoryQuestion) -> list[str]:
    return [str(choice["key"]) for choice in question.choices]


def _number(text: str) -> int | float | None:
    # Finnish writes 12,5 and groups thousands with spaces: 1 200
    cleaned = text.replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        return None
    return int(value) if value.is_integer() else value


def check_answers(
    questions: Sequence[CategoryQuestion], raw: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """The answers to keep, by question code, from what the form sent (`raw`: code → the
    values sent under its field). Raises ValidationFailed with a message per field."""
    answers: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for question in questions:
        values = [value.strip() for value in raw.get(question.code, ()) if value.strip()]
        name = field_name(question)
        if len(values) > 1 and question.kind != QuestionKind.multiple_choice:
            errors[name] = _l("Give one answer.")
            continue
        if not values:
            if question.required:
                errors[name] = (
                    _l("Choose at least one option.")
                    if question.kind == QuestionKind.multiple_choice
                    else _l("This question needs an answer.")
                )
            continue
        if question.kind == QuestionKind.text:
            if len(values[0]) > MAX_TEXT_ANSWER:
                errors[name] = _l(
                    "Enter at most %(max_length)s characters.", max_length=MAX_TEXT_ANSWER
                )
            else:
                answers[question.code] = values[0]
        elif question.kind == QuestionKind.number:
            number = _number(values[0])
            if number is None:
                errors[name] = _l("Enter a number, for example 12 or 12,5.")
            else:
                answers[question.code] = number
        elif question.kind == QuestionKind.single_choice:
            if values[0] not in choice_keys(question):
                errors[name] = _l("Choose one of the options.")
            else:
                answers[question.code] = values[0]
        else:
            keys = choice_keys(question)
            if any(value not in keys for value in values):
                errors[name] = _l("Choose one of the options.")
            else:
                answers[question.code] = [key for key in keys if key in values]
    if errors:
        raise ValidationFailed(errors)
    return answers


def raw_answers(form: Any) -> dict[str, list[str]]:
    """code → values from a submitted form (a MultiDict): the `q_` fields."""
    return {key[2:]: form.getlist(key) for key in form if key.startswith("q_")}


@dataclass(frozen=True)
class AnswerRow:
    prompts: dict[str, str]
    values: list[dict[str, str] | str]  # choice names per language, or the text typed


def answer_rows(
    questions: Sequence[CategoryQuestion], answers: Mapping[str, Any]
) -> list[AnswerRow]:
    """Answers as people read them, in the questions' order; a retired question or
    choice keeps its answer (shown by its code or key)."""
    rows = []
    known = set()
    for question in questions:
        known.add(question.code)
        if question.code not in answers:
            continue
        value = answers[question.code]
        names = {str(choice["key"]): choice.get("names", {}) for choice in question.choices}
        values = value if isinstance(value, list) else [value]
        rows.append(
            AnswerRow(
                prompts=question.prompts,
                values=[names.get(str(item)) or _display(item) for item in values],
            )
        )
    for code, value in answers.items():
        if code not in known:
            values = value if isinstance(value, list) else [value]
            rows.append(AnswerRow(prompts={"fi": code}, values=[_display(v) for v in values]))
    return rows


def _display(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(value)


# --- defining questions (admins) -----------------------------------------------------


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40].strip("-")


class QuestionForm(BaseModel):
    """What an admin writes to define a question: prompts, hints and choices per
    language (choices one per line, in the same order in every language)."""

    code: str = Field(default="", max_length=40)
    kind: QuestionKind
    prompt_fi: str = Field(min_length=2, max_length=200)
    prompt_en: str = Field(default="", max_length=200)
    prompt_sv: str = Field(default="", max_length=200)
    hint_fi: str = Field(default="", max_length=300)
    hint_en: str = Field(default="", max_length=300)
    hint_sv: str = Field(default="", max_length=300)
    choices_fi: str = Field(default="", max_length=3000)
    choices_en: str = Field(default="", max_length=3000)
    choices_sv: str = Field(default="", max_length=3000)
    required: bool = False
    position: int = Field(default=0, ge=0, le=1000)

    @field_validator(
        "code", "prompt_fi", "prompt_en", "prompt_sv", "hint_fi", "hint_en", "hint_sv",
        mode="before",
    )  # fmt: skip
    @classmethod
    def strip_text(cls, value: Any) -> Any:
        return " ".join(value.split()) if isinstance(value, str) else value

    @field_validator("required", mode="before")
    @classmethod
    def checkbox(cls, value: Any) -> Any:
        return value not in (None, "", "0", "false")

    @field_validator("position", mode="before")
    @classmethod
    def whole_number(cls, value: Any) -> Any:
        if value in ("", None):
            return 0
        if isinstance(value, str) and not (value.strip().isascii() and value.strip().isdigit()):
            raise PydanticCustomError("whole_number", "a whole number")
        return value

    def lines(self, language: str) -> list[str]:
        text: str = getattr(self, f"choices_{language}")
        return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def _choices(data: QuestionForm, existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Choices from the admin's lines. A choice keeps its key when its Finnish words
    stay (wherever it moves), or when it is reworded in its place; so the answers
    already given keep their meaning."""
    finnish = data.lines("fi")
    if data.kind not in CHOICE_KINDS:
        return []
    errors: dict[str, Any] = {}
    if len(finnish) < 2:
        errors["choices_fi"] = _l("Write at least two options, one per line.")
    for language in ("en", "sv"):
        lines = data.lines(language)
        if lines and len(lines) != len(finnish):
            errors[f"choices_{language}"] = _l(
                "Write as many options as in Finnish (%(count)s), in the same order.",
                count=len(finnish),
            )
    if len(finnish) > 30:
        errors["choices_fi"] = _l("Write at most 30 options.")
    for language in LANGUAGES:
        lines = [line.casefold() for line in data.lines(language)]
        if len(set(lines)) != len(lines):
            errors[f"choices_{language}"] = _l("Write each option once.")
    if errors:
        raise ValidationFailed(errors)
    english, swedish = data.lines("en"), data.lines("sv")
    by_name = {choice.get("names", {}).get("fi", ""): str(choice["key"]) for choice in existing}
    old_keys = set(by_name.values())
    kept_names = set(finnish)
    choices = []
    used: set[str] = set()
    for index, name in enumerate(finnish):
        in_place = existing[index] if index < len(existing) else None
        key: str | None = None
        if name in by_name:
            key = by_name[name]
        elif in_place is not None and in_place.get("names", {}).get("fi") not in kept_names:
            key = str(in_place["key"])  # reworded where it stood
        if key is None or key in used:
            # a new option: a key no answer has used, so old answers never change meaning
            base = slug(english[index] if english else name) or f"option-{index + 1}"
            key, number = base, 2
            while key in used or key in old_keys:
                key, number = f"{base}-{number}", number + 1
        used.add(key)
        names = {"fi": name}
        if english:
            names["en"] = english[index]
        if swedish:
            names["sv"] = swedish[index]
        choices.append({"key": key, "names": names})
    return choices


def _per_language(data: QuestionForm, field: str) -> dict[str, str]:
    return {
        language: getattr(data, f"{field}_{language}")
        for language in LANGUAGES
        if getattr(data, f"{field}_{language}")
    }


def save_question(
    session: Session,
    *,
    actor: User | None,
    category: Category,
    data: QuestionForm,
    question: CategoryQuestion | None = None,
) -> CategoryQuestion:
    """Add a question to a category, or change one; audited."""
    assert category.id is not None
    code = slug(data.code) if data.code else ""
    if question is not None:
        code = question.code  # answers are stored by code: it never changes
        if data.kind != question.kind and not (
            {data.kind, question.kind} <= CHOICE_KINDS
        ):  # answers of one kind cannot be read as another
            raise ValidationFailed(
                {
                    "kind": _l(
                        "A question's kind of answer can only change between one choice and"
                        " several choices. Stop asking this one and add a new question."
                    )
                }
            )
    elif not code:
        code = slug(data.prompt_en or data.prompt_fi) or "question"
    if question is None:
        taken = session.exec(
            select(CategoryQuestion.id).where(
                CategoryQuestion.category_id == category.id, CategoryQuestion.code == code
            )
        ).first()
        if taken is not None:
            raise ValidationFailed(
                {"code": _l("The category already has a question with this code.")}
            )
    before = question.model_dump(exclude={"id"}) if question is not None else None
    choices = _choices(data, question.choices if question is not None else [])
    question = question or CategoryQuestion(category_id=category.id, code=code)
    question.kind = data.kind
    question.prompts = _per_language(data, "prompt")
    question.hints = _per_language(data, "hint")
    question.choices = choices
    question.required = data.required
    question.position = data.position
    session.add(question)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="category_question.saved" if before else "category_question.added",
        entity="category_question",
        entity_id=question.id,
        before=before,
        after=question.model_dump(exclude={"id"}),
    )
    return question


def set_question_active(
    session: Session, *, actor: User, question: CategoryQuestion, active: bool
) -> None:
    """Retire a question (old answers stay readable) or bring it back."""
    if question.active == active:
        return
    question.active = active
    session.add(question)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="category_question.restored" if active else "category_question.retired",
        entity="category_question",
        entity_id=question.id,
        after={"code": question.code, "active": active},
    )


def question_form(question: CategoryQuestion) -> dict[str, str]:
    """A question as its edit form shows it."""
    form = {
        "code": question.code,
        "kind": question.kind.value,
        "required": "1" if question.required else "",
        "position": str(question.position),
    }
    for language in LANGUAGES:
        form[f"prompt_{language}"] = question.prompts.get(language, "")
        form[f"hint_{language}"] = question.hints.get(language, "")
        form[f"choices_{language}"] = "\n".join(
            choice.get("names", {}).get(language, "") for choice in question.choices
        ).strip()
    return form
