"""Domain operations: keyword-only functions that take a session, flush, and never commit."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of the errors a view turns into a message for the user."""


class ValidationFailed(ServiceError):
    """Input that passed the model but not the domain rules; messages per form field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class VersionConflict(ServiceError):
    """Someone else saved the item after this form was loaded."""
