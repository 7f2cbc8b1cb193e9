"""Small guards shared by views."""

from __future__ import annotations

import re
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

from flask import Request, abort, current_app, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.routing import IntegerConverter, Map

from facilities.requests.models import MAX_ID


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


# Where photos and files are sent, and how many at most; every other body stays small, so
# that nobody can make a worker read and parse tens of megabytes before it is refused.
BODY_LIMIT = 2 * 1024 * 1024
UPLOADS = {
    "tenant.submit": (5, True),  # files, only for someone signed in
    "public.comment": (5, True),
    "charging.report_fault": (1, False),  # a photo of a charger, from anyone
}


def allow_uploads() -> None:
    """before_request, ahead of the CSRF check that reads the form: room for the files
    in a multipart form sent to an address that takes them."""
    if request.method != "POST" or request.mimetype != "multipart/form-data":
        return
    files, signed_in_only = UPLOADS.get(request.endpoint or "", (0, False))
    if files and (current_user.is_authenticated or not signed_in_only):
        upload_max = current_app.extensions["facilities.settings"].upload_max_bytes
        request.max_content_length = files * upload_max + BODY_LIMIT // 2


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


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: ids fit a 32-bit integer, as every database's do, so a
    path with a larger number is not found instead of overflowing in the query."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class ReadableFormParser(FormDataParser):
    """Reads a form that is not valid UTF-8 with U+FFFD for what it cannot read.

    Werkzeug drops such a form whole, so the CSRF check would call the form expired
    and the text would be lost; this way the form comes back with a message instead.
    """

    def _parse_urlencoded(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: Any
    ) -> Any:
        # the form-memory limit werkzeug's own parser keeps (Flask's MAX_FORM_MEMORY_SIZE)
        limit = self.max_form_memory_size
        if limit is not None and content_length is not None and content_length > limit:
            raise RequestEntityTooLarge()
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestEntityTooLarge()
        text = raw.decode("utf-8", errors="replace")
        items = parse_qsl(text, keep_blank_values=True, errors="replace")
        return stream, self.cls(items), self.cls()


class ReadableRequest(Request):
    """A request whose query string and form never fail to decode.

    Raw non-ASCII bytes in the query string (no browser sends them, some scripts do)
    make werkzeug raise while reading `args`; percent-encoded, they read as any other
    invalid escape does.
    """

    form_data_parser_class = ReadableFormParser

    def __init__(self, environ: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(environ, *args, **kwargs)
        self.query_string = re.sub(
            rb"[\x80-\xff]", lambda byte: b"%%%02X" % byte.group()[0], self.query_string
        )
