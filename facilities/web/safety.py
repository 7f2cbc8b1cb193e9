"""Small guards shared by views."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, request
from werkzeug.exceptions import HTTPException


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def refuse_nul_bytes() -> None:
    """before_request: no one types a NUL byte, and PostgreSQL cannot store or search one.

    Every value counts: the path (`/requests/%00`), each value of a repeated query or
    form field, and the field names.
    """
    values = [request.path]
    for multidict in (request.args, request.form):
        for key, items in multidict.lists():
            values.append(key)
            values.extend(items)
    if any("\x00" in value for value in values):
        abort(400)


def page_to_return_to(*candidates: str | None) -> str | None:
    """The first candidate that is a page of this site one can GET, as a local path.

    Candidates may be absolute URLs (a Referer) on this host, or local paths. Addresses
    that only take POST (a form's action, shown again with its errors) are skipped.
    """
    for candidate in candidates:
        if not candidate:
            continue
        parts = urlsplit(candidate)
        if parts.netloc and parts.netloc != request.host:
            continue
        path = safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
        if path is None:
            continue
        try:
            current_app.url_map.bind(request.host).match(parts.path, method="GET")
        except HTTPException:  # not found, or not for GET
            continue
        return path
    return None
