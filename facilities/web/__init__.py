"""Blueprints, error pages, template helpers and access control, wired in one place."""

from __future__ import annotations

from flask import Flask

from facilities.web import (  # noqa: F401
    access,
    caching,
    errors,
    headers,
    i18n,
    safety,
    sessions,
    templating,
)


def init_app(app: Flask) -> None:
    from facilities.web import (
        admin,
        admin_api_keys,  # noqa: F401  # adds its routes to admin's blueprint
        admin_channels,  # noqa: F401  # adds its routes to admin's blueprint
        admin_jobs,  # noqa: F401  # adds its routes to admin's blueprint
        admin_park,  # noqa: F401  # adds its routes to admin's blueprint
        admin_responses,  # noqa: F401  # adds its routes to admin's blueprint
        auth,
        charging_public,
        charging_staff,
        dashboard,
        feeds,
        fixed,  # noqa: F401  # adds its routes to public's blueprint
        public,
        staff,
        staff_entry,  # noqa: F401  # adds its routes to staff's blueprint
        staff_responses,  # noqa: F401  # adds its routes to staff's blueprint
        staff_scheduled,  # noqa: F401  # adds its routes to staff's blueprint
        staff_views,  # noqa: F401  # adds its routes to staff's blueprint
        staff_works,  # noqa: F401  # adds its routes to staff's blueprint
        subscriptions,
        tenant,
    )

    app.request_class = safety.ReadableRequest
    app.session_interface = sessions.SessionInterface()
    app.register_blueprint(public.blueprint)
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(tenant.blueprint)
    app.register_blueprint(staff.blueprint)
    app.register_blueprint(dashboard.blueprint)
    app.register_blueprint(feeds.blueprint)
    app.register_blueprint(charging_public.blueprint)
    app.register_blueprint(charging_staff.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(subscriptions.blueprint)
    auth.init_login(app)
    errors.init_app(app)
    templating.init_app(app)
    headers.init_app(app)
    # First of all hooks (Flask-Limiter's included): a cached public page is served at once.
    app.before_request_funcs.setdefault(None, []).insert(0, caching.serve_from_cache)
    # Before the CSRF check reads any form: how large a body may be.
    app.before_request_funcs[None].insert(1, safety.allow_uploads)
    app.before_request(safety.refuse_nul_bytes)
    app.before_request(access.enforce_access)
    access.check_declared(app)
