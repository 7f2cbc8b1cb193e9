"""Small guards shared by views."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, request


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def refuse_nul_bytes() -> None:
    """before_request: no one types a NUL byte, and PostgreSQL cannot store or search one."""
    for values in (request.args, request.form):
        if any("\x00" in value for value in values.values()):
            abort(400)
