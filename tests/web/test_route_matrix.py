"""Who gets what from every route: one row per (endpoint, method), one column per persona.

A new route cannot be added without its row: `test_every_route_has_a_row` reads the app's
URL map. POST requests carry a valid CSRF token, so only authorisation decides; allowed
personas send a minimal (invalid) form where a valid one would change data, and get that
form's status (422) while forbidden ones get exactly 403.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import pytest
from werkzeug.security import generate_password_hash

from facilities.accounts.models import Role
from facilities.charging.models import ChargerLifecycle, ChargingInterest
from facilities.core.models import utcnow
from facilities.park.models import Building, Visibility
from facilities.requests.conversation import add_comment
from tests import factories
from tests.conftest import csrf_token, sign_in

# Signing in checks a password: a one-round hash keeps six sign-ins per test cheap.
QUICK_HASH = generate_password_hash(factories.PASSWORD, method="pbkdf2:sha256:1")
SIGN_IN = "sign in"  # plain: 302 to /login?next=<path>; htmx: 401 + HX-Redirect; JSON: 401


@dataclass(frozen=True)
class Redirect:
    """302 to exactly this location, whatever the variant (htmx follows redirects itself)."""

    location: str


Expected = int | str | Redirect


class Expect(NamedTuple):
    """What each persona gets, in the table's column order."""

    anonymous: Expected
    member_a: Expected
    member_b: Expected
    tenant_admin_a: Expected
    staff: Expected
    admin: Expected


PERSONAS = Expect._fields


@dataclass(frozen=True)
class Case:
    """One request to a route: its path ({public}, {private}, {missing} are references)."""

    path: str
    expect: Expect
    form: dict[str, str] = field(default_factory=dict)


TENANT_HOME = Redirect("/tenant/requests")
STAFF_HOME = Redirect("/staff/queue")
HOME = Redirect("/")

