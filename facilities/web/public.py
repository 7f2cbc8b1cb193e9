"""Pages for everyone: the roadmap, public request pages, the language switch, health."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_login import current_user

from facilities import policy
from facilities.accounts.users import set_preferred_language
from facilities.charging.demand import demand_of_request, public_request_demand
from facilities.charging.registry import charger_of_fault, chargers_of_request
from facilities.core.db import get_engine, get_session
from facilities.core.errors import ValidationFailed
from facilities.core.migrate import schema_state
from facilities.core.models import utcnow
from facilities.core.pagination import COUNT_LIMIT, page_number
from facilities.core.storage import get_storage
from facilities.extensions import limiter
from facilities.park.models import Building, Category
from facilities.park.queries import active_categories, buildings
from facilities.park.questions import answer_rows, questions_of
from facilities.requests import queries as request_service
from facilities.requests.attachments import attachments_of, check_files, uploads_from
from facilities.requests.changelog import changelog, parse_month
from facilities.requests.conversation import CommentRefused, add_comment
from facilities.requests.models import Attachment
from facilities.requests.roadmap import ROADMAP_COLUMNS, RoadmapFilter, roadmap
from facilities.requests.search import search_requests, search_words
from facilities.requests.supports import (
    SupportRefused,
    support_request,
    supports,
    withdraw_support,
)
from facilities.requests.timeline import timeline
from facilities.requests.works import works_of
from facilities.settings import SUPPORTED_LOCALES, get_settings
from facilities.web.access import person_key, public, signed_in, tenant_only, wants_json
from facilities.web.caching import per_generation, shared_page
from facilities.web.files import stored_file
from facilities.web.htmx import render, render_fragment, wants_fragment
from facilities.web.i18n import utc_to_local
from facilities.web.safety import page_to_return_to
from facilities.web.templating import keeps_query

blueprint = Blueprint("public", __name__)
SUPPORT_LIMIT = "60 per hour"  # a person clicks a few; a script clicking all is stopped


def _too_many_comments(limit: RequestLimit):
    flash(_("You have sent many messages in a short time. Try again in a while."), "error")
    reference = (request.view_args or {}).get("reference", "")
    service_request = request_service.by_reference(get_session(), reference)
    if service_request is None or not policy.may_view(current_user, service_request):
        abort(429)
    response = _request_page(service_request, comment=request.form.get("comment", ""))
    response.status_code = 429
    return response


ROADMAP_FILTERS = ("category", "building")


@dataclass(frozen=True)
class FilterChoices:
    """The roadmap's filter options: active categories and every building."""

    categories: list[Category]
    buildings: list[Building]

    def category(self, slug: str) -> Category | None:
        return next((item for item in self.categories if item.slug == slug), None)

    def building(self, code: str) -> Building | None:
        code = code.upper()
        return next((item for item in self.buildings if item.code == code), None)


def _filter_choices() -> FilterChoices:
    db = get_session()
    return FilterChoices(
        categories=per_generation("active-categories", lambda: active_categories(db)),
        buildings=per_generation("buildings", lambda: buildings(db)),
    )


@blueprint.get("/")
@public
@keeps_query(*ROADMAP_FILTERS, *(f"{column.value}_page" for column in ROADMAP_COLUMNS))
@shared_page
def roadmap_page():
    """Now / Next / Later / Done (requests.roadmap), filtered by a category and a building
    named in the address (a plain GET form; htmx swaps only the columns)."""
    db = get_session()
    choices = _filter_choices()
    category = choices.category(request.args.get("category", ""))
    building = choices.building(request.args.get("building", ""))
    pages = {
        column: page_number(request.args.get(f"{column.value}_page")) for column in ROADMAP_COLUMNS
    }
    now = utcnow()
    columns = roadmap(
        db,
        pages=pages,
        per_page=get_settings().per_page,
        today=utc_to_local(now).date(),
        now=now,
        filters=RoadmapFilter(
            category_id=category.id if category else None,
            building_id=building.id if building else None,
        ),
    )
    return render(
        "public/roadmap.html",
        "public/_roadmap.html",
        columns=columns,
        choices=choices,
        category=category,
        building=building,
        unknown=_unknown_filters(category, building),
    )


def _unknown_filters(category, building) -> list[str]:
    """A filter value in the address that names nothing: said, not a 500 nor silence."""
    unknown = []
    if request.args.get("category") and category is None:
        unknown.append(_("There is no category “%(value)s”.", value=request.args["category"][:60]))
    if request.args.get("building") and building is None:
        unknown.append(_("There is no building “%(value)s”.", value=request.args["building"][:60]))
    return unknown


