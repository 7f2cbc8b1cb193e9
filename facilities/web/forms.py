"""Reading form input through the Create/Update models, with messages the user can read."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar, get_origin

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from facilities.core.errors import ValidationFailed
from facilities.web.i18n import AmbiguousLocalTime, NonexistentLocalTime, local_to_utc

Model = TypeVar("Model", bound=BaseModel)

# pydantic's error types, in words for people. Anything unlisted gets the generic one.
_MESSAGES = {
    "missing": _l("This field is required."),
    "string_too_short": _l("Enter at least %(min_length)s characters."),
    "string_too_long": _l("Enter at most %(max_length)s characters."),
    "int_parsing": _l("Choose one of the options."),
    "int_type": _l("Choose one of the options."),
    "enum": _l("Choose one of the options."),
    "datetime_from_date_parsing": _l("Enter a date and time."),
    "datetime_parsing": _l("Enter a date and time."),
    "datetime_type": _l("Enter a date and time."),
    "date_parsing": _l("Enter a date."),
    "date_from_datetime_parsing": _l("Enter a date."),
    "date_type": _l("Enter a date."),
    "whole_number": _l("Enter a whole number, such as 3."),
    "hours": _l("Enter hours as a number above zero, such as 4 or 1,5; or leave it empty."),
    "less_than_equal": _l("Enter a smaller number."),
    "text_direction_controls": _l(
        "Remove the invisible characters that change the direction of the text."
    ),
    "unreadable_characters": _l(
        "Some characters could not be read (shown as �). Check the text and correct them."
    ),
}
_GENERIC = _l("Check this value.")


def messages_for(error: ValidationError) -> dict[str, str]:
    """The first readable message for each field in a pydantic error."""
    messages: dict[str, str] = {}
    for detail in error.errors():
        field = str(detail["loc"][0]) if detail["loc"] else "__all__"
        if field in messages:
            continue
        template = _MESSAGES.get(detail["type"], _GENERIC)
        context = detail.get("ctx") or {}
        if detail["type"] == "string_too_short" and not detail.get("input"):
            template = _MESSAGES["missing"]  # empty: say it is required, not "too short"
        messages[field] = str(template) % context if context else str(template)
    return messages


def parse_form(
    model: type[Model], form: MultiDict[str, str]
) -> tuple[Model | None, dict[str, str]]:
    """(instance, {}) when the form is valid, else (None, messages per field).
    A list field (checkboxes) takes every value sent under its name."""
    data = {
        key: form.getlist(key) if get_origin(field.annotation) is list else form.get(key)
        for key, field in model.model_fields.items()
        if key in form
    }
    try:
        return model.model_validate(data), {}
    except ValidationError as error:
        return None, messages_for(error)


def utc_from_park_time(value: datetime, field: str) -> datetime:
    """A time typed in park time (a datetime-local field) as UTC; converted here, once.
    Raises ValidationFailed for `field` on a time that the clocks skip or repeat."""
    try:
        return local_to_utc(value)
    except NonexistentLocalTime:
        message = _l(
            "That time does not exist: the clocks go forward an hour that night. "
            "Choose another time."
        )
    except AmbiguousLocalTime:
        message = _l(
            "That time occurs twice: the clocks go back an hour that night. "
            "Choose a time outside that hour."
        )
    except (OverflowError, ValueError):  # year 1 and the like
        message = _l("Enter a date and time.")
    raise ValidationFailed({field: str(message)})
