"""Atom feeds of public updates and iCal calendars of scheduled works, for anyone.

A feed is built once per generation (core.cache: any change to what it shows starts a
new one), language and address, and answered with an ETag and Last-Modified so that
a reader that has it gets a 304. Only public requests ever enter one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from babel.dates import format_interval
from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, abort, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event
from markupsafe import Markup
from sqlmodel import select
from werkzeug.wrappers import Response as BaseResponse

from facilities.core.db import get_session
from facilities.core.markdown import render_markdown
from facilities.park.models import Building, Category, Visibility
from facilities.park.queries import localized
from facilities.requests import queries as request_service
from facilities.requests.feeds import public_entries
from facilities.requests.models import RequestUpdate, ScheduledWork, ServiceRequest, UpdateKind
from facilities.requests.works import public_works
from facilities.settings import REGIONAL_LOCALES, SUPPORTED_LOCALES, get_settings
from facilities.web.access import public
from facilities.web.caching import kept_in_generation
from facilities.web.templating import current_language

blueprint = Blueprint("feeds", __name__)


@blueprint.app_template_global("feed_language")
def feed_language() -> str | None:
    """The reader's language for a feed's ?lang=, or None for the park's default."""
    language = current_language()
    return None if language == get_settings().default_locale else language


@blueprint.app_template_filter("work_dates")
def work_dates(work: ScheduledWork) -> str:
    """A work's days as people write them: '12.–14.4.2027' in Finnish."""
    language = current_language()
    skeleton = "yMMMd" if language == "en" else "yMd"
    return format_interval(work.starts_on, work.ends_on, skeleton, locale=str(get_locale()))


ATOM_TYPE = "application/atom+xml; charset=utf-8"
CALENDAR_TYPE = "text/calendar; charset=utf-8"
# What an empty feed says it was last changed: a fixed moment keeps its ETag stable.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
TAG_YEAR = 2026  # the date in entries' tag: URIs; never change it, or every id changes


@dataclass(frozen=True)
class Rendered:
    body: bytes
    last_modified: datetime
    content_type: str


def _language() -> str:
    """?lang=en|sv|fi, else the park's default language."""
    chosen = request.args.get("lang", "")
    return chosen if chosen in SUPPORTED_LOCALES else get_settings().default_locale


def _absolute(path: str) -> str:
    return get_settings().base_url.rstrip("/") + path


def _host() -> str:
    return urlsplit(get_settings().base_url).hostname or "localhost"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _answer(build) -> BaseResponse:
    """The rendered feed (kept for this generation), or 304 when the reader has it."""
    language = _language()
    rendered: Rendered = kept_in_generation(
        "feeds", f"{request.path}|{language}", lambda: build(language)
    )
    response = Response(rendered.body, content_type=rendered.content_type)
    response.set_etag(hashlib.sha256(rendered.body).hexdigest()[:32])
    response.last_modified = rendered.last_modified
    response.headers["Cache-Control"] = "public, no-cache"  # ask again; 304 if unchanged
    return response.make_conditional(request)


def _self_url(language: str) -> str:
    query = f"?lang={language}" if request.args.get("lang") == language else ""
    return _absolute(request.path + query)


def _request_url(service_request: ServiceRequest) -> str:
    return _absolute(url_for("public.request_page", reference=service_request.reference))


def _entry_title(entry: RequestUpdate, language: str) -> str:
    service_request = entry.request
    names = dict(reference=service_request.reference, title=service_request.title)
    if entry.kind == UpdateKind.status_change and entry.to_status is not None:
        after = localized(entry.to_status.names, language)
        if entry.from_status is not None:
            before = localized(entry.from_status.names, language)
            return _(
                "%(reference)s · %(title)s — %(before)s → %(after)s",
                before=before,
                after=after,
                **names,
            )
        return _("%(reference)s · %(title)s — %(after)s", after=after, **names)
    return _("%(reference)s · %(title)s — update", **names)


def _entry_content(entry: RequestUpdate, language: str) -> str:
    parts = []
    if entry.kind == UpdateKind.status_change and entry.to_status is not None:
        status = localized(entry.to_status.names, language)
        parts.append(Markup("<p>%s</p>") % _("Status: %(status)s", status=status))
    parts.append(render_markdown(entry.body))
    return str(Markup("").join(parts))


def _atom(
    language: str, *, title: str, alternate: str, entries: list[RequestUpdate], since: datetime
) -> Rendered:
    park = get_settings().park_name
    feed = FeedGenerator()
    feed.id(_self_url(language))
    feed.title(title)
    feed.author({"name": park})
    feed.link(href=_absolute(alternate), rel="alternate", type="text/html")
    feed.link(href=_self_url(language), rel="self", type="application/atom+xml")
    feed.language(language)
    newest = _aware(entries[0].published_at) if entries and entries[0].published_at else since
    feed.updated(newest)
    for entry in entries:
        assert entry.published_at is not None  # the query takes published entries only
        published = _aware(entry.published_at)
        item = feed.add_entry(order="append")  # the query's order: newest first
        item.id(f"tag:{_host()},{TAG_YEAR}:update-{entry.id}")
        item.title(_entry_title(entry, language))
        item.link(href=_request_url(entry.request), rel="alternate", type="text/html")
        item.author({"name": park})
        item.published(published)
        item.updated(published)
        item.content(_entry_content(entry, language), type="html")
    return Rendered(feed.atom_str(pretty=True), newest, ATOM_TYPE)


