"""Hostile input never gets a 5xx, on any route, signed in or not.

Each route gets NUL bytes, invalid UTF-8, huge and odd numbers, keys that mean something
to url_for or to other frameworks, wrong types, 100 KB strings and repeated fields, in
its query string, its form and its path. Staff and a tenant member are signed in so the
views run past the access check; POSTs carry a valid CSRF token so the views run at all.
Whatever the answer, it must not be a server error.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.security import generate_password_hash

from facilities.accounts.admin import UserForm
from facilities.accounts.api_keys import ApiKeyCreate
from facilities.api.open311.openapi import SCHEMAS
from facilities.channels.channels import ChannelForm
from facilities.charging.registry import ChargerForm
from facilities.extensions import limiter
from facilities.park.buildings import BuildingForm
from facilities.park.categories import CategoryForm
from facilities.park.questions import QuestionForm
from facilities.park.tenants import TenantForm
from facilities.requests.models import ServiceRequest, ServiceRequestCreate, ServiceRequestTriage
from facilities.requests.responses import ResponseTemplateForm
from facilities.requests.statuses import StatusForm
from facilities.requests.works import ScheduledWorkForm
from tests import factories
from tests.conftest import csrf_token, sign_in

QUICK_HASH = generate_password_hash(factories.PASSWORD, method="pbkdf2:sha256:1")
PERSONAS = ("anonymous", "member", "staff")
HUGE = str(10**30)
LONG = "x" * 100_000

HOSTILE_VALUES = [
    "\x00",
    "DP-2026-0001\x00",
    HUGE,
    "-" + HUGE,
    "-1",
    "0",
    "1e309",
    "NaN",
    "inf",
    "1_000",
    "²",
    "١٢",  # Arabic-Indic digits: isdigit() but not ASCII
    "abc",
    "",
    " \t\r\n",
    "[]",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "2026-02-30T25:61",
    "9999-Q4",
    "2027-Q5",
    "-1-Q1",
    "//evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%ff%fe",
    "\r\nSet-Cookie: x=1",
    "\u202e\ufeff\u200b",
    "😀" * 2_000,
    "DP-2026-99999999999999999999",
    LONG,
]

# Keys that mean something to url_for (endpoint, _external, _anchor, _scheme, _method) or
# to other frameworks, wrong shapes of known keys, and odd query syntax.
ODD_QUERIES = [
    "endpoint=x",
    "_external=1",
    "_method=DELETE",
    "_anchor=x",
    "_scheme=javascript",
    "reference=x",
    "values=x",
    "endpoint=x&_external=1&_anchor=y&_scheme=z&_method=DELETE&page=2&planned_page=2",
    "page=abc",
    "page=1&page=2&page=abc",
    "page[]=1",
    "page=" + HUGE,
    "page=-1",
    "page=1e309",
    "status=all&status=open&status=x",
    "q=a&q=b",
    "category=1&category=x&building=" + HUGE,
    "next=//evil.example&next=/",
    "=x",
    "&&&=&",
    "a=b=c",
    "%=%",
    "%zz=%zz",
    "page=%00",
    "%00=1",
    "q=" + "x" * 100_000,
]

# Raw bytes, not valid UTF-8, as a query string.
RAW_QUERIES = [b"page=\xff\xfe", b"q=\xc3\x28", b"\xff=1", b"status=\xed\xa0\x80", b"page=1\x00"]

HOSTILE_REFERENCES = [
    "%00",
    "DP-2026-0001%00",
    "%FF%FE",
    "%C3%28",
    HUGE,
    "-1",
    "1e309",
    "..",
    "%2E%2E",
    "DP-2026-0001%2F..",
    "%25",
    "%0D%0A",
    "%F0%9F%98%80",
    "dp-2026-0001",
    "DP-0-0",
    "DP-2026-99999999999999999999",
    "x" * 100_000,
]
RAW_REFERENCES = [b"\xff\xfe", b"DP-2026-0001\xc3\x28", b"\x00"]


# A few of each kind, for personas the access check turns away before the view runs.
SMOKE_VALUES = ["\x00", HUGE, "%ff%fe", LONG]
SMOKE_QUERIES = [ODD_QUERIES[7], "page=1&page=2&page=abc", "%00=1"]
REPEATED = [["1", "2"], ["", LONG], [HUGE, "abc"], ["ok", "\x00"], ["x"] * 200]


@dataclass(frozen=True)
class Route:
    path: str  # {ref} is a real request's reference
    fields: tuple[str, ...] = ()  # the form or query fields the view reads
    runs_for: tuple[str, ...] = ("anonymous", "member", "staff")  # whose requests reach the view


TRIAGE_FIELDS = tuple(ServiceRequestTriage.model_fields)
SUBMIT_FIELDS = tuple(ServiceRequestCreate.model_fields)
CHARGER_FIELDS = tuple(ChargerForm.model_fields)
QUESTION_FIELDS = tuple(QuestionForm.model_fields)
CATEGORY_FIELDS = tuple(CategoryForm.model_fields)
BUILDING_FIELDS = tuple(BuildingForm.model_fields)
STATUS_FIELDS = tuple(StatusForm.model_fields)
TENANT_FIELDS = tuple(TenantForm.model_fields)
USER_FIELDS = tuple(UserForm.model_fields)
RESPONSE_TEMPLATE_FIELDS = tuple(ResponseTemplateForm.model_fields)
CHANNEL_FIELDS = tuple(ChannelForm.model_fields)
WORK_FIELDS = tuple(ScheduledWorkForm.model_fields)
API_KEY_FIELDS = tuple(ApiKeyCreate.model_fields)
OPEN311_LIST_FIELDS = (
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "status",
    "page",
    "page_size",
    "jurisdiction_id",
)
OPEN311_FIELDS = (*SCHEMAS["NewRequest"]["properties"], "attribute[x]")
GENERIC_FIELDS = ("page", "next", "q", "status", "category", "building", "locale")

ROUTES: dict[tuple[str, str], Route] = {
    ("public.roadmap_page", "GET"): Route("/", ("category", "building", "now_page", "done_page")),
    ("public.changelog_page", "GET"): Route("/changelog", ("month", "page")),
    ("public.request_page", "GET"): Route("/requests/{ref}"),
    ("public.choose_language", "POST"): Route("/language", ("locale", "next")),
    ("public.language_link", "GET"): Route("/language/sv", ("next",)),
    ("public.search_page", "GET"): Route("/search", ("q", "page")),
    ("auth.sign_in_link", "GET"): Route("/login/link"),
    ("auth.sign_in_link", "POST"): Route("/login/link", ("email",)),
    ("auth.forgot_password", "GET"): Route("/password/forgot"),
    ("auth.forgot_password", "POST"): Route("/password/forgot", ("email",)),
    ("auth.use_sign_in_link", "GET"): Route("/login/link/x"),
    ("auth.use_sign_in_link", "POST"): Route("/login/link/x"),
    ("auth.reset_password", "GET"): Route("/password/reset/x"),
    ("auth.reset_password", "POST"): Route(
        "/password/reset/x", ("new_password", "repeated_password")
    ),
    ("auth.accept_invitation_page", "GET"): Route("/invitations/x"),
    ("auth.accept_invitation_page", "POST"): Route(
        "/invitations/x", ("name", "password", "repeated_password")
    ),
    # tenant admins only: no persona of this table is one
    ("tenant.people_page", "GET"): Route("/tenant/people", runs_for=()),
    ("tenant.invite_colleague", "POST"): Route(
        "/tenant/people/invite", ("email", "name", "language"), runs_for=()
    ),
    ("tenant.deactivate_colleague", "POST"): Route("/tenant/people/1/deactivate", runs_for=()),
    ("public.comment", "POST"): Route(
        "/requests/{ref}/comments", ("comment", "back"), runs_for=("member", "staff")
    ),
    ("tenant.similar_requests", "GET"): Route(
        "/tenant/requests/similar", ("title",), runs_for=("member",)
    ),
    ("public.support", "POST"): Route("/requests/{ref}/support", runs_for=("member",)),
    ("public.withdraw_support_view", "POST"): Route(
        "/requests/{ref}/support/withdraw", runs_for=("member",)
    ),
    # Open311: reads are for everyone; a POST without a valid api_key stops at 403.
    ("open311.discovery", "GET"): Route("/api/open311/v2/discovery.json", ("api_key",)),
    ("open311.services", "GET"): Route(
        "/api/open311/v2/services.xml", ("jurisdiction_id", "api_key")
    ),
    ("open311.service_definition", "GET"): Route(
        "/api/open311/v2/services/x.json", ("jurisdiction_id",)
    ),
    ("open311.requests_list", "GET"): Route("/api/open311/v2/requests.json", OPEN311_LIST_FIELDS),
    ("open311.request_detail", "GET"): Route("/api/open311/v2/requests/{ref}.xml"),
    ("open311.create_request", "POST"): Route("/api/open311/v2/requests.json", OPEN311_FIELDS),
    ("open311.token_lookup", "GET"): Route("/api/open311/v2/tokens/x.json"),
    ("open311.openapi_document", "GET"): Route("/api/openapi.json"),
    ("api_docs.docs_page", "GET"): Route("/api/docs"),
    # Token-authenticated (tests/api): no persona's request reaches these views.
    ("ocpi.versions", "GET"): Route("/ocpi/versions", runs_for=()),
    ("ocpi.version_details", "GET"): Route("/ocpi/2.2.1", runs_for=()),
    ("ocpi.credentials", "GET"): Route("/ocpi/2.2.1/credentials", runs_for=()),
    ("ocpi.credentials", "POST"): Route("/ocpi/2.2.1/credentials", runs_for=()),
    ("ocpi.credentials", "PUT"): Route("/ocpi/2.2.1/credentials", runs_for=()),
    ("ocpi.credentials", "DELETE"): Route("/ocpi/2.2.1/credentials", runs_for=()),
    ("ocpi.locations_root", "GET"): Route("/ocpi/2.2.1/locations/", runs_for=()),
    ("ocpi.location_object", "GET"): Route("/ocpi/2.2.1/locations/FI/DGP/L1", runs_for=()),
    ("ocpi.location_object", "PUT"): Route("/ocpi/2.2.1/locations/FI/DGP/L1", runs_for=()),
    ("ocpi.location_object", "PATCH"): Route("/ocpi/2.2.1/locations/FI/DGP/L1/E1", runs_for=()),
    ("public.healthz", "GET"): Route("/healthz"),
    ("auth.login", "GET"): Route("/login", ("next", "email")),
    ("auth.login", "POST"): Route("/login", ("email", "password", "next", "remember")),
    ("auth.password_page", "GET"): Route("/account/password", runs_for=("member", "staff")),
    ("auth.password_page", "POST"): Route(
        "/account/password",
        ("current_password", "new_password", "repeated_password"),
        runs_for=("member", "staff"),
    ),
    ("auth.logout", "POST"): Route("/logout"),
    ("tenant.requests_page", "GET"): Route("/tenant/requests", runs_for=("member",)),
    ("tenant.new_request_page", "GET"): Route(
        "/tenant/requests/new",
        ("category", "building", "location", "title", "description", "look"),
        runs_for=("member",),
    ),
    ("tenant.submit", "POST"): Route("/tenant/requests/new", SUBMIT_FIELDS, runs_for=("member",)),
    ("staff.queue_page", "GET"): Route("/staff/queue", runs_for=("staff",)),
    ("staff.request_page", "GET"): Route("/staff/requests/{ref}", runs_for=("staff",)),
    ("staff.triage", "POST"): Route(
        "/staff/requests/{ref}/triage", TRIAGE_FIELDS, runs_for=("staff",)
    ),
    ("charging.charging_page", "GET"): Route("/charging"),
    ("charging.building_page", "GET"): Route("/buildings/{building}"),
    ("charging.charger_page", "GET"): Route("/charging/{charger}"),
    ("charging.qr_svg", "GET"): Route("/charging/{charger}/qr.svg"),
    ("charging.qr_png", "GET"): Route("/charging/{charger}/qr.png"),
    ("charging.report_fault", "GET"): Route("/charging/{charger}/report", ("problem",)),
    ("charging.report_fault", "POST"): Route(
        "/charging/{charger}/report", ("problem", "details", "email", "website")
    ),
    ("charging.report_sent", "GET"): Route(
        "/charging/{charger}/report/sent", ("reference", "merged", "email")
    ),
    ("charging.confirm_report_email", "GET"): Route("/charging/reports/confirm/x"),
    ("charging.confirm_report_email", "POST"): Route("/charging/reports/confirm/x"),
    ("tenant.charging_demand_page", "GET"): Route("/tenant/charging", runs_for=("member",)),
    ("tenant.record_charging_demand", "POST"): Route(
        "/tenant/charging",
        ("building_id", "vehicles", "daily_km", "charging_time"),
        runs_for=("member",),
    ),
    ("tenant.withdraw_charging_demand", "POST"): Route(
        "/tenant/charging/1/withdraw", runs_for=("member",)
    ),
    ("charging_staff.chargers_page", "GET"): Route("/staff/chargers", runs_for=("staff",)),
    ("charging_staff.new_charger", "GET"): Route(
        "/staff/chargers/new", ("building",), runs_for=("staff",)
    ),
    ("charging_staff.new_charger", "POST"): Route(
        "/staff/chargers/new", CHARGER_FIELDS, runs_for=("staff",)
    ),
    ("charging_staff.edit_charger", "GET"): Route("/staff/chargers/{charger}", runs_for=("staff",)),
    ("charging_staff.edit_charger", "POST"): Route(
        "/staff/chargers/{charger}", CHARGER_FIELDS, runs_for=("staff",)
    ),
    ("charging_staff.map_charger", "POST"): Route(
        "/staff/chargers/map", ("charger", "location_id", "evse_uid"), runs_for=("staff",)
    ),
    ("charging_staff.report_photo", "GET"): Route(
        "/staff/charging/reports/1/photo", runs_for=("staff",)
    ),
    ("charging_staff.demand_page", "GET"): Route("/staff/charging/demand", runs_for=("staff",)),
    ("charging_staff.attach_demand", "POST"): Route(
        "/staff/charging/demand/{building}/attach", ("reference",), runs_for=("staff",)
    ),
    # admins only: the staff persona is refused before the view runs
    ("charging_staff.operators_page", "GET"): Route("/staff/ocpi", runs_for=()),
    ("charging_staff.connect_to_operator", "POST"): Route(
        "/staff/ocpi/connect", ("name", "versions_url", "token_a", "pull"), runs_for=()
    ),
    ("charging_staff.invite_operator", "POST"): Route(
        "/staff/ocpi/invite", ("invite_name", "country_code", "party_id"), runs_for=()
    ),
    ("charging_staff.toggle_pull", "POST"): Route("/staff/ocpi/1/pull", ("pull",), runs_for=()),
    ("staff.bulk_change", "POST"): Route(
        "/staff/queue/bulk",
        ("selected", "bulk_status", "bulk_priority", "bulk_assignee", "bulk_update", "next"),
        runs_for=("staff",),
    ),
    ("dashboard.page", "GET"): Route(
        "/staff/dashboard", ("category", "building"), runs_for=("staff",)
    ),
    ("staff.save_queue_view", "POST"): Route(
        "/staff/views", ("view_name", "query"), runs_for=("staff",)
    ),
    ("staff.delete_queue_view", "POST"): Route("/staff/views/1/delete", runs_for=("staff",)),
    ("staff.enter_page", "GET"): Route(
        "/staff/requests/enter", ("tenant", "source"), runs_for=("staff",)
    ),
    ("staff.enter_requests_for_companies", "POST"): Route(
        "/staff/requests/enter",
        (
            "source",
            "source_date",
            "row_count",
            "more_rows",
            "rows-0-tenant_id",
            "rows-0-category_id",
            "rows-0-building_id",
            "rows-0-title",
            "rows-0-description",
        ),
        runs_for=("staff",),
    ),
    ("staff.sla_report_page", "GET"): Route("/staff/reports/sla", ("month",), runs_for=("staff",)),
    ("staff.sla_report_csv", "GET"): Route(
        "/staff/reports/sla.csv", ("month",), runs_for=("staff",)
    ),
    ("staff.queue_csv", "GET"): Route("/staff/queue.csv", GENERIC_FIELDS, runs_for=("staff",)),
    ("public.new_request_link", "GET"): Route(
        "/requests/new", ("building", "category", "location")
    ),
    ("public.attachment_file", "GET"): Route("/requests/{ref}/files/1"),
    ("public.attachment_thumbnail", "GET"): Route("/requests/{ref}/files/1/thumbnail"),
    ("tenant.category_questions", "GET"): Route(
        "/tenant/requests/questions", ("category_id",), runs_for=("member",)
    ),
    # admins only: the staff persona is refused before the view runs
    ("admin.jobs_page", "GET"): Route("/admin/jobs", runs_for=()),
    ("admin.job_page", "GET"): Route("/admin/jobs/send-outbox", runs_for=()),
    ("admin.run_job_now", "POST"): Route("/admin/jobs/send-outbox/run", runs_for=()),
    ("public.fixed_page", "GET"): Route("/fixed/x", ("answer",)),
    ("public.answer_fixed_page", "POST"): Route("/fixed/x", ("answer",)),
    ("admin.categories_page", "GET"): Route("/admin/categories", runs_for=()),
    ("admin.edit_category", "GET"): Route("/admin/categories/x", runs_for=()),
    ("admin.save_existing_category", "POST"): Route(
        "/admin/categories/x", CATEGORY_FIELDS, runs_for=()
    ),
    ("admin.questions_page", "GET"): Route("/admin/categories/x/questions", runs_for=()),
    ("admin.add_question", "POST"): Route(
        "/admin/categories/x/questions", QUESTION_FIELDS, runs_for=()
    ),
    ("admin.edit_question", "GET"): Route("/admin/categories/x/questions/1", runs_for=()),
    ("admin.save_existing_question", "POST"): Route(
        "/admin/categories/x/questions/1", QUESTION_FIELDS, runs_for=()
    ),
    ("admin.toggle_question", "POST"): Route(
        "/admin/categories/x/questions/1/active", ("active",), runs_for=()
    ),
    # admins only (tests/web/test_admin_park.py sends these views hostile input as an admin)
    ("admin.buildings_page", "GET"): Route("/admin/buildings", runs_for=()),
    ("admin.new_building", "GET"): Route("/admin/buildings/new", runs_for=()),
    ("admin.new_building", "POST"): Route("/admin/buildings/new", BUILDING_FIELDS, runs_for=()),
    ("admin.edit_building", "GET"): Route("/admin/buildings/1", runs_for=()),
    ("admin.edit_building", "POST"): Route("/admin/buildings/1", BUILDING_FIELDS, runs_for=()),
    ("admin.statuses_page", "GET"): Route("/admin/statuses", runs_for=()),
    ("admin.add_status", "POST"): Route("/admin/statuses", STATUS_FIELDS, runs_for=()),
    ("admin.edit_status", "GET"): Route("/admin/statuses/1", runs_for=()),
    ("admin.edit_status", "POST"): Route("/admin/statuses/1", STATUS_FIELDS, runs_for=()),
    ("admin.move_status", "POST"): Route("/admin/statuses/1/move", ("direction",), runs_for=()),
    ("admin.toggle_status", "POST"): Route("/admin/statuses/1/active", ("active",), runs_for=()),
    ("admin.delete_status", "POST"): Route("/admin/statuses/1/delete", runs_for=()),
    ("admin.tenants_page", "GET"): Route("/admin/companies", ("q", "page"), runs_for=()),
    ("admin.new_tenant", "GET"): Route("/admin/companies/new", runs_for=()),
    ("admin.new_tenant", "POST"): Route("/admin/companies/new", TENANT_FIELDS, runs_for=()),
    ("admin.edit_tenant", "GET"): Route("/admin/companies/1", runs_for=()),
    ("admin.edit_tenant", "POST"): Route("/admin/companies/1", TENANT_FIELDS, runs_for=()),
    ("admin.users_page", "GET"): Route(
        "/admin/users", ("q", "role", "company", "page"), runs_for=()
    ),
    ("admin.edit_user", "GET"): Route("/admin/users/1", runs_for=()),
    ("admin.edit_user", "POST"): Route("/admin/users/1", USER_FIELDS, runs_for=()),
    ("charging_staff.qr_sheet", "GET"): Route(
        "/staff/buildings/{building}/qr-sheet", runs_for=("staff",)
    ),
    # admins only (their hostile input: tests/channels/test_admin.py)
    ("admin.channels_page", "GET"): Route("/admin/channels", runs_for=()),
    ("admin.add_channel", "POST"): Route("/admin/channels", CHANNEL_FIELDS, runs_for=()),
    ("admin.edit_channel", "GET"): Route("/admin/channels/1", runs_for=()),
    ("admin.save_existing_channel", "POST"): Route(
        "/admin/channels/1", CHANNEL_FIELDS, runs_for=()
    ),
    ("admin.toggle_channel", "POST"): Route("/admin/channels/1/active", ("active",), runs_for=()),
    ("admin.test_channel", "POST"): Route("/admin/channels/1/test", runs_for=()),
    ("admin.outbox_page", "GET"): Route("/admin/outbox", ("page",), runs_for=()),
    ("admin.retry_outbox_item", "POST"): Route("/admin/outbox/1/retry", runs_for=()),
    # admins only (their hostile input: tests/web/test_admin_api_keys.py)
    ("admin.api_keys_page", "GET"): Route("/admin/api-keys", ("page",), runs_for=()),
    ("admin.new_api_key", "GET"): Route("/admin/api-keys/new", runs_for=()),
    ("admin.new_api_key", "POST"): Route("/admin/api-keys/new", API_KEY_FIELDS, runs_for=()),
    ("admin.api_key_page", "GET"): Route("/admin/api-keys/1", ("page",), runs_for=()),
    ("admin.revoke_api_key", "POST"): Route("/admin/api-keys/1/revoke", runs_for=()),
    ("admin.response_templates_page", "GET"): Route("/admin/templates", runs_for=()),
    ("admin.add_response_template", "POST"): Route(
        "/admin/templates", RESPONSE_TEMPLATE_FIELDS, runs_for=()
    ),
    ("admin.edit_response_template", "GET"): Route("/admin/templates/1", runs_for=()),
    ("admin.save_existing_response_template", "POST"): Route(
        "/admin/templates/1", RESPONSE_TEMPLATE_FIELDS, runs_for=()
    ),
    ("admin.toggle_response_template", "POST"): Route(
        "/admin/templates/1/active", ("active",), runs_for=()
    ),
    ("staff.use_response_template", "POST"): Route(
        "/staff/requests/{ref}/response-template",
        (*TRIAGE_FIELDS, "response_template", "template_language", "use_template"),
        runs_for=("staff",),
    ),
    ("staff.edit_scheduled_update", "GET"): Route(
        "/staff/requests/{ref}/scheduled/1", runs_for=("staff",)
    ),
    ("staff.save_scheduled_update", "POST"): Route(
        "/staff/requests/{ref}/scheduled/1", ("body", "publish_at"), runs_for=("staff",)
    ),
    ("staff.cancel_scheduled_update", "POST"): Route(
        "/staff/requests/{ref}/scheduled/1/cancel", runs_for=("staff",)
    ),
    ("feeds.updates_feed", "GET"): Route("/feeds/updates.atom", ("lang",)),
    ("feeds.category_feed", "GET"): Route("/feeds/categories/x.atom", ("lang",)),
    ("feeds.building_feed", "GET"): Route("/feeds/buildings/{building}.atom", ("lang",)),
    ("feeds.request_feed", "GET"): Route("/requests/{ref}/updates.atom", ("lang",)),
    ("feeds.works_calendar", "GET"): Route("/feeds/works.ics", ("lang",)),
    ("feeds.building_works_calendar", "GET"): Route(
        "/feeds/buildings/{building}/works.ics", ("lang",)
    ),
    ("staff.new_work_page", "GET"): Route("/staff/requests/{ref}/works/new", runs_for=("staff",)),
    ("staff.add_work_view", "POST"): Route(
        "/staff/requests/{ref}/works", WORK_FIELDS, runs_for=("staff",)
    ),
    ("staff.edit_work_page", "GET"): Route("/staff/requests/{ref}/works/1", runs_for=("staff",)),
    ("staff.save_work_view", "POST"): Route(
        "/staff/requests/{ref}/works/1", WORK_FIELDS, runs_for=("staff",)
    ),
    ("staff.delete_work_view", "POST"): Route(
        "/staff/requests/{ref}/works/1/delete", runs_for=("staff",)
    ),
    ("subscriptions.subscribe_page", "GET"): Route("/subscribe", ("scope", "id")),
    ("subscriptions.subscribe_page", "POST"): Route(
        "/subscribe", ("scope", "id", "email", "frequency", "language")
    ),
    ("subscriptions.confirm", "GET"): Route("/subscriptions/confirm/x"),
    ("subscriptions.confirm", "POST"): Route("/subscriptions/confirm/x"),
    ("subscriptions.unsubscribe", "GET"): Route("/subscriptions/unsubscribe/x"),
    ("subscriptions.unsubscribe", "POST"): Route("/subscriptions/unsubscribe/x"),
    ("subscriptions.account_page", "GET"): Route(
        "/account/subscriptions", runs_for=("member", "staff")
    ),
    ("subscriptions.change_subscription", "POST"): Route(
        "/account/subscriptions/1", ("frequency",), runs_for=("member", "staff")
    ),
    ("subscriptions.end_subscription", "POST"): Route(
        "/account/subscriptions/1/delete", runs_for=("member", "staff")
    ),
}
ROUTE_KEYS = sorted(ROUTES)


def _route_id(route: tuple[str, str]) -> str:
    return f"{route[1]} {route[0]}"


def test_every_route_gets_hostile_input(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    missing = sorted(routes - ROUTES.keys())
    assert not missing, (
        "routes missing from ROUTES in tests/web/test_hostile_input.py: "
        + ", ".join(map(_route_id, missing))
    )


@dataclass
class World:
    app: Any
    db: Any
    clients: dict[str, Any]
    tokens: dict[str, str]
    item: ServiceRequest
    category_id: int
    building_id: int
    status_ids: list[int]
    failures: list[str]
    charger_code: str = ""
    building_code: str = ""

    def query_fields(self, route: tuple[str, str]) -> list[str]:
        view = self.app.view_functions[route[0]]
        declared = getattr(view, "query_arguments", frozenset())
        return sorted({*GENERIC_FIELDS, *declared, *ROUTES[route].fields})

    def path(self, route: tuple[str, str]) -> str:
        return ROUTES[route].path.format(
            ref=self.item.reference, charger=self.charger_code, building=self.building_code
        )

    def send(self, persona: str, method: str, path: str, label: str, **kwargs) -> int:
        """Send one request; remember it as a failure if the answer is a 5xx."""
        status = send(self.clients[persona], method, path, **kwargs)
        if not isinstance(status, int) or status >= 500:
            self.failures.append(f"{status} {persona:9} {method} {path[:60]} {label}")
        return status if isinstance(status, int) else 500

    def form(self, persona: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
        return {**(fields or {}), "csrf_token": self.tokens[persona]}

    def current_triage_form(self) -> dict[str, str]:
        """The triage form as the page would send it now, with the current version."""
        self.db.rollback()  # end the read transaction: see what the views committed
        item = self.db.get(ServiceRequest, self.item.id)
        return {
            "version": str(item.version),
            "status_id": str(item.status_id),
            "priority": (item.priority.value if item.priority else "normal"),
            "visibility": item.visibility.value,
        }

    def valid_submit_form(self) -> dict[str, str]:
        return {
            "title": "A perfectly ordinary request",
            "description": "Please.",
            "category_id": str(self.category_id),
            "building_id": str(self.building_id),
        }

    def check(self) -> None:
        if self.failures:
            shown = self.failures[:60]
            more = len(self.failures) - len(shown)
            pytest.fail(
                f"{len(self.failures)} server errors:\n"
                + "\n".join(shown)
                + (f"\n... and {more} more" if more else ""),
                pytrace=False,
            )


_addresses = itertools.count(1)


def send(client, method: str, path: str, **kwargs) -> int | str:
    """The status, or what the app raised (a 500 in production) as text.

    Each request comes from its own address, and every 8th starts the limits afresh (some
    count per person), so rate limits never stop a view from running.
    """
    number = next(_addresses)
    if number % 8 == 0:
        with client.application.app_context():
            limiter.reset()
    environ = {"REMOTE_ADDR": f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"}
    if (raw_query := kwargs.pop("raw_query", None)) is not None:
        environ["QUERY_STRING"] = raw_query.decode("latin-1")
    if (raw_path := kwargs.pop("raw_path", None)) is not None:
        environ["PATH_INFO"] = raw_path.decode("latin-1")
    if isinstance(kwargs.get("data"), bytes):
        kwargs["content_type"] = "application/x-www-form-urlencoded"
    try:
        return client.open(path, method=method, environ_overrides=environ, **kwargs).status_code
    except Exception as error:  # with TESTING the app's exceptions reach us: a 500 in production
        return f"raised {type(error).__name__}: {str(error)[:200]}"


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 50 else f"{text[:40]}...({len(text)} chars)"


@pytest.fixture(autouse=True)
def quick_failed_sign_ins(monkeypatch):
    """A sign-in with an unknown e-mail checks a dummy hash; a one-round one keeps it cheap."""
    monkeypatch.setattr("facilities.accounts.users._DUMMY_HASH", QUICK_HASH)


@pytest.fixture
def world(app, db) -> World:
    """A member of a company and a staff user, signed in; three requests, so lists paginate."""
    member = factories.user(db, password=None)
    staff = factories.staff(db, password=None)
    for user in (member, staff):
        user.password_hash = QUICK_HASH
    category = factories.category(db)
    building = factories.building(db)
    items = [
        factories.service_request(
            db, submitter=member, category_=category, title=f"Request number {number}"
        )
        for number in range(3)
    ]
    for item in items[:2]:
        factories.triage(db, item, actor=staff, to="planned")
    db.commit()
    app.extensions["facilities.settings"].per_page = 1  # every list has pagination links

    clients, tokens = {}, {}
    for persona, user in zip(PERSONAS, (None, member, staff), strict=True):
        client = app.test_client()
        if user is not None:
            sign_in(client, user.email)
        clients[persona] = client
        tokens[persona] = csrf_token(client)
    statuses = [factories.status(db, slug).id for slug in ("review", "planned", "not-planned")]
    charger = factories.charger(db, building_id=building.id)
    db.commit()
    return World(
        charger_code=charger.code,
        building_code=building.code,
        app=app,
        db=db,
        clients=clients,
        tokens=tokens,
        item=items[2],
        category_id=category.id,
        building_id=building.id,
        status_ids=statuses,
        failures=[],
    )


@pytest.mark.parametrize("route", ROUTE_KEYS, ids=_route_id)
def test_hostile_query_strings_get_no_server_error(world, route):
    method = route[1]
    path = world.path(route)
    names = world.query_fields(route)
    for persona in PERSONAS:  # after the first sign-out POST, a persona is anonymous
        runs = persona in ROUTES[route].runs_for
        data = world.form(persona) if method == "POST" else None
        for value in HOSTILE_VALUES if runs else SMOKE_VALUES:
            query = [(name, value) for name in names]
            world.send(persona, method, path, f"?*={short(value)}", query_string=query, data=data)
        for query in ODD_QUERIES if runs else SMOKE_QUERIES:
            world.send(persona, method, path, f"?{short(query)}", query_string=query, data=data)
        for raw in RAW_QUERIES if runs else RAW_QUERIES[:1]:
            world.send(persona, method, path, f"raw ?{raw!r}", raw_query=raw, data=data)
        htmx = {"HX-Request": "true"}
        for query in SMOKE_QUERIES:  # htmx gets a fragment: its links are built too
            label = f"?{short(query)} htmx"
            world.send(persona, method, path, label, query_string=query, headers=htmx, data=data)
    world.check()


POST_ROUTES = [route for route in ROUTE_KEYS if route[1] == "POST"]


@pytest.mark.parametrize("route", POST_ROUTES, ids=_route_id)
def test_hostile_forms_get_no_server_error(world, route):
    path = world.path(route)
    names = sorted({*ROUTES[route].fields, *GENERIC_FIELDS})
    for persona in PERSONAS:  # after the first sign-out POST, a persona is anonymous
        runs = persona in ROUTES[route].runs_for
        for value in HOSTILE_VALUES if runs else SMOKE_VALUES:
            data = world.form(persona, {name: value for name in names})
            world.send(persona, "POST", path, f"form *={short(value)}", data=data)
        for values in REPEATED if runs else REPEATED[:1]:
            data = world.form(persona, {name: values for name in names})
            world.send(persona, "POST", path, f"form *={short(values)}", data=data)
        odd = {
            "endpoint": "x",
            "_external": "1",
            "_method": "DELETE",
            "_anchor": "x",
            "reference": "x",
        }
        world.send(persona, "POST", path, "form odd keys", data=world.form(persona, odd))
        two_tokens = {**odd, "csrf_token": [world.tokens[persona], "x"]}
        world.send(persona, "POST", path, "form with two tokens", data=two_tokens)
        token = world.tokens[persona].encode()
        for name in names if runs else names[:1]:
            for raw in (b"\xff\xfe", b"\xc3\x28", b"%ff%fe", b"a\x00b"):
                body = name.encode() + b"=" + raw + b"&csrf_token=" + token
                world.send(persona, "POST", path, f"raw form {name}={raw!r}", data=body)
        world.send(persona, "POST", path, "form not urlencoded", data=b"\xff" * 1000)
        world.send(
            persona,
            "POST",
            path,
            "form as JSON",
            data=b'{"csrf_token": "x"}',
            headers={"Content-Type": "application/json"},
        )
    world.check()


def test_hostile_values_in_an_otherwise_valid_triage_get_no_server_error(world):
    """One field at a time, the rest valid, so the values reach the service and the database."""
    path = f"/staff/requests/{world.item.reference}/triage"
    values = [
        *HOSTILE_VALUES,
        *map(str, world.status_ids),
        "low",
        "urgent",
        "private",
        "2027-Q2",
        world.item.reference,
        "2026-06-01T12:00",
    ]
    for name in TRIAGE_FIELDS:
        for value in values:
            data = world.form("staff", {**world.current_triage_form(), name: value})
            world.send("staff", "POST", path, f"triage {name}={short(value)}", data=data)
    world.check()


def test_hostile_values_in_an_otherwise_valid_submission_get_no_server_error(world):
    path = "/tenant/requests/new"
    for name in SUBMIT_FIELDS:
        for value in HOSTILE_VALUES:
            data = world.form("member", {**world.valid_submit_form(), name: value})
            world.send("member", "POST", path, f"submit {name}={short(value)}", data=data)
    world.check()


REFERENCE_ROUTES = [route for route in ROUTE_KEYS if "{ref}" in ROUTES[route].path]


@pytest.mark.parametrize("route", REFERENCE_ROUTES, ids=_route_id)
def test_hostile_path_parameters_get_no_server_error(world, route):
    method = route[1]
    for persona in PERSONAS:
        data = world.form(persona) if method == "POST" else None
        for reference in HOSTILE_REFERENCES:
            path = ROUTES[route].path.format(ref=reference)
            world.send(persona, method, path, "", data=data)
        for raw in RAW_REFERENCES:
            raw_path = ROUTES[route].path.format(ref="{ref}").encode().replace(b"{ref}", raw)
            world.send(persona, method, "/", f"raw path {raw_path!r}", raw_path=raw_path, data=data)
    world.check()


def test_a_nul_byte_anywhere_in_the_path_gets_no_server_error(world):
    for persona in PERSONAS:
        for route in ROUTE_KEYS:
            path = world.path(route)
            for hostile in (path + "%00", path.rstrip("/") + "/%00", "/%00" + path):
                data = world.form(persona) if route[1] == "POST" else None
                world.send(persona, route[1], hostile, "", data=data)
    world.check()


@pytest.mark.parametrize("route", POST_ROUTES, ids=_route_id)
def test_a_form_that_is_not_utf8_is_not_called_expired(world, route):
    """The token is there and valid: saying the form expired sends the user on a wrong track."""
    persona = {"staff.triage": "staff", "auth.login": "anonymous"}.get(route[0], "member")
    token = world.tokens[persona].encode()
    body = b"csrf_token=" + token + b"&title=\xff\xfe&email=\xff\xfe"
    response = world.clients[persona].post(
        world.path(route), data=body, content_type="application/x-www-form-urlencoded"
    )
    html = response.get_data(as_text=True)
    assert response.status_code < 500
    assert "Lomake oli vanhentunut" not in html and "form had expired" not in html, (
        f"{response.status_code}: a form with a valid token but bytes that are not UTF-8 "
        "is answered as if the form had expired"
    )


PAGINATED = [("/", "anonymous"), ("/tenant/requests", "member"), ("/staff/queue", "staff")]
PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(query=st.lists(st.tuples(st.text(max_size=20), st.text(max_size=40)), max_size=6))
def test_any_query_string_on_a_paginated_list_gets_no_server_error(world, query):
    world.failures.clear()  # one example at a time, so hypothesis can shrink
    for path, persona in PAGINATED:
        world.send(persona, "GET", path, f"?{query!r}", query_string=query)
    world.check()


@PROPERTY_SETTINGS
@given(raw=st.binary(max_size=80))
def test_any_raw_query_bytes_on_a_paginated_list_get_no_server_error(world, raw):
    world.failures.clear()  # one example at a time, so hypothesis can shrink
    for path, persona in PAGINATED:
        world.send(persona, "GET", path, f"raw ?{raw!r}", raw_query=raw)
    world.check()


@PROPERTY_SETTINGS
@given(
    extra=st.dictionaries(
        st.sampled_from([*TRIAGE_FIELDS, *SUBMIT_FIELDS, "locale", "next"]) | st.text(max_size=10),
        st.text(max_size=60) | st.lists(st.text(max_size=20), max_size=3),
        max_size=4,
    )
)
def test_any_form_on_a_valid_base_gets_no_server_error(world, extra):
    """Valid forms with some fields replaced, so generated values reach the services."""
    world.failures.clear()  # one example at a time, so hypothesis can shrink
    triage = f"/staff/requests/{world.item.reference}/triage"
    world.send(
        "staff",
        "POST",
        triage,
        f"triage {extra!r}",
        data=world.form("staff", {**world.current_triage_form(), **extra}),
    )
    world.send(
        "member",
        "POST",
        "/tenant/requests/new",
        f"submit {extra!r}",
        data=world.form("member", {**world.valid_submit_form(), **extra}),
    )
    world.send(
        "member", "POST", "/language", f"language {extra!r}", data=world.form("member", extra)
    )
    world.check()
