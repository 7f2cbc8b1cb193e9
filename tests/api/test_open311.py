"""Open311 GeoReport v2: the shapes of the specification's examples, the park's rules
(public requests only, keys, limits), and bad input answered as the spec's errors.

The EXAMPLE_* documents are the specification's own examples
(http://wiki.open311.org/GeoReport_v2); our answers must carry the same fields, in the
same XML structure, whatever the values.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlmodel import select

from facilities.accounts import api_keys
from facilities.accounts.models import ApiKeyUse, ApiScope, Role
from facilities.core.db import get_engine
from facilities.core.models import utcnow
from facilities.park.models import Visibility
from facilities.requests.models import RequestSource, ServiceRequest
from tests import factories
from tests.conftest import count_queries

V2 = "/api/open311/v2"

EXAMPLE_SERVICES_XML = """<?xml version="1.0" encoding="utf-8"?>
<services>
  <service>
    <service_code>001</service_code>
    <service_name>Cans left out 24x7</service_name>
    <description>Garbage or recycling cans that have been left out for more than 24 hours after collection. Violators will be cited.</description>
    <metadata>true</metadata>
    <type>realtime</type>
    <keywords>lorem, ipsum, dolor</keywords>
    <group>sanitation</group>
  </service>
</services>"""

EXAMPLE_DEFINITION_JSON = {
    "service_code": "DMV66",
    "attributes": [
        {
            "variable": True,
            "code": "WHISHETN",
            "datatype": "singlevaluelist",
            "required": True,
            "datatype_description": None,
            "order": 1,
            "description": "What is the ticket/tag/DL number?",
            "values": [
                {"key": "123", "name": "Ford"},
                {"key": "124", "name": "Chrysler"},
            ],
        }
    ],
}

EXAMPLE_DEFINITION_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_definition>
  <service_code>DMV66</service_code>
  <attributes>
    <attribute>
      <variable>true</variable>
      <code>WHISHETN</code>
      <datatype>singlevaluelist</datatype>
      <required>true</required>
      <datatype_description></datatype_description>
      <order>1</order>
      <description>What is the ticket/tag/DL number?</description>
      <values>
        <value><key>123</key><name>Ford</name></value>
        <value><key>124</key><name>Chrysler</name></value>
      </values>
    </attribute>
  </attributes>
</service_definition>"""

EXAMPLE_REQUEST_JSON = {
    "service_request_id": 638344,
    "status": "closed",
    "status_notes": "Duplicate request.",
    "service_name": "Sidewalk and Curb Issues",
    "service_code": "006",
    "description": None,
    "agency_responsible": None,
    "service_notice": None,
    "requested_datetime": "2010-04-14T06:37:38-08:00",
    "updated_datetime": "2010-04-14T06:37:38-08:00",
    "expected_datetime": "2010-04-15T06:37:38-08:00",
    "address": "8TH AVE and JUDAH ST",
    "address_id": 545483,
    "zipcode": 94122,
    "lat": 37.762221815,
    "long": -122.4651145,
    "media_url": "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg",
}

# The example POST of the specification, in the park's terms (its values are San
# Francisco's; ours are Kemi's) with the same parameters.
EXAMPLE_POST = {
    "service_code": "ev-charging",
    "lat": "65.7369",
    "long": "24.5637",
    "address_string": "Sensorintie 1, 94600 Kemi",
    "email": "smit222@sfgov.example",
    "device_id": "tt222111",
    "account_id": "123456",
    "first_name": "john",
    "last_name": "smith",
    "phone": "111111111",
    "description": "A large sinkhole is forming in the intersection",
    "media_url": "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg",
}
EXAMPLE_POST_ANSWER = [
    {
        "service_request_id": 293944,
        "service_notice": "The City will inspect and require the responsible party to correct "
        "within 24 hours and/or issue a Correction Notice or Notice of Violation of the Public "
        "Works Code",
        "account_id": None,
    }
]
EXAMPLE_TOKEN_ANSWER = [{"service_request_id": 638344, "token": "12345"}]
EXAMPLE_ERRORS = [
    {"code": 403, "description": "Invalid api_key received -- can't proceed with create_request."}
]
EXAMPLE_ERRORS_XML = """<?xml version="1.0" encoding="utf-8"?>
<errors>
  <error>
    <code>403</code>
    <description>Invalid api_key received -- can't proceed with create_request.</description>
  </error>
</errors>"""
EXAMPLE_DISCOVERY = {
    "changeset": "2011-02-03 14:32",
    "contact": "You can email or call for assistance api@mycity.org +1 (555) 555-5555",
    "key_service": "You can request a key here: http://api.mycity.gov/api_key/request",
    "endpoints": [
        {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": "http://open311.sfgov.org/dev/v2",
            "changeset": "2010-11-23 09:01",
            "type": "test",
            "formats": ["text/xml", "application/json"],
        }
    ],
}