@blueprint.get("/changelog")
@public
@keeps_query("month", "page")
@shared_page
def changelog_page():
    """Finished public work, one month per page (`?month=2026-11`), newest first."""
    typed = request.args.get("month", "")[:20]
    month = parse_month(typed) if typed else None
    if typed and month is None and wants_json():
        abort(404)  # machines get the usual error; people the newest month and a word
    now = utcnow()
    settings = get_settings()
    found = changelog(
        get_session(),
        month=month,
        today=utc_to_local(now).date(),
        page=page_number(request.args.get("page")),
        per_page=settings.per_page,
        timezone=settings.timezone,
    )
    return render(
        "public/changelog.html",
        "public/_changelog.html",
        status=404 if typed and month is None else 200,
        changelog=found,
        typed=typed if typed and month is None else "",
    )


PREFILL_KEYS = ("building", "category", "location", "title")


@blueprint.get("/requests/new")
@public
def new_request_link():
    """The address printed on posters and QR codes (`/requests/new?building=SENSORI&
    category=ev-charging&location=…`): the tenant's form, prefilled, after sign-in."""
    prefill = {
        key: request.args.get(key, "")[:300] for key in PREFILL_KEYS if request.args.get(key)
    }
    query = f"?{urlencode(prefill)}" if prefill else ""
    return redirect(url_for("tenant.new_request_page") + query)


@blueprint.get("/requests/<reference>")
@public
@shared_page
def request_page(reference: str):
    return _request_page(_viewable(reference))


def _viewable(reference: str):
    service_request = request_service.by_reference(get_session(), reference)
    user = current_user if current_user.is_authenticated else None
    if service_request is None or not policy.may_view(user, service_request):
        abort(404)
    return service_request


def _request_page(service_request, *, comment: str = "", errors: dict | None = None):
    db = get_session()
    user = current_user if current_user.is_authenticated else None
    reader = policy.as_reader(user, service_request)
    access = policy.for_request(user, service_request)
    return render(
        "public/request.html",
        "public/_timeline.html",
        status=422 if errors else 200,
        comment=comment,
        errors=errors or {},
        service_request=service_request,
        chargers=chargers_of_request(db, service_request),
        fault_charger=charger_of_fault(db, service_request),
        supported=supports(db, user=user, service_request=service_request),
        demand=public_request_demand(demand_of_request(db, service_request)),
        access=access,
        updates=timeline(db, service_request, kinds=reader.timeline_kinds),
        works=works_of(db, service_request),
        files=attachments_of(db, service_request, with_comments=reader.insider),
        answers=answer_rows(
            questions_of(db, service_request.category_id, include_retired=True),
            service_request.answers,
        )
        if reader.insider
        else [],
    )


def _support_answer(service_request, message: str):
    """htmx gets the support block back; a plain form goes back to the request's page."""
    db = get_session()
    if wants_fragment():
        return render_fragment(
            "public/_support.html",
            service_request=service_request,
            access=policy.for_request(current_user, service_request),
            supported=supports(db, user=current_user, service_request=service_request),
        )
    flash(message, "success")
    return redirect(url_for("public.request_page", reference=service_request.reference))


def _supportable(reference: str):
    service_request = request_service.by_reference(get_session(), reference)
    if service_request is None or not policy.may_view(current_user, service_request):
        abort(404)
    if not policy.for_request(current_user, service_request).support:
        abort(403)
    return service_request


@blueprint.post("/requests/<reference>/support")
@tenant_only
@limiter.limit(SUPPORT_LIMIT, methods=["POST"], key_func=person_key)
def support(reference: str):
    db = get_session()
    service_request = _supportable(reference)
    try:
        support_request(db, user=current_user, service_request=service_request, now=utcnow())
    except SupportRefused:
        db.rollback()
        abort(403)
    db.commit()
    return _support_answer(
        service_request,
        _(
            "You support %(reference)s. You will get an e-mail when it moves on.",
            reference=reference,
        ),
    )


@blueprint.post("/requests/<reference>/support/withdraw")
@tenant_only
@limiter.limit(SUPPORT_LIMIT, methods=["POST"], key_func=person_key)
def withdraw_support_view(reference: str):
    db = get_session()
    service_request = _supportable(reference)
    withdraw_support(db, user=current_user, service_request=service_request)
    db.commit()
    return _support_answer(
        service_request, _("Your support for %(reference)s was withdrawn.", reference=reference)
    )


SEARCH_PAGE = 20
COMMENT_LIMIT = "30 per hour"


