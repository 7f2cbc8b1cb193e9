"""What templates may call: filters for names, times, targets and Markdown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Flask, current_app, g, request, url_for
from flask_babel import format_date, format_datetime, get_locale, get_translations
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from facilities import policy
from facilities.core.markdown import render_markdown
from facilities.core.outbox import absolute_url
from facilities.core.pagination import page_number
from facilities.park.models import Visibility
from facilities.park.queries import localized
from facilities.requests.attachments import MAX_FILES
from facilities.requests.models import Priority, RequestSource, UpdateKind
from facilities.requests.targets import quarter_of
from facilities.requests.workflow import allowed_targets
from facilities.web.caching import csrf_token as shared_page_csrf_token
from facilities.web.i18n import LANGUAGE_NAMES

PRIORITY_LABELS = {
    Priority.low: _l("Low"),
    Priority.normal: _l("Normal"),
    Priority.high: _l("High"),
    Priority.urgent: _l("Urgent"),
}
# Where a request came from, as staff and the company read it.
SOURCE_LABELS = {
    RequestSource.web: _l("Sent by the company"),
    RequestSource.interview: _l("Interview"),
    RequestSource.survey: _l("Survey"),
    RequestSource.workshop: _l("Workshop"),
    RequestSource.email: _l("E-mail"),
    RequestSource.phone: _l("Phone"),
    RequestSource.walk_round: _l("Walk-round"),
    RequestSource.charger: _l("Charger report"),
    RequestSource.api: _l("Open API"),
}
VISIBILITY_LABELS = {Visibility.public: _l("Public"), Visibility.private: _l("Private")}
UPDATE_KIND_LABELS = {
    UpdateKind.public_update: _l("Update"),
    UpdateKind.internal_note: _l("Internal note"),
    UpdateKind.comment: _l("Comment"),
    UpdateKind.status_change: _l("Status changed"),
    UpdateKind.system: _l("System"),
}
# The triage card's fixed texts: the queue shows twenty cards, so they are translated
# once per language rather than twenty times per page.
TRIAGE_TEXT = {
    "summary": _l("Change status, post an update"),
    "status": _l("Status"),
    "priority": _l("Priority"),
    "visibility": _l("Visibility"),
    "publish_history": _l("Make its earlier updates public too"),
    "target": _l("Public target"),
    "no_target": _l("No target"),
    "public_update": _l("Public update"),
    "public_hint": _l(
        "Shown on the public request page. Required when declining: give the reason."
    ),
    "private_hint": _l(
        "This request is private: the update is shown to the sender's company only. "
        "Required when declining: give the reason."
    ),
    "publish_at": _l("Publish the update later (optional)"),
    "publish_at_hint": _l("Finnish time. Leave empty to publish at once."),
    "duplicate_of": _l("Duplicate of (reference)"),
    "duplicate_of_hint": _l("With the status Duplicate, for example DP-2026-0001."),
    "internal_note": _l("Internal note (staff only)"),
    "save": _l("Save"),
    "assignee": _l("Assignee"),
    "select": _l("Tick for a change to many:"),
    "nobody": _l("Nobody"),
    "assigned_to": _l("Assigned to"),
    "unassigned": _l("Not assigned"),
    "overdue": _l("Overdue"),
    "answer_by": _l("First answer due"),
    "resolve_by": _l("Resolution due"),
    "clock_paused": _l("Deadline clock paused while waiting"),
}


def _translations() -> Any:
    """This request's catalog, looked up once per locale rather than for every string.

    Flask-Babel finds the catalog anew for each `_()` in a template, which made the
    work queue's translations cost as much as the rest of the page. `force_locale`
    (e-mails in the reader's language) swaps the locale object, so the identity check
    sees the switch.
    """
    try:
        context = g._flask_babel
        cached_locale, catalog = context.fast_translations
        if cached_locale is context.babel_locale:
            return catalog
    except AttributeError:
        pass
    catalog = get_translations()
    context = g._flask_babel  # made by get_translations()
    context.fast_translations = (getattr(context, "babel_locale", None), catalog)
    return catalog


_LABELS_BY_LOCALE: dict[str, dict[str, dict[Any, str]]] = {}  # catalogs never change


def _labels() -> dict[str, dict[Any, str]]:
    """The fixed label tables in the current language, translated once per process."""
    locale = str(get_locale())
    labels = _LABELS_BY_LOCALE.get(locale)
    if labels is None:
        labels = _LABELS_BY_LOCALE[locale] = {
            "priority_labels": {key: str(label) for key, label in PRIORITY_LABELS.items()},
            "visibility_labels": {key: str(label) for key, label in VISIBILITY_LABELS.items()},
            "update_kind_labels": {key: str(label) for key, label in UPDATE_KIND_LABELS.items()},
            "source_labels": {key: str(label) for key, label in SOURCE_LABELS.items()},
            "triage_text": {key: str(text) for key, text in TRIAGE_TEXT.items()},
        }
    return labels


def current_language() -> str:
    """'fi', 'sv' or 'en': the language part of the current locale."""
    locale = get_locale()
    return locale.language if locale else "fi"


def name_in_locale(names: dict[str, str] | None) -> str:
    return localized(names or {}, current_language())


def target_label(start: date | None, end: date | None) -> str:
    """'Q2/2027' for a quarter, else 'd.m.yyyy – d.m.yyyy', else ''."""
    quarter = quarter_of(start, end)
    if quarter:
        year, number = quarter.split("-Q")
        return str(_l("Q%(quarter)s/%(year)s", quarter=number, year=year))
    if start and end:
        return f"{format_date(start, 'short')} – {format_date(end, 'short')}"
    return ""


QUERY_ATTRIBUTE = "query_arguments"
View = TypeVar("View", bound=Callable)


def keeps_query(*names: str) -> Callable[[View], View]:
    """Declare the query arguments a view understands; links it builds keep only these."""

    def mark(view: View) -> View:
        setattr(view, QUERY_ATTRIBUTE, frozenset(names))
        return view

    return mark


def canonical_path() -> str:
    """This address as the view reads it: the path, and only the query arguments it
    declares with `keeps_query`, page numbers as numbers. Kept pages are stored under
    it, so `?x=1` or `?page=01` neither make new entries nor echo into a page."""
    view = current_app.view_functions.get(request.endpoint or "")
    known: frozenset[str] = getattr(view, QUERY_ATTRIBUTE, frozenset())
    args = []
    for name in sorted(known):
        value = request.args.get(name)
        if value is None:
            continue
        if name == "page" or name.endswith("_page"):
            value = str(page_number(value))
        args.append((name, value))
    return request.path + (f"?{urlencode(args)}" if args else "")


def url_with(**changes: Any) -> str:
    """The current URL with some query arguments changed (for pagination and filters).

    Only the arguments the view declares with `keeps_query` are carried over: anything
    else in the address (`?endpoint=x`, `?_external=1`) would reach url_for as an option.
    """
    endpoint = request.endpoint or "public.roadmap_page"  # None only on a 404 page
    view = current_app.view_functions[endpoint]
    known: frozenset[str] = getattr(view, QUERY_ATTRIBUTE, frozenset())
    args: dict[str, Any] = {key: value for key, value in request.args.items() if key in known}
    args.update({key: value for key, value in changes.items() if value is not None})
    return url_for(endpoint, **(request.view_args or {}), **args)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        markdown=render_markdown,
        localized=name_in_locale,
        datetime=lambda value, fmt="medium": format_datetime(value, fmt) if value else "",
        date=lambda value, fmt="short": format_date(value, fmt) if value else "",
    )
    app.jinja_env.globals.update(
        target_label=target_label,
        url_with=url_with,
        canonical_path=canonical_path,
        absolute_url=absolute_url,  # link previews (Open Graph) need whole addresses
        language_names=LANGUAGE_NAMES,
        current_locale=current_language,
        csrf_token=shared_page_csrf_token,  # Flask-WTF's, but shared pages get a placeholder
        allowed_targets=allowed_targets,
        may_view=lambda item: policy.may_view(
            current_user if current_user.is_authenticated else None, item
        ),
        quarter_key=lambda item: quarter_of(item.target_start, item.target_end),
        max_files=MAX_FILES,
        max_mb=app.extensions["facilities.settings"].upload_max_bytes // (1024 * 1024),
    )
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # the i18n extension's
        gettext=lambda string: _translations().ugettext(string),
        ngettext=lambda singular, plural, n: _translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: _translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: _translations().unpgettext(
            context, singular, plural, n
        ),
        newstyle=True,
    )
    park_name = app.extensions["facilities.settings"].park_name
    app.context_processor(lambda: {"park_name": park_name, **_labels()})
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