def structure(element: ET.Element) -> tuple:
    """An XML element's shape: its tag and its children's shapes, values left out;
    repeated siblings count once."""
    children: list[tuple] = []
    for child in element:
        shape = structure(child)
        if shape not in children:
            children.append(shape)
    return (element.tag, tuple(children))


@pytest.fixture
def park(db) -> factories.Open311Park:
    found = factories.open311_park(db)
    db.commit()
    return found


def english(client, url: str, **kwargs):
    return client.get(url, headers={"Accept-Language": "en"}, **kwargs)


# --- shapes of the specification's examples ------------------------------------------


def test_services_have_the_example_fields_in_json_and_the_example_structure_in_xml(client, park):
    answer = english(client, f"{V2}/services.json")
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    services = answer.get_json()
    charging = next(s for s in services if s["service_code"] == "ev-charging")
    example = ET.fromstring(EXAMPLE_SERVICES_XML.encode())
    assert set(charging) == {child.tag for child in example[0]}
    assert charging["service_name"] == "EV charging"
    assert charging["metadata"] is True  # it asks a question
    assert charging["type"] == "realtime"
    assert "ev" in charging["keywords"] and "Sähköautojen lataus" in charging["keywords"]
    security = next(s for s in services if s["service_code"] == "security")
    assert security["type"] == "batch" and security["metadata"] is False

    xml = english(client, f"{V2}/services.xml")
    assert xml.mimetype == "text/xml"
    assert xml.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert structure(ET.fromstring(xml.data)) == structure(example)


def test_a_service_definition_matches_the_example_in_both_formats(client, park):
    answer = english(client, f"{V2}/services/ev-charging.json").get_json()
    assert set(answer) == set(EXAMPLE_DEFINITION_JSON)
    attribute, _note = answer["attributes"]
    assert set(attribute) == set(EXAMPLE_DEFINITION_JSON["attributes"][0])
    assert attribute["code"] == "spaces"
    assert attribute["datatype"] == "singlevaluelist"
    assert attribute["description"] == "How many spaces?"
    assert [value["name"] for value in attribute["values"]] == ["Two", "Four"]
    assert all(isinstance(value["key"], str) for value in attribute["values"])

    xml = ET.fromstring(english(client, f"{V2}/services/ev-charging.xml").data)
    example = ET.fromstring(EXAMPLE_DEFINITION_XML.encode())
    assert xml.tag == example.tag
    assert [child.tag for child in xml] == [child.tag for child in example]
    # the choice question has the example's shape, values and all
    assert structure(xml.find("attributes/attribute")) == structure(
        example.find("attributes/attribute")
    )