@blueprint.post("/requests/<reference>/comments")
@signed_in
@limiter.limit(COMMENT_LIMIT, key_func=person_key, on_breach=_too_many_comments)
def comment(reference: str):
    """A message in the conversation between the request's company and staff."""
    db = get_session()
    service_request = _viewable(reference)
    if not policy.for_request(current_user, service_request).comment:
        abort(403)
    body = request.form.get("comment", "")
    max_bytes = get_settings().upload_max_bytes
    uploads = uploads_from(request.files, max_bytes=max_bytes)
    from_staff_page = request.form.get("back") == "staff" and current_user.is_staff
    try:
        add_comment(
            db,
            author=current_user,
            service_request=service_request,
            body=body,
            now=utcnow(),
            files=check_files(uploads, max_bytes=max_bytes),
            storage=get_storage(),
        )
    except CommentRefused:
        db.rollback()
        abort(403)
    except ValidationFailed as failure:
        db.rollback()
        errors = {key: str(message) for key, message in failure.errors.items()}
        if uploads and "files" not in errors:
            errors["files"] = _("Nothing was sent yet: choose your files again.")
        if from_staff_page:
            for message in errors.values():
                flash(message, "error")
            return redirect(url_for("staff.request_page", reference=reference) + "#conversation")
        return _request_page(service_request, comment=body, errors=errors)
    db.commit()
    flash(_("Your message was sent."), "success")
    if from_staff_page:
        return redirect(url_for("staff.request_page", reference=reference) + "#conversation")
    return redirect(url_for("public.request_page", reference=reference) + "#conversation")


def _attachment(reference: str, attachment_id: int) -> Attachment:
    service_request = request_service.by_reference(get_session(), reference)
    attachment = get_session().get(Attachment, attachment_id)
    user = current_user if current_user.is_authenticated else None
    if (
        service_request is None
        or attachment is None
        or not policy.may_read_attachment(user, service_request, attachment)
    ):
        abort(404)  # not 403: whether a file exists is not for everyone to learn
    return attachment


@blueprint.get("/requests/<reference>/files/<int:attachment_id>")
@public
def attachment_file(reference: str, attachment_id: int):
    """A photo opens in the browser; anything else (a PDF) only downloads."""
    attachment = _attachment(reference, attachment_id)
    return stored_file(
        attachment.storage_key,
        content_type=attachment.content_type,
        filename=attachment.filename,
        download=not attachment.is_image,
    )


@blueprint.get("/requests/<reference>/files/<int:attachment_id>/thumbnail")
@public
def attachment_thumbnail(reference: str, attachment_id: int):
    attachment = _attachment(reference, attachment_id)
    if not attachment.thumbnail_key:
        abort(404)
    return stored_file(
        attachment.thumbnail_key,
        content_type="image/webp",
        filename=attachment.filename.rsplit(".", 1)[0] + ".webp",
        download=False,
    )


@blueprint.get("/search")
@public
def search_page():
    """Search over public requests (and, signed in, one's own company's)."""
    typed = request.args.get("q", "").strip()[:200]
    # no deeper than the lists go (core.pagination counts to 1,000)
    number = min(page_number(request.args.get("page")), COUNT_LIMIT // SEARCH_PAGE)
    user = current_user if current_user.is_authenticated else None
    found = search_requests(
        get_session(),
        typed=typed,
        viewer=user,
        limit=SEARCH_PAGE + 1,  # one more tells whether there is a next page
        offset=(number - 1) * SEARCH_PAGE,
    )
    return render(
        "public/search.html",
        "public/_search_results.html",
        typed=typed,
        results=found[:SEARCH_PAGE],
        number=number,
        has_next=len(found) > SEARCH_PAGE,
        words=search_words(typed),
    )


@blueprint.post("/language")
@public
def choose_language():
    locale = request.form.get("locale", "")
    if locale in SUPPORTED_LOCALES:
        session["locale"] = locale
        if current_user.is_authenticated:
            db = get_session()
            set_preferred_language(db, user=current_user, language=locale)
            db.commit()
    # The Referer is the address bar as it is now (htmx may have changed it); `next` is the
    # page as rendered. Either may be a form's POST-only address after an error.
    back = page_to_return_to(request.referrer, request.form.get("next"))
    return redirect(back or url_for("public.roadmap_page"))


@blueprint.get("/language/<locale>")
@public
def language_link(locale: str):
    """The language switch of visitors who are not signed in: a link, so that the pages
    they read carry no per-visitor token and can be shared from the cache. It changes
    only this browser's cookie; signed-in users get the POST form, which also saves
    their choice to their account."""
    if locale in SUPPORTED_LOCALES:
        session["locale"] = locale
    back = page_to_return_to(request.args.get("next"))
    return redirect(back or url_for("public.roadmap_page"))


@blueprint.get("/healthz")
@public
def healthz():
    """200 only when the database answers and its schema is what this code expects."""
    try:
        with get_engine().connect() as connection:
            schema = schema_state(connection)
    except Exception as error:  # any database failure means "not healthy"
        return jsonify(status="unavailable", database=type(error).__name__), 503
    if schema != "current":  # "behind": run `facilities db upgrade`
        return jsonify(status="unavailable", database="ok", schema=schema), 503
    return jsonify(status="ok", database="ok", schema=schema)
