"""The yardstick: a bare Flask app that serves a page of any size, run under the same gunicorn."""

from __future__ import annotations

from functools import lru_cache

from flask import Flask, Response


@lru_cache(maxsize=64)
def _page(size: int) -> bytes:
    head = b"<!doctype html><html lang='fi'><title>bare</title><body><p>"
    tail = b"</p></body></html>"
    return head + b"x" * max(0, size - len(head) - len(tail)) + tail


def create_bare_app() -> Flask:
    app = Flask(__name__)

    @app.get("/bytes/<int:size>")
    def page_of(size: int) -> Response:
        return Response(_page(min(size, 10_000_000)), mimetype="text/html")

    return app