def test_a_request_has_the_example_fields_from_the_park(client, db, park):
    public = park["public"]
    staff = factories.staff(db)
    factories.triage(
        db,
        public,
        actor=staff,
        to="planned",
        target_quarter="2027-Q2",
        public_update="Two chargers in spring.",
    )
    factories.attachment(db, public)
    db.commit()

    (found,) = english(client, f"{V2}/requests/{public.reference}.json").get_json()
    assert set(found) == set(EXAMPLE_REQUEST_JSON)
    assert found["service_request_id"] == public.reference
    assert found["status"] == "open"
    assert found["status_notes"].endswith("Two chargers in spring.")
    assert found["expected_datetime"] == "2027-06-30T23:59:59+03:00"  # summer time in Kemi
    assert found["address"] == "Tietokatu 6, 94600 Kemi"
    assert found["address_id"] == "SENSORI"
    assert found["zipcode"] == "94600"
    assert (found["lat"], found["long"]) == (65.7369, 24.5637)
    assert found["requested_datetime"].endswith(("+02:00", "+03:00"))
    photo = client.get(found["media_url"].removeprefix("http://localhost"))
    assert photo.status_code == 200 and photo.mimetype == "image/png"

    xml = ET.fromstring(client.get(f"{V2}/requests/{public.reference}.xml").data)
    assert xml.tag == "service_requests"
    assert {child.tag for child in xml[0]} == set(EXAMPLE_REQUEST_JSON)


def test_discovery_has_the_example_fields(client, park):
    answer = client.get(f"{V2}/discovery.json").get_json()
    assert set(answer) == set(EXAMPLE_DISCOVERY)
    assert set(answer["endpoints"][0]) == set(EXAMPLE_DISCOVERY["endpoints"][0])
    assert answer["endpoints"][0]["url"] == "http://localhost/api/open311/v2"
    xml = ET.fromstring(client.get(f"{V2}/discovery.xml").data)
    assert [f.text for f in xml.find("endpoints/endpoint/formats")] == [
        "text/xml",
        "application/json",
    ]


# --- sending a request ----------------------------------------------------------------


def test_the_example_post_lands_in_the_queue_marked_with_its_client(client, db, park):
    definition = client.get(f"{V2}/services/ev-charging.json").get_json()
    four = definition["attributes"][0]["values"][1]["key"]
    answer = client.post(
        f"{V2}/requests.json",
        data={**EXAMPLE_POST, "api_key": park["raw"], "attribute[spaces]": four},
    )
    assert answer.status_code == 201, answer.data
    (created,) = answer.get_json()
    assert set(EXAMPLE_POST_ANSWER[0]) <= set(created)
    assert created["account_id"] == "123456"
    stored = db.exec(
        select(ServiceRequest).where(ServiceRequest.reference == created["service_request_id"])
    ).one()
    assert stored.source == RequestSource.api
    assert stored.api_key_id == park["key"].id
    assert stored.building_id == park["sensori"].id  # the pin is at Sensori
    assert stored.title == "A large sinkhole is forming in the intersection"
    assert stored.answers == {"spaces": four}
    assert stored.contact["email"] == "smit222@sfgov.example"
    assert stored.location_note == "Sensorintie 1, 94600 Kemi"
    assert answer.headers["Location"].endswith(f"/requests/{stored.reference}.json")

    # the token gives the id back, as the specification's token example shows
    (by_token,) = client.get(f"{V2}/tokens/{created['token']}.json").get_json()
    assert set(by_token) == set(EXAMPLE_TOKEN_ANSWER[0])
    assert by_token["service_request_id"] == stored.reference

    # staff see it in the queue, by source
    staff = factories.user(db, role=Role.staff, preferred_language="en")
    db.commit()
    from tests.conftest import sign_in

    sign_in(client, staff.email)
    queue = client.get("/staff/queue?source=api").get_data(as_text=True)
    assert stored.reference in queue


def test_a_private_category_answers_with_a_token_only(client, db, park):
    answer = client.post(
        f"{V2}/requests.xml",
        data={
            "api_key": park["raw"],
            "service_code": "security",
            "address_id": "sensori",
            "description": "The back door of Sensori does not lock",
        },
    )
    assert answer.status_code == 201
    created = ET.fromstring(answer.data)[0]
    assert created.find("service_request_id") is None
    token = created.find("token").text
    stored = db.exec(select(ServiceRequest).where(ServiceRequest.api_token == token)).one()
    assert stored.visibility == Visibility.private
    assert stored.reference.encode() not in answer.data
    (by_token,) = client.get(f"{V2}/tokens/{token}.json").get_json()
    assert by_token == {"service_request_id": None, "token": token}


