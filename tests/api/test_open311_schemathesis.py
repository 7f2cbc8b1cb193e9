"""The Open311 API against its own OpenAPI document, with schemathesis in-process.

Every operation of /api/openapi.json gets generated calls (positive and negative, a few
dozen each, derandomised so CI sees the same ones) on a park with public and private
requests, categories with questions, a building and a key that may read and send. Each
answer must be no server error, a status, content type and body the document declares,
and must never carry a private request's reference. A share of the calls is steered to
what exists (a real service_code, request id, token, a valid api_key): random strings
alone would only ever reach the 404s and 403s.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session, col, select

from facilities.accounts import api_keys
from facilities.api.open311 import openapi
from facilities.core.db import get_engine
from facilities.park.models import Visibility
from facilities.requests.models import ServiceRequest
from tests import factories
from tests.conftest import IsolatedClient, make_test_app, template_copy

V2 = "/api/open311/v2"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Small and reproducible: the whole file runs in well under a minute on either database.
pytestmark = pytest.mark.timeout(120)  # each operation takes seconds; a hang fails fast


@dataclass
class Park:
    key: str
    service_codes: list[str]
    public_reference: str
    tokens: list[str]
    # calls counted per operation, so that which are steered does not depend on which
    # operations ran before (xdist hands them to workers as it likes)
    turns: dict[str, Iterator[int]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def shared_database_url(database_template, tmp_path_factory) -> Iterator[str]:
    """One copy of the migrated template for the whole file (conftest's is per test):
    each operation's calls build on the park and on what earlier POSTs sent, and a new
    PostgreSQL database per operation would cost more than the calls themselves."""
    with template_copy(database_template, tmp_path_factory.mktemp("schemathesis")) as url:
        yield url


@pytest.fixture(scope="module")
def app(shared_database_url):
    """The suite's app with a reading limit no run reaches: schemathesis calls faster than
    any client may (the limits have their own tests in test_open311.py)."""
    app = make_test_app(shared_database_url, api_read_limit="100000 per minute")
    app.test_client_class = IsolatedClient
    yield app
    get_engine(app).dispose()


def private_references(app) -> set[str]:
    """Every private request's reference now, those the run's POSTs made included."""
    with app.app_context(), Session(get_engine(app)) as session:
        return set(
            session.exec(
                select(ServiceRequest.reference).where(
                    col(ServiceRequest.visibility) == Visibility.private
                )
            ).all()
        )


@pytest.fixture(scope="module")
def park(app) -> Park:
    """A building, a public category with questions, a private one, a public and a private
    request, a key with read and submit, and a token of each kind from the API itself."""
    client = app.test_client()
    with app.app_context(), Session(get_engine(app), expire_on_commit=False) as db:
        arranged = factories.open311_park(db, rate_limit_per_minute=api_keys.MAX_RATE_LIMIT)
        db.commit()
        raw, public_reference = arranged.raw, arranged.public.reference
    definition = client.get(f"{V2}/services/ev-charging.json").get_json()
    (spaces,) = [item for item in definition["attributes"] if item["code"] == "spaces"]
    tokens = []
    for code, description, answers in (
        ("ev-charging", "Two more chargers", {"attribute[spaces]": spaces["values"][0]["key"]}),
        ("security", "A door that does not lock", {}),
    ):
        response = client.post(
            f"{V2}/requests.json",
            data={
                "api_key": raw,
                "service_code": code,
                "description": description,
                "address_id": "SENSORI",
                **answers,
            },
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        tokens.append(response.get_json()[0]["token"])
    assert len(private_references(app)) == 2  # the lock, and the door sent just now
    return Park(
        key=raw,
        service_codes=["ev-charging", "security"],
        public_reference=public_reference,
        tokens=tokens,
    )


# The document as /api/openapi.json serves it to a test client (whose host is localhost),
# read at collection so that each operation is a test of its own; the first test below
# checks that the served document is this one. (schemathesis.pytest.from_fixture, which
# would load it from the app fixture, reads Node._nodeid, which pytest 9 no longer has.)
SERVER = "http://localhost"
schema = schemathesis.openapi.from_dict(openapi.document(server_url=SERVER))


def test_the_document_tested_is_the_one_served(client):
    assert client.get("/api/openapi.json").get_json() == openapi.document(server_url=SERVER)


def _steer(case: Any, park: Park, private: list[str]) -> None:
    """Every other call: values that exist in place of the random ones (in turn a real
    one, or a private one that must stay hidden); in a POST a valid key."""
    turn = next(park.turns.setdefault(case.operation.label, itertools.count()))
    if turn % 2:
        return
    pick = turn // 2
    path = case.path_parameters or {}
    if "service_code" in path:
        path["service_code"] = park.service_codes[pick % len(park.service_codes)]
    if "service_request_id" in path:
        path["service_request_id"] = [park.public_reference, *private][pick % (1 + len(private))]
    if "token" in path:
        path["token"] = park.tokens[pick % len(park.tokens)]
    if case.query and "service_request_id" in case.query:
        case.query["service_request_id"] = ",".join([park.public_reference, *private])
    if case.query and "api_key" in case.query:
        case.query["api_key"] = park.key
    if case.method == "POST" and isinstance(case.body, dict):
        case.body["api_key"] = park.key
        case.body["service_code"] = park.service_codes[pick % len(park.service_codes)]
        # one sender per call: the web form's limit per person (10 an hour) is not the point
        case.body["email"] = f"sender{turn}@example.fi"


def _sent(case: Any) -> str:
    """What the call carried, to tell a leak from an echo of the caller's own input."""
    return json.dumps(
        [case.path_parameters, case.query, case.body], default=str, ensure_ascii=False
    )


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,  # nothing kept between runs: CI and a laptop see the same calls
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_document_says(case, app, client, park):
    private = sorted(private_references(app))
    _steer(case, park, private)
    # the suite's client: each call in fresh context variables, as a server runs it; plain
    # bodies, as an HTTP client hands them over after taking off the transfer's compression
    response = case.call_and_validate(
        app=app, session=client, headers={"Accept-Encoding": "identity"}, checks=CHECKS
    )
    body = response.text
    sent = _sent(case)
    for reference in private_references(app):
        # a 2xx never names one; an error may repeat only what the caller sent
        if 200 <= response.status_code < 300 or reference not in sent:
            assert reference not in body, (
                f"private request {reference} in the answer to "
                f"{case.method} {case.formatted_path} {case.query or ''}"
            )


def test_the_park_is_what_the_checks_need(app, client, park):
    """The steering values are real: the public request and the services are listed, the
    private requests are not, and the tokens answer."""
    listed = client.get(f"{V2}/requests.json").get_data(as_text=True)
    assert park.public_reference in listed
    private = private_references(app)
    assert private and not any(reference in listed for reference in private)
    services = client.get(f"{V2}/services.json").get_json()
    assert {service["service_code"] for service in services} >= set(park.service_codes)
    for token in park.tokens:
        assert client.get(f"{V2}/tokens/{token}.json").status_code == 200
    for reference in private:
        assert client.get(f"{V2}/requests/{reference}.json").status_code == 404
