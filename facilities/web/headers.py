"""Security headers on every response, and no caching of pages with private data."""

from __future__ import annotations

from flask import Flask, Response, g, request

from facilities.settings import get_settings

# Scripts and styles come from our own static folder only: no inline script, no eval.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers without CSP 2
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000"
# Files people sent: whatever one holds, the browser must not run it (a sandbox with
# nothing allowed), guess another type for it, or let another site embed it.
FILE_HEADERS = {
    **HEADERS,
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
}


HEADER_LIST = list(HEADERS.items())


def add_security_headers(response: Response) -> Response:
    if "Content-Security-Policy" not in response.headers:  # one check, not one per header
        response.headers.extend(HEADER_LIST)
    if get_settings().base_url.startswith("https://"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static" and "Cookie" not in response.vary:
        # The same address shows more to a signed-in user; the language is in the cookie,
        # or on a first visit in the browser's Accept-Language.
        response.vary.add("Cookie")
        response.vary.add("Accept-Language")
        user = g.get("_login_user")  # only if this request loaded one: never a query here
        if user is not None and user.is_authenticated and not response.cache_control.private:
            # (a file a view already marked private may stay in this browser a while)
            response.headers["Cache-Control"] = "private, no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