# --- bad input: the right 4xx with a description ------------------------------------


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"service_code": "potholes"}, 400, "Unknown service_code potholes"),
        ({"service_code": ""}, 400, "service_code is required"),
        ({"lat": "", "long": "", "address_string": ""}, 400, "A location is required"),
        ({"long": ""}, 400, "both lat and long"),
        ({"lat": "north"}, 400, "lat must be a number"),
        ({"lat": "60.1699", "long": "24.9384"}, 400, "not in the park"),  # Helsinki
        ({"address_id": "NOWHERE", "lat": "", "long": ""}, 400, "not one of the park's buildings"),
        ({"description": ""}, 400, "description is required"),
        ({"description": "Hm"}, 400, "description:"),
        ({"description": "x" * 4001}, 400, "at most 4000"),
        ({"email": "not-an-address"}, 400, "email is not an e-mail address"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"attribute[spaces]": "three"}, 400, "attribute[spaces]"),
        ({"jurisdiction_id": "HELSINKI"}, 404, "Unknown jurisdiction_id"),
    ],
)
def test_bad_new_requests_get_a_4xx_that_says_why_and_nothing_is_kept(
    client, db, park, changes, status, words
):
    before = len(db.exec(select(ServiceRequest.id)).all())
    answer = client.post(
        f"{V2}/requests.json",
        data={**EXAMPLE_POST, "api_key": park["raw"], **changes},
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == status, answer.data
    (error,) = answer.get_json()
    assert error["code"] == status
    assert words in error["description"]
    assert len(db.exec(select(ServiceRequest.id)).all()) == before


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("start_date=yesterday", "start_date is not a date and time"),
        ("end_date=2026-13-01", "end_date is not a date and time"),
        ("start_date=2026-11-01&end_date=2026-10-01", "end_date is before start_date"),
        ("start_date=2026-01-01&end_date=2026-11-01", "at most 90 days apart"),
        ("status=pending", "status must be open, closed"),
        ("page=0", "page must be a whole number"),
        ("page_size=5000", "page_size must be a whole number"),
    ],
)
def test_bad_list_filters_get_a_400_in_both_formats(client, park, query, words):
    answer = english(client, f"{V2}/requests.json?{query}")
    assert answer.status_code == 400
    assert words in answer.get_json()[0]["description"]
    xml = english(client, f"{V2}/requests.xml?{query}")
    assert xml.status_code == 400 and xml.mimetype == "text/xml"
    error = ET.fromstring(xml.data)
    assert structure(error) == structure(ET.fromstring(EXAMPLE_ERRORS_XML.encode()))
    assert words in error.find("error/description").text


@pytest.mark.parametrize(
    "name",
    [
        "start_date",
        "end_date",
        "service_request_id",
        "service_code",
        "status",
        "page",
        "page_size",
        "jurisdiction_id",
    ],
)
def test_an_empty_filter_is_a_400_that_names_it_not_a_filter_left_out(client, park, name):
    another = "page=1" if name != "page" else "status=open"
    for query in (f"{name}=", f"{name}=%20", f"{another}&{name}="):
        answer = english(client, f"{V2}/requests.json?{query}")
        assert answer.status_code == 400, (query, answer.data)
        (error,) = answer.get_json()
        assert error["code"] == 400 and error["description"].startswith(f"{name} is empty")
    xml = english(client, f"{V2}/requests.xml?{name}=")
    assert xml.status_code == 400
    assert ET.fromstring(xml.data).find("error/description").text.startswith(f"{name} is empty")


def test_an_empty_jurisdiction_id_is_refused_on_every_resource(client, park):
    for path in ("services.json", "services/ev-charging.json", "requests/DP-2026-0001.json"):
        answer = english(client, f"{V2}/{path}?jurisdiction_id=")
        assert answer.status_code == 400, path
        assert "jurisdiction_id is empty" in answer.get_json()[0]["description"]


