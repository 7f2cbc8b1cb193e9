"""Machine interfaces, each a blueprint with its own authentication and errors."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from facilities.api import docs, ocpi, open311

    ocpi.init_app(app)
    open311.init_app(app)
    app.register_blueprint(docs.blueprint)