# fmt: off
ROUTES: dict[tuple[str, str], list[Case]] = {
    #                                                   anonymous  member A     member B     admin of A   staff       admin
    ("public.roadmap_page", "GET"): [
        Case("/",                                Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("public.changelog_page", "GET"): [
        Case("/changelog",                       Expect(200,       200,         200,         200,         200,        200)),
        Case("/changelog?month=2026-13",         Expect(404,       404,         404,         404,         404,        404)),
    ],
    ("public.request_page", "GET"): [
        Case("/requests/{public}",               Expect(200,       200,         200,         200,         200,        200)),
        Case("/requests/{private}",              Expect(404,       200,         404,         200,         200,        200)),
        Case("/requests/{missing}",              Expect(404,       404,         404,         404,         404,        404)),
    ],
    ("public.choose_language", "POST"): [
        Case("/language",                        Expect(HOME,      HOME,        HOME,        HOME,        HOME,       HOME),
             form={"locale": "fi"}),
    ],
    ("public.language_link", "GET"): [
        Case("/language/en",                     Expect(HOME,      HOME,        HOME,        HOME,        HOME,       HOME)),
    ],
    # OCPI authenticates by its own token, not by the session: everyone here gets 401.
    # Open311: the same for everyone, signed in or not; private requests are never read.
    ("open311.discovery", "GET"): [
        Case("/api/open311/v2/discovery.json",   Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("open311.services", "GET"): [
        Case("/api/open311/v2/services.xml",     Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("open311.service_definition", "GET"): [
        Case("/api/open311/v2/services/none.json", Expect(404,     404,         404,         404,         404,        404)),
    ],
    ("open311.requests_list", "GET"): [
        Case("/api/open311/v2/requests.json",    Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("open311.request_detail", "GET"): [
        Case("/api/open311/v2/requests/{public}.json", Expect(200, 200,         200,         200,         200,        200)),
        Case("/api/open311/v2/requests/{private}.json", Expect(404, 404,        404,         404,         404,        404)),
        Case("/api/open311/v2/requests/{missing}.json", Expect(404, 404,         404,         404,         404,        404)),
    ],
    ("open311.create_request", "POST"): [  # an api_key, not a session, may send
        Case("/api/open311/v2/requests.json",    Expect(403,       403,         403,         403,         403,        403)),
    ],
    ("open311.token_lookup", "GET"): [
        Case("/api/open311/v2/tokens/none.json", Expect(404,       404,         404,         404,         404,        404)),
    ],
    ("open311.openapi_document", "GET"): [
        Case("/api/openapi.json",                Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("api_docs.docs_page", "GET"): [
        Case("/api/docs",                        Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("ocpi.versions", "GET"): [
        Case("/ocpi/versions",                   Expect(401,       401,         401,         401,         401,        401)),
    ],
    ("ocpi.version_details", "GET"): [
        Case("/ocpi/2.2.1",                      Expect(401,       401,         401,         401,         401,        401)),
    ],
    ("ocpi.credentials", "GET"): [
        Case("/ocpi/2.2.1/credentials",          Expect(401,       401,         401,         401,         401,        401)),
    ],
    ("ocpi.credentials", "POST"): [
        Case("/ocpi/2.2.1/credentials",          Expect(401,       401,         401,         401,         401,        401)),
    ],
    ("ocpi.credentials", "PUT"): [
        Case("/ocpi/2.2.1/credentials",          Expect(401,       401,         401,         401,         401,        401)),
    ],
    ("ocpi.credentials", "DELETE"): [
        Case("/ocpi/2.2.1/credentials",          Expect(401,       401,         401,         401,         401,        401)),
    ],
    ("ocpi.locations_root", "GET"): [
        Case("/ocpi/2.2.1/locations/",           Expect(401,       401,         401,         401,         401,        401)),
    ],
    ("ocpi.location_object", "GET"): [
        Case("/ocpi/2.2.1/locations/FI/DGP/L1",  Expect(401,       401,         401,         401,         401,        401)),
    ],
    ("ocpi.location_object", "PUT"): [
        Case("/ocpi/2.2.1/locations/FI/DGP/L1",  Expect(401,       401,         401,         401,         401,        401)),
    ],
    ("ocpi.location_object", "PATCH"): [
        Case("/ocpi/2.2.1/locations/FI/DGP/L1/E1", Expect(401,     401,         401,         401,         401,        401)),
    ],
    ("public.healthz", "GET"): [
        Case("/healthz",                         Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("auth.login", "GET"): [
        Case("/login",                           Expect(200,       TENANT_HOME, TENANT_HOME, TENANT_HOME, STAFF_HOME, STAFF_HOME)),
    ],
    ("auth.login", "POST"): [  # an empty form: the wrong password for anyone not signed in
        Case("/login",                           Expect(401,       TENANT_HOME, TENANT_HOME, TENANT_HOME, STAFF_HOME, STAFF_HOME)),
    ],
    ("auth.password_page", "GET"): [
        Case("/account/password",                Expect(SIGN_IN,   200,         200,         200,         200,        200)),
    ],
    ("auth.password_page", "POST"): [  # an empty form: the current password is wrong
        Case("/account/password",                Expect(SIGN_IN,   422,         422,         422,         422,        422)),
    ],
    ("auth.logout", "POST"): [
        Case("/logout",                          Expect(HOME,      HOME,        HOME,        HOME,        HOME,       HOME)),
    ],
    ("tenant.requests_page", "GET"): [
        Case("/tenant/requests",                 Expect(SIGN_IN,   200,         200,         200,         403,        403)),
    ],
    ("tenant.new_request_page", "GET"): [
        Case("/tenant/requests/new",             Expect(SIGN_IN,   200,         200,         200,         403,        403)),
    ],
    ("tenant.submit", "POST"): [  # an empty form
        Case("/tenant/requests/new",             Expect(SIGN_IN,   422,         422,         422,         403,        403)),
    ],
    ("staff.queue_page", "GET"): [
        Case("/staff/queue",                     Expect(SIGN_IN,   403,         403,         403,         200,        200)),
    ],
    ("staff.request_page", "GET"): [
        Case("/staff/requests/{private}",        Expect(SIGN_IN,   403,         403,         403,         200,        200)),
        Case("/staff/requests/{public}",         Expect(SIGN_IN,   403,         403,         403,         200,        200)),
        Case("/staff/requests/{missing}",        Expect(SIGN_IN,   403,         403,         403,         404,        404)),
    ],
    ("staff.triage", "POST"): [  # an empty form
        Case("/staff/requests/{private}/triage", Expect(SIGN_IN,   403,         403,         403,         422,        422)),
        Case("/staff/requests/{missing}/triage", Expect(SIGN_IN,   403,         403,         403,         404,        404)),
    ],
    # Supporting a public request is tested in tests/requests/test_supports.py (its answer
    # differs by variant: a redirect, or the support block for htmx).
    ("public.comment", "POST"): [  # an empty message: the sender's company and staff get the form back
        Case("/requests/{private}/comments",     Expect(SIGN_IN,   422,         404,         422,         422,        422)),
        Case("/requests/{public}/comments",      Expect(SIGN_IN,   422,         403,         422,         422,        422)),
    ],
    ("auth.sign_in_link", "GET"): [
        Case("/login/link",                      Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("auth.sign_in_link", "POST"): [  # no address: the form again (tests/accounts: no account is revealed)
        Case("/login/link",                      Expect(422,       422,         422,         422,         422,        422)),
    ],
    ("auth.forgot_password", "GET"): [
        Case("/password/forgot",                 Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("auth.forgot_password", "POST"): [
        Case("/password/forgot",                 Expect(422,       422,         422,         422,         422,        422)),
    ],
    ("auth.use_sign_in_link", "GET"): [
        Case("/login/link/not-a-token",          Expect(410,       410,         410,         410,         410,        410)),
    ],
    ("auth.use_sign_in_link", "POST"): [
        Case("/login/link/not-a-token",          Expect(410,       410,         410,         410,         410,        410)),
    ],
    ("auth.reset_password", "GET"): [
        Case("/password/reset/not-a-token",      Expect(410,       410,         410,         410,         410,        410)),
    ],
    ("auth.reset_password", "POST"): [
        Case("/password/reset/not-a-token",      Expect(410,       410,         410,         410,         410,        410)),
    ],
    ("auth.accept_invitation_page", "GET"): [
        Case("/invitations/not-a-token",         Expect(410,       410,         410,         410,         410,        410)),
    ],
    ("auth.accept_invitation_page", "POST"): [
        Case("/invitations/not-a-token",         Expect(410,       410,         410,         410,         410,        410)),
    ],
    ("tenant.people_page", "GET"): [
        Case("/tenant/people",                   Expect(SIGN_IN,   403,         403,         200,         403,        403)),
    ],
    ("tenant.invite_colleague", "POST"): [  # an empty form
        Case("/tenant/people/invite",            Expect(SIGN_IN,   403,         403,         422,         403,        403)),
    ],
    ("tenant.deactivate_colleague", "POST"): [  # someone of another company: not found
        Case("/tenant/people/{outsider}/deactivate", Expect(SIGN_IN, 403,       403,         404,         403,        403)),
    ],
    ("public.search_page", "GET"): [
        Case("/search?q=idea",                   Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("tenant.similar_requests", "GET"): [
        Case("/tenant/requests/similar",         Expect(SIGN_IN,   200,         200,         200,         403,        403)),
    ],
    ("public.support", "POST"): [  # a private request: its company sees it, nobody supports it
        Case("/requests/{private}/support",      Expect(SIGN_IN,   403,         404,         403,         403,        403)),
        Case("/requests/{missing}/support",      Expect(SIGN_IN,   404,         404,         404,         403,        403)),
    ],
    ("public.withdraw_support_view", "POST"): [
        Case("/requests/{private}/support/withdraw", Expect(SIGN_IN, 403,       404,         403,         403,        403)),
    ],
    ("charging.charging_page", "GET"): [
        Case("/charging",                        Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("charging.building_page", "GET"): [
        Case("/buildings/{building}",            Expect(200,       200,         200,         200,         200,        200)),
        Case("/buildings/NOWHERE",               Expect(404,       404,         404,         404,         404,        404)),
    ],
    ("charging.charger_page", "GET"): [
        Case("/charging/{charger}",              Expect(200,       200,         200,         200,         200,        200)),
        Case("/charging/{removed}",              Expect(404,       404,         404,         404,         404,        404)),
    ],
    ("charging.qr_svg", "GET"): [
        Case("/charging/{charger}/qr.svg",       Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("charging.qr_png", "GET"): [
        Case("/charging/{charger}/qr.png",       Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("charging.report_fault", "GET"): [
        Case("/charging/{charger}/report",       Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("charging.report_fault", "POST"): [  # an empty form: anyone may report, without an account
        Case("/charging/{charger}/report",       Expect(422,       422,         422,         422,         422,        422)),
    ],
    ("charging.report_sent", "GET"): [
        Case("/charging/{charger}/report/sent",  Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("charging.confirm_report_email", "GET"): [
        Case("/charging/reports/confirm/nope",   Expect(404,       404,         404,         404,         404,        404)),
    ],
    ("charging.confirm_report_email", "POST"): [  # only the button confirms; an unknown link
        Case("/charging/reports/confirm/nope",   Expect(404,       404,         404,         404,         404,        404)),
    ],
    ("tenant.charging_demand_page", "GET"): [
        Case("/tenant/charging",                 Expect(SIGN_IN,   200,         200,         200,         403,        403)),
    ],
    ("tenant.record_charging_demand", "POST"): [  # an empty form
        Case("/tenant/charging",                 Expect(SIGN_IN,   422,         422,         422,         403,        403)),
    ],
    ("tenant.withdraw_charging_demand", "POST"): [  # another company's need: nobody here may remove it
        Case("/tenant/charging/{interest}/withdraw", Expect(SIGN_IN, 404,       404,         404,         403,        403)),
    ],
    ("charging_staff.chargers_page", "GET"): [
        Case("/staff/chargers",                  Expect(SIGN_IN,   403,         403,         403,         200,        200)),
    ],
    ("charging_staff.new_charger", "GET"): [
        Case("/staff/chargers/new",              Expect(SIGN_IN,   403,         403,         403,         200,        200)),
    ],
    ("charging_staff.new_charger", "POST"): [  # an empty form
        Case("/staff/chargers/new",              Expect(SIGN_IN,   403,         403,         403,         422,        422)),
    ],
    ("charging_staff.edit_charger", "GET"): [
        Case("/staff/chargers/{charger}",        Expect(SIGN_IN,   403,         403,         403,         200,        200)),
        Case("/staff/chargers/NOPE-1",           Expect(SIGN_IN,   403,         403,         403,         404,        404)),
    ],
    ("charging_staff.edit_charger", "POST"): [  # an empty form
        Case("/staff/chargers/{charger}",        Expect(SIGN_IN,   403,         403,         403,         422,        422)),
    ],
    ("charging_staff.map_charger", "POST"): [  # no charger chosen: back to the list
        Case("/staff/chargers/map",              Expect(SIGN_IN,   403,         403,         403,         Redirect("/staff/chargers#unmapped"), Redirect("/staff/chargers#unmapped"))),
    ],
    ("charging_staff.report_photo", "GET"): [
        Case("/staff/charging/reports/999/photo", Expect(SIGN_IN,  403,         403,         403,         404,        404)),
    ],
    ("charging_staff.demand_page", "GET"): [
        Case("/staff/charging/demand",           Expect(SIGN_IN,   403,         403,         403,         200,        200)),
    ],
    ("charging_staff.attach_demand", "POST"): [  # no reference: detaches
        Case("/staff/charging/demand/{building}/attach", Expect(SIGN_IN, 403,   403,         403,         Redirect("/staff/charging/demand"), Redirect("/staff/charging/demand"))),
    ],
    ("charging_staff.qr_sheet", "GET"): [
        Case("/staff/buildings/{building}/qr-sheet", Expect(SIGN_IN, 403,       403,         403,         200,        200)),
    ],
    # Files: a request's go with the request; a comment's with the conversation; a file
    # asked for under another request's reference is not found.
    ("staff.bulk_change", "POST"): [  # nothing ticked: back to the queue with a message
        Case("/staff/queue/bulk",                Expect(SIGN_IN,   403,         403,         403,         Redirect("/staff/queue"), Redirect("/staff/queue"))),
    ],
    ("dashboard.page", "GET"): [
        Case("/staff/dashboard",                 Expect(SIGN_IN,   403,         403,         403,         200,        200)),
    ],
    ("staff.save_queue_view", "POST"): [  # nameless: the form again, nothing saved
        Case("/staff/views",                     Expect(SIGN_IN,   403,         403,         403,         422,        422)),
    ],
    ("staff.delete_queue_view", "POST"): [  # nobody's view
        Case("/staff/views/999/delete",          Expect(SIGN_IN,   403,         403,         403,         404,        404)),
    ],
    ("staff.enter_page", "GET"): [
        Case("/staff/requests/enter",            Expect(SIGN_IN,   403,         403,         403,         200,        200)),
    ],
    ("staff.enter_requests_for_companies", "POST"): [  # nothing written: told so, nothing saved
        Case("/staff/requests/enter",            Expect(SIGN_IN,   403,         403,         403,         422,        422)),
    ],
    ("staff.sla_report_page", "GET"): [
        Case("/staff/reports/sla",               Expect(SIGN_IN,   403,         403,         403,         200,        200)),
    ],
    ("staff.sla_report_csv", "GET"): [
        Case("/staff/reports/sla.csv",           Expect(SIGN_IN,   403,         403,         403,         200,        200)),
    ],
    ("staff.queue_csv", "GET"): [
        Case("/staff/queue.csv",                 Expect(SIGN_IN,   403,         403,         403,         200,        200)),
    ],
    ("public.new_request_link", "GET"): [  # the poster's address: the form, after sign-in
        Case("/requests/new?building=B1",        Expect(Redirect("/tenant/requests/new?building=B1"), Redirect("/tenant/requests/new?building=B1"), Redirect("/tenant/requests/new?building=B1"), Redirect("/tenant/requests/new?building=B1"), Redirect("/tenant/requests/new?building=B1"), Redirect("/tenant/requests/new?building=B1"))),
    ],
    ("public.attachment_file", "GET"): [
        Case("/requests/{public}/files/{public_file}",   Expect(200, 200,         200,         200,         200,        200)),
        Case("/requests/{public}/files/{comment_file}",  Expect(404, 200,         404,         200,         200,        200)),
        Case("/requests/{private}/files/{private_file}", Expect(404, 200,         404,         200,         200,        200)),
        Case("/requests/{public}/files/{private_file}",  Expect(404, 404,         404,         404,         404,        404)),
    ],
    ("public.attachment_thumbnail", "GET"): [
        Case("/requests/{public}/files/{public_file}/thumbnail",   Expect(200, 200, 200,     200,         200,        200)),
        Case("/requests/{private}/files/{private_file}/thumbnail", Expect(404, 200, 404,     200,         200,        200)),
    ],
    ("tenant.category_questions", "GET"): [
        Case("/tenant/requests/questions",   Expect(SIGN_IN, 200,    200,         200,         403,        403)),
    ],
    ("admin.categories_page", "GET"): [
        Case("/admin/categories",                Expect(SIGN_IN,   403,         403,         403,         403,        200)),
    ],
    ("admin.edit_category", "GET"): [
        Case("/admin/categories/{category}",     Expect(SIGN_IN,   403,         403,         403,         403,        200)),
    ],
    ("admin.save_existing_category", "POST"): [  # an empty form
        Case("/admin/categories/{category}",     Expect(SIGN_IN,   403,         403,         403,         403,        422)),
    ],
    ("admin.questions_page", "GET"): [
        Case("/admin/categories/{category}/questions", Expect(SIGN_IN, 403,     403,         403,         403,        200)),
        Case("/admin/categories/nothing/questions",    Expect(SIGN_IN, 403,     403,         403,         403,        404)),
    ],
    ("admin.add_question", "POST"): [  # an empty form
        Case("/admin/categories/{category}/questions", Expect(SIGN_IN, 403,     403,         403,         403,        422)),
    ],
    ("admin.edit_question", "GET"): [
        Case("/admin/categories/{category}/questions/{question}", Expect(SIGN_IN, 403, 403,  403,         403,        200)),
        Case("/admin/categories/{category}/questions/999999",     Expect(SIGN_IN, 403, 403,  403,         403,        404)),
    ],
    ("admin.save_existing_question", "POST"): [  # an empty form
        Case("/admin/categories/{category}/questions/{question}", Expect(SIGN_IN, 403, 403,  403,         403,        422)),
    ],
    ("admin.toggle_question", "POST"): [  # asked again while asked: nothing changes
        Case("/admin/categories/{category}/questions/{question}/active", Expect(SIGN_IN, 403, 403, 403,   403,        Redirect("/admin/categories/matrix-category/questions")),
             form={"active": "1"}),
    ],
    # Buildings, statuses, companies and users: admins only; empty forms get 422.
    ("admin.buildings_page", "GET"): [
        Case("/admin/buildings",                 Expect(SIGN_IN,   403,         403,         403,         403,        200)),
    ],
    ("admin.new_building", "GET"): [
        Case("/admin/buildings/new",             Expect(SIGN_IN,   403,         403,         403,         403,        200)),
    ],
    ("admin.new_building", "POST"): [
        Case("/admin/buildings/new",             Expect(SIGN_IN,   403,         403,         403,         403,        422)),
    ],
    ("admin.edit_building", "GET"): [
        Case("/admin/buildings/{building_id}",   Expect(SIGN_IN,   403,         403,         403,         403,        200)),
        Case("/admin/buildings/999999",          Expect(SIGN_IN,   403,         403,         403,         403,        404)),
    ],
    ("admin.edit_building", "POST"): [
        Case("/admin/buildings/{building_id}",   Expect(SIGN_IN,   403,         403,         403,         403,        422)),
    ],
    ("admin.statuses_page", "GET"): [
        Case("/admin/statuses",                  Expect(SIGN_IN,   403,         403,         403,         403,        200)),
    ],
    ("admin.add_status", "POST"): [
        Case("/admin/statuses",                  Expect(SIGN_IN,   403,         403,         403,         403,        422)),
    ],
    ("admin.edit_status", "GET"): [
        Case("/admin/statuses/{status}",         Expect(SIGN_IN,   403,         403,         403,         403,        200)),
        Case("/admin/statuses/999999",           Expect(SIGN_IN,   403,         403,         403,         403,        404)),
    ],
    ("admin.edit_status", "POST"): [
        Case("/admin/statuses/{status}",         Expect(SIGN_IN,   403,         403,         403,         403,        422)),
    ],
    ("admin.move_status", "POST"): [  # no direction: nothing moves
        Case("/admin/statuses/{status}/move",    Expect(SIGN_IN,   403,         403,         403,         403,        Redirect("/admin/statuses"))),
    ],
    ("admin.toggle_status", "POST"): [  # brought back while active: nothing changes
        Case("/admin/statuses/{status}/active",  Expect(SIGN_IN,   403,         403,         403,         403,        Redirect("/admin/statuses")),
             form={"active": "1"}),
    ],
    ("admin.delete_status", "POST"): [  # a status in use: refused, with a message on the list
        Case("/admin/statuses/{status}/delete",  Expect(SIGN_IN,   403,         403,         403,         403,        Redirect("/admin/statuses"))),
        Case("/admin/statuses/999999/delete",    Expect(SIGN_IN,   403,         403,         403,         403,        404)),
    ],
    ("admin.tenants_page", "GET"): [
        Case("/admin/companies",                 Expect(SIGN_IN,   403,         403,         403,         403,        200)),
    ],
    ("admin.new_tenant", "GET"): [
        Case("/admin/companies/new",             Expect(SIGN_IN,   403,         403,         403,         403,        200)),
    ],
    ("admin.new_tenant", "POST"): [
        Case("/admin/companies/new",             Expect(SIGN_IN,   403,         403,         403,         403,        422)),
    ],
    ("admin.edit_tenant", "GET"): [
        Case("/admin/companies/{tenant}",        Expect(SIGN_IN,   403,         403,         403,         403,        200)),
        Case("/admin/companies/999999",          Expect(SIGN_IN,   403,         403,         403,         403,        404)),
    ],
    ("admin.edit_tenant", "POST"): [
        Case("/admin/companies/{tenant}",        Expect(SIGN_IN,   403,         403,         403,         403,        422)),
    ],
    ("admin.users_page", "GET"): [
        Case("/admin/users",                     Expect(SIGN_IN,   403,         403,         403,         403,        200)),
    ],
    ("admin.edit_user", "GET"): [
        Case("/admin/users/{outsider}",          Expect(SIGN_IN,   403,         403,         403,         403,        200)),
        Case("/admin/users/999999",              Expect(SIGN_IN,   403,         403,         403,         403,        404)),
    ],
    ("admin.edit_user", "POST"): [
        Case("/admin/users/{outsider}",          Expect(SIGN_IN,   403,         403,         403,         403,        422)),
    ],
    ("admin.response_templates_page", "GET"): [
        Case("/admin/templates",                 Expect(SIGN_IN,   403,         403,         403,         403,        200)),
    ],
    ("admin.add_response_template", "POST"): [  # an empty form
        Case("/admin/templates",                 Expect(SIGN_IN,   403,         403,         403,         403,        422)),
    ],
    ("admin.edit_response_template", "GET"): [
        Case("/admin/templates/999999",          Expect(SIGN_IN,   403,         403,         403,         403,        404)),
    ],
    ("admin.save_existing_response_template", "POST"): [
        Case("/admin/templates/999999",          Expect(SIGN_IN,   403,         403,         403,         403,        404)),
    ],
    ("admin.toggle_response_template", "POST"): [
        Case("/admin/templates/999999/active",   Expect(SIGN_IN,   403,         403,         403,         403,        404),
             form={"active": "1"}),
    ],
    # Channels and the outbox's failed rows: admins only (tests/channels/test_admin.py).
    ("admin.channels_page", "GET"): [
        Case("/admin/channels",                  Expect(SIGN_IN,   403,         403,         403,         403,        200)),
    ],
    ("admin.add_channel", "POST"): [  # an empty form
        Case("/admin/channels",                  Expect(SIGN_IN,   403,         403,         403,         403,        422)),
    ],
    ("admin.edit_channel", "GET"): [
        Case("/admin/channels/999999",           Expect(SIGN_IN,   403,         403,         403,         403,        404)),
    ],
    ("admin.save_existing_channel", "POST"): [
        Case("/admin/channels/999999",           Expect(SIGN_IN,   403,         403,         403,         403,        404)),
    ],
    ("admin.toggle_channel", "POST"): [
        Case("/admin/channels/999999/active",    Expect(SIGN_IN,   403,         403,         403,         403,        404),
             form={"active": "1"}),
    ],
    ("admin.test_channel", "POST"): [
        Case("/admin/channels/999999/test",      Expect(SIGN_IN,   403,         403,         403,         403,        404)),
    ],
    ("admin.outbox_page", "GET"): [
        Case("/admin/outbox",                    Expect(SIGN_IN,   403,         403,         403,         403,        200)),
    ],
    ("admin.retry_outbox_item", "POST"): [
        Case("/admin/outbox/999999/retry",       Expect(SIGN_IN,   403,         403,         403,         403,        404)),
    ],
    # API keys: admins only (tests/web/test_admin_api_keys.py issues, lists and revokes).
    ("admin.api_keys_page", "GET"): [
        Case("/admin/api-keys",                  Expect(SIGN_IN,   403,         403,         403,         403,        200)),
    ],
    ("admin.new_api_key", "GET"): [
        Case("/admin/api-keys/new",              Expect(SIGN_IN,   403,         403,         403,         403,        200)),
    ],
    ("admin.new_api_key", "POST"): [  # an empty form
        Case("/admin/api-keys/new",              Expect(SIGN_IN,   403,         403,         403,         403,        422)),
    ],
    ("admin.api_key_page", "GET"): [
        Case("/admin/api-keys/999999",           Expect(SIGN_IN,   403,         403,         403,         403,        404)),
    ],
    ("admin.revoke_api_key", "POST"): [
        Case("/admin/api-keys/999999/revoke",    Expect(SIGN_IN,   403,         403,         403,         403,        404)),
    ],
    ("admin.jobs_page", "GET"): [
        Case("/admin/jobs",                      Expect(SIGN_IN,   403,         403,         403,         403,        200)),
    ],
    ("admin.job_page", "GET"): [
        Case("/admin/jobs/flag-stale-requests",  Expect(SIGN_IN,   403,         403,         403,         403,        200)),
        Case("/admin/jobs/no-such-job",          Expect(SIGN_IN,   403,         403,         403,         403,        404)),
    ],
    ("admin.run_job_now", "POST"): [  # runs the job (nothing is due) and shows its runs
        Case("/admin/jobs/flag-stale-requests/run", Expect(SIGN_IN, 403,       403,         403,         403,        Redirect("/admin/jobs/flag-stale-requests"))),
        Case("/admin/jobs/no-such-job/run",      Expect(SIGN_IN,   403,         403,         403,         403,        404)),
    ],
    # The sender's "is it fixed?" link (tests/requests/test_follow_up_jobs.py): a link we
    # did not send answers 410 to everyone.
    ("public.fixed_page", "GET"): [
        Case("/fixed/not-a-link-we-sent",        Expect(410,       410,         410,         410,         410,        410)),
    ],
    ("public.answer_fixed_page", "POST"): [
        Case("/fixed/not-a-link-we-sent",        Expect(410,       410,         410,         410,         410,        410),
             form={"answer": "no"}),
    ],
    ("staff.use_response_template", "POST"): [  # no template chosen: the form again
        Case("/staff/requests/{private}/response-template", Expect(SIGN_IN, 403, 403,        403,         422,        422)),
        Case("/staff/requests/{missing}/response-template", Expect(SIGN_IN, 403, 403,        403,         404,        404)),
    ],
    # An update no longer waiting sends staff back to the request (tests/requests/test_scheduled_edit.py)
    ("staff.edit_scheduled_update", "GET"): [
        Case("/staff/requests/{missing}/scheduled/1", Expect(SIGN_IN, 403,     403,         403,         404,        404)),
    ],
    ("staff.save_scheduled_update", "POST"): [
        Case("/staff/requests/{missing}/scheduled/1", Expect(SIGN_IN, 403,     403,         403,         404,        404)),
    ],
    ("staff.cancel_scheduled_update", "POST"): [
        Case("/staff/requests/{missing}/scheduled/1/cancel", Expect(SIGN_IN, 403, 403,       403,         404,        404)),
    ],
    # Feeds are for anyone, and only of public requests: a private request's is a 404 for all.
    ("feeds.updates_feed", "GET"): [
        Case("/feeds/updates.atom",              Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("feeds.category_feed", "GET"): [
        Case("/feeds/categories/{category}.atom", Expect(200,      200,         200,         200,         200,        200)),
        Case("/feeds/categories/nowhere.atom",   Expect(404,       404,         404,         404,         404,        404)),
    ],
    ("feeds.building_feed", "GET"): [
        Case("/feeds/buildings/{building}.atom", Expect(200,       200,         200,         200,         200,        200)),
        Case("/feeds/buildings/NOWHERE.atom",    Expect(404,       404,         404,         404,         404,        404)),
    ],
    ("feeds.request_feed", "GET"): [
        Case("/requests/{public}/updates.atom",  Expect(200,       200,         200,         200,         200,        200)),
        Case("/requests/{private}/updates.atom", Expect(404,       404,         404,         404,         404,        404)),
        Case("/requests/{missing}/updates.atom", Expect(404,       404,         404,         404,         404,        404)),
    ],
    ("feeds.works_calendar", "GET"): [
        Case("/feeds/works.ics",                 Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("feeds.building_works_calendar", "GET"): [
        Case("/feeds/buildings/{building}/works.ics", Expect(200,  200,         200,         200,         200,        200)),
        Case("/feeds/buildings/NOWHERE/works.ics", Expect(404,     404,         404,         404,         404,        404)),
    ],
    ("staff.new_work_page", "GET"): [
        Case("/staff/requests/{private}/works/new", Expect(SIGN_IN, 403,        403,         403,         200,        200)),
        Case("/staff/requests/{missing}/works/new", Expect(SIGN_IN, 403,        403,         403,         404,        404)),
    ],
    ("staff.add_work_view", "POST"): [  # an empty form
        Case("/staff/requests/{private}/works",  Expect(SIGN_IN,   403,         403,         403,         422,        422)),
        Case("/staff/requests/{missing}/works",  Expect(SIGN_IN,   403,         403,         403,         404,        404)),
    ],
    ("staff.edit_work_page", "GET"): [
        Case("/staff/requests/{public}/works/999999", Expect(SIGN_IN, 403,      403,         403,         404,        404)),
    ],
    ("staff.save_work_view", "POST"): [
        Case("/staff/requests/{public}/works/999999", Expect(SIGN_IN, 403,      403,         403,         404,        404)),
    ],
    ("staff.delete_work_view", "POST"): [
        Case("/staff/requests/{public}/works/999999/delete", Expect(SIGN_IN, 403, 403,       403,         404,        404)),
    ],
    ("charging_staff.operators_page", "GET"): [
        Case("/staff/ocpi",                      Expect(SIGN_IN,   403,         403,         403,         403,        200)),
    ],
    ("charging_staff.connect_to_operator", "POST"): [  # an empty form
        Case("/staff/ocpi/connect",              Expect(SIGN_IN,   403,         403,         403,         403,        422)),
    ],
    ("charging_staff.invite_operator", "POST"): [  # an empty form
        Case("/staff/ocpi/invite",               Expect(SIGN_IN,   403,         403,         403,         403,        422)),
    ],
    ("charging_staff.toggle_pull", "POST"): [
        Case("/staff/ocpi/999/pull",             Expect(SIGN_IN,   403,         403,         403,         403,        404)),
    ],
    # E-mail subscriptions: anyone follows public things; links work by their token only.
    ("subscriptions.subscribe_page", "GET"): [
        Case("/subscribe",                       Expect(200,       200,         200,         200,         200,        200)),
        Case("/subscribe?scope=category&id={category}", Expect(200, 200,        200,         200,         200,        200)),
        Case("/subscribe?scope=request&id={public}",    Expect(200, 200,        200,         200,         200,        200)),
        Case("/subscribe?scope=request&id={private}",   Expect(404, 404,        404,         404,         404,        404)),
    ],
    ("subscriptions.subscribe_page", "POST"): [  # no such frequency: the form again
        Case("/subscribe",                       Expect(422,       422,         422,         422,         422,        422),
             form={"scope": "everything", "frequency": "hourly"}),
    ],
    ("subscriptions.confirm", "GET"): [
        Case("/subscriptions/confirm/nope",      Expect(404,       404,         404,         404,         404,        404)),
    ],
    ("subscriptions.confirm", "POST"): [
        Case("/subscriptions/confirm/nope",      Expect(404,       404,         404,         404,         404,        404)),
    ],
    ("subscriptions.unsubscribe", "GET"): [
        Case("/subscriptions/unsubscribe/nope",  Expect(404,       404,         404,         404,         404,        404)),
    ],
    ("subscriptions.unsubscribe", "POST"): [  # idempotent: none left is the same as done
        Case("/subscriptions/unsubscribe/nope",  Expect(200,       200,         200,         200,         200,        200)),
    ],
    ("subscriptions.account_page", "GET"): [
        Case("/account/subscriptions",           Expect(SIGN_IN,   200,         200,         200,         200,        200)),
    ],
    ("subscriptions.change_subscription", "POST"): [  # nobody's subscription
        Case("/account/subscriptions/999999",    Expect(SIGN_IN,   404,         404,         404,         404,        404),
             form={"frequency": "daily"}),
    ],
    ("subscriptions.end_subscription", "POST"): [
        Case("/account/subscriptions/999999/delete", Expect(SIGN_IN, 404,       404,         404,         404,        404)),
    ],
}
# fmt: on

IGNORED_METHODS = {"HEAD", "OPTIONS"}
VARIANTS = {
    "plain": {},
    "htmx": {"HX-Request": "true"},
    "json": {"Accept": "application/json"},
}


def _routes_of(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - IGNORED_METHODS
    }


def test_every_route_has_a_row(app):
    missing = sorted(_routes_of(app) - ROUTES.keys())
    assert not missing, (
        "routes without a row in ROUTES (tests/web/test_route_matrix.py): "
        + ", ".join(f"{endpoint} {method}" for endpoint, method in missing)
        + ". Add one saying what each persona gets."
    )


def test_every_row_is_a_route(app):
    stale = sorted(ROUTES.keys() - _routes_of(app))
    assert not stale, "rows in ROUTES for routes the app no longer has: " + ", ".join(
        f"{endpoint} {method}" for endpoint, method in stale
    )


@dataclass
class World:
    clients: dict[str, object]
    tokens: dict[str, str]
    references: dict[str, str]


@pytest.fixture
def world(app, db) -> World:
    """The six personas, each signed in once on its own client, and two requests of company A."""
    member_a = factories.user(db, password=None)
    users = {
        "member_a": member_a,
        "member_b": factories.user(db, password=None),
        "tenant_admin_a": factories.user(
            db, role=Role.tenant_admin, tenant_id=member_a.tenant_id, password=None
        ),
        "staff": factories.staff(db, password=None),
        "admin": factories.user(db, role=Role.admin, password=None),
    }
    for user in users.values():
        user.password_hash = QUICK_HASH
    public_request = factories.service_request(db, submitter=member_a, title="A public idea")
    private_request = factories.service_request(db, submitter=member_a, title="A private fault")
    private_request.visibility = Visibility.private
    public_file = factories.attachment(db, public_request)
    comment = add_comment(
        db, author=member_a, service_request=public_request, body="A photo for staff", now=utcnow()
    )
    comment_file = factories.attachment(db, public_request, entry=comment)
    private_file = factories.attachment(db, private_request)
    category = factories.category(db, slug="matrix-category")
    question = factories.question(db, category)
    charger = factories.charger(db)
    removed = factories.charger(db, lifecycle=ChargerLifecycle.removed)
    interest = ChargingInterest(
        tenant_id=factories.tenant(db).id, building_id=charger.building_id, vehicles=3
    )
    db.add(interest)
    db.commit()
    assert public_request.visibility == Visibility.public

    clients, tokens = {}, {}
    for number, persona in enumerate(PERSONAS, start=10):
        client = app.test_client()
        # Each persona has its own address, so sign-in attempts do not share a rate limit.
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{number}"
        if persona in users:
            sign_in(client, users[persona].email)
        clients[persona] = client
        tokens[persona] = csrf_token(client)
    return World(
        clients=clients,
        tokens=tokens,
        references={
            "public": public_request.reference,
            "private": private_request.reference,
            "missing": "DP-1999-9999",
            "charger": charger.code,
            "removed": removed.code,
            "building": db.get(Building, charger.building_id).code,
            "interest": str(interest.id),
            "outsider": str(users["member_b"].id),
            "public_file": str(public_file.id),
            "comment_file": str(comment_file.id),
            "private_file": str(private_file.id),
            "category": category.slug,
            "question": str(question.id),
            "building_id": str(charger.building_id),
            "status": str(public_request.status_id),
            "tenant": str(member_a.tenant_id),
        },
    )


def _mismatch(response, expected: Expected, path: str, variant: str) -> str | None:
    """What is wrong with `response`, or None when it is what the table says."""
    got = f"{response.status_code} {response.headers.get('Location') or ''}".strip()
    if expected == SIGN_IN:
        login = f"/login?next={path}"
        if variant == "plain":
            ok = response.status_code == 302 and response.headers.get("Location") == login
            want = f"302 {login}"
        elif variant == "htmx":
            ok = response.status_code == 401 and response.headers.get("HX-Redirect") == login
            want = f"401 with HX-Redirect {login}"
            got += f" HX-Redirect={response.headers.get('HX-Redirect')}"
        else:
            body = response.get_json(silent=True) or {}
            ok = response.status_code == 401 and body.get("error") == "unauthorized"
            want = "401 JSON unauthorized"
            got += f" {response.content_type}"
    elif isinstance(expected, Redirect):
        ok = response.status_code == 302 and response.headers.get("Location") == expected.location
        want = f"302 {expected.location}"
    else:
        ok = response.status_code == expected
        want = str(expected)
        if ok and variant == "json" and expected in (403, 404):
            ok = response.is_json
            want, got = f"{expected} as JSON", f"{got} {response.content_type}"
    return None if ok else f"want {want}, got {got}"


@pytest.mark.parametrize("route", sorted(ROUTES), ids=lambda route: f"{route[1]} {route[0]}")
def test_route_answers_each_persona_as_the_table_says(world, route):
    _endpoint, method = route
    failures = []
    for case in ROUTES[route]:
        path = case.path.format(**world.references)
        for persona, expected in zip(PERSONAS, case.expect, strict=True):
            client = world.clients[persona]
            for variant, headers in VARIANTS.items():
                if method == "POST":
                    data = {**case.form, "csrf_token": world.tokens[persona]}
                    response = client.post(path, data=data, headers=headers)
                else:
                    response = client.get(path, headers=headers)
                problem = _mismatch(response, expected, path, variant)
                if problem:
                    failures.append(f"{method} {case.path} as {persona} ({variant}): {problem}")
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)