def test_keys_bad_revoked_or_without_the_scope_are_refused_with_403(client, db, park):
    def post(key: str | None):
        data = dict(EXAMPLE_POST)
        if key is not None:
            data["api_key"] = key
        return client.post(f"{V2}/requests.json", data=data, headers={"Accept-Language": "en"})

    missing = post(None)
    assert missing.status_code == 403
    assert set(missing.get_json()[0]) == set(EXAMPLE_ERRORS[0])
    assert "An api_key is needed" in missing.get_json()[0]["description"]
    assert "not valid" in post("fac_made-up").get_json()[0]["description"]

    _reader, reader_raw = api_keys.issue_key(
        db,
        admin=park["admin"],
        data=api_keys.ApiKeyCreate(name="News channel", scopes=[ApiScope.read]),
    )
    db.commit()
    assert "lacks the submit scope" in post(reader_raw).get_json()[0]["description"]

    api_keys.revoke_key(db, admin=park["admin"], key=park["key"])
    db.commit()
    revoked = post(park["raw"])
    assert revoked.status_code == 403 and "revoked" in revoked.get_json()[0]["description"]
    # a revoked key is refused for reading too, not taken for an anonymous reader
    assert client.get(f"{V2}/services.json?api_key={park['raw']}").status_code == 403


