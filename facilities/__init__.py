"""facilities: requests, work queue and public roadmap for a technology park."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from facilities.settings import PACKAGE_ROOT, PROJECT_ROOT, SETTINGS_KEY, Settings


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app. `overrides` sets Settings fields by name; UPPER_CASE keys go to Flask config."""
    from facilities import api, web
    from facilities.core import cache, db
    from facilities.extensions import babel, compress, csrf, htmx, limiter, login_manager
    from facilities.listeners import LISTENERS
    from facilities.requests import events

    overrides = overrides or {}
    settings = Settings(**{k: v for k, v in overrides.items() if not k.isupper()})

    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key or "development-only-not-secret",
        TESTING=settings.env.value == "testing",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.base_url.startswith("https://"),
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(PACKAGE_ROOT / "translations"),
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        RATELIMIT_HEADERS_ENABLED=True,
        # Redis down: count in this process's memory meanwhile rather than refuse sign-ins.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        # bodies are small; web.safety.allow_uploads raises it where files are sent
        MAX_CONTENT_LENGTH=web.safety.BODY_LIMIT,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the signed session
    )
    app.config.update({k: v for k, v in overrides.items() if k.isupper()})
    app.extensions[SETTINGS_KEY] = settings
    for warning in settings.operator_warnings():
        logging.getLogger("facilities").warning(warning)
    if settings.trusted_proxies:
        # Behind a load balancer: the client's address (rate limits) and scheme come from it.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # as Flask documents it
            app.wsgi_app, x_for=n, x_proto=n, x_host=n
        )

    database_url = settings.database_url_or_default(app.instance_path)
    development = settings.env.value == "development"
    db.init_app(app, db.make_engine(database_url, create=development))
    cache.init_app(
        app, db.get_engine(app), url=settings.cache_url, seconds=settings.page_cache_seconds
    )
    babel.init_app(
        app, locale_selector=web.i18n.select_locale, timezone_selector=lambda: settings.timezone
    )
    csrf.init_app(app)
    compress.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    app.url_map.converters["int"] = web.safety.IdConverter  # before any route is added
    events.init_app(app, LISTENERS)
    api.init_app(app)  # before web: it checks that every view declares its access
    web.init_app(app)
    return app
