"""Public pages as anonymous visitors see them, rendered once per language and kept.

Only visitors who are not signed in get a shared page: they may see public requests
only, so a private request never enters an entry. The page is stored with a
placeholder where each visitor's CSRF token goes, and every answer carries an ETag so
a browser that has the page gets a 304.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import Response, current_app, g, make_response, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from werkzeug.http import http_date, parse_date

from facilities.core.cache import CachedPage, generation, page_cache
from facilities.core.models import utcnow
from facilities.extensions import htmx
from facilities.settings import get_settings
from facilities.web.headers import HEADER_LIST
from facilities.web.i18n import select_locale, utc_to_local, visitor_locale
from facilities.web.sessions import REMEMBER_COOKIE

T = TypeVar("T")

KEPT_HEADERS = ("Content-Type", "Vary")


def csrf_token() -> str:
    """`csrf_token()` in templates: while a kept page is rendered, a placeholder where
    each reader's own token goes. The placeholder is random per rendering, so text a
    user wrote into the page can never name it and collect other readers' tokens."""
    placeholder = g.get("csrf_placeholder")
    return placeholder if placeholder else generate_csrf()


@contextmanager
def _rendering_kept() -> Iterator[str]:
    """Render inside this block for the cache; yields the rendering's placeholder."""
    before = g.get("csrf_placeholder")
    placeholder = g.csrf_placeholder = f"csrf-{secrets.token_hex(16)}"
    try:
        yield placeholder
    finally:
        g.csrf_placeholder = before


def _with_tokens(body: str, placeholder: str) -> str:
    """The kept body with this reader's token (or, inside another kept rendering, that
    rendering's placeholder) where the placeholder stands."""
    return body.replace(placeholder, csrf_token()) if placeholder else body


SHARED_ATTRIBUTE = "shares_page"


def shared_page(view: Callable[..., Any]) -> Callable[..., Response]:
    """Serve anonymous visitors a page cached per language and htmx variant, with an
    ETag answered by 304 when the browser has the page; signed-in users a fresh one
    (it carries their CSRF token, and they are told not to store it).

    A page found in the cache is served by `serve_from_cache`, before any other hook;
    this wrapper renders and stores it when it is not there.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        if not _shareable():
            return make_response(view(*args, **kwargs))
        key = g.get("shared_page_key") or _key(current_generation())
        page = page_cache().get(key) or _render_and_keep(key, view, args, kwargs)
        return page if isinstance(page, Response) else _serve(page)

    setattr(wrapper, SHARED_ATTRIBUTE, True)
    return wrapper


def kept_for_user(view: Callable[..., Any]) -> Callable[..., Response]:
    """A signed-in user's page, kept for that user until anything it shows changes.

    Runs inside the view's access check. The key holds who the user is as the page
    shows them (id, name, role, company), the language, the address and the day;
    forms get a fresh token from the user's session each time.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        if not (
            request.method in ("GET", "HEAD")
            and "_flashes" not in session
            and current_user.is_authenticated
        ):
            return make_response(view(*args, **kwargs))
        user = current_user
        key = "|".join(
            (
                "user-page",
                _key(current_generation()),
                str(user.id),
                str(user.role),
                user.name,
                str(user.tenant_id),
                utc_to_local(utcnow()).date().isoformat(),
            )
        )
        page = page_cache().get(key) or _render_and_keep(key, view, args, kwargs)
        if isinstance(page, Response):
            return page
        response = Response(_with_tokens(page.body, page.placeholder), page.status)
        for name, value in page.headers:
            response.headers[name] = value
        return response

    return wrapper


