"""Flask's signed-cookie sessions, with the signing serializer made once, not per request."""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

REMEMBER_COOKIE = "facilities_remember"


class SessionInterface(SecureCookieSessionInterface):
    """Flask builds a new serializer (and its key derivation) for every request; the
    secret does not change while the app runs, so one per app serves."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        kept = app.extensions.get("facilities.session_serializer")
        if kept is not None and kept[0] == app.secret_key:
            return kept[1]
        serializer = super().get_signing_serializer(app)
        app.extensions["facilities.session_serializer"] = (app.secret_key, serializer)
        return serializer