def test_a_key_over_its_limit_gets_429_with_retry_after(client, db, park):
    _key, raw = api_keys.issue_key(
        db,
        admin=park["admin"],
        data=api_keys.ApiKeyCreate(name="Eager", scopes=[ApiScope.read], rate_limit_per_minute=3),
    )
    db.commit()
    answers = [english(client, f"{V2}/services.json?api_key={raw}") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert "at most 3 in 60 seconds" in answers[-1].get_json()[0]["description"]
    # another key, and anonymous readers, are not held back by it
    assert client.get(f"{V2}/services.json?api_key={park['raw']}").status_code == 200
    assert client.get(f"{V2}/services.json").status_code == 200


def test_new_requests_follow_the_web_forms_limit_per_person(client, db, park):
    statuses = []
    for number in range(11):
        answer = client.post(
            f"{V2}/requests.json",
            data={
                **EXAMPLE_POST,
                "api_key": park["raw"],
                "description": f"Request number {number} about the chargers",
            },
        )
        statuses.append(answer.status_code)
    assert statuses == [201] * 10 + [429]
    # someone else sending through the same client is not held back
    other = client.post(
        f"{V2}/requests.json",
        data={**EXAMPLE_POST, "api_key": park["raw"], "email": "someone.else@kemi.example"},
    )
    assert other.status_code == 201


def test_anonymous_readers_are_limited_per_address(database_url):
    from tests.conftest import make_test_app

    app = make_test_app(database_url, api_read_limit="2 per minute")
    client = app.test_client()
    statuses = [client.get(f"{V2}/services.json").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    get_engine(app).dispose()


def test_unknown_paths_and_methods_under_the_api_answer_in_its_format(client, park):
    missing = client.get(f"{V2}/potholes.json")
    assert missing.status_code == 404 and missing.mimetype == "application/json"
    assert missing.get_json()[0]["code"] == 404
    as_xml = client.get(f"{V2}/requests/DP-1999-0001.xml")
    assert as_xml.status_code == 404
    assert ET.fromstring(as_xml.data).tag == "errors"
    wrong = client.delete(f"{V2}/requests.json")
    assert wrong.status_code == 405 and wrong.get_json()[0]["code"] == 405
    assert "GET" in wrong.headers["Allow"]
    unknown = client.get(f"{V2}/services/potholes.json")
    assert unknown.status_code == 404 and "potholes" in unknown.get_json()[0]["description"]


# --- only public requests, ever -------------------------------------------------------


def test_a_private_request_is_never_returned(client, db, park):
    private = park["private"]
    reference = private.reference
    everything = [
        client.get(f"{V2}/requests.json"),
        client.get(f"{V2}/requests.xml"),
        client.get(f"{V2}/requests.json?service_request_id={reference}"),
        client.get(f"{V2}/requests.json?service_code=security"),
        client.get(f"{V2}/requests.json?status=open,closed"),
        client.get(f"{V2}/requests/{reference}.json"),
        client.get(f"{V2}/requests/{reference}.xml"),
        client.get(f"{V2}/requests.json?api_key={park['raw']}"),
    ]
    for answer in everything:
        assert reference.encode() not in answer.data or answer.status_code == 404
        assert b"A broken lock" not in answer.data
    assert everything[5].status_code == 404
    listed = [r["service_request_id"] for r in everything[0].get_json()]
    assert listed == [park["public"].reference]


def test_filters_of_the_specification(client, db, park):
    charging, public = park["charging"], park["public"]
    other = factories.category(db, slug="lighting", names={"fi": "Valaistus", "en": "Lighting"})
    old = factories.service_request(db, category_=other, now=utcnow() - timedelta(days=120))
    done = factories.service_request(db, category_=other, title="Lamp fixed at the door")
    factories.triage(db, done, actor=factories.staff(db), to="done", public_update="Fixed.")
    db.commit()

    def ids(query: str) -> list[str]:
        answer = client.get(f"{V2}/requests.json?{query}")
        assert answer.status_code == 200, answer.data
        return [r["service_request_id"] for r in answer.get_json()]

    assert set(ids("")) == {public.reference, done.reference}  # the last 90 days
    assert ids("service_code=ev-charging") == [public.reference]
    assert ids(f"service_code={charging.slug},lighting") == [done.reference, public.reference]
    assert ids("status=closed") == [done.reference]
    assert ids("status=open") == [public.reference]
    start = (utcnow() - timedelta(days=150)).date().isoformat()
    end = (utcnow() - timedelta(days=100)).date().isoformat()
    assert ids(f"start_date={start}&end_date={end}") == [old.reference]
    # service_request_id wins over the other filters
    assert ids(f"service_request_id={old.reference.lower()}&status=closed") == [old.reference]


def test_the_list_pages_with_a_link_to_the_next(client, db, park):
    for number in range(4):
        factories.service_request(db, category_=park["charging"], title=f"Charger idea {number}")
    db.commit()
    first = client.get(f"{V2}/requests.json?page_size=2")
    assert len(first.get_json()) == 2
    next_url = first.headers["Link"].split(";")[0].strip("<>")
    assert "page=2" in next_url and "page_size=2" in next_url
    seen = [r["service_request_id"] for r in first.get_json()]
    page = 2
    while True:
        answer = client.get(f"{V2}/requests.json?page_size=2&page={page}")
        seen += [r["service_request_id"] for r in answer.get_json()]
        if "Link" not in answer.headers:
            break
        page += 1
    assert len(seen) == len(set(seen)) == 5


def test_the_list_runs_the_same_queries_whatever_the_number_of_requests(app, client, db, park):
    def queries_for_list() -> int:
        db.commit()
        with count_queries(get_engine(app)) as statements:
            answer = client.get(f"{V2}/requests.json?page_size=100")
        assert answer.status_code == 200
        return len(statements)

    few = queries_for_list()
    for number in range(30):
        item = factories.service_request(db, category_=park["charging"], title=f"Idea {number}")
        factories.attachment(db, item)
    many = queries_for_list()
    assert many == few
    # asked again before anything changes, the answer is kept (its queries not run again)
    assert queries_for_list() < few


def test_every_use_of_a_key_is_kept_without_the_key(client, db, park):
    raw = park["raw"]
    client.get(f"{V2}/services.json?api_key={raw}")
    client.post(f"{V2}/requests.json", data={**EXAMPLE_POST, "api_key": raw})
    client.post(f"{V2}/requests.json", data={**EXAMPLE_POST, "api_key": raw, "lat": "x"})
    uses = db.exec(
        select(ApiKeyUse).where(ApiKeyUse.api_key_id == park["key"].id).order_by(ApiKeyUse.id)
    ).all()
    assert [(u.method, u.status_code) for u in uses] == [("GET", 200), ("POST", 201), ("POST", 400)]
    assert all(raw not in u.path for u in uses)
    assert uses[0].path == f"{V2}/services.json"
    assert uses[1].detail.startswith("DP-")


def test_the_openapi_document_describes_every_route(client, app):
    document = client.get("/api/openapi.json").get_json()
    from openapi_spec_validator import validate

    validate(document)
    described = set(document["paths"])
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(V2):
            continue
        path = rule.rule.replace("<service_code>", "{service_code}")
        path = path.replace("<service_request_id>", "{service_request_id}").replace(
            "<token>", "{token}"
        )
        templated = path.replace("<any(json, xml):fmt>", "{format}")
        assert templated in described, templated
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][templated][method.lower()]
            (format_parameter,) = [p for p in operation["parameters"] if p["name"] == "format"]
            assert format_parameter["schema"]["enum"] == ["json", "xml"]


def test_json_answers_are_utf8_without_escapes(client, park):
    answer = client.get(f"{V2}/services.json", headers={"Accept-Language": "fi"})
    assert "Sähköautojen lataus".encode() in answer.data
    assert json.loads(answer.data)


def test_xml_always_parses_whatever_the_text_holds(client, db, park):
    public = park["public"]
    public.description = "Bell\x07 and form feed\x0c and <tags> & ampersands"
    db.add(public)
    db.commit()
    answer = client.get(f"{V2}/requests/{public.reference}.xml")
    description = ET.fromstring(answer.data).find("request/description").text
    assert description.endswith("Bell and form feed and <tags> & ampersands")


def test_reads_are_open_to_web_apps_elsewhere_but_posts_are_not(client, park):
    read = client.get(f"{V2}/requests.json", headers={"Origin": "https://city.example"})
    assert read.headers["Access-Control-Allow-Origin"] == "*"
    assert "Link" in read.headers["Access-Control-Expose-Headers"]
    refused = client.get(f"{V2}/requests.json?status=bad", headers={"Origin": "https://x.example"})
    assert refused.headers["Access-Control-Allow-Origin"] == "*"  # so the app reads why
    sent = client.post(
        f"{V2}/requests.json",
        data={**EXAMPLE_POST, "api_key": park["raw"]},
        headers={"Origin": "https://city.example"},
    )
    assert sent.status_code == 201
    assert "Access-Control-Allow-Origin" not in sent.headers


def test_a_database_outage_answers_the_specifications_503_with_retry_after(app, client, park):
    from tests.web.test_errors_and_health import _take_the_database_down

    _take_the_database_down(app)
    answers = {
        "list": english(client, f"{V2}/requests.json"),
        "one": english(client, f"{V2}/requests/{park['public'].reference}.json"),
        "services": english(client, f"{V2}/services.json"),
        "post": client.post(
            f"{V2}/requests.json",
            data={**EXAMPLE_POST, "api_key": park["raw"]},
            headers={"Accept-Language": "en"},
        ),
    }
    for name, answer in answers.items():
        assert answer.status_code == 503, name
        assert answer.mimetype == "application/json", name
        assert answer.headers["Retry-After"] == "30", name
        (error,) = answer.get_json()
        assert error["code"] == 503 and "try again in a few minutes" in error["description"]
    xml = english(client, f"{V2}/requests.xml")
    assert xml.status_code == 503 and xml.mimetype == "text/xml"
    assert xml.headers["Retry-After"] == "30"
    error = ET.fromstring(xml.data)
    assert structure(error) == structure(ET.fromstring(EXAMPLE_ERRORS_XML.encode()))
    assert error.find("error/code").text == "503"
    page = client.get("/")  # the rest of the site: still the styled page
    assert page.status_code == 503 and "<html" in page.get_data(as_text=True)