def _render_and_keep(
    key: str, view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> CachedPage | Response:
    """Render the view for the cache and keep it under `key`; an answer that is not 200
    is handed back as it is (with this reader's token), not kept."""
    with _rendering_kept() as placeholder:
        response = make_response(view(*args, **kwargs))
    if response.status_code != 200:
        response.set_data(_with_tokens(response.get_data(as_text=True), placeholder))
        return response
    page = _as_cached(response, placeholder)
    page_cache().set(key, page)
    return page


def serve_from_cache() -> Response | None:
    """Before every other hook: a cached shared page costs no more than this.

    Only views marked @shared_page, which `access.check_declared` requires to be
    @public, are served here, so skipping the later hooks skips no access check.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or not getattr(view, SHARED_ATTRIBUTE, False) or not _shareable():
        return None
    key = _key(current_generation())
    page = page_cache().get(key)
    if page is None:
        g.shared_page_key = key  # the view renders it under the generation read here
        return None
    return _serve(page)


def current_generation() -> int:
    """The generation, read once per GET (a POST may change it while it runs)."""
    if request.method not in ("GET", "HEAD"):
        return generation()
    value = g.get("cache_generation")
    if value is None:
        value = g.cache_generation = generation()
    return value


def cached_fragment(name: str, parts: tuple[Any, ...], render: Callable[[], str]) -> Markup:
    """A part of a page kept until anything it may show changes, as shared pages are.

    `parts` must name everything the fragment depends on besides the data and the
    language: the caller decides who may share it (the staff queue for all staff,
    a company's list for its members). Forms in it get this user's CSRF token.
    """
    key = "|".join(
        (
            "fragment",
            _namespace(),
            str(current_generation()),
            select_locale(),
            name,
            *(str(part) for part in parts),
        )
    )
    cache = page_cache()
    page = cache.get(key)
    if page is None:
        with _rendering_kept() as placeholder:
            body = render()
        page = CachedPage(status=200, body=body, headers=[], etag="", placeholder=placeholder)
        cache.set(key, page)
    return Markup(_with_tokens(page.body, page.placeholder))


def per_generation(name: str, load: Callable[[], T]) -> T:
    """Small reference data (statuses, categories, buildings), loaded again only when
    the generation changes. Keep in it only what every user may see."""
    return kept_in_generation(name, "", load)


def kept_in_generation(name: str, key: str, load: Callable[[], T]) -> T:
    """`load()`'s value for `key`, kept in this process until the generation changes."""
    kept: dict[str, tuple[int, dict[str, Any]]] = current_app.extensions.setdefault(
        "facilities.kept_in_generation", {}
    )
    current = current_generation()
    found = kept.get(name)
    if found is None or found[0] != current:
        found = kept[name] = (current, {})
    values = found[1]
    if key in values:
        return values[key]
    value = load()
    if len(values) >= 10_000:  # bounded whatever callers ask for
        values.clear()
    values[key] = value
    return value  # not values[key]: another thread may have cleared it meanwhile


def _shareable() -> bool:
    return (
        request.method in ("GET", "HEAD")
        and "_flashes" not in session  # a message for this visitor only
        and not _signed_in()
    )


def _signed_in() -> bool:
    """Whether a user is signed in, without loading one when the request cannot carry one."""
    if "_user_id" not in session and REMEMBER_COOKIE not in request.cookies:
        return False  # neither a session nor a remembered device: Flask-Login's two ways in
    return bool(current_user.is_authenticated)


def _key(current: int) -> str:
    variant = (
        "fragment" if htmx and not htmx.boosted and not htmx.history_restore_request else "page"
    )
    # Who asks was settled before (a visitor, or a loaded user): no second user lookup.
    locale = select_locale() if g.get("_login_user") is not None else visitor_locale()
    from facilities.web.templating import canonical_path  # templating imports this module

    return "|".join(("page", _namespace(), str(current), locale, variant, canonical_path()))


def _namespace() -> str:
    """Apps on different databases may share one Redis: their generations are unrelated."""
    namespace = current_app.extensions.get("facilities.cache_namespace")
    if namespace is None:
        namespace = _make_namespace()
        current_app.extensions["facilities.cache_namespace"] = namespace
    return namespace


def _make_namespace() -> str:
    """The database, and what renders pages (templates, catalogs, code): a release that
    changes any of them never serves pages a Redis kept from the one before."""
    digest = hashlib.sha256()
    digest.update((get_settings().database_url or current_app.instance_path).encode())
    package = Path(__file__).resolve().parents[1]
    sources = [
        *sorted(Path(current_app.template_folder or "templates").rglob("*")),
        *sorted(package.rglob("*.py")),
        *sorted(package.rglob("*.mo")),
    ]
    for path in sources:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _as_cached(response: Response, placeholder: str) -> CachedPage:
    body = response.get_data(as_text=True)
    return CachedPage(
        placeholder=placeholder if placeholder in body else "",
        status=response.status_code,
        body=body,
        headers=[
            *((name, response.headers[name]) for name in KEPT_HEADERS if name in response.headers),
            # when this rendering was made: If-Modified-Since gets a 304 until the next one
            ("Last-Modified", http_date(utcnow())),
        ],
        etag=hashlib.sha256(body.encode()).hexdigest()[:20],
    )


def _serve(page: CachedPage) -> Response:
    etag, body = page.etag, page.body
    if page.placeholder:  # a form on the page: this visitor's token goes in
        body = _with_tokens(body, page.placeholder)
        raw = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), "")
        etag = f"{etag}-{hashlib.sha256(str(raw).encode()).hexdigest()[:8]}"
    # All headers in one list: a cached page is served often, and setting them one by
    # one (the security headers' hook included, which then finds them) costs more.
    headers = [
        ("ETag", f'W/"{etag}"'),
        ("Vary", "HX-Request, Cookie, Accept-Language"),
        ("Cache-Control", "private, no-cache"),  # ask again; 304 if unchanged
        *HEADER_LIST,
    ]
    modified = next((value for name, value in page.headers if name == "Last-Modified"), "")
    if modified:
        headers.append(("Last-Modified", modified))
    if request.if_none_match.contains_weak(etag) or _not_modified_since(modified):
        return Response(status=304, headers=headers)
    content_type = [(name, value) for name, value in page.headers if name == "Content-Type"]
    return Response(body, status=page.status, headers=content_type + headers)


def _not_modified_since(modified: str) -> bool:
    """If-Modified-Since at or after the rendering; only without If-None-Match, which
    decides when both are sent (RFC 9110 13.1.3): a tag tells pages of one second apart."""
    since, made = request.if_modified_since, parse_date(modified)
    return not request.if_none_match and since is not None and made is not None and made <= since