def _in_language(build):
    """Build in the feed's language: its words (status names, titles) are translated."""

    def run(language: str) -> Rendered:
        with force_locale(REGIONAL_LOCALES[language]):
            return build(language)

    return run


def _category(slug: str) -> Category:
    category = get_session().exec(select(Category).where(Category.slug == slug)).first()
    if category is None:
        abort(404)
    return category


def _building(code: str) -> Building:
    building = get_session().exec(select(Building).where(Building.code == code.upper())).first()
    if building is None:
        abort(404)
    return building


def _public_request(reference: str) -> ServiceRequest:
    """Only a public request has a feed: a private one's is a 404, as its page is."""
    service_request = request_service.by_reference(get_session(), reference)
    if service_request is None or service_request.visibility != Visibility.public:
        abort(404)
    return service_request


@blueprint.get("/feeds/updates.atom")
@public
def updates_feed():
    @_in_language
    def build(language: str) -> Rendered:
        return _atom(
            language,
            title=_("%(park)s: updates", park=get_settings().park_name),
            alternate=url_for("public.roadmap_page"),
            entries=public_entries(get_session()),
            since=EPOCH,
        )

    return _answer(build)


@blueprint.get("/feeds/categories/<slug>.atom")
@public
def category_feed(slug: str):
    @_in_language
    def build(language: str) -> Rendered:
        category = _category(slug)
        return _atom(
            language,
            title=_(
                "%(park)s: %(category)s",
                park=get_settings().park_name,
                category=localized(category.names, language),
            ),
            alternate=url_for("public.roadmap_page", category=category.slug),
            entries=public_entries(get_session(), category_id=category.id),
            since=EPOCH,
        )

    return _answer(build)


@blueprint.get("/feeds/buildings/<code>.atom")
@public
def building_feed(code: str):
    @_in_language
    def build(language: str) -> Rendered:
        building = _building(code)
        return _atom(
            language,
            title=_(
                "%(park)s: %(building)s", park=get_settings().park_name, building=building.name
            ),
            alternate=url_for("charging.building_page", code=building.code),
            entries=public_entries(get_session(), building_id=building.id),
            since=EPOCH,
        )

    return _answer(build)


@blueprint.get("/requests/<reference>/updates.atom")
@public
def request_feed(reference: str):
    @_in_language
    def build(language: str) -> Rendered:
        service_request = _public_request(reference)
        return _atom(
            language,
            title=f"{service_request.reference} {service_request.title}",
            alternate=url_for("public.request_page", reference=service_request.reference),
            entries=public_entries(get_session(), request_id=service_request.id),
            since=_aware(service_request.created_at),
        )

    return _answer(build)


# --- the works calendar --------------------------------------------------------------


def _location(work: ScheduledWork) -> str:
    building = work.request.building
    place = (
        ", ".join(part for part in (building.name, building.address) if part) if building else ""
    )
    return " · ".join(part for part in (place, work.location_note) if part)


def _calendar(language: str, *, name: str, works: list[ScheduledWork]) -> Rendered:
    settings = get_settings()
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.park_name}//facilities//{language.upper()}")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.timezone)
    for work in works:
        url = _request_url(work.request)
        event = Event()
        event.add("uid", f"work-{work.id}@{_host()}")
        event.add("dtstamp", _aware(work.updated_at))
        event.add("created", _aware(work.created_at))
        event.add("last-modified", _aware(work.updated_at))
        event.add("summary", localized(work.names, language))
        event.add("dtstart", work.starts_on)  # all day: VALUE=DATE
        event.add("dtend", work.ends_on + timedelta(days=1))  # DTEND is exclusive
        event.add("description", f"{work.request.reference} {work.request.title}\n{url}")
        location = _location(work)
        if location:
            event.add("location", location)
        event.add("url", url)
        event.add("transp", "TRANSPARENT")  # a notice, not busy time
        calendar.add_component(event)
    changed = max((_aware(work.updated_at) for work in works), default=EPOCH)
    return Rendered(calendar.to_ical(), changed, CALENDAR_TYPE)


@blueprint.get("/feeds/works.ics")
@public
def works_calendar():
    @_in_language
    def build(language: str) -> Rendered:
        name = _("%(park)s: scheduled works", park=get_settings().park_name)
        return _calendar(language, name=name, works=public_works(get_session()))

    return _answer(build)


@blueprint.get("/feeds/buildings/<code>/works.ics")
@public
def building_works_calendar(code: str):
    @_in_language
    def build(language: str) -> Rendered:
        building = _building(code)
        name = _(
            "%(park)s: scheduled works in %(building)s",
            park=get_settings().park_name,
            building=building.name,
        )
        works = public_works(get_session(), building_id=building.id)
        return _calendar(language, name=name, works=works)

    return _answer(build)
