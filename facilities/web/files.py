"""Serving files people sent, the one way: from storage, under our headers."""

from __future__ import annotations

import io

from flask import Response, abort, send_file

from facilities.core.storage import get_storage
from facilities.web.headers import FILE_HEADERS


def stored_file(key: str, *, content_type: str, filename: str, download: bool) -> Response:
    """The file under `key` (404 when storage has none): shown inline, or only offered
    as a download; never run, never sniffed, kept only by the browser that asked."""
    data = get_storage().load(key)
    if data is None:
        abort(404)
    response = send_file(
        io.BytesIO(data),
        mimetype=content_type,
        as_attachment=download,
        download_name=filename,
        max_age=0,
    )
    response.headers.update(FILE_HEADERS)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
